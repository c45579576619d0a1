//! HTTP through gloo-net, wrapped so that nothing it does can trap the module:
//! - gloo-net panics when a fetch rejects with a non-`Error` reason (e.g. `abort("x")`), so the
//!   caller's signal never reaches fetch: it aborts Hail's own controller, always with an `Error`;
//! - gloo-net throws on invalid header values, so callers pass only validated values;
//! - gloo-net has no timeout, so one is armed here with `setTimeout`;
//! - `send()` is `Ok` on 4xx/5xx: the status is returned for the caller to judge.

use std::cell::Cell;
use std::rc::Rc;

use gloo_net::http::{Headers, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::error::HailError;
use super::js::{clear_timeout, set_timeout};
use crate::error::ErrorCode;

/// What ended a request early.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    Timeout,
    Aborted,
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
    let controller = AbortController::new()
        .map_err(|_| HailError::new(ErrorCode::NetworkError, "AbortController is not available"))?;
    let cut: Rc<Cell<Option<Cut>>> = Rc::default();
    let abort = |why: Cut| {
        let controller = controller.clone();
        let cut = cut.clone();
        Closure::<dyn FnMut()>::new(move || {
            if cut.get().is_none() {
                cut.set(Some(why));
            }
            controller.abort_with_reason(&js_sys::Error::new("hail: request cut").into());
        })
    };
    let on_timeout = abort(Cut::Timeout);
    let on_abort = abort(Cut::Aborted);
    let timer = set_timeout(on_timeout.as_ref().unchecked_ref(), timeout_ms);
    if let Some(signal) = &signal {
        let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }

    let result = exchange(request.abort_signal(Some(&controller.signal())), body).await;

    clear_timeout(&timer);
    if let Some(signal) = &signal {
        let _ =
            signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }
    drop((on_timeout, on_abort));
    match (result, cut.get()) {
        (Ok(received), _) => Ok(received),
        (Err(_), Some(Cut::Timeout)) => Err(HailError::new(
            ErrorCode::Timeout,
            format!("no answer within {timeout_ms} ms"),
        )),
        (Err(_), Some(Cut::Aborted)) => Err(aborted()),
        (Err(e), None) => Err(e),
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
