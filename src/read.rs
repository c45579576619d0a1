//! Reading requests from JSON-shaped data: one reader for the relay (over `serde_json::Value`)
//! and the browser (over plain JS values, see `web::validate`), so both accept and reject the
//! same inputs and name the same field. It replaces serde's derived deserializers on requests:
//! those, monomorphised per request type and wrapped for field paths, were most of the SDK's
//! WebAssembly.
//!
//! Semantics (those of the serde attributes the request types carry for their JSON Schema):
//! objects only (no struct from an array), unknown fields rejected, `Option` fields may be
//! missing or `null`, fields marked `default` may be missing, numbers are whole and non-negative
//! where the type is unsigned. Reading goes on past a broken field, so that every structural
//! violation is found at once ([`read_all`], [`check`]); [`read_request`] reports the first of
//! them: a field the type does not have (the first in sorted order), else the first broken field
//! in declaration order.

use crate::error::Violation;
use crate::validate::rule;
use crate::validate::Validate;

/// What a JSON-shaped value is, its children as handles of the same source.
pub enum Shape<S> {
    Null,
    Bool(bool),
    /// A whole number from 0 to `u64::MAX`.
    Unsigned(u64),
    /// Any other number.
    Number,
    Text(String),
    List(Vec<S>),
    /// Key–value pairs in their order.
    Object(Vec<(String, S)>),
}

/// JSON-shaped data: `serde_json::Value` here, plain JS values in the browser.
pub trait Source: Sized {
    /// What this value is.
    fn shape(&self) -> Shape<Self>;

    /// Whether this value is `null`, without copying anything.
    fn is_null(&self) -> bool;
}

/// A borrowed `serde_json::Value`: children are references, so reading copies only the strings
/// the request keeps.
impl Source for &serde_json::Value {
    fn shape(&self) -> Shape<Self> {
        use serde_json::Value;
        match self {
            Value::Null => Shape::Null,
            Value::Bool(b) => Shape::Bool(*b),
            Value::Number(n) => n.as_u64().map_or(Shape::Number, Shape::Unsigned),
            Value::String(s) => Shape::Text(s.clone()),
            Value::Array(items) => Shape::List(items.iter().collect()),
            Value::Object(map) => Shape::Object(map.iter().map(|(k, v)| (k.clone(), v)).collect()),
        }
    }

    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }
}

/// The path of the value being read, e.g. `recipients[2].contactId`, and the violations met so
/// far (reading goes on past them).
#[derive(Default)]
pub struct Path(String, Vec<Violation>);

impl Path {
    /// The path as text (empty at the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads `value` as the field `name` of the object at this path.
    pub fn field<S: Source, T: Read>(&mut self, name: &str, value: &S) -> Result<T, Violation> {
        let len = self.0.len();
        if len > 0 {
            self.0.push('.');
        }
        self.0.push_str(name);
        let out = T::read(value, self);
        self.0.truncate(len);
        out
    }

    /// The violation of a value of the wrong type.
    pub fn wrong_type(&self, expected: &str) -> Violation {
        let what = if self.0.is_empty() {
            "the request"
        } else {
            &self.0
        };
        Violation::new(
            self.0.clone(),
            rule::TYPE,
            format!("{what} must be {expected}"),
        )
    }

    /// The violation of field `name` of this object being missing.
    pub fn missing(&self, name: &str) -> Violation {
        let field = self.child(name);
        let message = format!("{field} is required");
        Violation::new(field, rule::REQUIRED, message)
    }

    /// The violation of this object having field `name`, which its type does not.
    pub fn unknown(&self, name: &str) -> Violation {
        let field = self.child(name);
        let message = format!("{field} is not a field of this operation");
        Violation::new(field, rule::UNKNOWN_FIELD, message)
    }

    fn child(&self, name: &str) -> String {
        if self.0.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.0)
        }
    }
}

/// A type that can be read from JSON-shaped data.
pub trait Read: Sized {
    /// A struct's wire field names in declaration order (none for other types): the order in
    /// which [`check`] lists violations.
    const FIELDS: &'static [&'static str] = &[];

    /// Reads `value`, found at `path`.
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation>;

    /// The value of a missing field, or `None` when the field is required.
    fn absent() -> Option<Self> {
        None
    }
}

/// Reads a whole request: the value (with placeholders where fields are broken, `None` when the
/// request is no object) and every structural violation, in reading order.
pub fn read_all<T: Read, S: Source>(value: &S) -> (Option<T>, Vec<Violation>) {
    let mut path = Path::default();
    let read = T::read(value, &mut path);
    let mut violations = path.1;
    match read {
        Ok(v) => (Some(v), violations),
        Err(e) => {
            violations.insert(0, e);
            (None, violations)
        }
    }
}

/// Reads a whole request; its first structural violation.
pub fn read_request<T: Read, S: Source>(value: &S) -> Result<T, Violation> {
    match read_all(value) {
        (Some(v), violations) if violations.is_empty() => Ok(v),
        (_, violations) => Err(violations
            .into_iter()
            .next()
            .unwrap_or_else(|| Violation::new("", rule::TYPE, "the request cannot be read"))),
    }
}

/// Reads and validates a whole request: every violation at once, in field order (fields the
/// type does not have first, then the declared ones as declared, each field's structural
/// violation before its broken rules, as a form shows them). Rules are not checked where a structural violation already speaks (a placeholder would break them
/// again, saying nothing new): on a broken field and what is under it, and on a whole list one
/// of whose items could not be read (the items after it moved up).
pub fn check<T: Read + Validate, S: Source>(value: &S) -> Result<T, Vec<Violation>> {
    let (read, violations) = read_all::<T, S>(value);
    let Some(read) = read else {
        return Err(violations);
    };
    let rules = read.validate().err().unwrap_or_default();
    match with_rules(violations, rules, T::FIELDS) {
        None => Ok(read),
        Some(all) => Err(all),
    }
}

/// The structural `violations` and the `rules` not already spoken for by one of them (see
/// [`check`]) in the order of `fields`; `None` when there are none. Not generic, so it exists
/// once in the module.
fn with_rules(
    mut violations: Vec<Violation>,
    rules: Vec<Violation>,
    fields: &[&str],
) -> Option<Vec<Violation>> {
    /// Whether `field` is `path` or under it.
    fn under(field: &str, path: &str) -> bool {
        field
            .strip_prefix(path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    }
    let broken = violations.len();
    for v in rules {
        let spoken = violations[..broken].iter().any(|b| {
            let list = b.field.strip_suffix(']').and_then(|f| f.rsplit_once('['));
            under(&v.field, list.map_or(b.field.as_str(), |(list, _)| list))
        });
        if !spoken {
            violations.push(v);
        }
    }
    (!violations.is_empty()).then(|| in_field_order(violations, fields))
}

/// `violations` ordered by their top-level field's place in `fields` (those of no declared
/// field, such as unknown fields and the whole request, first), keeping the order within a
/// field. By hand rather than a sort, which would cost the browser module 2.5 KB.
fn in_field_order(violations: Vec<Violation>, fields: &[&str]) -> Vec<Violation> {
    // By bytes: a `str` pattern search would bring its searcher into the browser module.
    let place = |v: &Violation| {
        let field = v.field.as_bytes();
        let top = field
            .iter()
            .position(|b| matches!(b, b'.' | b'['))
            .map_or(field, |end| field.get(..end).unwrap_or(field));
        fields
            .iter()
            .position(|f| f.as_bytes() == top)
            .map_or(0, |i| i + 1)
    };
    let mut out: Vec<Violation> = Vec::with_capacity(violations.len());
    for v in violations {
        let at = place(&v);
        let before = out.iter().position(|o| place(o) > at).unwrap_or(out.len());
        out.insert(before, v);
    }
    out
}

/// Reads a whole request from parsed JSON (the relay's side).
pub fn read_json<T: Read>(value: &serde_json::Value) -> Result<T, Violation> {
    read_request(&value)
}

impl Read for String {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        match value.shape() {
            Shape::Text(s) => Ok(s),
            _ => Err(path.wrong_type("a string")),
        }
    }
}

impl Read for u64 {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        match value.shape() {
            Shape::Unsigned(n) => Ok(n),
            _ => Err(path.wrong_type("a whole number (0 or more)")),
        }
    }
}

/// A vendor id: a whole number, or its decimal string (what an output gives for an id beyond
/// JS's exact integers, see [`crate::id::Id`]), so an id a result gave is always
/// accepted back. The range is the validator's job.
impl Read for crate::id::Id {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        let wrong = |path: &mut Path| {
            path.wrong_type("an id: a whole number of 1 or more, or its decimal string")
        };
        match value.shape() {
            Shape::Unsigned(n) => Ok(Self(n)),
            Shape::Text(s) if !s.is_empty() => decimal(&s).map(Self).ok_or_else(|| wrong(path)),
            _ => Err(wrong(path)),
        }
    }
}

/// `text` as a decimal `u64`: digits only (no sign, no spaces), `None` when it overflows. By
/// hand rather than `str::parse`, which is more code in the browser SDK for the same answer.
fn decimal(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |n, b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

impl Read for bool {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        match value.shape() {
            Shape::Bool(b) => Ok(b),
            _ => Err(path.wrong_type("true or false")),
        }
    }
}

impl<T: Read> Read for Option<T> {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        if value.is_null() {
            Ok(None)
        } else {
            T::read(value, path).map(Some)
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: Read> Read for Vec<T> {
    fn read<S: Source>(value: &S, path: &mut Path) -> Result<Self, Violation> {
        let Shape::List(items) = value.shape() else {
            return Err(path.wrong_type("a list"));
        };
        let len = path.0.len();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            path.0.push('[');
            crate::encode::push_decimal(&mut path.0, i as u64);
            path.0.push(']');
            // A broken item is noted and left out; the items after it are read all the same.
            match T::read(item, path) {
                Ok(v) => out.push(v),
                Err(e) => path.1.push(e),
            }
            path.0.truncate(len);
        }
        Ok(out)
    }
}

/// The fields of an object being read as a struct with the field names `names`, in slots by
/// name. Taking a field never fails: a violation is noted in the path and the field's
/// placeholder kept, so a struct is built without an early return per field (which made the
/// code several times larger) and every broken field is found.
pub struct Fields<'p, S> {
    path: &'p mut Path,
    names: &'static [&'static str],
    slots: Vec<Option<S>>,
}

impl<'p, S: Source> Fields<'p, S> {
    /// The object `value` at `path`; a violation when it is no object. Fields not in `names`
    /// are noted in the path, in sorted order (JS objects and JSON maps do not agree on key
    /// order).
    pub fn new(
        value: &S,
        path: &'p mut Path,
        names: &'static [&'static str],
    ) -> Result<Self, Violation> {
        let Shape::Object(entries) = value.shape() else {
            return Err(path.wrong_type("an object"));
        };
        let mut slots: Vec<Option<S>> = names.iter().map(|_| None).collect();
        // Kept sorted by inserting in place: a sort would cost the browser module 2.5 KB.
        let mut unknown: Vec<String> = Vec::new();
        for (key, value) in entries {
            match names.iter().position(|n| *n == key) {
                Some(i) => {
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(value);
                    }
                }
                None => {
                    let at = unknown
                        .iter()
                        .position(|u| *u > key)
                        .unwrap_or(unknown.len());
                    unknown.insert(at, key);
                }
            }
        }
        for key in unknown {
            let v = path.unknown(&key);
            path.1.push(v);
        }
        Ok(Self { path, names, slots })
    }

    /// Reads field number `i` of `names` into `slot`, which holds the field's default: left as
    /// it is when the field is missing and `has_default`, else [`Read::absent`] or a violation.
    /// Writing in place, rather than returning the value, spares a copy of every field and of
    /// the whole struct per read, which WebAssembly spells out as loads and stores.
    pub fn take<T: Read>(&mut self, i: usize, slot: &mut T, has_default: bool) {
        let name = self.names.get(i).copied().unwrap_or_default();
        let read = match self.slots.get_mut(i).and_then(Option::take) {
            Some(value) => self.path.field(name, &value),
            None if has_default => return,
            None => T::absent().ok_or_else(|| self.path.missing(name)),
        };
        match read {
            Ok(value) => *slot = value,
            Err(e) => self.path.1.push(e),
        }
    }
}

/// Reads one of `variants` (wire name, value), e.g. an enum's.
pub fn one_of<S: Source, T: Copy>(
    value: &S,
    path: &Path,
    variants: &[(&str, T)],
) -> Result<T, Violation> {
    let Shape::Text(s) = value.shape() else {
        return Err(path.wrong_type("a string"));
    };
    if let Some((_, v)) = variants.iter().find(|(name, _)| *name == s) {
        return Ok(*v);
    }
    let mut allowed = String::new();
    for (i, (name, _)) in variants.iter().enumerate() {
        if i > 0 {
            allowed.push_str(", ");
        }
        allowed.push_str(name);
    }
    let field = path.as_str().to_owned();
    let message = format!("{field} must be one of: {allowed}");
    Err(Violation::new(field, rule::NOT_ALLOWED, message))
}

#[cfg(test)]
mod tests;
