//! Requests from JSON (or a JS value): serde's first error becomes a [`Violation`] naming the
//! field as a path, so a wrong type reads like any other broken rule.

use serde::de::DeserializeOwned;

use crate::error::Violation;
use crate::validate::rule;

/// Deserializes an operation's request, turning serde's first error into a [`Violation`] with
/// the field's path (`recipients[2].contactId`) and rule `type` (or `required` / `unknown_field`).
pub fn deserialize_request<'de, Op, D>(deserializer: D) -> Result<Op, Violation>
where
    Op: DeserializeOwned,
    D: serde::Deserializer<'de>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        violation_from_serde(&path, &inner)
    })
}

fn violation_from_serde(path: &str, message: &str) -> Violation {
    // serde_path_to_error writes "." for the root; "missing field" errors point at the parent.
    let parent = if path == "." { "" } else { path };
    let named = message
        .split('`')
        .nth(1)
        .map(|name| join_path(parent, name));
    if message.starts_with("missing field") {
        let field = named.unwrap_or_else(|| parent.to_owned());
        return Violation::new(
            field.clone(),
            rule::REQUIRED,
            format!("{field} is required"),
        );
    }
    if message.starts_with("unknown variant") {
        let msg = message.split(" at line ").next().unwrap_or(message);
        return Violation::new(parent, rule::NOT_ALLOWED, format!("{parent}: {msg}"));
    }
    if message.starts_with("unknown field") {
        // Here the path already ends at the unknown field.
        let field = parent.to_owned();
        return Violation::new(
            field.clone(),
            rule::UNKNOWN_FIELD,
            format!("{field} is not a field of this operation"),
        );
    }
    // serde messages name types and values but never secrets: safe to pass on.
    let msg = message.split(" at line ").next().unwrap_or(message);
    let field = parent.to_owned();
    let human = if field.is_empty() {
        format!("the request: {msg}")
    } else {
        format!("{field}: {msg}")
    };
    Violation::new(field, rule::TYPE, human)
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_errors_become_field_violations() {
        let v = violation_from_serde(".", "missing field `receiver`");
        assert_eq!((v.field.as_str(), v.code), ("receiver", rule::REQUIRED));
        let v = violation_from_serde("recipients[2]", "missing field `contactId`");
        assert_eq!(v.field, "recipients[2].contactId");
        let v = violation_from_serde("foo", "unknown field `foo`, expected one of `a`");
        assert_eq!((v.field.as_str(), v.code), ("foo", rule::UNKNOWN_FIELD));
        let v = violation_from_serde(
            "tags[0]",
            "invalid type: integer `3`, expected a string at line 1 column 9",
        );
        assert_eq!((v.field.as_str(), v.code), ("tags[0]", rule::TYPE));
        assert!(!v.message.contains("line 1"));
    }
}
