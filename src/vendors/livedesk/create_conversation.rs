//! `livedesk/create-conversation`: a conversation with a contact ([`CALL`]).

use serde::{Deserialize, Serialize};

use super::{decode, look_back, request, ApiKey, LiveDesk, NAME_MAX_CHARS};
use crate::base_url::BaseUrl;
use crate::encode::{EncodeError, Encoded};
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, SingleCall, Thread};
use crate::reply::{lenient, UpstreamError};
use crate::validate::Validate;
use crate::validate::{rule, Violations};

use crate::vendor_call::VendorCall;

/// The vendor call.
pub const CALL: VendorCall = VendorCall::post("/api/v2/accounts/conversations");

/// Create a conversation with a contact, named by exactly one of `contactId` and `sourceId`.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "livedesk/create-conversation",
    sends = true,
    ts_output = "Conversation",
    summary = "Creates a conversation with a contact.",
    calls = [CALL],
    replies,
    example = r#"{"inboxId":407,"contactId":2219256}"#
)]
pub struct CreateConversation {
    /// The inbox (channel) id.
    pub inbox_id: Id,
    /// The contact: the `id` create-contact gave (`Contact.id`).
    pub contact_id: Option<Id>,
    /// The contact's source id in the inbox.
    pub source_id: Option<String>,
}

impl CreateConversation {
    /// A conversation in `inbox_id` with contact `contact_id`.
    pub fn with_contact(inbox_id: u64, contact_id: u64) -> Self {
        Self {
            inbox_id: Id(inbox_id),
            contact_id: Some(Id(contact_id)),
            source_id: None,
        }
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    inbox_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_id: Option<&'a str>,
}

/// The created conversation (a typed subset of LiveDesk's answer).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// The conversation id (per account).
    pub id: Id,
    /// Its UUID.
    pub uuid: Option<String>,
    /// `open`, `resolved`, `pending`, … (kept as the vendor writes it).
    pub status: Option<String>,
    /// The inbox.
    pub inbox_id: Option<Id>,
    /// The LiveDesk account (project).
    pub account_id: Option<Id>,
    // LiveDesk gives it as `meta.sender.id`.
    /// The contact the conversation is with: its `Contact.id`.
    pub contact_id: Option<Id>,
}

#[derive(Deserialize)]
struct Answer {
    id: Id,
    #[serde(default, deserialize_with = "lenient")]
    uuid: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    inbox_id: Option<Id>,
    #[serde(default, deserialize_with = "lenient")]
    account_id: Option<Id>,
    #[serde(default, deserialize_with = "lenient")]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default, deserialize_with = "lenient")]
    sender: Option<Sender>,
}

#[derive(Deserialize)]
struct Sender {
    #[serde(default, deserialize_with = "lenient")]
    id: Option<Id>,
}

/// Decodes LiveDesk's conversation object.
pub(crate) fn decode_conversation(
    status: http::StatusCode,
    body: &[u8],
) -> Result<Conversation, UpstreamError> {
    let a: Answer = decode(status, body, "conversation id")?;
    Ok(Conversation {
        id: a.id,
        uuid: a.uuid,
        status: a.status,
        inbox_id: a.inbox_id,
        account_id: a.account_id,
        contact_id: a.meta.and_then(|m| m.sender).and_then(|s| s.id),
    })
}

impl SingleCall for CreateConversation {
    /// A new conversation: the replies in it are for the page that opened it.
    fn thread(output: &Conversation) -> Thread {
        Thread {
            opens: Some(output.id.0.to_string()),
            sent: Vec::new(),
        }
    }

    /// Only with `contactId`: a conversation by `sourceId` cannot be looked up.
    fn look_back(
        &self,
        _since_ms: u64,
        base: &BaseUrl,
        key: &ApiKey,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        self.contact_id
            .map(|id| look_back::conversations_request(base, key, id.0))
            .transpose()
    }

    fn looked(
        &self,
        since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Option<Conversation>, UpstreamError> {
        look_back::found_conversation(self.inbox_id.0, since_ms, status, body)
    }
}

impl Validate for CreateConversation {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("inboxId", self.inbox_id.0);
        match (self.contact_id, self.source_id.as_deref()) {
            (Some(id), None) => v.id("contactId", id.0),
            (None, Some(source)) => v.required_line("sourceId", source, NAME_MAX_CHARS),
            (None, None) => v.push("contactId", rule::REQUIRED, "give contactId or sourceId"),
            (Some(_), Some(_)) => v.push(
                "sourceId",
                rule::CONFLICT,
                "give contactId or sourceId, not both",
            ),
        }
        v.finish()
    }
}

impl Endpoint for CreateConversation {
    type Vendor = LiveDesk;
    type Credential = ApiKey;
    type Output = Conversation;

    fn encode(&self, base: &BaseUrl, key: &ApiKey) -> Encoded {
        let wire = Wire {
            inbox_id: self.inbox_id.0,
            contact_id: self.contact_id.map(|id| id.0),
            source_id: self.source_id.as_deref(),
        };
        request(&CALL, base, &[], "", key, Some(&wire))
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Conversation, UpstreamError> {
        decode_conversation(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::livedesk::tests::{base, key};

    /// The sample answer of `shared/seeds/002_d15f5d1bab5c4718.txt`.
    const SEED_CONVERSATION: &str = r#"{"meta":{"sender":{"additional_attributes":{},"availability_status":"offline","email":null,"id":2219256,"name":"wjTest","phone_number":null,"blocked":false,"identifier":null,"thumbnail":"","custom_attributes":{},"created_at":1766571624},"channel":"Channel::Api","hmac_verified":false},"id":40,"messages":[],"account_id":17623000010928,"uuid":"660ce36f-46bb-4153-948c-8a26e6dab634","inbox_id":407,"additional_attributes":{},"agent_last_seen_at":0,"assignee_last_seen_at":0,"can_reply":true,"contact_last_seen_at":0,"custom_attributes":{},"labels":[],"muted":false,"snoozed_until":null,"status":"open","priority":null,"conversation_category":"chat","chat_mode":"private_chat","is_forum":false,"created_at":1766572062,"updated_at":1766572062.5803902,"timestamp":1766572062,"first_reply_created_at":0,"unread_count":0,"last_non_activity_message":null,"last_activity_at":1766572062,"waiting_since":1766572062,"sla_policy_id":null,"ticket_id":null,"over_limit":false,"content_preview":{"content":null,"message_type":null,"created_at":null},"platform":{"channel_type":"Channel::Api","inbox_name":"JennyApi","inbox_id":407},"account_info":{"contact_name":"wjTest","contact_email":null,"contact_phone":null,"contact_id":2219256,"contact_avatar":""},"assignment":{"assignee_id":null,"assignee_name":null,"assignee_email":null,"team_id":null,"team_name":null}}"#;

    #[test]
    fn golden_requests() {
        let http = CreateConversation::with_contact(407, 2_219_256)
            .encode(&base(), &key())
            .unwrap();
        assert_eq!(
            http.uri(),
            "https://livedesk-api.engagelab.com/api/v2/accounts/conversations"
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"inbox_id":407,"contact_id":2219256}"#
        );
        let by_source = CreateConversation {
            inbox_id: Id(407),
            contact_id: None,
            source_id: Some("123456789".into()),
        };
        assert!(by_source.validate().is_ok());
        assert_eq!(
            std::str::from_utf8(by_source.encode(&base(), &key()).unwrap().body()).unwrap(),
            r#"{"inbox_id":407,"source_id":"123456789"}"#
        );
    }

    #[test]
    fn exactly_one_of_contact_id_and_source_id() {
        let none = CreateConversation {
            inbox_id: Id(1),
            contact_id: None,
            source_id: None,
        };
        assert_eq!(none.validate().unwrap_err()[0].field, "contactId");
        let both = CreateConversation {
            inbox_id: Id(1),
            contact_id: Some(Id(2)),
            source_id: Some("s".into()),
        };
        let e = &both.validate().unwrap_err()[0];
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("sourceId", rule::CONFLICT.as_str())
        );
    }

    #[test]
    fn decodes_the_seed_sample() {
        let c =
            CreateConversation::decode(http::StatusCode::OK, SEED_CONVERSATION.as_bytes()).unwrap();
        assert_eq!(c.id, Id(40));
        assert_eq!(
            c.uuid.as_deref(),
            Some("660ce36f-46bb-4153-948c-8a26e6dab634")
        );
        assert_eq!(c.status.as_deref(), Some("open"));
        assert_eq!(
            (c.inbox_id, c.account_id, c.contact_id),
            (
                Some(Id(407)),
                Some(Id(17_623_000_010_928)),
                Some(Id(2_219_256))
            )
        );
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""accountId":17623000010928"#), "{json}");
    }
}
