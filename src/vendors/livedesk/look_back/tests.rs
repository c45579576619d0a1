//! Unit tests of `look_back.rs`, compiled only through its `#[cfg(test)] mod tests`.
use super::*;
use crate::vendors::livedesk::tests::{base, key};
use http::StatusCode;
use serde_json::json;

const SINCE: u64 = 1_766_572_000_000;
/// Seconds: well before the first try, and just after it began.
const OLD: u64 = 1_700_000_000;
const NEW: u64 = 1_766_572_010;

fn body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// `n` contacts whose e-mail contains `anna@example.com` but is not it, newest first.
fn partial_matches(n: u64, from: u64) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"id": 100 + i, "email": format!("joanna{i}anna@example.com"), "created_at": from - i}))
        .collect()
}

#[test]
fn searches_name_their_order_and_page() {
    let k = ContactKey::of(None, Some("Anna@Example.com"), Some("+420123456789")).unwrap();
    let r = search_request(&base(), &key(), &k, 2).unwrap();
    assert_eq!(r.method(), "GET");
    assert_eq!(
        r.uri(),
        "https://livedesk-api.engagelab.com/api/v2/accounts/contacts?q=Anna%40Example.com&page=2&sort=created_at&direction=desc"
    );
    let all = ContactKey::all(Some("crm-1"), Some("a@b.cz"), Some("+420123456789"));
    assert_eq!(
        all.iter().map(|k| k.field).collect::<Vec<_>>(),
        ["identifier", "email", "phone_number"]
    );
    assert!(ContactKey::of(None, None, None).is_none());
}

#[test]
fn a_search_pages_through_partial_matches_by_the_total() {
    let k = ContactKey::of(None, Some("anna@example.com"), None).unwrap();
    let page1 = body(json!({"meta": {"count": 17}, "payload": partial_matches(15, NEW)}));
    assert_eq!(
        searched(&k, 1, StatusCode::OK, &page1).unwrap(),
        Search::NextPage
    );
    let mut last = partial_matches(1, OLD);
    last.push(json!({"id": 9, "email": "ANNA@example.com", "name": "Stored Name", "phone_number": "+4201", "created_at": OLD}));
    let page2 = body(json!({"meta": {"count": 17}, "payload": last}));
    let Search::Found(c) = searched(&k, 2, StatusCode::OK, &page2).unwrap() else {
        panic!("not found")
    };
    // Found by one detail: the id only, nothing of what LiveDesk stored.
    assert_eq!((c.id, c.name, c.source_id), (Id(9), None, None));
    let done = body(json!({"meta": {"count": 16}, "payload": partial_matches(1, OLD)}));
    assert_eq!(
        searched(&k, 2, StatusCode::OK, &done).unwrap(),
        Search::None
    );
    // Without a total: a full page may have a next one.
    let full = body(json!({"payload": partial_matches(15, NEW)}));
    assert_eq!(
        searched(&k, 1, StatusCode::OK, &full).unwrap(),
        Search::NextPage
    );
    let endless = body(json!({"meta": {"count": 1000}, "payload": partial_matches(15, NEW)}));
    assert!(searched(&k, SEARCH_PAGES_MAX, StatusCode::OK, &endless).is_err());
    assert!(searched(&k, 1, StatusCode::UNAUTHORIZED, b"{}").is_err());
}

#[test]
fn a_created_contact_is_found_only_if_recent_and_not_found_only_on_a_list_that_covers_the_time() {
    let k = ContactKey::of(None, Some("anna@example.com"), None).unwrap();
    let ours = json!({"id": 9, "email": "anna@example.com", "created_at": NEW});
    let older = json!({"id": 5, "email": "anna@example.com", "created_at": OLD});
    let found = found_contact(
        &k,
        Some(SINCE),
        StatusCode::OK,
        &body(json!({"meta": {"count": 2}, "payload": [ours, older]})),
    );
    assert_eq!(found.unwrap().unwrap().id, Id(9));
    // Only an older one, on a complete list: not made by the first try.
    let complete = body(json!({"meta": {"count": 1}, "payload": [older]}));
    assert_eq!(
        found_contact(&k, Some(SINCE), StatusCode::OK, &complete).unwrap(),
        None
    );
    // More than a page of partial matches, newest first, reaching back past the first try.
    let mut many = partial_matches(14, NEW);
    many.push(json!({"id": 1, "email": "x-anna@example.com", "created_at": OLD}));
    let reaching = body(json!({"meta": {"count": 40}, "payload": many}));
    assert_eq!(
        found_contact(&k, Some(SINCE), StatusCode::OK, &reaching).unwrap(),
        None
    );
    // The same page in ascending order proves nothing.
    let mut ascending = partial_matches(14, NEW);
    ascending.insert(
        0,
        json!({"id": 1, "email": "x-anna@example.com", "created_at": OLD}),
    );
    let unsorted = body(json!({"meta": {"count": 40}, "payload": ascending}));
    assert!(found_contact(&k, Some(SINCE), StatusCode::OK, &unsorted).is_err());
    // A full page of newer partial matches cannot tell.
    let newer = body(json!({"meta": {"count": 40}, "payload": partial_matches(15, NEW + 100)}));
    assert!(found_contact(&k, Some(SINCE), StatusCode::OK, &newer).is_err());
    assert!(found_contact(&k, Some(SINCE), StatusCode::OK, b"<html>").is_err());
}

#[test]
fn an_empty_or_foreign_conversation_list_proves_nothing() {
    let since = SINCE;
    let request = conversations_request(&base(), &key(), 9).unwrap();
    assert_eq!(
        request.uri().path(),
        "/api/v2/accounts/contacts/9/conversations"
    );
    let ours = json!({"id": 41, "inbox_id": 407, "created_at": NEW});
    let old_here = json!({"id": 30, "inbox_id": 407, "created_at": OLD});
    let old_elsewhere = json!({"id": 31, "inbox_id": 1, "created_at": OLD});
    let list = |items: Vec<Value>| body(json!({"payload": items}));
    let c = found_conversation(
        407,
        since,
        StatusCode::OK,
        &list(vec![ours.clone(), old_here.clone()]),
    );
    assert_eq!(c.unwrap().unwrap().id, Id(41));
    assert_eq!(
        found_conversation(407, since, StatusCode::OK, &list(vec![old_here])).unwrap(),
        None
    );
    // Filtered by the inboxes the API user may see: empty, or only other inboxes, is no proof.
    assert!(found_conversation(407, since, StatusCode::OK, &list(vec![])).is_err());
    assert!(found_conversation(407, since, StatusCode::OK, &list(vec![old_elsewhere])).is_err());
    // Not in the promised order: no proof.
    let newer_elsewhere = json!({"id": 50, "inbox_id": 1, "created_at": NEW});
    let shuffled = list(vec![
        json!({"id": 30, "inbox_id": 407, "created_at": OLD}),
        newer_elsewhere,
    ]);
    assert!(found_conversation(407, since, StatusCode::OK, &shuffled).is_err());
}

#[test]
fn messages_match_content_speaker_and_time_in_the_last_twenty_ascending() {
    let m = |id: u64, content: &str, t: Value, at: u64| json!({"id": id, "content": content, "message_type": t, "created_at": at});
    let list = |items: Vec<Value>| body(json!({"meta": {}, "payload": items}));
    let answer = list(vec![
        m(90, "Hello", json!(0), OLD),
        m(91, "Hello", json!(0), NEW),
    ]);
    let found = found_message(
        "Hello",
        MessageType::Incoming,
        SINCE,
        StatusCode::OK,
        &answer,
    );
    assert_eq!(found.unwrap().unwrap().id, Id(91));
    // The agent's "Hello" is not the visitor's.
    let agent = list(vec![m(92, "Hello", json!(1), NEW)]);
    assert_eq!(
        found_message(
            "Hello",
            MessageType::Incoming,
            SINCE,
            StatusCode::OK,
            &agent
        )
        .unwrap(),
        None
    );
    assert_eq!(
        found_message(
            "Hello",
            MessageType::Outgoing,
            SINCE,
            StatusCode::OK,
            &agent
        )
        .unwrap()
        .unwrap()
        .id,
        Id(92)
    );
    // Twenty newer messages without ours: the list does not reach back, no proof.
    let busy: Vec<Value> = (0..20)
        .map(|i| m(200 + i, "other", json!(1), NEW + i))
        .collect();
    assert!(found_message(
        "Hello",
        MessageType::Incoming,
        SINCE,
        StatusCode::OK,
        &list(busy.clone())
    )
    .is_err());
    // Twenty, the oldest before the first try: proof.
    let mut reaching = busy;
    reaching[0] = m(199, "other", json!(1), OLD);
    assert_eq!(
        found_message(
            "Hello",
            MessageType::Incoming,
            SINCE,
            StatusCode::OK,
            &list(reaching)
        )
        .unwrap(),
        None
    );
    assert_eq!(
        messages_request(&base(), &key(), 40).unwrap().uri().path(),
        "/api/v2/accounts/conversations/40/messages"
    );
}
