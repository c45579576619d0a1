//! The sandbox's own endpoints in the OpenAPI document: the outbox and the fault queue. Only a
//! `--sandbox` relay routes them (`crate::sandbox::routes`), so only its document lists them.
//!
//! The schemas are written by hand after what `sandbox.rs` and `sandbox/faults.rs` read and
//! answer, and they are never stricter than the code: schemathesis (`cargo xtask test`) sends
//! data that breaks them and expects a 4xx, so a body the schema refuses must be refused by the
//! relay too (hence `null` beside every optional fault field: serde reads it as absent).

use hail::protocol::SANDBOX_OUTBOX_PATH;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItemBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, PathsBuilder, Ref, Required, ResponseBuilder,
    ResponsesBuilder,
};

use crate::sandbox::{FAULTS_MAX, SANDBOX_FAULTS_PATH};

pub(super) fn typed(ty: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(ty))
}

/// An optional field: serde's `Option` reads `null` as absent, so the schema allows it too.
pub(super) fn nullable(ty: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([ty, Type::Null]))
}

fn outbox_entry() -> Schema {
    let header = ArrayBuilder::new()
        .description(Some("[name, value]"))
        .items(typed(Type::String))
        .min_items(Some(2))
        .max_items(Some(2));
    typed(Type::Object)
        .description(Some("One request a simulated vendor acted on"))
        .property(
            "seq",
            typed(Type::Integer)
                .minimum(Some(1))
                .description(Some("Increasing number of the entry")),
        )
        .property(
            "vendor",
            typed(Type::String)
                .description(Some("memoio, chayns, chayns-user, livedesk or mluvii")),
        )
        .property("method", typed(Type::String))
        .property(
            "url",
            typed(Type::String)
                .description(Some("As received, on the simulated vendor's loopback host")),
        )
        .property(
            "headers",
            ArrayBuilder::new()
                .items(header)
                .description(Some("Credentials shown as <redacted>")),
        )
        .property(
            "body",
            typed(Type::String).description(Some(
                "The body as text (lossy UTF-8), credential fields shown as <redacted>",
            )),
        )
        .property(
            "status",
            typed(Type::Integer).description(Some("What the simulated vendor answered")),
        )
        .required("seq")
        .required("vendor")
        .required("method")
        .required("url")
        .required("headers")
        .required("body")
        .required("status")
        .into()
}

fn fault() -> Schema {
    // Mirrors `faults::Fault` (camelCase, unknown fields refused); `kind` decides which of the
    // other fields count, as `Fault::kind` reads them.
    typed(Type::Object)
        .description(Some(
            "A fault for the next vendor call that matches vendor and path",
        ))
        .property(
            "kind",
            typed(Type::String)
                .enum_values(Some(["status", "timeout", "drop", "revokeTokens"]))
                .description(Some(
                    "status: answer `status` without acting; timeout: answer after `delayMs` \
                     (after acting when `afterAccept`); drop: act, then drop the connection; \
                     revokeTokens: mluvii forgets every token it issued",
                )),
        )
        .property(
            "vendor",
            nullable(Type::String).description(Some(
                "Only calls to this vendor (memoio, chayns, chayns-user, livedesk, mluvii); any when absent",
            )),
        )
        .property(
            "path",
            nullable(Type::String).description(Some(
                "Only calls whose path ends with this, e.g. /api/v2/accounts/conversations",
            )),
        )
        .property(
            "status",
            nullable(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(u16::MAX))
                .description(Some("kind status: the HTTP status, 100-599")),
        )
        .property(
            "retryAfter",
            nullable(Type::Integer)
                .minimum(Some(0))
                .description(Some("kind status: Retry-After seconds")),
        )
        .property(
            "delayMs",
            nullable(Type::Integer).minimum(Some(0)).description(Some(
                "kind timeout: the delay (10000 when absent, at most 120000); \
                 should exceed the relay's upstream timeout",
            )),
        )
        .property(
            "afterAccept",
            typed(Type::Boolean).description(Some(
                "kind timeout: whether the vendor acts (and the outbox records it) before the delay",
            )),
        )
        .required("kind")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .into()
}

/// The components the sandbox paths refer to.
pub fn components(components: ComponentsBuilder) -> ComponentsBuilder {
    components
        .schema("SandboxOutboxEntry", outbox_entry())
        .schema("SandboxFault", fault())
}

pub(super) fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        hail::protocol::PROBLEM_CONTENT_TYPE,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

pub(super) fn json(description: &str, schema: ObjectBuilder) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(schema)).build(),
    )
}

fn emptied(what: &str) -> ResponsesBuilder {
    ResponsesBuilder::new().response("204", ResponseBuilder::new().description(what))
}

/// The outbox and the fault queue.
pub fn paths(paths: PathsBuilder) -> PathsBuilder {
    let list = OperationBuilder::new()
        .operation_id(Some("sandbox/outbox"))
        .summary(Some("What the simulated vendors received, newest first"))
        .description(Some(
            "Every request a simulated vendor acted on (at most the newest 1000), secrets redacted. \
             Only a relay started with --sandbox has this endpoint.",
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    json(
                        "The entries, newest first",
                        typed(Type::Object)
                            .property(
                                "entries",
                                ArrayBuilder::new()
                                    .items(Ref::from_schema_name("SandboxOutboxEntry")),
                            )
                            .required("entries"),
                    ),
                )
                .build(),
        );
    let clear = OperationBuilder::new()
        .operation_id(Some("sandbox/clear-outbox"))
        .summary(Some("Forgets every outbox entry"))
        .responses(emptied("The outbox is empty").build());
    let faults_body = OneOfBuilder::new()
        .item(Ref::from_schema_name("SandboxFault"))
        .item(
            ArrayBuilder::new()
                .items(Ref::from_schema_name("SandboxFault"))
                .max_items(Some(FAULTS_MAX)),
        );
    let add = OperationBuilder::new()
        .operation_id(Some("sandbox/add-faults"))
        .summary(Some("Queues faults for the next vendor calls"))
        .description(Some(
            "One fault or an array of them, each taken by the next call of the simulated vendors \
             that matches its vendor and path. At most 100 wait at once. \
             Only a relay started with --sandbox has this endpoint.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(faults_body))
                        .example(Some(serde_json::json!({
                            "vendor": "livedesk", "kind": "timeout", "delayMs": 3000, "afterAccept": true
                        })))
                        .build(),
                )
                .required(Some(Required::True))
                .build(),
        ))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "202",
                    json(
                        "Queued",
                        typed(Type::Object)
                            .property("queued", typed(Type::Integer).minimum(Some(0)))
                            .required("queued"),
                    ),
                )
                .response(
                    "400",
                    problem("invalid_request: not a fault, a fault that makes no sense, or the queue would exceed 100"),
                )
                .response("413", problem("payload_too_large"))
                .build(),
        );
    let clear_faults = OperationBuilder::new()
        .operation_id(Some("sandbox/clear-faults"))
        .summary(Some("Removes every queued fault"))
        .responses(emptied("No fault waits").build());
    paths
        .path(
            SANDBOX_OUTBOX_PATH,
            PathItemBuilder::new()
                .operation(HttpMethod::Get, list.build())
                .operation(HttpMethod::Delete, clear.build())
                .build(),
        )
        .path(
            SANDBOX_FAULTS_PATH,
            PathItemBuilder::new()
                .operation(HttpMethod::Post, add.build())
                .operation(HttpMethod::Delete, clear_faults.build())
                .build(),
        )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use crate::sandbox::{Fault, Outbox};

    fn schemas() -> Value {
        let doc = serde_json::to_value(super::super::document(true)).unwrap();
        doc["components"]["schemas"].clone()
    }

    fn keys(object: &Value) -> BTreeSet<String> {
        object.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_outbox_entry_schema_names_every_field_an_entry_has() {
        let outbox = Outbox::default();
        outbox.record(
            "memoio",
            &axum::http::Method::POST,
            &"/memoio/x".parse().unwrap(),
            &axum::http::HeaderMap::new(),
            b"{}",
            200,
        );
        let entry = serde_json::to_value(&outbox.list()[0]).unwrap();
        let schema = &schemas()["SandboxOutboxEntry"];
        assert_eq!(keys(&entry), keys(&schema["properties"]));
        let required: BTreeSet<String> =
            serde_json::from_value(schema["required"].clone()).unwrap();
        assert_eq!(keys(&entry), required);
    }

    #[test]
    fn every_documented_fault_field_is_one_the_relay_reads() {
        let schema = &schemas()["SandboxFault"];
        assert_eq!(schema["additionalProperties"], false);
        // Each documented property, with a value of its documented type, in one fault.
        let mut fault = serde_json::Map::new();
        for (name, property) in schema["properties"].as_object().unwrap() {
            let ty = &property["type"];
            let is = |t: &str| ty == t || ty.as_array().is_some_and(|a| a.contains(&json!(t)));
            let value = if name == "kind" {
                json!("status")
            } else if is("integer") {
                json!(503)
            } else if is("boolean") {
                json!(true)
            } else {
                json!("memoio")
            };
            fault.insert(name.clone(), value);
        }
        let fault: Fault = serde_json::from_value(Value::Object(fault)).unwrap();
        assert!(fault.kind().is_ok());
        for kind in schema["properties"]["kind"]["enum"].as_array().unwrap() {
            let fault: Fault =
                serde_json::from_value(json!({ "kind": kind, "status": 503 })).unwrap();
            assert!(fault.kind().is_ok(), "{kind}");
        }
    }

    #[test]
    fn only_the_sandbox_document_lists_the_sandbox_endpoints() {
        for sandbox in [false, true] {
            let doc = serde_json::to_value(super::super::document(sandbox)).unwrap();
            for path in ["/v1/sandbox/outbox", "/v1/sandbox/faults"] {
                assert_eq!(doc["paths"][path].is_object(), sandbox, "{path}");
            }
        }
    }
}
