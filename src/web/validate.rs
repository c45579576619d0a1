//! `validate(operationId, input)`: the relay's own validation, in the browser, without network.

use wasm_bindgen::prelude::*;

use super::error::HailError;
use crate::catalog::{visit_all, Visitor};
use crate::error::{ErrorCode, Violation};
use serde::de::DeserializeOwned;

use crate::operation::{deserialize_request, Operation, Validate};
use crate::validate::rule;

#[wasm_bindgen(typescript_custom_section)]
const TS_VALIDATE: &'static str = r#"
/** One broken rule: the field as a path, a stable rule code, a human message. */
export interface Violation {
    field: string;
    code: string;
    message: string;
}
"#;

/// A validated request, serialized as the relay expects it.
pub(crate) struct Prepared {
    pub body: String,
    pub sends: bool,
}

/// Deserializes and validates `input` as operation `id`; `Ok(Err(..))` carries the violations.
pub(crate) fn prepare(
    id: &str,
    input: &JsValue,
) -> Result<Result<Prepared, Vec<Violation>>, HailError> {
    struct Find<'a> {
        id: &'a str,
        input: &'a JsValue,
        out: Option<Result<Prepared, Vec<Violation>>>,
    }
    impl Visitor for Find<'_> {
        fn visit<Op: Operation>(&mut self) {
            if self.out.is_some() || Op::ID != self.id {
                return;
            }
            self.out = Some(prepare_op::<Op>(self.input));
        }
    }
    let mut find = Find {
        id,
        input,
        out: None,
    };
    visit_all(&mut find);
    find.out.ok_or_else(|| {
        HailError::new(ErrorCode::UnknownOperation, format!("no operation {id:?}"))
            .field("operationId")
    })
}

/// Reads and validates a request from any JS value; also returns its JSON text.
///
/// The value goes through `JSON.stringify` (which throws on cycles and BigInts: reported as a
/// violation) and is parsed by serde_json: one parser for every type keeps the module small, and
/// the text, once valid, is the body sent to the relay as it is.
pub(crate) fn parse_input<T: DeserializeOwned + Validate>(
    input: &JsValue,
) -> Result<(T, String), Vec<Violation>> {
    let not_object = || {
        vec![Violation::new(
            "",
            rule::TYPE,
            "the input must be an object",
        )]
    };
    // serde would also read a struct from an array, by position: only plain objects are inputs.
    if !input.is_object() || js_sys::Array::is_array(input) {
        return Err(not_object());
    }
    let text = js_sys::JSON::stringify(input)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| {
            vec![Violation::new(
                "",
                rule::TYPE,
                "the input cannot be read as JSON (a cycle or a BigInt?)",
            )]
        })?;
    let value: T =
        deserialize_request(&mut serde_json::Deserializer::from_str(&text)).map_err(|v| vec![v])?;
    value.validate()?;
    Ok((value, text))
}

fn prepare_op<Op: Operation>(input: &JsValue) -> Result<Prepared, Vec<Violation>> {
    let (_, body) = parse_input::<Op>(input)?;
    Ok(Prepared {
        body,
        sends: Op::SENDS,
    })
}

/// Checks `input` against operation `operationId` exactly as the relay will: `[]` when valid,
/// else every violation. Throws a `HailError` (`unknown_operation`) for an unknown id.
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
    let out = js_sys::Array::new();
    for v in violations {
        let obj = js_sys::Object::new();
        super::js::set(&obj, "field", v.field);
        super::js::set(&obj, "code", v.code);
        super::js::set(&obj, "message", v.message);
        out.push(&obj);
    }
    Ok(out.into())
}
