//! `GET /v1/openapi.json`: the relay protocol as OpenAPI 3.1, generated from the same Rust types
//! the relay parses (`hail`'s definitions, feature `openapi`) and the protocol's problem body;
//! with `--sandbox`, the sandbox's own endpoints too ([`sandbox`]).

mod replies;
mod sandbox;

use hail::catalog::{visit_all, Visitor};
use hail::{ErrorCode, Operation};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, ResponsesBuilder,
};
use utoipa::{PartialSchema, ToSchema};

/// Statuses every operation may answer with a problem body.
const PROBLEM_STATUSES: [(&str, &str); 12] = [
    (
        "400",
        "invalid_request, invalid_field, idempotency_key_missing",
    ),
    ("401", "unauthenticated"),
    ("403", "forbidden, origin_not_allowed, operation_disabled"),
    ("404", "unknown_operation"),
    ("405", "method_not_allowed (operations are POST only)"),
    (
        "409",
        "idempotency_in_flight, contact_exists (the vendor already has a contact with these unique details)",
    ),
    ("413", "payload_too_large"),
    ("422", "idempotency_key_reused"),
    ("429", "rate_limited (see Retry-After)"),
    ("500", "internal"),
    (
        "502",
        "upstream_rejected (the vendor's 4xx), upstream_unavailable, outcome_unknown (the vendor may have acted; the same key never sends again)",
    ),
    ("504", "upstream_timeout"),
];

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

fn problem_schema() -> Schema {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let violation = ObjectBuilder::new()
        .property("field", string())
        .property("code", string())
        .property("message", string())
        .required("field")
        .required("code")
        .required("message");
    ObjectBuilder::new()
        .description(Some("application/problem+json: every failure"))
        .property("code", string().enum_values(Some(codes)))
        .property("title", string())
        .property(
            "status",
            ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)),
        )
        .property("detail", string())
        .property("field", string())
        .property(
            "retryable",
            ObjectBuilder::new().schema_type(SchemaType::new(Type::Boolean)),
        )
        .property("requestId", string())
        .property(
            "upstream",
            ObjectBuilder::new().property(
                "status",
                ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)),
            ),
        )
        .property("errors", ArrayBuilder::new().items(violation))
        .required("code")
        .required("title")
        .required("status")
        .required("detail")
        .required("retryable")
        .required("requestId")
        .into()
}

struct Doc {
    paths: PathsBuilder,
    components: ComponentsBuilder,
}

impl Visitor for Doc {
    fn visit<Op: Operation>(&mut self) {
        let mut schemas = Vec::new();
        <Op as ToSchema>::schemas(&mut schemas);
        <Op::Output as ToSchema>::schemas(&mut schemas);
        let components = std::mem::take(&mut self.components)
            .schema(<Op as ToSchema>::name(), <Op as PartialSchema>::schema())
            .schemas_from_iter(schemas);
        self.components = components;

        let success = ObjectBuilder::new()
            .property("data", <Op::Output as PartialSchema>::schema())
            .property(
                "upstream",
                ObjectBuilder::new()
                    .property(
                        "status",
                        ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)),
                    )
                    .required("status"),
            )
            .required("data")
            .required("upstream");
        let mut responses = ResponsesBuilder::new().response(
            "200",
            ResponseBuilder::new()
                .description("The vendor's answer, decoded")
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(success)).build(),
                ),
        );
        for (status, codes) in PROBLEM_STATUSES {
            responses = responses.response(
                status,
                ResponseBuilder::new().description(codes).content(
                    hail::protocol::PROBLEM_CONTENT_TYPE,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                ),
            );
        }
        let mut operation = OperationBuilder::new()
            .operation_id(Some(Op::ID))
            .summary(Some(Op::ID))
            .description(Some(Op::SUMMARY))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(<Op as ToSchema>::name())))
                            // The declaration's example (a catalog test checks that it is
                            // valid): what the demo page fills in for an operation it has no
                            // form of its own for.
                            .example(serde_json::from_str(Op::EXAMPLE).ok())
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ))
            .parameter(
                ParameterBuilder::new()
                    .name("Authorization")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Bearer <token>, for operations with access jwt or chayns",
                    ))
                    .schema(Some(string())),
            )
            .responses(responses.build());
        if Op::SENDS {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some("One key per logical send, reused on every retry"))
                    .schema(Some(
                        string()
                            .pattern(Some("^[!-~]{1,255}$"))
                            .min_length(Some(1))
                            .max_length(Some(255)),
                    )),
            );
        }
        let path = hail::protocol::operation_path(Op::ID);
        self.paths = std::mem::take(&mut self.paths)
            .path(path, PathItem::new(HttpMethod::Post, operation.build()));
    }
}

/// The OpenAPI document of this relay's protocol; `sandbox`: the relay runs with `--sandbox`,
/// so its outbox and fault queue exist and are listed.
pub fn document(sandbox: bool) -> OpenApi {
    let mut doc = Doc {
        paths: PathsBuilder::new(),
        components: ComponentsBuilder::new().schema("Problem", RefOr::T(problem_schema())),
    };
    visit_all(&mut doc);
    doc.paths = replies::paths(doc.paths, sandbox);
    if sandbox {
        doc.paths = sandbox::paths(doc.paths);
        doc.components = sandbox::components(doc.components);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("hail-relay")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Keeps company secrets off the browser: re-validates, applies the company's policy, adds the secret and forwards to the vendor.")),
        )
        .paths(doc.paths.build())
        .components(Some(doc.components.build()))
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_is_described_with_its_schemas() {
        let json = serde_json::to_value(super::document(false)).unwrap();
        for id in hail::catalog::ids() {
            let op = &json["paths"][format!("/v1/{id}")]["post"];
            assert!(
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string(),
                "{id}"
            );
            assert!(
                op["responses"]["200"].is_object() && op["responses"]["422"].is_object(),
                "{id}"
            );
            // The example and the summary the demo page shows for it.
            assert!(
                op["requestBody"]["content"]["application/json"]["example"].is_object(),
                "{id}"
            );
            assert!(
                op["description"].as_str().is_some_and(|d| d.len() > 20),
                "{id}"
            );
        }
        let schemas = &json["components"]["schemas"];
        for name in [
            "MemoioStartConversation",
            "LiveDeskStartConversation",
            "NewContact",
            "Recipient",
            "GroupBy",
            "Problem",
            "Contact",
        ] {
            assert!(schemas[name].is_object(), "{name} missing");
        }
        assert_eq!(
            schemas["MemoioStartConversation"]["additionalProperties"],
            false
        );
    }
}
