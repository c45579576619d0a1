//! Requests from JSON text: syntax first, then the shared reader ([`crate::read`]), so the relay
//! names fields exactly as the browser does.

use crate::error::Violation;
use crate::read::{check, read_json, Read};
use crate::validate::rule;
use crate::validate::Validate;

/// Parses an operation's request from JSON text. Broken JSON is a violation without a field;
/// everything else is reported by the reader, naming the field as a path
/// (`recipients[2].contactId`) with rule `type`, `required`, `unknown_field` or `not_allowed`.
pub fn parse_request<Op: Read>(json: &[u8]) -> Result<Op, Violation> {
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|_| Violation::new("", rule::TYPE, "the request is not valid JSON"))?;
    read_json(&value)
}

/// Parses and validates an operation's request from JSON text: every violation at once (see
/// [`crate::read::check`]), as the browser's `validate()` reports them.
pub fn check_request<Op: Read + Validate>(json: &[u8]) -> Result<Op, Vec<Violation>> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|_| {
        vec![Violation::new(
            "",
            rule::TYPE,
            "the request is not valid JSON",
        )]
    })?;
    check(&&value)
}
