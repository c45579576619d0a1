//! Reply streams (DESIGN.md, "Replies"; builds with LiveDesk or mluvii only): `replies()` on the
//! result of a send that opened a conversation, `client.replies(access)` to reopen one, and a
//! stream's `send(text)`. The stream itself (SSE over `fetch`, reconnects) is `replies.js`; a
//! follow-up goes through the same retrying call as every send (`call::call`, with a
//! [`FollowUp`]).

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::call::{token_text, Relay};
use super::error::{call_site, HailError};
use super::js::{get, known_options, set};
use super::relay_client::call_promise;
use super::validate::Prepared;
use crate::error::ErrorCode;
use crate::protocol::REPLIES_PATH_PREFIX;

#[wasm_bindgen(typescript_custom_section)]
const TS_REPLIES: &'static str = const_format::concatcp!(
    r#"
/**
 * The result of a send that opened a vendor conversation (`livedesk.startConversation`,
 * `livedesk.createConversation`): a `CallResult` and the stream of the replies in that
 * conversation.
 */
export interface ConversationResult<T> extends CallResult<T> {
    /**
     * Where the replies arrive: plain JSON, to keep (e.g. in `sessionStorage`) and reopen the
     * stream after a reload with `client.replies(repliesAccess, { lastEventId })`.
     *
     * Absent when the relay takes no replies from this vendor (its `[replies.livedesk]` is not
     * configured) or could not open a stream (it logs why): the send itself succeeded.
     */
    repliesAccess?: RepliesAccess;
    /**
     * The replies in the conversation this send opened (`GET {relayUrl}{repliesAccess.url}`):
     * a new stream at each call, connected while anyone listens. The same as
     * `client.replies(this.repliesAccess, options)`; present exactly when `repliesAccess` is.
     */
    replies?(options?: RepliesOptions): ReplyStream;
}
/** A reply stream's address and token, as the relay answered them with the send that opened
 *  the conversation. */
export interface RepliesAccess {
    /** The stream's path on the relay, `/v1/replies/{stream}`. */
    url: string;
    /** The stream's own token (it opens this one stream, nothing else). */
    token: string;
    /** When the token stops working (RFC 3339): the stream then ends with `replies_expired`. */
    expiresAt: string;
}
/** Options of `replies()`. */
export interface RepliesOptions {
    /** Closes the stream: iterations end (no error), listeners hear nothing more. */
    signal?: AbortSignal;
    /** Only events after this `seq` (a `ReplyStream.lastEventId` kept from before); default 0:
     *  every event the relay still holds. */
    lastEventId?: number;
}
/** One event of a reply stream. */
export interface ReplyEvent {
    /** Its number in the stream: 1, 2, 3, … (a gap is an event the relay kept from this page). */
    seq: number;
    /** A message for the visitor, or a change of the conversation's state (`text` names it). */
    kind: "message" | "status";
    /** Who wrote it: a person at the company, a bot, or the platform (status changes). */
    author: "agent" | "bot" | "system";
    /** The message, or the new status. */
    text: string;
    /** When the vendor says it happened (RFC 3339, or the vendor's own form). */
    at: string;
    /** The vendor's id of the message. */
    vendorMessageId: string;
}
/**
 * The replies to one conversation, in `seq` order and each once: `for await (const reply of
 * stream)`, or `stream.onReply(reply => …)`. Read as server-sent events over `fetch` (browsers and
 * Node ≥ 20); after a dropped connection it reconnects with backoff (0.5 s doubling to 30 s) and
 * `Last-Event-ID`, so nothing is missed or repeated. It connects when the first iteration or
 * listener starts and disconnects when the last one stops.
 *
 * It ends with a `HailError` (`for await` throws it, `onReply`'s `onError` gets it; no reconnect)
 * when the relay refuses it: `replies_expired` (past `expiresAt`, or the conversation's stream
 * ended), `replies_refused` (a wrong or revoked token, no such stream), `unauthenticated`.
 */
export interface ReplyStream extends AsyncIterable<ReplyEvent> {
    /** Calls `listener` with each event (and `onError` with the error that ends the stream);
     *  returns the function that stops it. */
    onReply(listener: (event: ReplyEvent) => void, onError?: (error: HailError) => void): () => void;
    /**
     * Sends the visitor's follow-up into the conversation (`POST {relayUrl}{url}/messages`):
     * retried like every send, with one idempotency key (`options.idempotencyKey`, else
     * generated); rejects with a `HailError` that carries it (`idempotencyKey`, `possiblySent`).
     * Works after `close()` too.
     */
    send(text: string, options?: CallOptions): Promise<CallResult<"#,
    SENT,
    r#">>;
    /** Ends the stream: iterations end (no error), listeners hear nothing more. */
    close(): void;
    /** Whether the stream has ended (`close()`, the signal, or an error). */
    readonly closed: boolean;
    /** The `seq` of the last event received (0 before the first): keep it to resume after a
     *  reload with `replies({ lastEventId })`. */
    readonly lastEventId: number;
}
"#
);

/// What a follow-up's `data` is: LiveDesk's `Message`, as `livedesk/send-message` answers it.
// Read only by the TypeScript section above, which the dead-code lint does not see through.
#[cfg(feature = "livedesk")]
#[allow(dead_code)]
const SENT: &str = "Message";
#[cfg(not(feature = "livedesk"))]
#[allow(dead_code)]
const SENT: &str = "JsonValue";

#[wasm_bindgen(module = "/src/web/replies.js")]
extern "C" {
    #[wasm_bindgen(js_name = openStream)]
    fn open_stream(
        url: &str,
        token: &str,
        last_event_id: f64,
        signal: Option<&AbortSignal>,
        rust: &JsValue,
    ) -> JsValue;
}

/// A stream's path and token, checked: the path is the relay's `/v1/replies/…` (nothing else of
/// the relay, nor another host), the token a header value.
fn read_access(access: &JsValue) -> Result<(String, String), HailError> {
    let url = get(access, "url").as_string().unwrap_or_default();
    let stream = url.strip_prefix(REPLIES_PATH_PREFIX).unwrap_or_default();
    if stream.is_empty()
        || !stream
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'/'))
    {
        return Err(invalid(
            "url",
            "repliesAccess.url must be the relay's /v1/replies/{stream}",
        ));
    }
    let token = token_text(get(access, "token"))
        .map_err(|_| invalid("token", "repliesAccess.token must be visible ASCII"))?;
    Ok((url, token))
}

/// `invalid_request` naming `field`. (One function for every refusal here: each inlined one costs
/// the module bytes.)
#[inline(never)]
fn invalid(field: &'static str, message: &'static str) -> HailError {
    HailError::new(ErrorCode::InvalidRequest, message).field(field)
}

/// Sets `repliesAccess` on a result from the relay's `replies` member, when it is one.
pub(crate) fn keep_access(result: &JsValue, replies: &JsValue) {
    let expires_at = get(replies, "expiresAt");
    let Ok((url, token)) = read_access(replies) else {
        return;
    };
    if !expires_at.is_string() {
        return;
    }
    // A plain object of its own: the page may store it, and nothing else of the body comes.
    let access = js_sys::Object::new();
    set(&access, "url", url);
    set(&access, "token", token);
    set(&access, "expiresAt", expires_at);
    set(result, "repliesAccess", access);
}

/// Gives a result with `repliesAccess` its `replies(options)`.
pub(crate) fn attach(result: &JsValue, relay: &Relay) {
    let access = get(result, "repliesAccess");
    if !access.is_undefined() {
        set(result, "replies", opener(&Rc::new(relay.clone()), access));
    }
}

/// `replies(options)` of a result, with its `access`; or, with `access` undefined, the client's
/// `replies(access, options)`. One closure type for both: one shim in the module.
pub(crate) fn opener(relay: &Rc<Relay>, access: JsValue) -> JsValue {
    let relay = relay.clone();
    Closure::<dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
        move |first: JsValue, second: JsValue| {
            let opened = if access.is_undefined() {
                open(&relay, &first, &second)
            } else {
                open(&relay, &access, &first)
            };
            opened.map_err(JsValue::from)
        },
    )
    .into_js_value()
}

/// A `ReplyStream` of `access` (`{url, token}`) with `options` (`{signal?, lastEventId?}`).
pub(crate) fn open(
    relay: &Rc<Relay>,
    access: &JsValue,
    options: &JsValue,
) -> Result<JsValue, HailError> {
    if !access.is_object() {
        return Err(invalid("repliesAccess", "repliesAccess must be an object"));
    }
    let (path, token) = read_access(access)?;
    let (signal, last_event_id) = stream_options(options)?;
    let mut url = relay.url.clone();
    url.push_str(&path);
    let site = call_site();
    let follow_up = Rc::new(FollowUp {
        url: url.clone() + "/messages",
        token: token.clone(),
    });
    let relay = relay.clone();
    // The stream's one way into Rust (one closure, one shim): `(status, [body, requestId])`
    // gives the HailError that ends the stream, as a rejected promise; `(body, options)` sends a
    // follow-up (`body` its JSON, or undefined: never a number).
    let rust = Closure::<dyn Fn(JsValue, JsValue) -> js_sys::Promise>::new(
        move |first: JsValue, second: JsValue| match first.as_f64() {
            Some(status) => {
                let part = |i| js_sys::Reflect::get_u32(&second, i).unwrap_or_default();
                let error = stream_error(status as u16, part(0), part(1).as_string());
                js_sys::Promise::reject(&error.into_js_from(&site))
            }
            None => call_promise(
                relay.clone(),
                JsValue::from_str("replies/send"),
                first,
                Some(second),
                Some(follow_up.clone()),
            ),
        },
    );
    Ok(open_stream(
        &url,
        &token,
        last_event_id,
        signal.as_ref(),
        &rust.into_js_value(),
    ))
}

/// `{signal?, lastEventId?}`: the signal, and the `seq` to resume after (0: from the start).
fn stream_options(options: &JsValue) -> Result<(Option<AbortSignal>, f64), HailError> {
    if options.is_undefined() || options.is_null() {
        return Ok((None, 0.0));
    }
    if !options.is_object() {
        return Err(invalid("options", "options must be an object"));
    }
    known_options(options, "signal, lastEventId", "replies()")?;
    let signal = get(options, "signal");
    let signal = if signal.is_undefined() || signal.is_null() {
        None
    } else {
        Some(
            signal
                .dyn_into::<AbortSignal>()
                .map_err(|_| invalid("signal", "signal must be an AbortSignal"))?,
        )
    };
    let last = get(options, "lastEventId");
    let last = match last.as_f64() {
        None if last.is_undefined() || last.is_null() => 0.0,
        Some(n) if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) => n,
        _ => {
            return Err(invalid(
                "lastEventId",
                "lastEventId must be a whole number, 0 or more",
            ))
        }
    };
    Ok((signal, last))
}

/// The error that ends a stream: the relay's problem (`replies_expired`, `replies_refused`,
/// `unauthenticated`, …), or `invalid_response` for an answer that is no event stream.
fn stream_error(status: u16, body: JsValue, request_id: Option<String>) -> HailError {
    if status == 200 {
        let mut e = HailError::new(
            ErrorCode::InvalidResponse,
            "the reply stream answered without Content-Type text/event-stream",
        );
        e.status = Some(status);
        e.request_id = request_id;
        return e;
    }
    let body = body
        .as_string()
        .and_then(|b| js_sys::JSON::parse(&b).ok())
        .unwrap_or_default();
    HailError::from_problem(status, &body, request_id)
}

/// Where a stream's follow-ups go, and the token they carry (`call::call` sends them, retried
/// like every send).
pub(crate) struct FollowUp {
    /// `{relayUrl}/v1/replies/{stream}/messages`.
    pub url: String,
    /// The stream's token.
    pub token: String,
}

impl FollowUp {
    /// The body `replies.js` made of the page's text (`{"content": text}`), or, when the text
    /// was no non-empty string, nothing: `invalid_field`.
    pub(crate) fn prepare(&self, body: &JsValue) -> Result<Prepared, HailError> {
        let body = body.as_string().ok_or_else(|| {
            HailError::new(ErrorCode::InvalidField, "text must be a non-empty string").field("text")
        })?;
        Ok(Prepared { body, sends: true })
    }
}
