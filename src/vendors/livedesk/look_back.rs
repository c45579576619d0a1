//! Looking things up at LiveDesk: the contact a returning visitor already is, and the read-backs
//! after an unknown outcome (DESIGN.md, "Reliability rules"): did LiveDesk create the contact,
//! the conversation, the message that a timed-out or interrupted call asked for?
//!
//! What the lists are (`shared/VENDORS.md`, LiveDesk; Chatwoot's API, which LiveDesk derives
//! from, where LiveDesk's pages say nothing):
//! - [`SEARCH`] `?q=&page=&sort=&direction=` searches contacts (e-mail, phone number, identifier
//!   and name contain `q`): 15 a page, `meta.count` the total. LiveDesk documents no default
//!   order, so the order is always sent. **Assumed**: `sort=created_at` names the creation time;
//! - [`CONTACT_CONVERSATIONS`]: a contact's conversations, newest first, at most 20, and only
//!   those in inboxes the API user may see: an empty list proves nothing;
//! - [`MESSAGES`]: a conversation's last 20 messages, oldest first;
//! - every record carries `created_at` (Unix seconds); one dated before `since_ms` (when the first
//!   try began, less the relay's allowance for the vendor's clock) is not the first try's.
//!
//! "Not found" is taken as proof that LiveDesk did not act (so the relay sends) only when the list
//! provably covers the time since the first try: it is complete, or it is in the order asked for
//! and reaches back past the first try, and every record in it is dated. Otherwise the answer is
//! "cannot tell" and the outcome stays unknown. The relay adds a quiet period after the last send
//! (`idempotency.look_back_quiet_seconds`), as LiveDesk may still be working on a late request.

use serde::Deserialize;
use serde_json::Value;

use super::create_contact::Contact;
use super::create_conversation::{decode_conversation, Conversation};
use super::send_message::{decode_message, Message, MessageType};
use super::{decode, request, ApiKey};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::id::Id;
use crate::reply::UpstreamError;
use crate::vendor_call::VendorCall;

/// The contact search: the list of contacts, on the path contacts are created at.
pub const SEARCH: VendorCall = VendorCall::get(super::create_contact::CALL.path);
/// A contact's conversations.
pub const CONTACT_CONVERSATIONS: VendorCall =
    VendorCall::get("/api/v2/accounts/contacts/{contact_id}/conversations");
/// A conversation's messages, on the path they are sent to.
pub const MESSAGES: VendorCall = VendorCall::get(super::send_message::CALL.path);

/// Contacts a search page holds.
pub const SEARCH_PAGE: usize = 15;
/// Most conversations a contact's list holds.
pub const CONVERSATIONS_MAX: usize = 20;
/// Most messages a conversation's list holds.
pub const MESSAGES_MAX: usize = 20;
/// Most search pages read for one detail before giving up: a detail shared (as a part) by more
/// than 300 contacts is no way to find one.
pub const SEARCH_PAGES_MAX: u32 = 20;

#[derive(Deserialize)]
struct List {
    payload: Vec<Value>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    count: Option<u64>,
}

fn list(status: http::StatusCode, body: &[u8]) -> Result<List, UpstreamError> {
    decode::<List>(status, body, "payload list")
}

/// When `item` was made, in Unix ms (`created_at` is Unix seconds), if it says.
fn created_ms(item: &Value) -> Option<u64> {
    item["created_at"]
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0) as u64)
}

/// Whether `created` (a whole second) ended before the first try began (the clock allowance
/// already taken off): a record dated second S may have been made until S + 999 ms.
fn before(created: u64, since_ms: u64) -> bool {
    created.saturating_add(1000) <= since_ms
}

/// Whether every item is dated and the dates run newest first (`newest_first`) or oldest first.
fn in_order(items: &[Value], newest_first: bool) -> bool {
    let dates: Option<Vec<u64>> = items.iter().map(created_ms).collect();
    dates.is_some_and(|d| {
        d.windows(2).all(|w| {
            if newest_first {
                w[0] >= w[1]
            } else {
                w[0] <= w[1]
            }
        })
    })
}

fn cannot_tell(status: http::StatusCode) -> UpstreamError {
    UpstreamError {
        code: crate::ErrorCode::InvalidResponse,
        status: status.as_u16(),
        message: "LiveDesk's list cannot tell whether the request was acted on".to_owned(),
    }
}

/// One detail a contact is looked for by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContactKey<'a> {
    field: &'static str,
    value: &'a str,
}

impl<'a> ContactKey<'a> {
    /// The unique details given, most specific first: identifier, e-mail address, phone number.
    /// Empty if none is given (a contact with only a name cannot be told from another).
    pub(crate) fn all(
        identifier: Option<&'a str>,
        email: Option<&'a str>,
        phone: Option<&'a str>,
    ) -> Vec<Self> {
        [
            ("identifier", identifier),
            ("email", email),
            ("phone_number", phone),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| Self { field, value }))
        .collect()
    }

    /// The most specific detail given.
    pub(crate) fn of(
        identifier: Option<&'a str>,
        email: Option<&'a str>,
        phone: Option<&'a str>,
    ) -> Option<Self> {
        Self::all(identifier, email, phone).into_iter().next()
    }

    /// Whether a listed contact has this detail: the e-mail address in any case (LiveDesk
    /// keeps it unique case-insensitively), the others exactly. A search matches parts too.
    fn matches(&self, item: &Value) -> bool {
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

/// Page `page` (from 1) of the contacts whose details contain `key`, newest first.
pub(crate) fn search_request(
    base: &BaseUrl,
    api: &ApiKey,
    key: &ContactKey<'_>,
    page: u32,
) -> Encoded {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", key.value)
        .append_pair("page", &page.to_string())
        .append_pair("sort", "created_at")
        .append_pair("direction", "desc")
        .finish();
    request::<()>(&SEARCH, base, &[], &query, api, None)
}

/// A contact found by a detail: its id only. What LiveDesk stored of it (name, e-mail, phone)
/// is no business of a caller who only knows one detail.
fn found(item: &Value, status: http::StatusCode) -> Result<Contact, UpstreamError> {
    #[derive(Deserialize)]
    struct Found {
        id: Id,
    }
    let found: Found = serde_json::from_value(item.clone()).map_err(|_| UpstreamError {
        code: crate::ErrorCode::InvalidResponse,
        status: status.as_u16(),
        message: "LiveDesk's search answer was not understood".to_owned(),
    })?;
    Ok(Contact {
        id: found.id,
        source_id: None,
        name: None,
    })
}

/// What one search page says of the contact looked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Search {
    /// The contact with the detail.
    Found(Contact),
    /// Not on this page; more pages follow.
    NextPage,
    /// No contact has the detail.
    None,
}

/// Reads search page `page` for `key`: a contact with the detail, or where to look next.
pub(crate) fn searched(
    key: &ContactKey<'_>,
    page: u32,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Search, UpstreamError> {
    let list = list(status, body)?;
    if let Some(item) = list.payload.iter().find(|c| key.matches(c)) {
        return found(item, status).map(Search::Found);
    }
    let seen = u64::from(page.saturating_sub(1)) * SEARCH_PAGE as u64 + list.payload.len() as u64;
    // Without a total, a full page may have a next one.
    let more = match list.meta.and_then(|m| m.count) {
        Some(count) => seen < count && !list.payload.is_empty(),
        None => list.payload.len() >= SEARCH_PAGE,
    };
    match (more, page < SEARCH_PAGES_MAX) {
        (false, _) => Ok(Search::None),
        (true, true) => Ok(Search::NextPage),
        (true, false) => Err(UpstreamError {
            code: crate::ErrorCode::UpstreamRejected,
            status: status.as_u16(),
            message: format!(
                "more than {} LiveDesk contacts match the {}; give a more specific one",
                SEARCH_PAGES_MAX as usize * SEARCH_PAGE,
                key.field
            ),
        }),
    }
}

/// After an unknown create: the contact with `key`, from the first search page (newest first).
/// `since_ms`: count only a contact made since the first try began (`create-contact`); `None`:
/// any contact with the detail (`start-conversation` uses the one there is).
pub(crate) fn found_contact(
    key: &ContactKey<'_>,
    since_ms: Option<u64>,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Contact>, UpstreamError> {
    let list = list(status, body)?;
    let recent = |c: &Value| match since_ms {
        None => true,
        Some(since) => created_ms(c).is_some_and(|t| !before(t, since)),
    };
    if let Some(item) = list.payload.iter().find(|c| key.matches(c) && recent(c)) {
        return found(item, status).map(Some);
    }
    let complete = list
        .meta
        .and_then(|m| m.count)
        .is_some_and(|count| count <= list.payload.len() as u64);
    let reaches_back = since_ms.is_some_and(|since| {
        in_order(&list.payload, true)
            && list
                .payload
                .last()
                .and_then(created_ms)
                .is_some_and(|t| before(t, since))
    });
    if complete || reaches_back {
        Ok(None)
    } else {
        Err(cannot_tell(status))
    }
}

/// The conversations of contact `contact_id`.
pub(crate) fn conversations_request(base: &BaseUrl, api: &ApiKey, contact_id: u64) -> Encoded {
    let id = contact_id.to_string();
    request::<()>(
        &CONTACT_CONVERSATIONS,
        base,
        &[("contact_id", &id)],
        "",
        api,
        None,
    )
}

/// The conversation in `inbox_id` the first try made, if there is one. The list shows only the
/// inboxes the API user may see, so "none" needs a conversation of `inbox_id` in it (the inbox
/// is visible) and a list that reaches back past the first try.
pub(crate) fn found_conversation(
    inbox_id: u64,
    since_ms: u64,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Conversation>, UpstreamError> {
    let items = list(status, body)?.payload;
    let in_inbox = |c: &Value| c["inbox_id"].as_u64() == Some(inbox_id);
    let ours = items
        .iter()
        .find(|c| in_inbox(c) && created_ms(c).is_some_and(|t| !before(t, since_ms)));
    if let Some(c) = ours {
        return decode_conversation(status, c.to_string().as_bytes()).map(Some);
    }
    let visible = items.iter().any(in_inbox);
    let reaches_back = in_order(&items, true)
        && (items.len() < CONVERSATIONS_MAX
            || items
                .last()
                .and_then(created_ms)
                .is_some_and(|t| before(t, since_ms)));
    if visible && reaches_back {
        Ok(None)
    } else {
        Err(cannot_tell(status))
    }
}

/// The messages of conversation `conversation_id`.
pub(crate) fn messages_request(base: &BaseUrl, api: &ApiKey, conversation_id: u64) -> Encoded {
    let id = conversation_id.to_string();
    request::<()>(&MESSAGES, base, &[("conversation_id", &id)], "", api, None)
}

/// The message with `content` from `speaker` the first try sent, if there is one.
pub(crate) fn found_message(
    content: &str,
    speaker: MessageType,
    since_ms: u64,
    status: http::StatusCode,
    body: &[u8],
) -> Result<Option<Message>, UpstreamError> {
    let items = list(status, body)?.payload;
    let ours = items.iter().rev().find(|m| {
        m["content"].as_str() == Some(content)
            && speaker.is(&m["message_type"])
            && created_ms(m).is_some_and(|t| !before(t, since_ms))
    });
    if let Some(m) = ours {
        return decode_message(status, m.to_string().as_bytes()).map(Some);
    }
    // The last messages, oldest first: complete, or its oldest is older than the first try.
    let reaches_back = in_order(&items, false)
        && (items.len() < MESSAGES_MAX
            || items
                .first()
                .and_then(created_ms)
                .is_some_and(|t| before(t, since_ms)));
    if reaches_back {
        Ok(None)
    } else {
        Err(cannot_tell(status))
    }
}

#[cfg(test)]
#[path = "look_back/tests.rs"]
mod tests;
