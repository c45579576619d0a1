//! Read-backs after an unknown outcome (DESIGN.md, "Reliability rules"): did LiveDesk create the
//! contact, the conversation, the message that a timed-out or interrupted call asked for?
//!
//! **Assumed** (Chatwoot's API, which LiveDesk derives from; not in LiveDesk's own pages, listed
//! in `shared/VENDORS.md`):
//! - `GET /api/v2/accounts/contacts?q={term}&page=1` searches contacts by e-mail, phone number
//!   and identifier → `{"payload": [contact, …]}`; contacts carry `email`, `phone_number`,
//!   `identifier` and `created_at` (Unix seconds);
//! - `GET /api/v2/accounts/contacts/{id}/conversations` → `{"payload": [conversation, …]}` with
//!   `inbox_id` and `created_at`;
//! - `GET /api/v2/accounts/conversations/{id}/messages` → `{"payload": [message, …]}` with
//!   `content` and `created_at`, newest last;
//! - a record made by the first try has `created_at` no earlier than when that try began, less
//!   [`LOOK_BACK_SKEW_MS`]; one made earlier is not ours;
//! - a list answers at most one page, of at least [`PAGE_MIN`] items, newest last.
//!
//! "Not found" is taken as proof that LiveDesk did not act — so the relay sends — only when the
//! list provably reaches back before the first try (it is shorter than a page, or holds an older
//! item) and every candidate can be dated; otherwise the answer is "cannot tell". The relay adds
//! a quiet period after the last send (`idempotency.look_back_quiet_seconds`), as LiveDesk may
//! still be working on a request it received late. A message counts only if it is outgoing.

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::create_contact::Contact;
use super::create_conversation::{decode_conversation, Conversation};
use super::send_message::{decode_message, Message};
use super::{decode, ApiKey};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::encode::{basic, json_bytes};
use crate::id::Id;
use crate::operation::LOOK_BACK_SKEW_MS;
use crate::reply::{lenient, UpstreamError};

/// `GET {base}{path}` with Basic key:secret.
fn get(base: &BaseUrl, path: &str, key: &ApiKey) -> Encoded {
    let auth = basic(
        key.key.expose_secret(),
        &key.secret,
        "the LiveDesk API key is not a valid header value",
    )?;
    json_bytes(http::Method::GET, base.join(path), auth, None)
}

#[derive(Deserialize)]
struct List {
    payload: Vec<serde_json::Value>,
}

fn list(status: http::StatusCode, body: &[u8]) -> Result<Vec<serde_json::Value>, UpstreamError> {
    decode::<List>(status, body, "payload list").map(|l| l.payload)
}

/// The smallest page a LiveDesk list answers with. **Assumed** (Chatwoot: 15 contacts, 20
/// messages per page).
pub(crate) const PAGE_MIN: usize = 15;

/// When `item` was made, in Unix ms (`created_at` is Unix seconds), if it says.
fn created_ms(item: &serde_json::Value) -> Option<u64> {
    item["created_at"]
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0) as u64)
}

/// The newest item of `items` that `is_ours` and was made after the first try began (less the
/// clock allowance); `None` only where the list proves there is none.
fn find(
    items: Vec<serde_json::Value>,
    since_ms: u64,
    status: http::StatusCode,
    is_ours: impl Fn(&serde_json::Value) -> bool,
) -> Result<Option<serde_json::Value>, UpstreamError> {
    let before = |c: u64| c.saturating_add(LOOK_BACK_SKEW_MS) < since_ms;
    let mut undated = false;
    for item in items.iter().rev().filter(|i| is_ours(i)) {
        match created_ms(item) {
            Some(c) if !before(c) => return Ok(Some(item.clone())),
            Some(_) => {}
            None => undated = true,
        }
    }
    let reaches_back =
        items.len() < PAGE_MIN || items.iter().any(|i| created_ms(i).is_some_and(before));
    if undated || !reaches_back {
        return Err(UpstreamError {
            code: crate::ErrorCode::InvalidResponse,
            status: status.as_u16(),
            message: "LiveDesk's list cannot tell whether the request was acted on".to_owned(),
        });
    }
    Ok(None)
}

/// How a contact is looked for: the most specific detail given.
pub(crate) struct ContactKey<'a> {
    field: &'static str,
    value: &'a str,
}

impl<'a> ContactKey<'a> {
    /// The identifier, else the e-mail address, else the phone number; `None` if none is given
    /// (a contact with only a name cannot be told from another).
    pub(crate) fn of(
        identifier: Option<&'a str>,
        email: Option<&'a str>,
        phone: Option<&'a str>,
    ) -> Option<Self> {
        let pick = |field, value: Option<&'a str>| value.map(|value| Self { field, value });
        pick("identifier", identifier)
            .or_else(|| pick("email", email))
            .or_else(|| pick("phone_number", phone))
    }

    fn matches(&self, item: &serde_json::Value) -> bool {
        let Some(found) = item[self.field].as_str() else {
            return false;
        };
        if self.field == "email" {
            found.eq_ignore_ascii_case(self.value)
        } else {
            found == self.value
        }
    }
}

/// The contact search for `key`.
pub(crate) fn contact_request(base: &BaseUrl, api: &ApiKey, key: &ContactKey<'_>) -> Encoded {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", key.value)
        .append_pair("page", "1")
        .finish();
    get(
        base,
        &format!("{}?{query}", super::create_contact::PATH),
        api,
    )
}

#[derive(Deserialize)]
struct FoundContact {
    id: Id,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
}

/// The contact the first try made, if the search shows one.
pub(crate) fn found_contact(
    key: &ContactKey<'_>,
    since_ms: u64,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Contact>, UpstreamError> {
    let Some(item) = find(list(status, body)?, since_ms, status, |c| key.matches(c))? else {
        return Ok(None);
    };
    let found: FoundContact = serde_json::from_value(item).map_err(|_| unreadable(status))?;
    Ok(Some(Contact {
        id: found.id,
        source_id: None,
        name: found.name,
    }))
}

/// The conversations of contact `contact_id`.
pub(crate) fn conversations_request(base: &BaseUrl, api: &ApiKey, contact_id: u64) -> Encoded {
    get(
        base,
        &format!("{}/{contact_id}/conversations", super::create_contact::PATH),
        api,
    )
}

/// The conversation in `inbox_id` the first try made, if there is one.
pub(crate) fn found_conversation(
    inbox_id: u64,
    since_ms: u64,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Conversation>, UpstreamError> {
    find(list(status, body)?, since_ms, status, |c| {
        c["inbox_id"].as_u64() == Some(inbox_id)
    })?
    .map(|c| decode_conversation(status, c.to_string().as_bytes()))
    .transpose()
}

/// The messages of conversation `conversation_id`.
pub(crate) fn messages_request(base: &BaseUrl, api: &ApiKey, conversation_id: u64) -> Encoded {
    get(
        base,
        &format!("/api/v2/accounts/conversations/{conversation_id}/messages"),
        api,
    )
}

/// The message with `content` the first try sent, if there is one.
pub(crate) fn found_message(
    content: &str,
    since_ms: u64,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Message>, UpstreamError> {
    // Ours is outgoing (Chatwoot: 1 or "outgoing"); a customer's "Hello" is not.
    let outgoing = |m: &serde_json::Value| {
        m["message_type"] == 1 || m["message_type"] == "outgoing" || m["message_type"].is_null()
    };
    find(list(status, body)?, since_ms, status, |m| {
        m["content"].as_str() == Some(content) && outgoing(m)
    })?
    .map(|m| decode_message(status, m.to_string().as_bytes()))
    .transpose()
}

fn unreadable(status: http::StatusCode) -> UpstreamError {
    UpstreamError {
        code: crate::ErrorCode::InvalidResponse,
        status: status.as_u16(),
        message: "LiveDesk's search answer was not understood".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::livedesk::tests::{base, key};
    use http::StatusCode;

    const SINCE: u64 = 1_766_572_000_000;

    #[test]
    fn a_contact_is_found_by_its_most_specific_detail_and_only_if_recent() {
        let k = ContactKey::of(None, Some("Anna@Example.com"), Some("+420123456789")).unwrap();
        let r = contact_request(&base(), &key(), &k).unwrap();
        assert_eq!(r.method(), "GET");
        assert_eq!(
            r.uri(),
            "https://livedesk-api.engagelab.com/api/v2/accounts/contacts?q=Anna%40Example.com&page=1"
        );
        let body = br#"{"payload":[
            {"id":5,"email":"anna@example.com","created_at":1700000000},
            {"id":9,"email":"anna@example.com","name":"Anna","created_at":1766572010},
            {"id":11,"email":"bob@example.com","created_at":1766572010}]}"#;
        let found = found_contact(&k, SINCE, StatusCode::OK, body)
            .unwrap()
            .unwrap();
        assert_eq!((found.id, found.name.as_deref()), (Id(9), Some("Anna")));
        assert_eq!(
            found_contact(
                &k,
                SINCE,
                StatusCode::OK,
                br#"{"payload":[{"id":5,"email":"anna@example.com","created_at":1700000000}]}"#
            )
            .unwrap(),
            None
        );
        assert!(ContactKey::of(None, None, None).is_none());
        assert!(found_contact(&k, SINCE, StatusCode::OK, b"<html>").is_err());
        assert!(found_contact(&k, SINCE, StatusCode::UNAUTHORIZED, b"{}").is_err());
    }

    #[test]
    fn conversations_and_messages_match_inbox_content_and_time() {
        let body = br#"{"payload":[{"id":40,"inbox_id":1,"created_at":1766572010},{"id":41,"inbox_id":407,"created_at":1766572010}]}"#;
        let c = found_conversation(407, SINCE, StatusCode::OK, body)
            .unwrap()
            .unwrap();
        assert_eq!(c.id, Id(41));
        assert_eq!(
            found_conversation(408, SINCE, StatusCode::OK, body).unwrap(),
            None
        );
        let body = br#"{"payload":[{"id":90,"content":"Hello","created_at":1700000000},{"id":91,"content":"Hello","created_at":1766572010,"message_type":1}]}"#;
        let m = found_message("Hello", SINCE, StatusCode::OK, body)
            .unwrap()
            .unwrap();
        assert_eq!(m.id, Id(91));
        assert_eq!(
            found_message("Hallo", SINCE, StatusCode::OK, body).unwrap(),
            None
        );
        assert_eq!(
            messages_request(&base(), &key(), 40).unwrap().uri().path(),
            "/api/v2/accounts/conversations/40/messages"
        );
    }
}
