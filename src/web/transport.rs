//! HTTP through the platform's `fetch` (`transport.js`), wrapped so that nothing it does can trap
//! the module and nothing it reports is lost:
//! - one signal of Hail's own carries the timeout and the caller's signal, so the error says
//!   which of them cut the request (`timeout` or `aborted`, the caller's reason as `cause`);
//! - a network failure keeps the platform's error as `cause` and its words in the message (Node: the
//!   reason under it, e.g. `ECONNREFUSED`);
//! - `fetch` answers 4xx/5xx like any other: the status is returned for the caller to judge.

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::error::HailError;
use crate::error::ErrorCode;

#[wasm_bindgen(module = "/src/web/transport.js")]
extern "C" {
    /// A received answer, body read.
    pub(crate) type Received;

    #[wasm_bindgen(method, getter)]
    pub(crate) fn status(this: &Received) -> u16;

    #[wasm_bindgen(method, getter)]
    pub(crate) fn text(this: &Received) -> String;

    /// A response header, `None` when absent.
    #[wasm_bindgen(method)]
    pub(crate) fn header(this: &Received, name: &str) -> Option<String>;

    fn exchange(
        method: &str,
        url: &str,
        headers: &JsValue,
        body: Option<&str>,
        signal: Option<&AbortSignal>,
        ms: u32,
    ) -> js_sys::Promise;

    /// A promise resolved after `ms` milliseconds.
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: u32) -> js_sys::Promise;

    /// `value` awaited under a timeout and a signal: `[0, value]`, `[3, rejection]` or `[cut]`.
    #[wasm_bindgen(js_name = within)]
    fn within_promise(value: &JsValue, signal: Option<&AbortSignal>, ms: u32) -> js_sys::Promise;
}

/// What cut a request or a wait (`transport.js`): the timeout, the caller's signal; or, for
/// `within`, the awaited promise rejected.
const CUT_BY_TIMEOUT: u32 = 1;
const CUT_BY_CALLER: u32 = 2;
const REJECTED: u32 = 3;

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: u32) {
    let _ = wasm_bindgen_futures::JsFuture::from(sleep_promise(ms)).await;
}

/// A request: method, absolute URL, headers (`[name, value]`), optional body.
pub(crate) struct Outgoing<'a> {
    pub method: &'static str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a str>,
}

/// Sends `request` with a timeout and the caller's optional abort signal.
pub(crate) async fn send(
    request: &Outgoing<'_>,
    timeout_ms: u32,
    signal: Option<&AbortSignal>,
) -> Result<Received, HailError> {
    if let Some(s) = signal.filter(|s| s.aborted()) {
        return Err(aborted(s));
    }
    let headers = js_sys::Object::new();
    for (name, value) in request.headers {
        super::js::set(&headers, name, *value);
    }
    let promise = exchange(
        request.method,
        request.url,
        &headers,
        request.body,
        signal,
        timeout_ms,
    );
    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(received) => Ok(received.unchecked_into()),
        Err(failure) => {
            let why = js_sys::Reflect::get_u32(&failure, 0)
                .ok()
                .and_then(|w| w.as_f64())
                .unwrap_or_default() as u32;
            let cause = js_sys::Reflect::get_u32(&failure, 1).unwrap_or_default();
            let reason = js_sys::Reflect::get_u32(&failure, 2).unwrap_or_default();
            let never_left = js_sys::Reflect::get_u32(&failure, 3).unwrap_or_default();
            Err(match (why, signal) {
                (CUT_BY_TIMEOUT, _) => HailError::new(
                    ErrorCode::Timeout,
                    format!("no answer within {timeout_ms} ms"),
                ),
                (CUT_BY_CALLER, Some(s)) => aborted(s),
                _ => network_error(request.url, cause, reason, never_left.is_truthy()),
            })
        }
    }
}

/// `network_error`: no HTTP answer from `url`, with the platform's words (`transport.js` reads
/// them, and whether they prove the request never left) and its error as the `cause`.
/// `possibly_sent` says whether this request may have left (see `call::may_have_left`).
fn network_error(url: &str, cause: JsValue, reason: JsValue, never_left: bool) -> HailError {
    let mut message = String::from("could not reach ");
    message.push_str(url);
    message.push_str(": ");
    message.push_str(&reason.as_string().unwrap_or_default());
    let mut e = HailError::new(ErrorCode::NetworkError, message).cause(cause);
    e.possibly_sent = !never_left;
    e
}

/// Awaits `value` (a promise, or any value) from code Hail does not control (a token function,
/// a chayns host call) under the call's `timeout_ms` and `signal`: `Ok(Ok(value))`,
/// `Ok(Err(rejection))`, or the `timeout` / `aborted` error naming `what`.
pub(crate) async fn within(
    value: &JsValue,
    signal: Option<&AbortSignal>,
    timeout_ms: u32,
    what: &str,
) -> Result<Result<JsValue, JsValue>, HailError> {
    if let Some(s) = signal.filter(|s| s.aborted()) {
        return Err(aborted(s));
    }
    let settled = wasm_bindgen_futures::JsFuture::from(within_promise(value, signal, timeout_ms))
        .await
        .unwrap_or_default();
    let tag = js_sys::Reflect::get_u32(&settled, 0)
        .ok()
        .and_then(|t| t.as_f64())
        .unwrap_or_default() as u32;
    let value = js_sys::Reflect::get_u32(&settled, 1).unwrap_or_default();
    match (tag, signal) {
        (0, _) => Ok(Ok(value)),
        (REJECTED, _) => Ok(Err(value)),
        (CUT_BY_CALLER, Some(s)) => Err(aborted(s)),
        _ => Err(HailError::new(
            ErrorCode::Timeout,
            format!("{what} did not settle within {timeout_ms} ms"),
        )),
    }
}

/// `aborted`, with the signal's reason as the error's `cause`.
pub(crate) fn aborted(signal: &AbortSignal) -> HailError {
    HailError::new(ErrorCode::Aborted, "the call was aborted").cause(signal.reason())
}
