//! Binding: a send whose result opened a conversation (`Operation::thread`) at a vendor that
//! delivers replies here gets a new stream, and its answer says where (`"replies"` beside
//! `data`). Its sent messages are remembered, so that their webhook echoes are no replies.

use std::time::{Duration, UNIX_EPOCH};

use hail::protocol::{RepliesAccess, REPLIES_PATH_PREFIX};
use hail::Thread;

use super::log::StreamRecord;
use super::{token, Replies};
use crate::idempotency::now_ms;

/// What a successful send of `vendor` with `thread` means for replies: the new stream's access,
/// or `None` (nothing opened, no intake for the vendor, or the log failing: then logged, and the
/// send's answer goes out without `replies`, since the send itself succeeded).
pub async fn bind(replies: &Replies, vendor: &str, thread: Thread) -> Option<RepliesAccess> {
    if !replies.takes(vendor) {
        return None;
    }
    if !thread.sent.is_empty() {
        if let Err(e) = replies.log.note_sent(vendor, &thread.sent).await {
            tracing::error!(error = %e, "replies: cannot remember a sent message; its echo may reach a stream");
        }
    }
    let conversation = thread.opens?;
    let (id, token) = (token::stream_id(), token::token());
    let expires_ms = now_ms().saturating_add(replies.token_ttl.as_millis() as u64);
    let record = StreamRecord {
        id: id.clone(),
        vendor: vendor.to_owned(),
        conversation,
        token_hash: token::hash(&token),
        expires_ms,
    };
    if let Err(e) = replies.log.bind(record).await {
        tracing::error!(error = %e, "replies: cannot bind a stream; the answer goes without one");
        return None;
    }
    let expires = UNIX_EPOCH + Duration::from_millis(expires_ms);
    Some(RepliesAccess {
        url: format!("{REPLIES_PATH_PREFIX}{id}"),
        token,
        expires_at: humantime::format_rfc3339_seconds(expires).to_string(),
    })
}
