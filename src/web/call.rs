//! One relay call: options, the caller's token, retries with one idempotency key, and turning
//! the relay's answer into a `CallResult` or a `HailError`.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::error::HailError;
use super::js::{get, new_idempotency_key, result_object};
use super::transport::{self, sleep, Received};
use super::validate::prepare;
use crate::error::ErrorCode;
use crate::protocol::{self, is_valid_idempotency_key};

/// Backoff before the first retry, doubled each time, in milliseconds.
pub const BACKOFF_BASE_MS: f64 = 250.0;
/// Longest backoff or honoured `Retry-After`, in milliseconds.
pub const BACKOFF_MAX_MS: f64 = 5_000.0;

/// What a client knows about its relay.
pub(crate) struct Relay {
    pub url: String,
    /// A string, a function returning a string, or one returning a promise of one.
    pub token: JsValue,
    pub timeout_ms: u32,
    pub retries: u32,
}

/// Per-call options, checked.
pub(crate) struct CallOptions {
    pub signal: Option<AbortSignal>,
    pub timeout_ms: Option<u32>,
    pub idempotency_key: Option<String>,
}

/// Reads `{signal?, timeoutMs?, idempotencyKey?}` from any JS value.
pub(crate) fn call_options(options: &JsValue) -> Result<CallOptions, HailError> {
    let none = CallOptions {
        signal: None,
        timeout_ms: None,
        idempotency_key: None,
    };
    if options.is_undefined() || options.is_null() {
        return Ok(none);
    }
    if !options.is_object() {
        return Err(
            HailError::new(ErrorCode::InvalidRequest, "options must be an object").field("options"),
        );
    }
    let signal = get(options, "signal");
    let signal = if signal.is_undefined() || signal.is_null() {
        None
    } else {
        Some(signal.dyn_into::<AbortSignal>().map_err(|_| {
            HailError::new(ErrorCode::InvalidRequest, "signal must be an AbortSignal")
                .field("signal")
        })?)
    };
    let timeout_ms = positive_ms(&get(options, "timeoutMs"), "timeoutMs")?;
    let key = get(options, "idempotencyKey");
    let idempotency_key = match key.as_string() {
        None if key.is_undefined() || key.is_null() => None,
        Some(k) if is_valid_idempotency_key(k.as_bytes()) => Some(k),
        _ => {
            return Err(HailError::new(
                ErrorCode::InvalidRequest,
                "idempotencyKey must be 1 to 255 visible ASCII characters",
            )
            .field("idempotencyKey"))
        }
    };
    Ok(CallOptions {
        signal,
        timeout_ms,
        idempotency_key,
    })
}

/// An optional positive whole number of milliseconds.
pub(crate) fn positive_ms(value: &JsValue, field: &'static str) -> Result<Option<u32>, HailError> {
    match value.as_f64() {
        None if value.is_undefined() || value.is_null() => Ok(None),
        Some(ms) if ms.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&ms) => {
            Ok(Some(ms as u32))
        }
        _ => Err(HailError::new(
            ErrorCode::InvalidRequest,
            format!("{field} must be a positive whole number"),
        )
        .field(field)),
    }
}

/// The caller's token, if the client has one: called anew each time (it may refresh it).
async fn token(source: &JsValue) -> Result<Option<String>, HailError> {
    let bad = |why: &str| {
        HailError::new(ErrorCode::Unauthenticated, format!("token: {why}")).field("token")
    };
    let mut value = source.clone();
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if let Some(f) = value.dyn_ref::<js_sys::Function>() {
        value = f
            .call0(&JsValue::NULL)
            .map_err(|_| bad("the token function threw"))?;
        if let Some(promise) = value.dyn_ref::<js_sys::Promise>() {
            value = JsFuture::from(promise.clone())
                .await
                .map_err(|_| bad("the token promise was rejected"))?;
        }
    }
    match value.as_string() {
        // It becomes a header value: visible ASCII only (gloo-net would throw otherwise).
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(t)),
        Some(_) => Err(bad("must be visible ASCII without spaces")),
        None => Err(bad("must be a string, or a function returning one")),
    }
}

/// Calls operation `id`: validated first, then sent with retries (same idempotency key).
pub(crate) async fn call(
    relay: &Relay,
    id: &str,
    input: &JsValue,
    options: &JsValue,
) -> Result<JsValue, HailError> {
    let options = call_options(options)?;
    let prepared = prepare(id, input)?.map_err(|v| HailError::invalid(&v))?;
    let url = format!("{}{}", relay.url, protocol::operation_path(id));
    let key = match (prepared.sends, options.idempotency_key) {
        (false, _) => None,
        (true, Some(key)) => Some(key),
        (true, None) => Some(new_idempotency_key().ok_or_else(|| {
            HailError::new(
                ErrorCode::Internal,
                "no crypto.getRandomValues to make an idempotency key",
            )
        })?),
    };
    let timeout = options.timeout_ms.unwrap_or(relay.timeout_ms);
    let mut attempt = 0;
    let mut token_renewed = false;
    let mut bearer = None;
    // The token is asked for before the first attempt and once more after `unauthenticated`.
    let mut ask_token = true;
    loop {
        if ask_token {
            ask_token = false;
            bearer = token(&relay.token).await?;
        }
        let mut request =
            gloo_net::http::Request::post(&url).header("content-type", "application/json");
        if let Some(key) = &key {
            request = request.header(protocol::IDEMPOTENCY_KEY, key);
        }
        if let Some(t) = &bearer {
            request = request.header("authorization", &format!("Bearer {t}"));
        }
        let outcome = match transport::send(
            request,
            Some(prepared.body.clone()),
            timeout,
            options.signal.clone(),
        )
        .await
        {
            Ok(received) => answer(received),
            Err(e) => Err((e, None)),
        };
        let (error, retry_after) = match outcome {
            Ok(result) => return Ok(result),
            Err(e) => e,
        };
        if error.code == ErrorCode::Unauthenticated
            && error.status.is_some()
            && !token_renewed
            && !relay.token.is_undefined()
        {
            // The relay refused the token: ask for a fresh one, once.
            token_renewed = true;
            ask_token = true;
            continue;
        }
        let again = error.retryable
            && attempt < relay.retries
            && matches!(
                error.code,
                ErrorCode::NetworkError
                    | ErrorCode::Timeout
                    | ErrorCode::UpstreamUnavailable
                    | ErrorCode::UpstreamTimeout
                    | ErrorCode::RateLimited
                    | ErrorCode::IdempotencyInFlight
            );
        if !again {
            return Err(error);
        }
        attempt += 1;
        let backoff = BACKOFF_BASE_MS
            * f64::from(1u32 << attempt.min(8))
            * (0.5 + js_sys::Math::random() / 2.0);
        let wait = retry_after
            .map_or(backoff, |s| s * 1000.0)
            .min(BACKOFF_MAX_MS);
        sleep(wait as u32).await;
        if options.signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(HailError::new(ErrorCode::Aborted, "the call was aborted"));
        }
    }
}

/// The relay's answer as a result, or as an error with the `Retry-After` seconds it named.
fn answer(received: Received) -> Result<JsValue, (HailError, Option<f64>)> {
    let request_id = received.headers.get(protocol::REQUEST_ID);
    let body = js_sys::JSON::parse(&received.text).ok();
    if received.status != 200 {
        let retry_after = received
            .headers
            .get("retry-after")
            // JS parses the number: Rust's float parser would cost the module 6 KB.
            .map(|s| js_sys::Number::parse_float(&s))
            .filter(|s| s.is_finite() && *s >= 0.0);
        let body = body.unwrap_or(JsValue::UNDEFINED);
        return Err((
            HailError::from_problem(received.status, &body, request_id),
            retry_after,
        ));
    }
    let body = body.filter(JsValue::is_object).ok_or_else(|| {
        (
            HailError::new(ErrorCode::InvalidResponse, "the relay's answer is not JSON"),
            None,
        )
    })?;
    let replayed = received
        .headers
        .get(protocol::IDEMPOTENT_REPLAYED)
        .as_deref()
        == Some("true");
    Ok(result_object(
        get(&body, "data"),
        get(&get(&body, "upstream"), "status"),
        request_id.unwrap_or_default(),
        replayed,
    ))
}

/// `GET url` → the parsed JSON body, or a `HailError`.
pub(crate) async fn get_json(url: &str, timeout_ms: u32) -> Result<JsValue, HailError> {
    let received =
        transport::send(gloo_net::http::Request::get(url), None, timeout_ms, None).await?;
    let body = js_sys::JSON::parse(&received.text).ok();
    if received.status != 200 {
        let request_id = received.headers.get(protocol::REQUEST_ID);
        return Err(HailError::from_problem(
            received.status,
            &body.unwrap_or(JsValue::UNDEFINED),
            request_id,
        ));
    }
    body.ok_or_else(|| HailError::new(ErrorCode::InvalidResponse, "the relay's answer is not JSON"))
}
