//! `HailError`: the one shape of every failure the SDK reports.

use wasm_bindgen::prelude::*;

use super::js::get;
use crate::error::{ErrorCode, Violation};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/** Every failure of a Hail call. `code` is stable; `message` is for humans. */
export interface HailError extends Error {
    /** Always `"HailError"`. */
    name: "HailError";
    /** What went wrong, stable across versions: branch on this, not on `message`. */
    code: ErrorCode;
    /** The offending field as a path, e.g. `receiver` or `recipients[2].contactId`. */
    field?: string;
    /** The HTTP status, when there was an answer: the relay's, or (with `network_error`) that of
     *  a gateway in front of it that answered 502, 503 or 504 in the relay's place. */
    status?: number;
    /** Whether retrying the same call (same idempotency key) may succeed. */
    retryable: boolean;
    /** A sending call's idempotency key (generated, or the call's `idempotencyKey`): call again
     *  with `{ idempotencyKey: error.idempotencyKey }` and the relay never sends it twice. */
    idempotencyKey?: string;
    /** On a sending call's error: whether the message may have been sent (`true`: the outcome is
     *  unknown, e.g. a timeout or a dropped connection after the request left, a gateway's
     *  502/503/504 in front of the relay, `outcome_unknown`). Then call again with the same
     *  `idempotencyKey` to learn the outcome; never resend with a new key. `false`: not sent. */
    possiblySent?: boolean;
    /** The request id, for support: the relay's, or for direct chayns sends one made by the SDK. */
    requestId?: string;
    /** Every violation, when the input was refused (by the SDK's own check or by the relay). */
    violations?: Violation[];
    /** What caused it: the caller's abort reason, the platform's network error, the error a
     *  token function threw. */
    cause?: unknown;
}
"#;

/// A failure on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct HailError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub status: Option<u16>,
    pub retryable: bool,
    pub request_id: Option<String>,
    /// The underlying JS error or abort reason.
    pub cause: Option<JsValue>,
    /// Every violation, as the JS array `validate()` returns.
    pub violations: Option<JsValue>,
    /// A sending call's idempotency key.
    pub idempotency_key: Option<String>,
    /// Whether a sending call may have been sent (only meaningful with `idempotency_key`).
    pub possibly_sent: bool,
}

impl HailError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            status: None,
            retryable: code.retryable(),
            request_id: None,
            cause: None,
            violations: None,
            idempotency_key: None,
            possibly_sent: false,
        }
    }

    /// With the underlying JS error or abort reason (`undefined` is left out).
    pub(crate) fn cause(mut self, cause: JsValue) -> Self {
        if !cause.is_undefined() {
            self.cause = Some(cause);
        }
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `invalid_field` (`invalid_request` when the input as a whole is wrong): `field` and
    /// `message` from the first violation, every one in `violations`.
    pub(crate) fn invalid(violations: &[Violation]) -> Self {
        let mut e = match violations.first() {
            Some(v) if !v.field.is_empty() => {
                Self::new(ErrorCode::InvalidField, v.message.clone()).field(v.field.clone())
            }
            Some(v) => Self::new(ErrorCode::InvalidRequest, v.message.clone()),
            None => Self::new(ErrorCode::InvalidRequest, "invalid request"),
        };
        if violations.len() > 1 {
            e.message = format!("{} (and {} more)", e.message, violations.len() - 1);
        }
        e.violations = Some(violations_array(violations));
        e
    }

    /// From a relay problem body (already `JSON.parse`d), or `invalid_response` when it is none.
    pub(crate) fn from_problem(status: u16, body: &JsValue, request_id: Option<String>) -> Self {
        let code = get(body, "code")
            .as_string()
            .and_then(|c| ErrorCode::parse(&c));
        let Some(code) = code else {
            let mut e = Self::new(
                ErrorCode::InvalidResponse,
                format!("the relay answered HTTP {status} without a Hail problem body"),
            );
            e.status = Some(status);
            e.request_id = request_id;
            return e;
        };
        let detail = get(body, "detail").as_string();
        let title = get(body, "title").as_string();
        let message = detail.or(title).unwrap_or_else(|| code.title().to_owned());
        Self {
            code,
            message,
            field: get(body, "field").as_string(),
            status: Some(status),
            retryable: get(body, "retryable").as_bool().unwrap_or(code.retryable()),
            request_id: get(body, "requestId").as_string().or(request_id),
            cause: None,
            // The relay lists every violation in `errors` (a problem+json extension member).
            violations: Some(get(body, "errors")).filter(js_sys::Array::is_array),
            idempotency_key: None,
            possibly_sent: false,
        }
    }

    /// The JS `HailError` object.
    pub(crate) fn into_js(self) -> JsValue {
        new_hail_error(
            &self.message,
            self.code.as_str(),
            self.retryable,
            self.field.as_deref(),
            self.status,
            self.request_id.as_deref(),
            self.cause.as_ref(),
            self.violations.as_ref(),
            self.idempotency_key.as_deref(),
            self.possibly_sent,
        )
    }
}

#[wasm_bindgen(module = "/src/web/hail_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = newHailError)]
    fn new_hail_error(
        message: &str,
        code: &str,
        retryable: bool,
        field: Option<&str>,
        status: Option<u16>,
        request_id: Option<&str>,
        cause: Option<&JsValue>,
        violations: Option<&JsValue>,
        idempotency_key: Option<&str>,
        possibly_sent: bool,
    ) -> JsValue;

    // `catch` on these two gives them a shim in the glue: without one, wasm-bindgen imports
    // them straight from the snippet, an import module that the web build's name minifier
    // (xtask/src/pkg/minify.rs) does not rename, and the module fails to link.

    /// An `Error` made where a call begins, for its frames.
    #[wasm_bindgen(catch, js_name = callSite)]
    fn call_site_or_throw() -> Result<JsValue, JsValue>;

    /// Appends the frames of `site` to `error`'s stack.
    #[wasm_bindgen(catch, js_name = withCallSite)]
    fn with_call_site(error: &JsValue, site: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = isHailErrorInstance)]
    fn is_hail_error_instance(value: &JsValue) -> bool;
}

impl HailError {
    /// The JS `HailError`, its stack ending with the frames of `site` (see [`call_site`]): the
    /// code that made the call, which an error raised in the SDK's async code does not show.
    pub(crate) fn into_js_from(self, site: &JsValue) -> JsValue {
        let error = self.into_js();
        let _ = with_call_site(&error, site);
        error
    }
}

/// An `Error` made where a call begins, for its frames (`undefined` if it cannot be made).
pub(crate) fn call_site() -> JsValue {
    call_site_or_throw().unwrap_or_default()
}

impl From<HailError> for JsValue {
    fn from(e: HailError) -> JsValue {
        e.into_js()
    }
}

/// Whether `value` is a `HailError`.
#[wasm_bindgen(js_name = isHailError, unchecked_return_type = "value is HailError")]
pub fn is_hail_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && get(&value, "name").as_string().as_deref() == Some("HailError")
        && get(&value, "code")
            .as_string()
            .is_some_and(|c| ErrorCode::parse(&c).is_some())
}

/// `[{field, code, message}]`, as `validate()` returns them.
pub(crate) fn violations_array(violations: &[Violation]) -> JsValue {
    let out = js_sys::Array::new();
    for v in violations {
        let obj = js_sys::Object::new();
        super::js::set(&obj, "field", v.field.as_str());
        super::js::set(&obj, "code", v.code.as_str());
        super::js::set(&obj, "message", v.message.as_str());
        out.push(&obj);
    }
    out.into()
}
