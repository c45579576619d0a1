//! `livedesk/send-message`: a message into a conversation ([`CALL`]).

use serde::{Deserialize, Serialize};

use super::{decode, look_back, request, ApiKey, LiveDesk, CONTENT_MAX_CHARS};
use crate::base_url::BaseUrl;
use crate::encode::{EncodeError, Encoded};
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, SingleCall, Thread};
use crate::reply::{lenient, UpstreamError};
use crate::validate::Validate;
use crate::validate::Violations;
use crate::vendor_call::VendorCall;

/// The vendor call.
pub const CALL: VendorCall =
    VendorCall::post("/api/v2/accounts/conversations/{conversation_id}/messages");

/// Send a message into a conversation.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "livedesk/send-message",
    sends = true,
    ts_output = "Message",
    summary = "Sends a message into a conversation: as the company (`messageType: \"outgoing\"`, LiveDesk's default when none is given) or as the contact (`\"incoming\"`).",
    calls = [CALL],
    example = r#"{"conversationId":40,"content":"Hi","messageType":"outgoing","private":false,"inReplyTo":3}"#
)]
pub struct SendMessage {
    /// The conversation: the `id` create-conversation gave (`Conversation.id`).
    pub conversation_id: Id,
    /// The text.
    pub content: String,
    /// Who speaks: `outgoing` (the company, LiveDesk's default) or `incoming` (the contact).
    pub message_type: Option<MessageType>,
    /// A private note, visible to agents only.
    pub private: Option<bool>,
    /// The message this one answers: the `id` send-message gave (`Message.id`).
    pub in_reply_to: Option<Id>,
}

impl SendMessage {
    /// A message with `content` in `conversation_id`.
    pub fn new(conversation_id: u64, content: impl Into<String>) -> Self {
        Self {
            conversation_id: Id(conversation_id),
            content: content.into(),
            message_type: None,
            private: None,
            in_reply_to: None,
        }
    }
}

/// Who speaks in a message (Chatwoot's `message_type`, which LiveDesk takes as a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    /// The contact (a visitor) writes to the company: what a page sends for its visitor.
    Incoming,
    /// The company writes to the contact.
    Outgoing,
}

impl MessageType {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
        }
    }

    /// Chatwoot's integer for it (incoming 0, outgoing 1), as its message lists answer.
    pub const fn code(self) -> u64 {
        match self {
            Self::Incoming => 0,
            Self::Outgoing => 1,
        }
    }

    /// Whether a listed message's `message_type` (an integer or a string) is this type; a
    /// message without one is LiveDesk's default, outgoing.
    pub(crate) fn is(self, listed: &serde_json::Value) -> bool {
        match listed {
            serde_json::Value::Null => self == Self::Outgoing,
            v => v.as_u64() == Some(self.code()) || v.as_str() == Some(self.as_str()),
        }
    }
}

impl crate::read::Read for MessageType {
    fn read<S: crate::read::Source>(
        value: &S,
        path: &mut crate::read::Path,
    ) -> Result<Self, Violation> {
        crate::read::one_of(
            value,
            path,
            &[("incoming", Self::Incoming), ("outgoing", Self::Outgoing)],
        )
    }
}

#[derive(Serialize)]
pub(crate) struct Wire<'a> {
    pub content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_attributes: Option<Attributes>,
}

#[derive(Serialize)]
pub(crate) struct Attributes {
    pub in_reply_to: u64,
}

/// The sent message (a typed subset of LiveDesk's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The message id.
    pub id: Id,
    /// The conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Id>,
    /// Chatwoot's message type (`1`/`"outgoing"`, …), as the vendor writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "web", tsify(type = "number | string"))]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::reply::number_or_string))]
    pub message_type: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Answer {
    id: Id,
    #[serde(default, deserialize_with = "lenient")]
    conversation_id: Option<Id>,
    #[serde(default)]
    message_type: Option<serde_json::Value>,
}

/// Decodes LiveDesk's message object.
pub(crate) fn decode_message(
    status: http::StatusCode,
    body: &[u8],
) -> Result<Message, UpstreamError> {
    let a: Answer = decode(status, body, "message id")?;
    Ok(Message {
        id: a.id,
        conversation_id: a.conversation_id,
        message_type: a.message_type.filter(|v| !v.is_null()),
    })
}

/// The content rules shared with `start-conversation`.
pub(crate) fn check_content(v: &mut Violations, content: &str) {
    v.required_text("content", content, CONTENT_MAX_CHARS);
}

impl SingleCall for SendMessage {
    /// The visitor writes back: `incoming`, public.
    fn follow_up(conversation: &str, content: &str) -> Option<Self> {
        Some(Self {
            message_type: Some(MessageType::Incoming),
            ..Self::new(conversation.parse().ok()?, content)
        })
    }

    /// Its webhook echo (an `outgoing` message when the company sends as an agent) is no reply.
    fn thread(output: &Message) -> Thread {
        Thread {
            opens: None,
            sent: vec![output.id.0.to_string()],
        }
    }

    fn look_back(
        &self,
        _since_ms: u64,
        base: &BaseUrl,
        key: &ApiKey,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        look_back::messages_request(base, key, self.conversation_id.0).map(Some)
    }

    fn looked(
        &self,
        since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Option<Message>, UpstreamError> {
        let speaker = self.message_type.unwrap_or(MessageType::Outgoing);
        look_back::found_message(&self.content, speaker, since_ms, status, body)
    }
}

impl Validate for SendMessage {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("conversationId", self.conversation_id.0);
        check_content(&mut v, &self.content);
        v.optional_id("inReplyTo", self.in_reply_to.map(|id| id.0));
        v.finish()
    }
}

impl Endpoint for SendMessage {
    type Vendor = LiveDesk;
    type Credential = ApiKey;
    type Output = Message;

    fn encode(&self, base: &BaseUrl, key: &ApiKey) -> Encoded {
        let wire = Wire {
            content: &self.content,
            message_type: self.message_type,
            private: self.private,
            content_attributes: self.in_reply_to.map(|id| Attributes { in_reply_to: id.0 }),
        };
        let id = self.conversation_id.0.to_string();
        request(
            &CALL,
            base,
            &[("conversation_id", &id)],
            "",
            key,
            Some(&wire),
        )
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Message, UpstreamError> {
        decode_message(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::livedesk::tests::{base, key};

    #[test]
    fn ids_are_read_as_numbers_or_their_decimal_strings() {
        use crate::operation::check_request;
        // An id a result gives (`Id`: a number, or a string beyond 2^53-1) is taken back.
        let number = check_request::<SendMessage>(br#"{"conversationId":40,"content":"Hi"}"#);
        let text = check_request::<SendMessage>(
            br#"{"conversationId":"40","content":"Hi","inReplyTo":"7"}"#,
        );
        assert_eq!(number.unwrap().conversation_id, Id(40));
        let text = text.unwrap();
        assert_eq!(
            (text.conversation_id, text.in_reply_to),
            (Id(40), Some(Id(7)))
        );
        let field = |json: &[u8]| {
            let v = check_request::<SendMessage>(json).unwrap_err();
            (v[0].field.clone(), v[0].code)
        };
        for bad in [
            "\"\"", "\"4x\"", "\"+4\"", "\"-4\"", "\" 4\"", "4.5", "true",
        ] {
            let json = format!(r#"{{"conversationId":{bad},"content":"Hi"}}"#);
            assert_eq!(
                field(json.as_bytes()),
                ("conversationId".to_owned(), crate::validate::rule::TYPE),
                "{bad}"
            );
        }
        // A string id beyond JS's exact integers reads, and the validator refuses it as it
        // refuses the same number.
        let big = field(br#"{"conversationId":"9007199254740992","content":"Hi"}"#);
        let big_number = field(br#"{"conversationId":9007199254740992,"content":"Hi"}"#);
        assert_eq!(big, big_number);
        assert_eq!(big.0, "conversationId");
    }

    #[test]
    fn golden_requests() {
        let http = SendMessage::new(40, "Hello")
            .encode(&base(), &key())
            .unwrap();
        assert_eq!(
            http.uri(),
            "https://livedesk-api.engagelab.com/api/v2/accounts/conversations/40/messages"
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"content":"Hello"}"#
        );
        let full = SendMessage {
            conversation_id: Id(40),
            content: "Hi".into(),
            message_type: Some(MessageType::Incoming),
            private: Some(true),
            in_reply_to: Some(Id(7)),
        };
        assert_eq!(
            std::str::from_utf8(full.encode(&base(), &key()).unwrap().body()).unwrap(),
            r#"{"content":"Hi","message_type":"incoming","private":true,"content_attributes":{"in_reply_to":7}}"#
        );
    }

    #[test]
    fn bad_inputs() {
        let bad = SendMessage {
            conversation_id: Id(0),
            content: String::new(),
            message_type: None,
            private: None,
            in_reply_to: Some(Id(0)),
        };
        let got: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(got, ["conversationId", "content", "inReplyTo"]);
    }

    /// LiveDesk's send-message answer as its documentation shows it (`shared/VENDORS.md`).
    #[test]
    fn decodes_the_documented_answer() {
        let body = br#"{"id": 3305, "content": "Hello", "inbox_id": 407, "conversation_id": 40,
            "message_type": 1, "content_type": "text", "status": "sent", "content_attributes": {},
            "created_at": 1766571700, "private": false, "source_id": null, "sorting_id": 3305,
            "sender": {"id": 1, "name": "API", "type": "user"}}"#;
        let m = SendMessage::decode(http::StatusCode::OK, body).unwrap();
        assert_eq!(
            (m.id, m.conversation_id, m.message_type),
            (Id(3305), Some(Id(40)), Some(serde_json::json!(1)))
        );
        assert!(MessageType::Outgoing.is(&serde_json::json!(1)));
        assert!(MessageType::Incoming.is(&serde_json::json!("incoming")));
        assert!(!MessageType::Incoming.is(&serde_json::Value::Null));
    }

    #[test]
    fn decodes_messages_with_unknown_fields_and_types() {
        let m = SendMessage::decode(
            http::StatusCode::OK,
            br#"{"id":91,"content":"Hello","conversation_id":40,"message_type":"outgoing","sender":{"id":1}}"#,
        )
        .unwrap();
        assert_eq!((m.id, m.conversation_id), (Id(91), Some(Id(40))));
        assert_eq!(m.message_type, Some(serde_json::json!("outgoing")));
        let m = SendMessage::decode(
            http::StatusCode::OK,
            br#"{"id":92,"message_type":1,"conversation_id":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            (m.conversation_id, m.message_type),
            (None, Some(serde_json::json!(1)))
        );
    }
}
