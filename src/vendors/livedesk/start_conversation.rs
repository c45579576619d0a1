//! `livedesk/start-conversation`: create contact → create conversation → send the first message,
//! as one operation with one idempotency key. The relay stores the progress after each call, so
//! a retry with the same key resumes after the last call that succeeded: never a second contact
//! or conversation.

use serde::{Deserialize, Serialize};

use super::create_contact::{
    check_contact, decode_contact, Contact, Wire as ContactWire, PATH as CONTACTS_PATH,
};
use super::create_conversation::{decode_conversation, Conversation, CreateConversation};
use super::send_message::{check_content, decode_message, Message, SendMessage};
use super::{look_back, post, ApiKey, LiveDesk};
use crate::base_url::BaseUrl;
use crate::encode::EncodeError;
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, Operation};
use crate::reply::UpstreamError;
use crate::validate::Validate;
use crate::validate::Violations;

/// Start a conversation with a new contact and a first message.
#[hail_derive::request(ts_name = "LiveDeskStartConversation")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "livedesk/start-conversation",
    sends = true,
    ts_output = "StartedConversation",
    summary = "Creates a contact, a conversation with it and its first message, as one call with one idempotency key: a retry resumes after the last vendor call that succeeded. Vendor calls: `POST …/contacts`, `POST …/conversations`, `POST …/conversations/{id}/messages` of `https://livedesk-api.engagelab.com/api/v2/accounts`.",
    example = r#"{"inboxId":407,"contact":{"name":"Anna","email":"anna@example.com"},"content":"Hi"}"#
)]
pub struct StartConversation {
    /// The inbox (channel) id.
    pub inbox_id: Id,
    /// Who the conversation is with.
    pub contact: NewContact,
    /// The first message.
    pub content: String,
}

/// The contact to create.
#[hail_derive::request]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewContact {
    /// Display name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number in international format.
    pub phone_number: Option<String>,
    /// The company's own id of this person.
    pub identifier: Option<String>,
}

impl StartConversation {
    fn contact_key(&self) -> Option<look_back::ContactKey<'_>> {
        let c = &self.contact;
        look_back::ContactKey::of(
            c.identifier.as_deref(),
            c.email.as_deref(),
            c.phone_number.as_deref(),
        )
    }

    /// A conversation in `inbox_id` with `contact`, opened by `content`.
    pub fn new(inbox_id: u64, contact: NewContact, content: impl Into<String>) -> Self {
        Self {
            inbox_id: Id(inbox_id),
            contact,
            content: content.into(),
        }
    }
}

/// What the calls so far produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    contact: Option<Contact>,
    conversation: Option<Conversation>,
    message: Option<Message>,
}

/// The contact, the conversation and the first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartedConversation {
    /// The created contact.
    pub contact: Contact,
    /// The created conversation.
    pub conversation: Conversation,
    /// The first message.
    pub message: Message,
}

impl Validate for StartConversation {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("inboxId", self.inbox_id.0);
        let c = &self.contact;
        check_contact(
            &mut v,
            "contact",
            c.name.as_deref(),
            c.email.as_deref(),
            c.phone_number.as_deref(),
            c.identifier.as_deref(),
        );
        check_content(&mut v, &self.content);
        v.finish()
    }
}

impl Operation for StartConversation {
    type Vendor = LiveDesk;
    type Credential = ApiKey;
    type Output = StartedConversation;
    type Progress = Progress;

    fn next_request(
        &self,
        progress: &Progress,
        base: &BaseUrl,
        key: &ApiKey,
        _caller_token: Option<&secrecy::SecretString>,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        let Some(contact) = &progress.contact else {
            let c = &self.contact;
            let wire = ContactWire {
                inbox_id: self.inbox_id.0,
                name: c.name.as_deref(),
                email: c.email.as_deref(),
                phone_number: c.phone_number.as_deref(),
                avatar_url: None,
                identifier: c.identifier.as_deref(),
            };
            return post(base, CONTACTS_PATH, key, &wire).map(Some);
        };
        let Some(conversation) = &progress.conversation else {
            return CreateConversation::with_contact(self.inbox_id.0, contact.id.0)
                .encode(base, key)
                .map(Some);
        };
        if progress.message.is_none() {
            return SendMessage::new(conversation.id.0, self.content.clone())
                .encode(base, key)
                .map(Some);
        }
        Ok(None)
    }

    fn record(
        progress: &mut Progress,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<(), UpstreamError> {
        if progress.contact.is_none() {
            progress.contact = Some(decode_contact(status, body)?);
        } else if progress.conversation.is_none() {
            progress.conversation = Some(decode_conversation(status, body)?);
        } else {
            progress.message = Some(decode_message(status, body)?);
        }
        Ok(())
    }

    fn output(progress: Progress) -> Option<StartedConversation> {
        Some(StartedConversation {
            contact: progress.contact?,
            conversation: progress.conversation?,
            message: progress.message?,
        })
    }

    /// Looks for what the step the progress is at may have made (see `look_back.rs`).
    fn look_back(
        &self,
        progress: &Progress,
        _since_ms: u64,
        base: &BaseUrl,
        key: &ApiKey,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        match (&progress.contact, &progress.conversation, &progress.message) {
            (None, _, _) => self
                .contact_key()
                .map(|k| look_back::contact_request(base, key, &k))
                .transpose(),
            (Some(contact), None, _) => {
                look_back::conversations_request(base, key, contact.id.0).map(Some)
            }
            (Some(_), Some(conversation), None) => {
                look_back::messages_request(base, key, conversation.id.0).map(Some)
            }
            (Some(_), Some(_), Some(_)) => Ok(None),
        }
    }

    fn looked(
        &self,
        progress: &mut Progress,
        since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<bool, UpstreamError> {
        Ok(if progress.contact.is_none() {
            let Some(k) = self.contact_key() else {
                return Ok(false);
            };
            progress.contact = look_back::found_contact(&k, since_ms, status, body)?;
            progress.contact.is_some()
        } else if progress.conversation.is_none() {
            progress.conversation =
                look_back::found_conversation(self.inbox_id.0, since_ms, status, body)?;
            progress.conversation.is_some()
        } else {
            progress.message = look_back::found_message(&self.content, since_ms, status, body)?;
            progress.message.is_some()
        })
    }

    fn step(progress: &Progress) -> Option<&'static str> {
        Some(if progress.contact.is_none() {
            "create contact"
        } else if progress.conversation.is_none() {
            "create conversation"
        } else {
            "send message"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Id;
    use crate::vendors::livedesk::tests::{base, key};
    use http::StatusCode;

    fn start() -> StartConversation {
        StartConversation::new(
            407,
            NewContact {
                name: Some("Anna".into()),
                email: Some("anna@example.com".into()),
                ..NewContact::default()
            },
            "Hello",
        )
    }

    fn body(req: &http::Request<Vec<u8>>) -> &str {
        std::str::from_utf8(req.body()).unwrap()
    }

    #[test]
    fn three_calls_in_order_then_done() {
        let op = start();
        assert!(op.validate().is_ok());
        let mut p = Progress::default();
        assert_eq!(StartConversation::step(&p), Some("create contact"));
        let r = op.next_request(&p, &base(), &key(), None).unwrap().unwrap();
        assert_eq!(r.uri().path(), "/api/v2/accounts/contacts");
        assert_eq!(
            body(&r),
            r#"{"inbox_id":407,"name":"Anna","email":"anna@example.com"}"#
        );
        StartConversation::record(
            &mut p,
            StatusCode::OK,
            br#"{"payload":{"contact":{"id":9}}}"#,
        )
        .unwrap();

        let r = op.next_request(&p, &base(), &key(), None).unwrap().unwrap();
        assert_eq!(r.uri().path(), "/api/v2/accounts/conversations");
        assert_eq!(body(&r), r#"{"inbox_id":407,"contact_id":9}"#);
        StartConversation::record(&mut p, StatusCode::OK, br#"{"id":40,"status":"open"}"#).unwrap();

        let r = op.next_request(&p, &base(), &key(), None).unwrap().unwrap();
        assert_eq!(r.uri().path(), "/api/v2/accounts/conversations/40/messages");
        assert_eq!(body(&r), r#"{"content":"Hello"}"#);
        StartConversation::record(&mut p, StatusCode::OK, br#"{"id":91}"#).unwrap();

        assert!(op
            .next_request(&p, &base(), &key(), None)
            .unwrap()
            .is_none());
        let out = StartConversation::output(p).unwrap();
        assert_eq!(
            (out.contact.id, out.conversation.id, out.message.id),
            (Id(9), Id(40), Id(91))
        );
    }

    #[test]
    fn a_failed_middle_call_keeps_what_succeeded_and_resumes_there() {
        let op = start();
        let mut p = Progress::default();
        StartConversation::record(
            &mut p,
            StatusCode::OK,
            br#"{"payload":{"contact":{"id":9}}}"#,
        )
        .unwrap();
        let e = StartConversation::record(&mut p, StatusCode::SERVICE_UNAVAILABLE, b"busy")
            .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::UpstreamUnavailable);
        assert_eq!(StartConversation::step(&p), Some("create conversation"));
        // Progress survives storage (the relay keeps it per idempotency key).
        let stored: Progress = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        let r = op
            .next_request(&stored, &base(), &key(), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            r.uri().path(),
            "/api/v2/accounts/conversations",
            "no second contact"
        );
    }

    #[test]
    fn bad_inputs_carry_nested_paths() {
        let mut op = start();
        op.inbox_id = Id(0);
        op.contact.email = Some("anna".into());
        op.contact.phone_number = Some("12345".into());
        op.content = " ".into();
        let got = crate::validate::broken(&op);
        assert_eq!(
            got,
            [
                ("inboxId".to_owned(), "range"),
                ("contact.email".to_owned(), "email"),
                ("contact.phoneNumber".to_owned(), "phone"),
                ("content".to_owned(), "required"),
            ]
        );
    }
}
