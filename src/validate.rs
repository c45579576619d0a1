//! Field validators shared by every vendor definition. Plain functions over a [`Violations`]
//! collector, so one pass reports every broken field (what a live form needs), and the same code
//! runs in the browser and in the relay.
//!
//! Lengths are counted in Unicode scalar values (`chars`) unless a name says otherwise.

use crate::error::Violation;

/// Stable rule codes carried in [`Violation::code`].
pub mod rule {
    /// A required field is missing or empty.
    pub const REQUIRED: &str = "required";
    /// The value has the wrong JSON type, or the request is not an object.
    pub const TYPE: &str = "type";
    /// Not an e-mail address.
    pub const EMAIL: &str = "email";
    /// Longer than the field's limit.
    pub const TOO_LONG: &str = "too_long";
    /// More list items than the field's limit.
    pub const TOO_MANY: &str = "too_many";
    /// A list item is empty.
    pub const EMPTY_ITEM: &str = "empty_item";
    /// A list item contains the vendor's list separator.
    pub const SEPARATOR: &str = "separator";
    /// A control character where it could break a header, a form or a display.
    pub const CONTROL_CHAR: &str = "control_char";
    /// A value outside the documented set.
    pub const NOT_ALLOWED: &str = "not_allowed";
    /// A field the operation does not have.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
}

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
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
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
            } else if item.contains(separator) {
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
        if value.len() > max_chars && value.chars().count() > max_chars {
            self.push(
                field,
                rule::TOO_LONG,
                format!("{field} is longer than {max_chars} characters"),
            );
        }
    }
}

/// A pragmatic e-mail syntax check: `local@domain`, the domain made of dot-separated labels of
/// letters, digits and inner hyphens, with at least one dot; no whitespace or control characters.
/// It rejects what a vendor would surely reject, not every address RFC 5322 forbids.
pub fn is_email(value: &str) -> bool {
    if value.len() > EMAIL_MAX_BYTES {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX_BYTES
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    local_ok && labels_ok && domain.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "anna@example.com",
            "a.b+tag@sub.example.co",
            "jürgen@müller.de",
            "x@a-b.io",
        ] {
            assert!(is_email(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_broken_addresses() {
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@example",
            "anna@@example.com",
            "an na@example.com",
            "anna@exa mple.com",
            "anna@-example.com",
            "anna@example..com",
            ".anna@example.com",
            "anna\n@example.com",
            "a,b@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(65))));
    }

    #[test]
    fn list_items_are_checked_one_by_one_with_their_path() {
        let mut v = Violations::new();
        let items = vec!["ok".to_string(), "a,b".to_string(), " ".to_string()];
        v.separated_list("tags", Some(&items), ',', 10, 20);
        let errs = v.finish().unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [("tags[1]", rule::SEPARATOR), ("tags[2]", rule::EMPTY_ITEM)]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut v = Violations::new();
        v.required_line("name", &"ü".repeat(5), 5);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        v.required_line("name", &"ü".repeat(6), 5);
        assert_eq!(v.finish().unwrap_err()[0].code, rule::TOO_LONG);
    }

    #[test]
    fn text_allows_line_breaks_but_line_does_not() {
        let mut v = Violations::new();
        v.required_text("message", "a\nb\tc", 10);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        v.required_line("channel", "a\nb", 10);
        assert_eq!(v.finish().unwrap_err()[0].code, rule::CONTROL_CHAR);
    }
}
