//! Per-operation policy: who may call (`access`), values fixed by the company (`pin`), and
//! fields bound to the caller's verified claims (`bind`). Applied to the request's JSON before
//! it is parsed and validated, so a pinned value is validated like any other.

use std::collections::BTreeMap;

use hail::ErrorCode;
use serde_json::{Map, Value};

use crate::config::{Access, OperationConfig};

/// The effective policy of one operation.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Who may call.
    pub access: Access,
    /// Fixed values.
    pub pin: BTreeMap<String, Value>,
    /// `field → claim`.
    pub bind: BTreeMap<String, String>,
}

impl From<&OperationConfig> for Policy {
    fn from(c: &OperationConfig) -> Self {
        Self {
            access: c.access,
            pin: c.pin.clone(),
            bind: c.bind.clone(),
        }
    }
}

/// A policy violation: code, detail, field.
pub type Violation = (ErrorCode, String, String);

impl Policy {
    /// Whether the body must be rewritten before parsing.
    pub fn rewrites(&self) -> bool {
        !self.pin.is_empty() || !self.bind.is_empty()
    }

    /// Sets absent pinned and bound fields; refuses different values.
    pub fn apply(
        &self,
        body: &mut Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<(), Violation> {
        for (field, value) in &self.pin {
            require(body, field, value, "is fixed by the company")?;
        }
        for (field, claim) in &self.bind {
            let Some(value) = claims.get(claim).filter(|v| !v.is_null()) else {
                return Err((
                    ErrorCode::Forbidden,
                    format!("{field} must be the caller's {claim}, and the caller has none"),
                    field.clone(),
                ));
            };
            require(body, field, value, "must be the caller's own")?;
        }
        Ok(())
    }
}

fn require(
    body: &mut Map<String, Value>,
    field: &str,
    value: &Value,
    why: &str,
) -> Result<(), Violation> {
    match body.get(field) {
        None | Some(Value::Null) => {
            body.insert(field.to_owned(), value.clone());
            Ok(())
        }
        Some(given) if given == value || loosely_equal(given, value) => Ok(()),
        Some(_) => Err((
            ErrorCode::Forbidden,
            format!("{field} {why}"),
            field.to_owned(),
        )),
    }
}

/// E-mail claims compare case-insensitively; numbers as numbers.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn pins_fill_or_refuse() {
        let p = Policy {
            pin: [("channel".to_owned(), json!("sales"))].into(),
            ..Policy::default()
        };
        let mut b = obj(json!({"receiver": "a@b.co"}));
        p.apply(&mut b, &Map::new()).unwrap();
        assert_eq!(b["channel"], "sales");
        let mut b = obj(json!({"channel": "support"}));
        let e = p.apply(&mut b, &Map::new()).unwrap_err();
        assert_eq!((e.0, e.2.as_str()), (ErrorCode::Forbidden, "channel"));
    }

    #[test]
    fn binds_follow_the_callers_claims() {
        let p = Policy {
            bind: [("receiver".to_owned(), "email".to_owned())].into(),
            ..Policy::default()
        };
        let claims = obj(json!({"email": "Anna@Example.com"}));
        let mut b = obj(json!({"receiver": "anna@example.com"}));
        assert!(p.apply(&mut b, &claims).is_ok());
        let mut b = obj(json!({}));
        p.apply(&mut b, &claims).unwrap();
        assert_eq!(b["receiver"], "Anna@Example.com");
        let mut b = obj(json!({"receiver": "mallory@example.com"}));
        assert_eq!(
            p.apply(&mut b, &claims).unwrap_err().0,
            ErrorCode::Forbidden
        );
        assert_eq!(
            p.apply(&mut obj(json!({})), &Map::new()).unwrap_err().0,
            ErrorCode::Forbidden
        );
    }
}
