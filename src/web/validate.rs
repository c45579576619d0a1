//! `validate(operationId, input)`: the relay's own validation, in the browser, without network.

use wasm_bindgen::prelude::*;

use super::error::HailError;
use crate::catalog::{visit_all, Visitor};
use crate::error::{ErrorCode, Violation};
use serde::de::DeserializeOwned;

use crate::operation::{deserialize_request, Operation, Validate};

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

/// Reads and validates a request from any JS value.
pub(crate) fn parse_input<T: DeserializeOwned + Validate>(
    input: &JsValue,
) -> Result<T, Vec<Violation>> {
    // serde would also read a struct from an array, by position: only plain objects are inputs.
    if !input.is_object() || js_sys::Array::is_array(input) {
        return Err(vec![Violation::new(
            "",
            crate::validate::rule::TYPE,
            "the input must be an object",
        )]);
    }
    let de = serde_wasm_bindgen::Deserializer::from(input.clone());
    let value: T = deserialize_request(de).map_err(|v| vec![v])?;
    value.validate()?;
    Ok(value)
}

fn prepare_op<Op: Operation>(input: &JsValue) -> Result<Prepared, Vec<Violation>> {
    let op: Op = parse_input(input)?;
    let body = serde_json::to_string(&op).map_err(|_| {
        vec![Violation::new(
            "",
            crate::validate::rule::TYPE,
            "the request cannot be serialized",
        )]
    })?;
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
