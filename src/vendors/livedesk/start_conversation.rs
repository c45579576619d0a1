//! `livedesk/start-conversation`: find or create the contact → create a conversation → send the
//! first message, as one operation with one idempotency key.
//!
//! LiveDesk keeps a contact's e-mail address, phone number and identifier unique (`shared/
//! VENDORS.md`): a returning visitor is an existing contact. So the contact is first looked for
//! by each detail given (identifier, then e-mail address, then phone number; every search page
//! until the total), and created only when none has one; a create refused as "already been
//! taken" (another start made it in the meantime) goes back to the search, never to a failure or
//! a second contact. The relay stores the progress before each call, so a retry with the same
//! key resumes after the last call that succeeded: never a second contact or conversation.

use serde::{Deserialize, Serialize};

use super::create_contact::{self, check_contact, decode_contact, is_taken, Contact};
use super::create_conversation::{self, decode_conversation, Conversation, CreateConversation};
use super::look_back::{self, ContactKey, Search};
use super::send_message::{self, check_content, decode_message, Message, MessageType, SendMessage};
use super::{request, ApiKey, LiveDesk};
use crate::base_url::BaseUrl;
use crate::encode::EncodeError;
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, Operation, Thread};
use crate::reply::UpstreamError;
use crate::validate::Validate;
use crate::validate::Violations;

/// Start a conversation with a contact (found by its details, else created) and a first message.
#[hail_derive::request(ts_name = "LiveDeskStartConversation")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "livedesk/start-conversation",
    sends = true,
    ts_output = "StartedConversation",
    summary = "Finds the contact by its identifier, e-mail address or phone number, or creates it; opens a conversation with it and sends the first message, by default as the contact (`messageType: \"incoming\"`: a visitor writing to the company). One call with one idempotency key: a retry resumes after the last vendor call that succeeded. A found contact is answered with its id only.",
    calls = [look_back::SEARCH, create_contact::CALL, create_conversation::CALL, send_message::CALL],
    replies,
    example = r#"{"inboxId":407,"contact":{"name":"Anna","email":"anna@example.com"},"content":"Hi"}"#
)]
pub struct StartConversation {
    /// The inbox (channel) id.
    pub inbox_id: Id,
    /// Who the conversation is with.
    pub contact: NewContact,
    /// The first message.
    pub content: String,
    /// Who speaks in the first message: `incoming` (the contact; the default) or `outgoing`
    /// (the company).
    pub message_type: Option<MessageType>,
}

/// The contact: found by its identifier, e-mail address or phone number, else created.
#[hail_derive::request]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewContact {
    /// Display name (used when the contact is created).
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number in international format.
    pub phone_number: Option<String>,
    /// The company's own id of this person.
    pub identifier: Option<String>,
}

/// How often a create refused as a duplicate goes back to the search before giving up: a
/// second refusal means the search cannot see the contact that holds the detail.
const RACES_MAX: u8 = 1;

impl StartConversation {
    fn contact_keys(&self) -> Vec<ContactKey<'_>> {
        let c = &self.contact;
        ContactKey::all(
            c.identifier.as_deref(),
            c.email.as_deref(),
            c.phone_number.as_deref(),
        )
    }

    /// The detail the search is at, or `None` once every detail was searched.
    fn searching(&self, lookup: &Lookup) -> Option<ContactKey<'_>> {
        (!lookup.create)
            .then(|| self.contact_keys().get(usize::from(lookup.detail)).copied())
            .flatten()
    }

    /// Who speaks in the first message.
    fn speaker(&self) -> MessageType {
        self.message_type.unwrap_or(MessageType::Incoming)
    }

    /// A conversation in `inbox_id` with `contact`, opened by `content` from the contact.
    pub fn new(inbox_id: u64, contact: NewContact, content: impl Into<String>) -> Self {
        Self {
            inbox_id: Id(inbox_id),
            contact,
            content: content.into(),
            message_type: None,
        }
    }
}

/// Where the search for the contact is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Lookup {
    /// The detail searched: an index into the details given, most specific first.
    detail: u8,
    /// The search page (from 1; 0 before the first).
    page: u32,
    /// Every detail was searched and none found: create the contact.
    create: bool,
    /// Creates refused as duplicates so far.
    races: u8,
}

/// What the calls so far produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    lookup: Lookup,
    contact: Option<Contact>,
    conversation: Option<Conversation>,
    message: Option<Message>,
}

/// The contact, the conversation and the first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartedConversation {
    /// The contact: created (as stored), or found (its id only).
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
            if let Some(detail) = self.searching(&progress.lookup) {
                let page = progress.lookup.page.max(1);
                return look_back::search_request(base, key, &detail, page).map(Some);
            }
            let c = &self.contact;
            let wire = create_contact::Wire {
                inbox_id: self.inbox_id.0,
                name: c.name.as_deref(),
                email: c.email.as_deref(),
                phone_number: c.phone_number.as_deref(),
                avatar_url: None,
                identifier: c.identifier.as_deref(),
            };
            return request(&create_contact::CALL, base, &[], "", key, Some(&wire)).map(Some);
        };
        let Some(conversation) = &progress.conversation else {
            return CreateConversation::with_contact(self.inbox_id.0, contact.id.0)
                .encode(base, key)
                .map(Some);
        };
        if progress.message.is_none() {
            let mut message = SendMessage::new(conversation.id.0, self.content.clone());
            message.message_type = Some(self.speaker());
            return message.encode(base, key).map(Some);
        }
        Ok(None)
    }

    fn record(
        &self,
        progress: &mut Progress,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<(), UpstreamError> {
        let lookup = &mut progress.lookup;
        if progress.contact.is_some() {
            if progress.conversation.is_none() {
                progress.conversation = Some(decode_conversation(status, body)?);
            } else {
                progress.message = Some(decode_message(status, body)?);
            }
        } else if let Some(detail) = self.searching(lookup) {
            let page = lookup.page.max(1);
            match look_back::searched(&detail, page, status, body)? {
                Search::Found(contact) => progress.contact = Some(contact),
                Search::NextPage => lookup.page = page + 1,
                Search::None => {
                    lookup.detail = lookup.detail.saturating_add(1);
                    lookup.page = 0;
                    lookup.create = self.searching(lookup).is_none();
                }
            }
        } else if is_taken(status, body) && lookup.races < RACES_MAX {
            // Another start made the contact since the search: search again and use it.
            *lookup = Lookup {
                races: lookup.races + 1,
                ..Lookup::default()
            };
        } else {
            progress.contact = Some(decode_contact(status, body)?);
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

    /// The conversation it opened gets the replies; the first message is the visitor's own.
    fn thread(output: &StartedConversation) -> Thread {
        Thread {
            opens: Some(output.conversation.id.0.to_string()),
            sent: vec![output.message.id.0.to_string()],
        }
    }

    /// Looks for what the step the progress is at may have made (see `look_back.rs`). A search
    /// sends nothing (its timeouts are no unknown outcome), so only a create is looked for.
    fn look_back(
        &self,
        progress: &Progress,
        _since_ms: u64,
        base: &BaseUrl,
        key: &ApiKey,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        match (&progress.contact, &progress.conversation, &progress.message) {
            (None, _, _) => self
                .contact_keys()
                .first()
                .map(|k| look_back::search_request(base, key, k, 1))
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
            let Some(k) = self.contact_keys().first().copied() else {
                return Ok(false);
            };
            // Any contact with the detail is the one to use. Not seeing one lets the create
            // go out again: LiveDesk refuses a second contact with the detail, and the refusal
            // leads back to the search.
            progress.contact = match look_back::found_contact(&k, None, status, body) {
                Ok(found) => found,
                Err(_) if status.is_success() => None,
                Err(e) => return Err(e),
            };
            progress.contact.is_some()
        } else if progress.conversation.is_none() {
            progress.conversation =
                look_back::found_conversation(self.inbox_id.0, since_ms, status, body)?;
            progress.conversation.is_some()
        } else {
            progress.message =
                look_back::found_message(&self.content, self.speaker(), since_ms, status, body)?;
            progress.message.is_some()
        })
    }

    fn step(progress: &Progress) -> Option<&'static str> {
        Some(if progress.contact.is_none() {
            if progress.lookup.create {
                "create contact"
            } else {
                "find contact"
            }
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
                phone_number: Some("+420123456789".into()),
                ..NewContact::default()
            },
            "Hello",
        )
    }

    fn body(req: &http::Request<Vec<u8>>) -> &str {
        std::str::from_utf8(req.body()).unwrap()
    }

    fn next(op: &StartConversation, p: &Progress) -> http::Request<Vec<u8>> {
        op.next_request(p, &base(), &key(), None).unwrap().unwrap()
    }

    const NONE_FOUND: &[u8] = br#"{"meta":{"count":0},"payload":[]}"#;

    #[test]
    fn a_new_visitor_is_searched_by_each_detail_then_created() {
        let op = start();
        assert!(op.validate().is_ok());
        let mut p = Progress::default();
        assert_eq!(StartConversation::step(&p), Some("find contact"));
        let r = next(&op, &p);
        assert_eq!(
            (r.method().as_str(), r.uri().path()),
            ("GET", "/api/v2/accounts/contacts")
        );
        assert!(r
            .uri()
            .query()
            .unwrap()
            .starts_with("q=anna%40example.com&page=1&sort=created_at&direction=desc"));
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        let r = next(&op, &p);
        assert!(
            r.uri()
                .query()
                .unwrap()
                .starts_with("q=%2B420123456789&page=1"),
            "then the phone"
        );
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        assert_eq!(StartConversation::step(&p), Some("create contact"));
        let r = next(&op, &p);
        assert_eq!(
            (r.method().as_str(), r.uri().path()),
            ("POST", "/api/v2/accounts/contacts")
        );
        assert_eq!(
            body(&r),
            r#"{"inbox_id":407,"name":"Anna","email":"anna@example.com","phone_number":"+420123456789"}"#
        );
        op.record(
            &mut p,
            StatusCode::OK,
            br#"{"payload":{"contact":{"id":9,"name":"Anna"}}}"#,
        )
        .unwrap();

        let r = next(&op, &p);
        assert_eq!(r.uri().path(), "/api/v2/accounts/conversations");
        assert_eq!(body(&r), r#"{"inbox_id":407,"contact_id":9}"#);
        op.record(&mut p, StatusCode::OK, br#"{"id":40,"status":"open"}"#)
            .unwrap();

        let r = next(&op, &p);
        assert_eq!(r.uri().path(), "/api/v2/accounts/conversations/40/messages");
        // The visitor writes: incoming, not the agent's side.
        assert_eq!(body(&r), r#"{"content":"Hello","message_type":"incoming"}"#);
        op.record(&mut p, StatusCode::OK, br#"{"id":91,"message_type":0}"#)
            .unwrap();

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
    fn a_returning_visitor_gets_a_new_conversation_on_the_contact_there_is() {
        let op = start();
        let mut p = Progress::default();
        let found = br#"{"meta":{"count":1},"payload":[{"id":5,"email":"ANNA@example.com","name":"Stored","phone_number":"+4209"}]}"#;
        op.record(&mut p, StatusCode::OK, found).unwrap();
        let r = next(&op, &p);
        assert_eq!(body(&r), r#"{"inbox_id":407,"contact_id":5}"#, "no create");
        op.record(&mut p, StatusCode::OK, br#"{"id":41}"#).unwrap();
        op.record(&mut p, StatusCode::OK, br#"{"id":92}"#).unwrap();
        let out = StartConversation::output(p).unwrap();
        // Nothing LiveDesk stored of the contact goes to the caller.
        assert_eq!((out.contact.id, out.contact.name), (Id(5), None));
    }

    #[test]
    fn a_create_refused_as_taken_searches_again_once() {
        let op = start();
        let mut p = Progress::default();
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        let taken = br#"{"message":"Email has already been taken","attributes":["email"]}"#;
        op.record(&mut p, StatusCode::UNPROCESSABLE_ENTITY, taken)
            .unwrap();
        assert_eq!(StartConversation::step(&p), Some("find contact"));
        assert_eq!(next(&op, &p).method(), "GET");
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        op.record(&mut p, StatusCode::OK, NONE_FOUND).unwrap();
        let e = op
            .record(&mut p, StatusCode::UNPROCESSABLE_ENTITY, taken)
            .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::ContactExists);
    }

    #[test]
    fn a_failed_middle_call_keeps_what_succeeded_and_resumes_there() {
        let op = start();
        let mut p = Progress::default();
        op.record(
            &mut p,
            StatusCode::OK,
            br#"{"meta":{"count":1},"payload":[{"id":9,"email":"anna@example.com"}]}"#,
        )
        .unwrap();
        let e = op
            .record(&mut p, StatusCode::SERVICE_UNAVAILABLE, b"busy")
            .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::UpstreamUnavailable);
        assert_eq!(StartConversation::step(&p), Some("create conversation"));
        // Progress survives storage (the relay keeps it per idempotency key).
        let stored: Progress = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        let r = next(&op, &stored);
        assert_eq!(
            r.uri().path(),
            "/api/v2/accounts/conversations",
            "no second contact"
        );
        // Progress stored before this version (no lookup yet) still reads.
        let old: Progress =
            serde_json::from_str(r#"{"contact":{"id":9},"conversation":null,"message":null}"#)
                .unwrap();
        assert_eq!(StartConversation::step(&old), Some("create conversation"));
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
