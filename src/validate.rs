//! Field validators shared by every vendor definition. Plain functions over a [`Violations`]
//! collector, so one pass reports every broken field (what a live form needs), and the same code
//! runs in the browser and in the relay.
//!
//! Lengths are counted in Unicode scalar values (`chars`) unless a name says otherwise.

mod formats;

pub use formats::{
    is_email, is_guid, is_http_url, is_language, is_phone, is_rfc3339, rfc3339_unix_seconds,
};

use crate::error::{Rule, Violation};

/// A request that checks itself: the same code in the browser and in the relay.
pub trait Validate {
    /// Every broken rule of this request, or `Ok`.
    fn validate(&self) -> Result<(), Vec<Violation>>;
}

/// The rule codes by their old constant names, so checks read `rule::REQUIRED`.
pub mod rule {
    use crate::error::Rule;
    #[allow(missing_docs)]
    pub const REQUIRED: Rule = Rule::Required;
    #[allow(missing_docs)]
    pub const TYPE: Rule = Rule::Type;
    #[allow(missing_docs)]
    pub const EMAIL: Rule = Rule::Email;
    #[allow(missing_docs)]
    pub const TOO_LONG: Rule = Rule::TooLong;
    #[allow(missing_docs)]
    pub const TOO_MANY: Rule = Rule::TooMany;
    #[allow(missing_docs)]
    pub const EMPTY_ITEM: Rule = Rule::EmptyItem;
    #[allow(missing_docs)]
    pub const SEPARATOR: Rule = Rule::Separator;
    #[allow(missing_docs)]
    pub const CONTROL_CHAR: Rule = Rule::ControlChar;
    #[allow(missing_docs)]
    pub const NOT_ALLOWED: Rule = Rule::NotAllowed;
    #[allow(missing_docs)]
    pub const UNKNOWN_FIELD: Rule = Rule::UnknownField;
    #[allow(missing_docs)]
    pub const PHONE: Rule = Rule::Phone;
    #[allow(missing_docs)]
    pub const GUID: Rule = Rule::Guid;
    #[allow(missing_docs)]
    pub const URL: Rule = Rule::Url;
    #[allow(missing_docs)]
    pub const RANGE: Rule = Rule::Range;
    #[allow(missing_docs)]
    pub const EMPTY_LIST: Rule = Rule::EmptyList;
    #[allow(missing_docs)]
    pub const DATE_TIME: Rule = Rule::DateTime;
    #[allow(missing_docs)]
    pub const LANGUAGE: Rule = Rule::Language;
    #[allow(missing_docs)]
    pub const CONFLICT: Rule = Rule::Conflict;
}

/// Every broken rule of `request` as `(field, rule)` pairs (none when it is valid): what the
/// vendor tests compare with.
#[cfg(test)]
pub fn broken(request: &impl Validate) -> Vec<(String, &'static str)> {
    request
        .validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.field, v.code.as_str()))
        .collect()
}

/// Largest id accepted: `Number.MAX_SAFE_INTEGER` (2^53−1), so ids stay exact in JS.
pub const ID_MAX: u64 = (1 << 53) - 1;
/// Longest URL accepted, in bytes.
pub const URL_MAX_BYTES: usize = 2048;

/// Longest e-mail address accepted (RFC 5321 path limit), in bytes.
pub const EMAIL_MAX_BYTES: usize = 254;
/// Longest local part of an e-mail address (RFC 5321), in bytes.
pub const EMAIL_LOCAL_MAX_BYTES: usize = 64;

/// Collects every violation of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn push(&mut self, field: impl Into<String>, code: Rule, message: impl Into<String>) {
        self.0.push(Violation::new(field, code, message));
    }

    /// `Ok` when nothing was recorded, else every violation in field order of the checks.
    pub fn finish(self) -> Result<(), Vec<Violation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// A required single-line text: non-empty after trimming, at most `max_chars`, no control
    /// characters.
    pub fn required_line(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.trim().is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else {
            self.line(field, value, max_chars);
        }
    }

    /// An optional single-line text: at most `max_chars`, no control characters.
    pub fn optional_line(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        if let Some(value) = value {
            self.line(field, value, max_chars);
        }
    }

    /// A required multi-line text: non-empty after trimming, at most `max_chars`; line breaks and
    /// tabs allowed, other control characters not.
    pub fn required_text(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.trim().is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else {
            self.text(field, value, max_chars);
        }
    }

    /// An optional multi-line text (see [`Self::required_text`]).
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        if let Some(value) = value {
            self.text(field, value, max_chars);
        }
    }

    /// A required e-mail address.
    pub fn required_email(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else if !is_email(value) {
            self.push(
                field,
                rule::EMAIL,
                format!("{field} is not an e-mail address"),
            );
        }
    }

    /// An optional list whose items become one `separator`-joined vendor string: at most
    /// `max_items` items, each non-empty, at most `item_max_chars`, free of `separator` and of
    /// control characters.
    pub fn separated_list(
        &mut self,
        field: &str,
        items: Option<&[String]>,
        separator: char,
        max_items: usize,
        item_max_chars: usize,
    ) {
        let Some(items) = items else { return };
        if items.len() > max_items {
            self.push(
                field,
                rule::TOO_MANY,
                format!("{field} has more than {max_items} items"),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if item.trim().is_empty() {
                self.push(
                    path,
                    rule::EMPTY_ITEM,
                    format!("{field} items must not be empty"),
                );
            } else if item.chars().any(|c| c == separator) {
                self.push(
                    path,
                    rule::SEPARATOR,
                    format!("{field} items must not contain '{separator}'"),
                );
            } else {
                self.line(&path, item, item_max_chars);
            }
        }
    }

    /// An optional e-mail address.
    pub fn optional_email(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            if !is_email(value) {
                self.push(
                    field,
                    rule::EMAIL,
                    format!("{field} is not an e-mail address"),
                );
            }
        }
    }

    /// A required phone number in international format.
    pub fn required_phone(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else if !is_phone(value) {
            self.push(
                field,
                rule::PHONE,
                format!(
                    "{field} must be a phone number in international format, e.g. +420123456789"
                ),
            );
        }
    }

    /// An optional phone number in international format.
    pub fn optional_phone(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.required_phone(field, value);
        }
    }

    /// A required GUID.
    pub fn required_guid(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else if !is_guid(value) {
            self.push(field, rule::GUID, format!("{field} must be a GUID"));
        }
    }

    /// A required id: 1 to [`ID_MAX`].
    pub fn id(&mut self, field: &str, value: u64) {
        if !(1..=ID_MAX).contains(&value) {
            self.push(
                field,
                rule::RANGE,
                format!("{field} must be an id from 1 to {ID_MAX}"),
            );
        }
    }

    /// An optional id.
    pub fn optional_id(&mut self, field: &str, value: Option<u64>) {
        if let Some(value) = value {
            self.id(field, value);
        }
    }

    /// An optional list of ids, at most `max_items`.
    pub fn id_list(&mut self, field: &str, ids: Option<&[u64]>, max_items: usize) {
        let Some(ids) = ids else { return };
        self.max_items(field, ids.len(), max_items);
        for (i, id) in ids.iter().enumerate() {
            self.id(&format!("{field}[{i}]"), *id);
        }
    }

    /// A number within `min..=max`.
    pub fn range(&mut self, field: &str, value: u64, min: u64, max: u64) {
        if !(min..=max).contains(&value) {
            self.push(
                field,
                rule::RANGE,
                format!("{field} must be from {min} to {max}"),
            );
        }
    }

    /// At most `max_items` items.
    pub fn max_items(&mut self, field: &str, len: usize, max_items: usize) {
        if len > max_items {
            self.push(
                field,
                rule::TOO_MANY,
                format!("{field} has more than {max_items} items"),
            );
        }
    }

    /// At least one item.
    pub fn non_empty_list(&mut self, field: &str, len: usize) {
        if len == 0 {
            self.push(
                field,
                rule::EMPTY_LIST,
                format!("{field} needs at least one item"),
            );
        }
    }

    /// An optional absolute `http(s)` URL.
    pub fn optional_url(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            if !is_http_url(value) {
                self.push(
                    field,
                    rule::URL,
                    format!("{field} must be an absolute http(s) URL"),
                );
            }
        }
    }

    /// An optional list of absolute `http(s)` URLs, at most `max_items`.
    pub fn url_list(&mut self, field: &str, urls: Option<&[String]>, max_items: usize) {
        let Some(urls) = urls else { return };
        self.max_items(field, urls.len(), max_items);
        for (i, url) in urls.iter().enumerate() {
            self.optional_url(&format!("{field}[{i}]"), Some(url));
        }
    }

    /// A required language code.
    pub fn required_language(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.push(field, rule::REQUIRED, format!("{field} is required"));
        } else if !is_language(value) {
            self.push(
                field,
                rule::LANGUAGE,
                format!("{field} must be a language code such as cs or en_US"),
            );
        }
    }

    /// An optional RFC 3339 date-time.
    pub fn optional_date_time(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            if !is_rfc3339(value) {
                self.push(
                    field,
                    rule::DATE_TIME,
                    format!("{field} must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"),
                );
            }
        }
    }

    fn line(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.chars().any(char::is_control) {
            self.push(
                field,
                rule::CONTROL_CHAR,
                format!("{field} must not contain control characters"),
            );
        } else {
            self.max_chars(field, value, max_chars);
        }
    }

    fn text(&mut self, field: &str, value: &str, max_chars: usize) {
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.push(
                field,
                rule::CONTROL_CHAR,
                format!(
                    "{field} must not contain control characters other than line breaks and tabs"
                ),
            );
        } else {
            self.max_chars(field, value, max_chars);
        }
    }

    fn max_chars(&mut self, field: &str, value: &str, max_chars: usize) {
        // Bytes bound chars from above: skip the count for the common short value.
        // Chars are the bytes that do not continue a UTF-8 sequence; counted here because
        // `chars().count()` is a large vectorised routine in the browser SDK.
        let chars = || value.bytes().filter(|b| b & 0xC0 != 0x80).count();
        if value.len() > max_chars && chars() > max_chars {
            self.push(
                field,
                rule::TOO_LONG,
                format!("{field} is longer than {max_chars} characters"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_exact_in_js() {
        let mut v = Violations::new();
        v.id("a", 1);
        v.id("b", ID_MAX);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        v.id("a", 0);
        v.id("b", ID_MAX + 1);
        v.id_list("c", Some(&[1, 0]), 5);
        let fields: Vec<_> = v
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["a", "b", "c[1]"]);
    }

    #[test]
    fn list_items_are_checked_one_by_one_with_their_path() {
        let mut v = Violations::new();
        let items = vec!["ok".to_string(), "a,b".to_string(), " ".to_string()];
        v.separated_list("tags", Some(&items), ',', 10, 20);
        let errs = v.finish().unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("tags[1]", rule::SEPARATOR.as_str()),
                ("tags[2]", rule::EMPTY_ITEM.as_str())
            ]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut v = Violations::new();
        v.required_line("name", &"ü".repeat(5), 5);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        v.required_line("name", &"ü".repeat(6), 5);
        assert_eq!(v.finish().unwrap_err()[0].code, rule::TOO_LONG.as_str());
    }

    #[test]
    fn text_allows_line_breaks_but_line_does_not() {
        let mut v = Violations::new();
        v.required_text("message", "a\nb\tc", 10);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        v.required_line("channel", "a\nb", 10);
        assert_eq!(v.finish().unwrap_err()[0].code, rule::CONTROL_CHAR.as_str());
    }
}
