//! Bindings to JS globals that exist in browsers, workers and Node alike (not through `window`,
//! so the package also runs server-side).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Throws (caught) where `crypto.randomUUID` is missing, e.g. outside a secure context.
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> Result<String, JsValue>;

    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &js_sys::Uint8Array) -> Result<JsValue, JsValue>;
}

/// A fresh idempotency key: a random UUID v4 from the platform's CSPRNG, or `None` when the
/// platform has no `crypto` at all.
pub(crate) fn new_idempotency_key() -> Option<String> {
    if let Ok(uuid) = random_uuid() {
        return Some(uuid);
    }
    let buf = js_sys::Uint8Array::new_with_length(16);
    get_random_values(&buf).ok()?;
    let mut bytes = [0u8; 16];
    buf.copy_to(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    Some(out)
}

/// `obj[key]`, or `undefined` when `obj` is no object or the getter throws.
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key] = value` on an object Hail created itself (cannot throw there).
pub(crate) fn set(obj: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// `{data, upstreamStatus, requestId, replayed}`.
pub(crate) fn result_object(
    data: JsValue,
    upstream_status: JsValue,
    request_id: String,
    replayed: bool,
) -> JsValue {
    let result = js_sys::Object::new();
    set(&result, "data", data);
    set(&result, "upstreamStatus", upstream_status);
    set(&result, "requestId", request_id);
    set(&result, "replayed", replayed);
    result.into()
}

#[wasm_bindgen(module = "/src/web/names.js")]
extern "C" {
    /// `[key, nearest?]` for the first key of `obj` not in `allowed`, else `undefined`.
    #[wasm_bindgen(js_name = unknownKey)]
    fn unknown_key(obj: &JsValue, allowed: &str) -> JsValue;

    /// The name of `names` (separated by ", ") nearest to `word`, if one is near.
    pub(crate) fn nearest(word: &str, names: &str) -> Option<String>;
}

/// Refuses the keys of the options object `obj` that are not in `allowed` (names separated by
/// ", "): a misspelt option (`timeout` for `timeoutMs`) would otherwise be ignored without a
/// word.
pub(crate) fn known_options(
    obj: &JsValue,
    allowed: &str,
    what: &str,
) -> Result<(), super::error::HailError> {
    let unknown = unknown_key(obj, allowed);
    let Some(key) = js_sys::Reflect::get_u32(&unknown, 0)
        .ok()
        .and_then(|k| k.as_string())
    else {
        return Ok(());
    };
    let mut message = format!("{what}: unknown option \"{key}\"");
    if let Some(near) = js_sys::Reflect::get_u32(&unknown, 1)
        .ok()
        .and_then(|n| n.as_string())
    {
        message.push_str(&format!(" (did you mean \"{near}\"?)"));
    }
    message.push_str("; the options are ");
    message.push_str(allowed);
    Err(super::error::HailError::new(crate::error::ErrorCode::InvalidRequest, message).field(key))
}

/// One attempt of a call, for the client's `onAttempt` hook.
pub(crate) struct Attempt<'a> {
    pub operation: &'a str,
    /// 1 for the first.
    pub attempt: u32,
    pub idempotency_key: Option<&'a str>,
    pub request_id: Option<String>,
    pub status: Option<u16>,
    pub retrying: bool,
    /// `Date.now()` when the attempt began.
    pub started: f64,
}

/// Calls the client's `onAttempt(event)` hook, if it has one, for an attempt that ended with
/// `error` (or succeeded). What the hook throws is ignored: watching a send must never break it.
pub(crate) fn report(hook: &JsValue, a: Attempt<'_>, error: Option<&super::error::HailError>) {
    let Some(hook) = hook.dyn_ref::<js_sys::Function>() else {
        return;
    };
    let event = js_sys::Object::new();
    set(&event, "operation", a.operation);
    set(&event, "attempt", a.attempt);
    if let Some(key) = a.idempotency_key {
        set(&event, "idempotencyKey", key);
    }
    if let Some(id) = a.request_id {
        set(&event, "requestId", id);
    }
    if let Some(status) = a.status.or(error.and_then(|e| e.status)) {
        set(&event, "status", status);
    }
    if let Some(e) = error {
        set(&event, "code", e.code.as_str());
        set(&event, "message", e.message.as_str());
    }
    set(&event, "retrying", a.retrying);
    set(&event, "durationMs", js_sys::Date::now() - a.started);
    let _ = hook.call1(&JsValue::NULL, &event);
}
