//! HTTP through gloo-net, wrapped so that nothing it does can trap the module:
//! - gloo-net panics when a fetch rejects with a non-`Error` reason (e.g. `abort("x")`), so the
//!   caller's signal never reaches fetch: it aborts Hail's own controller, always with an `Error`
//!   (`timers.js`);
//! - gloo-net throws on invalid header values, so callers pass only validated values;
//! - gloo-net has no timeout, so one is armed with `setTimeout` (`timers.js`);
//! - `send()` is `Ok` on 4xx/5xx: the status is returned for the caller to judge.

use gloo_net::http::{Headers, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::error::HailError;
use crate::error::ErrorCode;

#[wasm_bindgen(module = "/src/web/timers.js")]
extern "C" {
    /// One request's own abort signal, cut by the timeout or the caller's signal.
    type Armed;

    #[wasm_bindgen(catch)]
    fn arm(signal: Option<&AbortSignal>, ms: u32) -> Result<Armed, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn signal(this: &Armed) -> AbortSignal;

    /// Stops the timer and the listener; returns what cut the request: 0 nothing,
    /// [`CUT_BY_TIMEOUT`] or [`CUT_BY_CALLER`].
    #[wasm_bindgen(method)]
    fn disarm(this: &Armed) -> u32;

    /// A promise resolved after `ms` milliseconds.
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: u32) -> js_sys::Promise;
}

/// `disarm()`'s answers (the reasons `timers.js` passes to `cut`).
const CUT_BY_TIMEOUT: u32 = 1;
const CUT_BY_CALLER: u32 = 2;

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: u32) {
    let _ = wasm_bindgen_futures::JsFuture::from(sleep_promise(ms)).await;
}

/// A received HTTP response, body read.
pub(crate) struct Received {
    pub status: u16,
    pub headers: Headers,
    pub text: String,
}

/// Sends `request` with a timeout and the caller's optional abort signal.
pub(crate) async fn send(
    request: RequestBuilder,
    body: Option<String>,
    timeout_ms: u32,
    signal: Option<AbortSignal>,
) -> Result<Received, HailError> {
    if signal.as_ref().is_some_and(AbortSignal::aborted) {
        return Err(aborted());
    }
    let armed = arm(signal.as_ref(), timeout_ms)
        .map_err(|_| HailError::new(ErrorCode::NetworkError, "AbortController is not available"))?;
    let result = exchange(request.abort_signal(Some(&armed.signal())), body).await;
    match (result, armed.disarm()) {
        (Ok(received), _) => Ok(received),
        (Err(_), CUT_BY_TIMEOUT) => Err(HailError::new(
            ErrorCode::Timeout,
            format!("no answer within {timeout_ms} ms"),
        )),
        (Err(_), CUT_BY_CALLER) => Err(aborted()),
        (Err(e), _) => Err(e),
    }
}

async fn exchange(request: RequestBuilder, body: Option<String>) -> Result<Received, HailError> {
    // The browser's own words (e.g. "Failed to fetch"); gloo-net's `Display` would link in
    // formatting for error kinds that never occur here.
    let network = |e: gloo_net::Error| {
        let why = match e {
            gloo_net::Error::JsError(js) => js.message,
            _ => String::from("no HTTP answer"),
        };
        HailError::new(
            ErrorCode::NetworkError,
            format!("the request failed: {why}"),
        )
    };
    let response = match body {
        Some(body) => request.body(body).map_err(network)?.send().await,
        None => request.send().await,
    }
    .map_err(network)?;
    let status = response.status();
    let headers = response.headers();
    let text = response.text().await.map_err(network)?;
    Ok(Received {
        status,
        headers,
        text,
    })
}

fn aborted() -> HailError {
    HailError::new(ErrorCode::Aborted, "the call was aborted")
}
