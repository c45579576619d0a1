//! The reader against JSON: required, optional, default and nested fields, every violation.

use super::*;

#[test]
fn decimals_are_digits_only_and_never_overflow() {
    assert_eq!(decimal("0"), Some(0));
    assert_eq!(decimal("0040"), Some(40));
    assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
    for bad in [
        "18446744073709551616",
        "+1",
        "-1",
        " 1",
        "1 ",
        "1e3",
        "4x",
        "١",
    ] {
        assert_eq!(decimal(bad), None, "{bad}");
    }
}
use serde_json::json;

// Serialize only makes the serde attributes legal here; the derive reads them.
#[derive(Debug, PartialEq, serde::Serialize, hail_derive::Read)]
struct Inner {
    id: u64,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, PartialEq, serde::Serialize, hail_derive::Read)]
#[serde(rename_all = "camelCase")]
struct Outer {
    name: String,
    note: Option<String>,
    flag: Option<bool>,
    items: Vec<Inner>,
    #[serde(skip)]
    local: Option<u8>,
    #[serde(rename = "ID")]
    other_id: Option<u64>,
    wire_name: Option<String>,
}

fn read(v: serde_json::Value) -> Result<Outer, (String, &'static str)> {
    read_json::<Outer>(&v).map_err(|v| (v.field, v.code.as_str()))
}

#[test]
fn reads_required_optional_default_and_nested_fields() {
    let got =
        read(json!({"name": "a", "note": null, "items": [{"id": 7}], "ID": 4, "wireName": "w"}));
    assert_eq!(
        got,
        Ok(Outer {
            name: "a".into(),
            note: None,
            flag: None,
            items: vec![Inner {
                id: 7,
                tags: vec![]
            }],
            local: None,
            other_id: Some(4),
            wire_name: Some("w".into()),
        })
    );
}

#[test]
fn names_the_field_and_rule_of_the_first_error() {
    let cases = [
        (json!([]), "", rule::TYPE.as_str()),
        (json!({"items": []}), "name", rule::REQUIRED.as_str()),
        (json!({"name": 1, "items": []}), "name", rule::TYPE.as_str()),
        (
            json!({"name": "a", "items": [{"id": 1}, {"id": -1}]}),
            "items[1].id",
            rule::TYPE.as_str(),
        ),
        (
            json!({"name": "a", "items": [{"id": 1.5}]}),
            "items[0].id",
            rule::TYPE.as_str(),
        ),
        (
            json!({"name": "a", "items": [{}]}),
            "items[0].id",
            rule::REQUIRED.as_str(),
        ),
        (
            json!({"name": "a", "items": [{"id": 1, "tags": null}]}),
            "items[0].tags",
            rule::TYPE.as_str(),
        ),
        (
            json!({"name": "a", "items": [{"id": 1, "x": 2}]}),
            "items[0].x",
            rule::UNKNOWN_FIELD.as_str(),
        ),
        (
            json!({"name": "a", "items": [], "local": 1}),
            "local",
            rule::UNKNOWN_FIELD.as_str(),
        ),
        // The derive spells wire names as serde does: `rename` wins over `rename_all`.
        (
            json!({"name": "a", "items": [], "otherId": 1}),
            "otherId",
            rule::UNKNOWN_FIELD.as_str(),
        ),
        (
            json!({"name": "a", "items": [], "wire_name": "w"}),
            "wire_name",
            rule::UNKNOWN_FIELD.as_str(),
        ),
        (
            json!({"name": "a", "items": [[1]]}),
            "items[0]",
            rule::TYPE.as_str(),
        ),
        (
            json!({"name": "a", "flag": "yes", "items": []}),
            "flag",
            rule::TYPE.as_str(),
        ),
    ];
    for (input, field, code) in cases {
        assert_eq!(read(input.clone()), Err((field.into(), code)), "{input}");
    }
}

#[test]
fn every_structural_violation_is_found_and_rules_of_sound_fields_too() {
    let all = |v: serde_json::Value| -> Vec<(String, &'static str)> {
        read_all::<Outer, _>(&&v)
            .1
            .into_iter()
            .map(|v| (v.field, v.code.as_str()))
            .collect()
    };
    assert_eq!(
        all(json!({"z": 1, "a": 2, "flag": "yes", "items": [{"id": -1}, {"id": 2, "x": 1}, 3]})),
        [
            ("a".into(), rule::UNKNOWN_FIELD.as_str()),
            ("z".into(), rule::UNKNOWN_FIELD.as_str()),
            ("name".into(), rule::REQUIRED.as_str()),
            ("flag".into(), rule::TYPE.as_str()),
            ("items[0].id".into(), rule::TYPE.as_str()),
            ("items[1].x".into(), rule::UNKNOWN_FIELD.as_str()),
            ("items[2]".into(), rule::TYPE.as_str()),
        ]
    );
    assert_eq!(all(json!("x")), [("".into(), rule::TYPE.as_str())]);
    // The first is what read_request reports.
    assert_eq!(
        read(json!({"z": 1, "a": 2})),
        Err(("a".into(), rule::UNKNOWN_FIELD.as_str()))
    );
}

impl Validate for Outer {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = crate::validate::Violations::new();
        if self.name.is_empty() {
            v.push("name", rule::REQUIRED, "name must not be empty");
        }
        if self.note.as_deref() == Some("") {
            v.push("note", rule::REQUIRED, "note must not be empty");
        }
        v.finish()
    }
}

#[test]
fn check_adds_the_rules_of_fields_that_were_read() {
    let codes = |v: serde_json::Value| -> Vec<(String, &'static str)> {
        check::<Outer, _>(&&v)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.field, v.code.as_str()))
            .collect()
    };
    // A missing name is reported once (not again by its rule); note's rule is reported, in
    // field order (name, note, flag, items) rather than structural violations first.
    assert_eq!(
        codes(json!({"note": "", "flag": 1, "items": [], "zz": 0})),
        [
            ("zz".into(), rule::UNKNOWN_FIELD.as_str()),
            ("name".into(), rule::REQUIRED.as_str()),
            ("note".into(), rule::REQUIRED.as_str()),
            ("flag".into(), rule::TYPE.as_str()),
        ]
    );
    assert_eq!(
        codes(json!({"name": "", "note": "", "items": [{"id": "x"}]})),
        [
            ("name".into(), rule::REQUIRED.as_str()),
            ("note".into(), rule::REQUIRED.as_str()),
            ("items[0].id".into(), rule::TYPE.as_str()),
        ]
    );
    assert_eq!(codes(json!({"name": "a", "items": []})), []);
    assert_eq!(codes(json!(null)), [("".into(), rule::TYPE.as_str())]);
}

#[test]
fn enumerations_list_what_is_allowed() {
    let variants = [("one", 1), ("two", 2)];
    let mut path = Path::default();
    assert_eq!(one_of(&&json!("two"), &path, &variants), Ok(2));
    path.0.push_str("pick");
    let v = one_of(&&json!("three"), &path, &variants).unwrap_err();
    assert_eq!(
        (v.field.as_str(), v.code.as_str()),
        ("pick", rule::NOT_ALLOWED.as_str())
    );
    assert_eq!(v.message, "pick must be one of: one, two");
}
