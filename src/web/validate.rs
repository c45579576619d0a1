//! `validate(operationId, input)`: the relay's own validation, in the browser, without network.

use wasm_bindgen::prelude::*;

use super::error::HailError;
use crate::catalog::{visit_all, Visitor};
use crate::error::{ErrorCode, Violation};
use crate::operation::Operation;
use crate::read::{check as read_and_check, Read, Shape, Source};
use crate::validate::rule;
use crate::validate::Validate;

#[wasm_bindgen(typescript_custom_section)]
const TS_VALIDATE: &'static str = r#"
/** One broken rule: the field as a path, a stable rule code, a human message. */
export interface Violation {
    /** The field as a path, e.g. `receiver` or `recipients[2].contactId` (`""`: the whole input). */
    field: string;
    /** The rule, stable across versions: `required`, `type`, `email`, `too_long`, `too_many`,
     *  `empty_item`, `separator`, `control_char`, `not_allowed`, `unknown_field`, `phone`,
     *  `guid`, `url`, `range`, `empty_list`, `date_time`, `language`, `conflict`. */
    code: string;
    /** What is wrong, for humans (English). */
    message: string;
}
"#;

/// A validated request, serialized as the relay expects it.
pub(crate) struct Prepared {
    pub body: String,
    pub sends: bool,
}

/// Reads and validates `input` as operation `id`; `Ok(Err(..))` carries the violations.
pub(crate) fn prepare(
    id: &str,
    input: &JsValue,
) -> Result<Result<Prepared, Vec<Violation>>, HailError> {
    // The visit only picks the operation's checker: the code around it exists once, not once
    // per operation.
    struct Find<'a> {
        id: &'a str,
        found: Option<(bool, Check)>,
    }
    impl Visitor for Find<'_> {
        fn visit<Op: Operation>(&mut self) {
            if self.found.is_none() && Op::ID == self.id {
                self.found = Some((Op::SENDS, check::<Op>));
            }
        }
    }
    let mut find = Find { id, found: None };
    visit_all(&mut find);
    let Some((sends, check)) = find.found else {
        return Err(unknown_operation(id));
    };
    Ok(plain_input(input).and_then(|(plain, body)| {
        check(&plain)?;
        Ok(Prepared { body, sends })
    }))
}

/// `unknown_operation`, naming the nearest id when the given one looks like a slip.
fn unknown_operation(id: &str) -> HailError {
    // A loop rather than `join`: `join`'s generic code costs the wasm ~0.5 KB.
    let mut ids = String::new();
    for op in crate::catalog::operations() {
        if !ids.is_empty() {
            ids.push_str(", ");
        }
        ids.push_str(op.id);
    }
    let mut message = format!("no operation \"{id}\"");
    match super::js::nearest(id, &ids) {
        Some(near) => message.push_str(&format!(": did you mean \"{near}\"?")),
        None => {
            message.push_str("; the operations are ");
            message.push_str(&ids);
        }
    }
    HailError::new(ErrorCode::UnknownOperation, message).field("operationId")
}

/// Reads and validates one operation's request, keeping nothing of it.
type Check = fn(&Plain) -> Result<(), Vec<Violation>>;

/// Reads and validates: every violation at once.
fn check<T: Read + Validate>(plain: &Plain) -> Result<(), Vec<Violation>> {
    read_and_check::<T, _>(plain).map(drop)
}

/// Reads and validates a request from any JS value; also returns its JSON text.
///
/// The value goes through `JSON.stringify` (which throws on cycles and BigInts: reported as a
/// violation) and back through `JSON.parse`, so the reader sees exactly the plain data that the
/// text, sent to the relay as it is, carries: no getters, prototypes or `toJSON` surprises.
/// (The chayns user client's reader.)
#[cfg(feature = "chayns")]
pub(crate) fn parse_input<T: Read + Validate>(
    input: &JsValue,
) -> Result<(T, String), Vec<Violation>> {
    let (plain, text) = plain_input(input)?;
    Ok((read_and_check(&plain)?, text))
}

/// `input` as JSON text and as the plain value that text parses to.
fn plain_input(input: &JsValue) -> Result<(Plain, String), Vec<Violation>> {
    let text = match js_sys::JSON::stringify(input) {
        Err(_) => {
            return Err(vec![Violation::new(
                "",
                rule::TYPE,
                "the input cannot be read as JSON (a cycle or a BigInt?)",
            )])
        }
        // `undefined`, functions and symbols have no JSON: not an object either.
        Ok(t) => t.as_string().unwrap_or_default(),
    };
    let plain = js_sys::JSON::parse(&text).unwrap_or(JsValue::UNDEFINED);
    Ok((Plain(plain), text))
}

/// A value made by `JSON.parse`: plain objects, arrays, strings, numbers, booleans, `null`.
pub(crate) struct Plain(pub JsValue);

impl Source for Plain {
    fn is_null(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    fn shape(&self) -> Shape<Self> {
        let v = &self.0;
        if let Some(b) = v.as_bool() {
            Shape::Bool(b)
        } else if let Some(n) = v.as_f64() {
            // 2^64 is the first whole number a u64 cannot hold.
            if n.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&n) {
                Shape::Unsigned(n as u64)
            } else {
                Shape::Number
            }
        } else if let Some(s) = v.as_string() {
            Shape::Text(s)
        } else if js_sys::Array::is_array(v) {
            let list = js_sys::Array::from(v);
            Shape::List(list.iter().map(Plain).collect())
        } else if v.is_object() {
            let keys = js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>());
            Shape::Object(
                keys.iter()
                    .filter_map(|k| {
                        let value = js_sys::Reflect::get(v, &k).ok()?;
                        Some((k.as_string()?, Plain(value)))
                    })
                    .collect(),
            )
        } else {
            Shape::Null
        }
    }
}

/// Checks `input` against operation `operationId` exactly as the relay will: `[]` when valid,
/// else every violation. Throws a `HailError` (`unknown_operation`) for an unknown id.
/// `input` is deliberately untyped: partial form data is fine (each missing required field is
/// one `required` violation), which suits live validation as the user types. No network.
#[wasm_bindgen(unchecked_return_type = "Violation[]")]
pub fn validate(
    #[wasm_bindgen(js_name = operationId, unchecked_param_type = "OperationId")]
    operation_id: JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let Some(id) = operation_id.as_string() else {
        return Err(
            HailError::new(ErrorCode::InvalidRequest, "operationId must be a string")
                .field("operationId")
                .into(),
        );
    };
    let violations = match prepare(&id, &input)? {
        Ok(_) => Vec::new(),
        Err(v) => v,
    };
    Ok(super::error::violations_array(&violations))
}
