//! `HailError`: the one shape of every failure the SDK reports.

use wasm_bindgen::prelude::*;

use super::js::get;
use crate::error::{ErrorCode, Violation};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/** Every failure of a Hail call. `code` is stable; `message` is for humans. */
export interface HailError extends Error {
    name: "HailError";
    code: ErrorCode;
    /** The offending field as a path, e.g. `receiver` or `recipients[2].contactId`. */
    field?: string;
    /** The relay's HTTP status, when the relay answered. */
    status?: number;
    /** Whether retrying the same call (same idempotency key) may succeed. */
    retryable: boolean;
    /** The relay's request id, for support. */
    requestId?: string;
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
        }
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `invalid_field` from the first violation.
    pub(crate) fn invalid(violations: &[Violation]) -> Self {
        match violations.first() {
            Some(v) if !v.field.is_empty() => {
                Self::new(ErrorCode::InvalidField, v.message.clone()).field(v.field.clone())
            }
            Some(v) => Self::new(ErrorCode::InvalidRequest, v.message.clone()),
            None => Self::new(ErrorCode::InvalidRequest, "invalid request"),
        }
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
    ) -> JsValue;

    #[wasm_bindgen(js_name = isHailErrorInstance)]
    fn is_hail_error_instance(value: &JsValue) -> bool;
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
