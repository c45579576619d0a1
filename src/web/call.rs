//! One relay call: options, the caller's token, retries with one idempotency key, and turning
//! the relay's answer into a `CallResult` or a `HailError`.

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::error::HailError;
use super::js::{get, known_options, new_idempotency_key, report, result_object, Attempt};
use super::transport::{self, sleep, Outgoing, Received};
use super::validate::prepare;
use crate::error::ErrorCode;
use crate::protocol::{self, is_valid_idempotency_key};

/// Backoff before the first retry, doubled each time, in milliseconds.
pub const BACKOFF_BASE_MS: f64 = 250.0;
/// Longest backoff or honoured `Retry-After`, in milliseconds.
pub const BACKOFF_MAX_MS: f64 = 5_000.0;

/// What a client knows about its relay.
#[derive(Clone)]
pub(crate) struct Relay {
    pub url: String,
    /// A string, a function returning a string, or one returning a promise of one.
    pub token: JsValue,
    pub timeout_ms: u32,
    pub retries: u32,
    /// `onAttempt`: a function called after every attempt, or `undefined`.
    pub on_attempt: JsValue,
}

/// Per-call options, checked.
pub(crate) struct CallOptions {
    pub signal: Option<AbortSignal>,
    pub timeout_ms: Option<u32>,
    pub idempotency_key: Option<String>,
}

/// The options of a relay call.
pub(crate) const RELAY_CALL_OPTIONS: &str = "signal, timeoutMs, idempotencyKey";

/// Reads `{signal?, timeoutMs?, idempotencyKey?}` (those of `allowed`) from any JS value; any
/// other name is refused.
pub(crate) fn call_options(options: &JsValue, allowed: &str) -> Result<CallOptions, HailError> {
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
    known_options(options, allowed, "the call's options")?;
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
            format!("{field} must be a whole number of milliseconds (1 or more)"),
        )
        .field(field)),
    }
}

/// The caller's token, if the client has one: asked for anew each time (it may refresh it),
/// under the attempt's timeout and the caller's signal (a token function may never settle).
async fn token(
    source: &JsValue,
    signal: Option<&AbortSignal>,
    timeout_ms: u32,
) -> Result<Option<String>, HailError> {
    if source.is_undefined() || source.is_null() {
        return Ok(None);
    }
    provided_token(source, "token", signal, timeout_ms)
        .await
        .map(Some)
}

/// A token from `source`: a string, or a function returning one or a promise of one, awaited
/// under `timeout_ms` and `signal`. Failures are `unauthenticated` naming `field`, with what
/// the function threw as `cause`.
pub(crate) async fn provided_token(
    source: &JsValue,
    field: &'static str,
    signal: Option<&AbortSignal>,
    timeout_ms: u32,
) -> Result<String, HailError> {
    let bad = |why: &str| {
        HailError::new(ErrorCode::Unauthenticated, format!("{field}: {why}")).field(field)
    };
    let mut value = source.clone();
    if let Some(f) = value.dyn_ref::<js_sys::Function>() {
        value = f
            .call0(&JsValue::NULL)
            .map_err(|e| bad("the token function threw").cause(e))?;
        value = transport::within(&value, signal, timeout_ms, "the token function")
            .await?
            .map_err(|e| bad("the token function's promise was rejected").cause(e))?;
    }
    token_text(value).map_err(bad)
}

/// A token as a header value: visible ASCII only (`fetch` throws on anything else).
pub(crate) fn token_text(value: JsValue) -> Result<String, &'static str> {
    match value.as_string() {
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()) => Ok(t),
        Some(_) => Err("must be visible ASCII without spaces"),
        None => Err("must be a string, or a function returning one"),
    }
}

/// A reply stream's follow-up for [`call`] to send instead of an operation: `Some` only from a
/// stream's `send`. In the builds without reply streams it is `()`, and `call` compiles to the
/// plain operation call, not a byte more.
#[cfg(any(feature = "livedesk", feature = "mluvii"))]
pub(crate) type FollowUp = Option<std::rc::Rc<super::replies::FollowUp>>;
#[cfg(not(any(feature = "livedesk", feature = "mluvii")))]
pub(crate) type FollowUp = ();
/// What every operation call passes as its [`FollowUp`].
#[cfg(any(feature = "livedesk", feature = "mluvii"))]
pub(crate) const NO_FOLLOW_UP: FollowUp = None;
#[cfg(not(any(feature = "livedesk", feature = "mluvii")))]
pub(crate) const NO_FOLLOW_UP: FollowUp = ();

/// Calls operation `id`: validated first, then sent with retries (same idempotency key). With a
/// `follow_up`, `input` is instead the visitor's text for that reply stream (`id` then only names
/// it for `onAttempt`).
#[cfg_attr(
    not(any(feature = "livedesk", feature = "mluvii")),
    allow(unused_variables)
)]
pub(crate) async fn call(
    relay: &Relay,
    id: &str,
    input: &JsValue,
    options: &JsValue,
    follow_up: FollowUp,
) -> Result<JsValue, HailError> {
    let options = call_options(options, RELAY_CALL_OPTIONS)?;
    // A follow-up differs only in its URL, body and token: the stream's.
    #[cfg(any(feature = "livedesk", feature = "mluvii"))]
    let (prepared, url, own_token) = match &follow_up {
        Some(f) => (f.prepare(input)?, f.url.clone(), Some(f.token.as_str())),
        None => {
            let prepared = prepare(id, input)?.map_err(|v| HailError::invalid(&v))?;
            let url = format!("{}{}", relay.url, protocol::operation_path(id));
            (prepared, url, None)
        }
    };
    #[cfg(not(any(feature = "livedesk", feature = "mluvii")))]
    let (prepared, url) = {
        let prepared = prepare(id, input)?.map_err(|v| HailError::invalid(&v))?;
        let url = format!("{}{}", relay.url, protocol::operation_path(id));
        (prepared, url)
    };
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
    let signal = options.signal.as_ref();
    let mut attempt = 0;
    let mut token_renewed = false;
    let mut bearer = None;
    // Whether an attempt ran out of time: the relay may still be at it, so a later
    // `idempotency_in_flight` means "still no answer", and the call ends as a `timeout`.
    let mut timed_out = false;
    // The token is asked for before the first attempt and once more after `unauthenticated`.
    let mut ask_token = true;
    // Whether an attempt's request may have reached the relay and set it sending, with no later
    // answer of the relay's that settles the key (see `may_have_left`).
    let mut left = false;
    loop {
        let started = js_sys::Date::now();
        let event = |status, request_id, retrying| Attempt {
            operation: id,
            attempt: attempt + 1 + u32::from(token_renewed),
            idempotency_key: key.as_deref(),
            request_id,
            status,
            retrying,
            started,
        };
        if ask_token {
            ask_token = false;
            #[cfg(any(feature = "livedesk", feature = "mluvii"))]
            let asked = match own_token {
                // A reply stream's own token, in place of the client's.
                Some(own) => Ok(Some(own.to_owned())),
                None => token(&relay.token, signal, timeout).await,
            };
            #[cfg(not(any(feature = "livedesk", feature = "mluvii")))]
            let asked = token(&relay.token, signal, timeout).await;
            bearer = match asked {
                Ok(bearer) => bearer,
                Err(e) => {
                    let e = with_key(e, key.as_deref(), left, &relay.url);
                    report(&relay.on_attempt, event(None, None, false), Some(&e));
                    return Err(e);
                }
            };
        }
        let authorization = bearer.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(key) = &key {
            headers.push((protocol::IDEMPOTENCY_KEY, key));
        }
        if let Some(a) = &authorization {
            headers.push(("authorization", a));
        }
        let request = Outgoing {
            method: "POST",
            url: &url,
            headers: &headers,
            body: Some(&prepared.body),
        };
        if let Some(s) = signal.filter(|s| s.aborted()) {
            // Before this attempt's request left: it adds nothing to what may have been sent.
            return Err(with_key(
                transport::aborted(s),
                key.as_deref(),
                left,
                &relay.url,
            ));
        }
        let outcome = match transport::send(&request, timeout, signal).await {
            Ok(received) => answer(received),
            Err(e) => Err((e, None)),
        };
        let (mut error, retry_after) = match outcome {
            Ok(result) => {
                let request_id = get(&result, "requestId").as_string();
                report(&relay.on_attempt, event(Some(200), request_id, false), None);
                #[cfg(any(feature = "livedesk", feature = "mluvii"))]
                super::replies::attach(&result, relay);
                return Ok(result);
            }
            Err(e) => e,
        };
        timed_out |= error.code == ErrorCode::Timeout;
        left = may_have_left(&error, left);
        // A reply stream's own token is all it has: never renewed.
        #[cfg(any(feature = "livedesk", feature = "mluvii"))]
        let renewable = own_token.is_none() && !relay.token.is_undefined();
        #[cfg(not(any(feature = "livedesk", feature = "mluvii")))]
        let renewable = !relay.token.is_undefined();
        if error.code == ErrorCode::Unauthenticated
            && error.status.is_some()
            && !token_renewed
            && renewable
        {
            // The relay refused the client's token: ask for a fresh one, once.
            let request_id = error.request_id.clone();
            report(
                &relay.on_attempt,
                event(None, request_id, true),
                Some(&error),
            );
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
            if timed_out && error.code == ErrorCode::IdempotencyInFlight {
                let mut cut = HailError::new(
                    ErrorCode::Timeout,
                    format!("no answer within {timeout} ms; the relay is still sending it"),
                );
                cut.request_id = error.request_id.take();
                error = cut;
            }
            let error = with_key(error, key.as_deref(), left, &relay.url);
            let request_id = error.request_id.clone();
            report(
                &relay.on_attempt,
                event(None, request_id, false),
                Some(&error),
            );
            return Err(error);
        }
        let request_id = error.request_id.clone();
        report(
            &relay.on_attempt,
            event(None, request_id, true),
            Some(&error),
        );
        attempt += 1;
        let backoff = BACKOFF_BASE_MS
            * f64::from(1u32 << attempt.min(8))
            * (0.5 + js_sys::Math::random() / 2.0);
        let wait = retry_after
            .map_or(backoff, |s| s * 1000.0)
            .min(BACKOFF_MAX_MS);
        // An abort while waiting is noticed before the next attempt's request.
        sleep(wait as u32).await;
    }
}

/// Whether, after an attempt that ended in `error`, a request of this call may have reached the
/// relay without an answer that settles its key (`left`: whether one may have before).
fn may_have_left(error: &HailError, left: bool) -> bool {
    match (error.code, error.status) {
        // No answer, or a gateway's: the request may have reached the relay (unless the platform
        // says the connection was refused: `possibly_sent` of this attempt).
        (ErrorCode::NetworkError, _) => left || error.possibly_sent,
        (ErrorCode::Timeout | ErrorCode::Aborted, None) => true,
        // The relay says the vendor may have acted, or that it is still at it.
        (ErrorCode::OutcomeUnknown | ErrorCode::IdempotencyInFlight, _) => true,
        // The relay answered for this key after admitting it: nothing was sent.
        (
            ErrorCode::UpstreamRejected
            | ErrorCode::UpstreamUnavailable
            | ErrorCode::UpstreamTimeout
            | ErrorCode::ContactExists
            | ErrorCode::InvalidField
            | ErrorCode::InvalidRequest,
            Some(_),
        ) => false,
        // Answers before admission (authentication, rate limits, …) say nothing of earlier tries.
        _ => left,
    }
}

/// A sending call's error with its idempotency key and whether it may have been sent (its message
/// then says how to go on safely: `hail_error.js`); a `network_error` also names the likely
/// causes.
fn with_key(mut error: HailError, key: Option<&str>, left: bool, relay_url: &str) -> HailError {
    if error.code == ErrorCode::NetworkError && error.status.is_none() {
        error.message.push_str(". Is the relay running at ");
        error.message.push_str(relay_url);
        // Only a browser sends an Origin, and reports a refused one as a network failure.
        if super::js::get(&js_sys::global(), "document").is_object() {
            error.message.push_str(
                ", and does its http.allowed_origins list this page's origin? (A browser \
                 reports a cross-origin request the relay refused this way too.)",
            );
        } else {
            error.message.push('?');
        }
    }
    error.possibly_sent = left;
    error.idempotency_key = key.map(str::to_owned);
    error
}

/// The relay's answer as a result, or as an error with the `Retry-After` seconds it named.
fn answer(received: Received) -> Result<JsValue, (HailError, Option<f64>)> {
    let request_id = received.header(protocol::REQUEST_ID);
    let status = received.status();
    let body = js_sys::JSON::parse(&received.text()).ok();
    if status != 200 {
        let retry_after = received
            .header("retry-after")
            // JS parses the number: Rust's float parser would cost the module 6 KB.
            .map(|s| js_sys::Number::parse_float(&s))
            .filter(|s| s.is_finite() && *s >= 0.0);
        let body = body.unwrap_or(JsValue::UNDEFINED);
        let mut error = HailError::from_problem(status, &body, request_id);
        if error.code == ErrorCode::InvalidResponse && matches!(status, 502..=504) {
            // Not the relay's answer (every one of those is a Hail problem body) but a proxy's or
            // load balancer's in front of it: the relay may be down, or still sending.
            error.code = ErrorCode::NetworkError;
            error.retryable = true;
            error.possibly_sent = true;
            error.message = format!(
                "a gateway in front of the relay answered HTTP {status} in its place (the relay \
                 may be down, or still sending)"
            );
        }
        return Err((error, retry_after));
    }
    let body = body.filter(JsValue::is_object).ok_or_else(|| {
        (
            HailError::new(ErrorCode::InvalidResponse, "the relay's answer is not JSON"),
            None,
        )
    })?;
    let replayed = received.header(protocol::IDEMPOTENT_REPLAYED).as_deref() == Some("true");
    let result = result_object(
        get(&body, "data"),
        get(&get(&body, "upstream"), "status"),
        request_id.unwrap_or_default(),
        replayed,
    );
    // After an unknown outcome, the relay found the result at the vendor.
    if get(&body, "reconciled").is_truthy() {
        super::js::set(&result, "reconciled", true);
    }
    // A send that opened a conversation: where its replies arrive.
    #[cfg(any(feature = "livedesk", feature = "mluvii"))]
    super::replies::keep_access(&result, &get(&body, "replies"));
    Ok(result)
}

/// `GET url` → the parsed JSON body, or a `HailError`.
pub(crate) async fn get_json(url: &str, timeout_ms: u32) -> Result<JsValue, HailError> {
    let request = Outgoing {
        method: "GET",
        url,
        headers: &[],
        body: None,
    };
    let received = transport::send(&request, timeout_ms, None).await?;
    let body = js_sys::JSON::parse(&received.text()).ok();
    if received.status() != 200 {
        let request_id = received.header(protocol::REQUEST_ID);
        return Err(HailError::from_problem(
            received.status(),
            &body.unwrap_or(JsValue::UNDEFINED),
            request_id,
        ));
    }
    body.ok_or_else(|| HailError::new(ErrorCode::InvalidResponse, "the relay's answer is not JSON"))
}
