//! Property tests over every operation in the catalog: validation never panics on arbitrary
//! input, and whatever validates also encodes (and decoding never panics on any answer).
#![cfg(not(target_arch = "wasm32"))]

use std::any::{Any, TypeId};
use std::collections::HashMap;

use hail::catalog::{visit_all, Visitor};
use hail::read::read_json;
use hail::vendors::{chayns, livedesk, memoio, mluvii};
use hail::{BaseUrl, Operation};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{json, Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![0u64..3, Just((1 << 53) - 1), Just(1 << 53)].prop_map(|n| json!(n)),
        ".*".prop_map(Value::String),
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,4}".prop_map(Value::String),
        "\\+[0-9]{6,16}".prop_map(Value::String),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".prop_map(Value::String),
        "https?://[a-z.]{0,10}/[ -~]{0,10}".prop_map(Value::String),
        "[a-z ,\\n\\t\u{0}]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value of the same JSON type as `original`, often a plausible one.
fn like(original: &Value) -> BoxedStrategy<Value> {
    match original {
        Value::Bool(_) => any::<bool>().prop_map(Value::Bool).boxed(),
        Value::Number(_) => prop_oneof![0u64..3, 1u64..100_000, Just(1 << 53)]
            .prop_map(|n| json!(n))
            .boxed(),
        Value::String(_) => leaf().prop_filter("a string", Value::is_string).boxed(),
        Value::Array(items) => match items.first() {
            Some(first) => prop::collection::vec(like(first), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            None => Just(json!([])).boxed(),
        },
        Value::Object(_) => mutated(original.clone()).boxed(),
        Value::Null => value().boxed(),
    }
}

/// The sample with some fields replaced by values of their kind or by anything, some removed,
/// one perhaps added.
fn mutated(seed: Value) -> impl Strategy<Value = Value> {
    let fields: Vec<(String, Value)> = seed
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let changes: Vec<_> = fields
        .iter()
        .map(|(_, original)| (0u8..8, like(original), value()))
        .collect();
    (changes, prop::option::of(("[a-zA-Z]{1,12}", value()))).prop_map(move |(changes, extra)| {
        let mut out = Map::new();
        for ((key, original), (what, similar, anything)) in fields.iter().zip(changes) {
            let v = match what {
                0 => continue,
                1 => anything,
                2 | 3 => similar,
                _ => original.clone(),
            };
            out.insert(key.clone(), v);
        }
        if let Some((k, v)) = extra {
            out.insert(k, v);
        }
        Value::Object(out)
    })
}

fn credentials() -> HashMap<TypeId, Box<dyn Any>> {
    let mut c: HashMap<TypeId, Box<dyn Any>> = HashMap::new();
    let s = |v: &str| SecretString::from(v.to_owned());
    c.insert(
        TypeId::of::<memoio::SecretKey>(),
        Box::new(memoio::SecretKey::new(s("k"))),
    );
    c.insert(
        TypeId::of::<chayns::TappCredential>(),
        Box::new(chayns::TappCredential {
            tapp_id: 1,
            secret: s("s"),
            location_id: 2,
        }),
    );
    c.insert(
        TypeId::of::<livedesk::ApiKey>(),
        Box::new(livedesk::ApiKey {
            key: s("k"),
            secret: s("s"),
        }),
    );
    c.insert(
        TypeId::of::<mluvii::AccessToken>(),
        Box::new(mluvii::AccessToken(s("t"))),
    );
    c
}

/// Runs the properties for one operation.
struct Check {
    cases: u32,
    validated: u32,
}

impl Visitor for Check {
    fn visit<Op: Operation>(&mut self) {
        let creds = credentials();
        let cred = creds
            .get(&TypeId::of::<Op::Credential>())
            .and_then(|c| c.downcast_ref::<Op::Credential>())
            .unwrap_or_else(|| panic!("{}: no sample credential", Op::ID));
        let base = BaseUrl::parse("https://vendor.example").unwrap();
        let seed: Value = serde_json::from_str(Op::EXAMPLE)
            .unwrap_or_else(|e| panic!("{}: the example is not JSON: {e}", Op::ID));
        let as_op = |v: &Value| read_json::<Op>(v).ok();
        let seed_op =
            as_op(&seed).unwrap_or_else(|| panic!("{}: the sample does not parse", Op::ID));
        assert!(
            seed_op.validate().is_ok(),
            "{}: the sample does not validate",
            Op::ID
        );

        let strategy = prop_oneof![mutated(seed), value()];
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: self.cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let validated = std::cell::Cell::new(0u32);
        let result = runner.run(&strategy, |input| {
            let Some(op) = as_op(&input) else {
                return Ok(());
            };
            // The relay supplies a verified caller's token for asCaller, as it would.
            let token = SecretString::from("caller");
            let caller_token = op.wants_caller_token().then_some(&token);
            if op.validate().is_ok() {
                validated.set(validated.get() + 1);
                let first = op.next_request(&Op::Progress::default(), &base, cred, caller_token);
                prop_assert!(
                    matches!(first, Ok(Some(_))),
                    "{} validated but did not encode: {input}",
                    Op::ID
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{}: {e}", Op::ID);
        }
        let validated = validated.get();
        assert!(
            validated > 0,
            "{}: no generated input validated; the property proved nothing",
            Op::ID
        );
        self.validated += validated;
    }
}

#[test]
fn validation_never_panics_and_what_validates_encodes() {
    let mut check = Check {
        cases: 400,
        validated: 0,
    };
    visit_all(&mut check);
    assert!(check.validated > 0);
}

/// Decoding any status and body gives a result or a typed error.
struct Decode;

impl Visitor for Decode {
    fn visit<Op: Operation>(&mut self) {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 200,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let bodies = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            value().prop_map(|v| v.to_string().into_bytes()),
        ];
        let op = hail::operation::check_request::<Op>(Op::EXAMPLE.as_bytes()).unwrap();
        let result = runner.run(&(100u16..600, bodies), |(status, body)| {
            let status = http::StatusCode::from_u16(status).unwrap();
            let mut progress = Op::Progress::default();
            // Several steps of multi-call operations with the same answer.
            for _ in 0..3 {
                if op.record(&mut progress, status, &body).is_err() {
                    break;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{}: {e}", Op::ID);
        }
    }
}

#[test]
fn decoding_never_panics() {
    visit_all(&mut Decode);
}
