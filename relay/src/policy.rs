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

/// A request against its operation's policy: always `forbidden`, naming the field. (Not a
/// [`hail::Violation`], which breaks a field's own rules and is `invalid_field`.)
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field} {kind}")]
pub struct PolicyError {
    field: String,
    kind: PolicyErrorKind,
}

impl PolicyError {
    /// The field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.kind
    }

    /// The problem code.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Forbidden
    }
}

/// The kinds of [`PolicyError`]; each reads after the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// Pinned to another value.
    #[error("is fixed by the company")]
    Pinned,
    /// Bound to a claim of another value.
    #[error("must be the caller's own")]
    Bound,
    /// Bound to a claim the caller does not have.
    #[error("must be the caller's {claim}, and the caller has none")]
    NoClaim {
        /// The claim.
        claim: String,
    },
}

impl Policy {
    /// Whether the body must be rewritten before parsing.
    pub fn rewrites(&self) -> bool {
        !self.pin.is_empty() || !self.bind.is_empty()
    }

    /// Sets absent pinned and bound fields; refuses different values. Values must be equal
    /// exactly, except the domain of an address in one of `email_fields` (the operation's
    /// [`hail::Operation::EMAIL_FIELDS`]); the pinned spelling is what is sent in any case.
    pub fn apply(
        &self,
        body: &mut Map<String, Value>,
        claims: &Map<String, Value>,
        email_fields: &[&str],
    ) -> Result<(), PolicyError> {
        let require =
            |body: &mut Map<String, Value>, field: &str, value: &Value, kind: PolicyErrorKind| {
                require(body, field, value, email_fields.contains(&field), kind)
            };
        for (field, value) in &self.pin {
            require(body, field, value, PolicyErrorKind::Pinned)?;
        }
        for (field, claim) in &self.bind {
            let Some(value) = claims.get(claim).filter(|v| !v.is_null()) else {
                return Err(PolicyError {
                    field: field.clone(),
                    kind: PolicyErrorKind::NoClaim {
                        claim: claim.clone(),
                    },
                });
            };
            require(body, field, value, PolicyErrorKind::Bound)?;
        }
        Ok(())
    }
}

fn require(
    body: &mut Map<String, Value>,
    field: &str,
    value: &Value,
    email: bool,
    kind: PolicyErrorKind,
) -> Result<(), PolicyError> {
    match body.get(field) {
        None | Some(Value::Null) => {}
        Some(given) if equal(given, value, email) => {}
        Some(_) => {
            return Err(PolicyError {
                field: field.to_owned(),
                kind,
            })
        }
    }
    // The company's spelling is sent, whatever spelling the caller's matched.
    body.insert(field.to_owned(), value.clone());
    Ok(())
}

/// Exactly equal; numbers as numbers; e-mail addresses with the domain in any case (the local
/// part is the mailbox owner's and may be case-sensitive).
fn equal(given: &Value, pinned: &Value, email: bool) -> bool {
    match (given, pinned) {
        (Value::String(a), Value::String(b)) if email => {
            match (a.rsplit_once('@'), b.rsplit_once('@')) {
                (Some((local_a, domain_a)), Some((local_b, domain_b))) => {
                    local_a == local_b && domain_a.eq_ignore_ascii_case(domain_b)
                }
                _ => a == b,
            }
        }
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => given == pinned,
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
        p.apply(&mut b, &Map::new(), &[]).unwrap();
        assert_eq!(b["channel"], "sales");
        let mut b = obj(json!({"channel": "support"}));
        let e = p.apply(&mut b, &Map::new(), &[]).unwrap_err();
        assert_eq!((e.code(), e.field()), (ErrorCode::Forbidden, "channel"));
        assert_eq!(e.to_string(), "channel is fixed by the company");
        // Pins are exact: another spelling is another value to the vendor.
        let mut b = obj(json!({"channel": "SALES"}));
        let e = p.apply(&mut b, &Map::new(), &[]).unwrap_err();
        assert_eq!(e.kind(), &PolicyErrorKind::Pinned);
    }

    #[test]
    fn binds_follow_the_callers_claims() {
        let p = Policy {
            bind: [("receiver".to_owned(), "email".to_owned())].into(),
            ..Policy::default()
        };
        let email = &["receiver"][..];
        let claims = obj(json!({"email": "Anna@Example.com"}));
        // The domain in another case is the same address; the claim's spelling is sent.
        let mut b = obj(json!({"receiver": "Anna@EXAMPLE.com"}));
        assert!(p.apply(&mut b, &claims, email).is_ok());
        assert_eq!(b["receiver"], "Anna@Example.com");
        let mut b = obj(json!({}));
        p.apply(&mut b, &claims, email).unwrap();
        assert_eq!(b["receiver"], "Anna@Example.com");
        for other in ["mallory@example.com", "anna@example.com"] {
            let mut b = obj(json!({"receiver": other}));
            assert_eq!(
                p.apply(&mut b, &claims, email).unwrap_err().kind(),
                &PolicyErrorKind::Bound,
                "{other}"
            );
        }
        // Not declared an e-mail field: exact.
        let mut b = obj(json!({"receiver": "Anna@EXAMPLE.com"}));
        assert_eq!(
            p.apply(&mut b, &claims, &[]).unwrap_err().kind(),
            &PolicyErrorKind::Bound
        );
        let none = p
            .apply(&mut obj(json!({})), &Map::new(), email)
            .unwrap_err();
        assert_eq!(
            none.to_string(),
            "receiver must be the caller's email, and the caller has none"
        );
    }
}
