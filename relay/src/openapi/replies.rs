//! The replies' endpoints in the OpenAPI document (DESIGN.md, "Replies"): the pages' streams and
//! follow-ups, the vendors' webhook intakes, and in the sandbox `POST /v1/sandbox/replies`.
//! Written by hand after `reply_routes`, `forward::follow_up` and `sandbox::webhooks`, and never
//! stricter than they are (schemathesis sends what the schemas refuse and expects a 4xx).

use hail::protocol::SANDBOX_REPLIES_PATH;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, PathsBuilder, Required, ResponseBuilder, ResponsesBuilder};

use super::sandbox::{json, problem, typed};

fn path_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(typed(Type::String)))
        .build()
}

fn optional(name: &str, place: ParameterIn, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(typed(Type::String)))
        .build()
}

fn body(schema: Schema) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .required(Some(Required::True))
        .build()
}

/// The token's refusals, on both stream endpoints.
fn refusals(responses: ResponsesBuilder) -> ResponsesBuilder {
    responses
        .response("401", problem("unauthenticated: no token"))
        .response(
            "403",
            problem("replies_refused: not this stream's token, revoked, or no such stream"),
        )
        .response(
            "410",
            problem("replies_expired: the token is past its expiresAt"),
        )
        .response(
            "503",
            problem("upstream_unavailable: the reply log is unavailable"),
        )
}

/// The streams, the follow-ups and the intakes; with `sandbox`, the simulated agents too.
pub fn paths(paths: PathsBuilder, sandbox: bool) -> PathsBuilder {
    let stream = path_param("stream", "The stream's id, from the send's `replies.url`");
    let read = OperationBuilder::new()
        .operation_id(Some("replies/stream"))
        .summary(Some("The replies to a conversation, as Server-Sent Events"))
        .description(Some(
            "Each event: `id: {seq}` and `data: {\"seq\", \"kind\": \"message\"|\"status\", \"author\": \
             \"agent\"|\"bot\"|\"system\", \"text\", \"at\", \"vendorMessageId\"}`; heartbeats as comments. \
             Authorization: Bearer {token} (or ?token= for EventSource). Resumes after Last-Event-ID.",
        ))
        .parameter(stream.clone())
        .parameter(optional("token", ParameterIn::Query, "The stream's token, where no header can be sent (EventSource)"))
        .parameter(optional("lastEventId", ParameterIn::Query, "Resume after this seq (as Last-Event-ID)"))
        .parameter(optional("Last-Event-ID", ParameterIn::Header, "Resume after this seq"))
        .responses(
            refusals(ResponsesBuilder::new().response(
                "200",
                ResponseBuilder::new().description("The stream").content(
                    "text/event-stream",
                    ContentBuilder::new().schema(Some(typed(Type::String))).build(),
                ),
            ))
            .response(
                "429",
                problem("rate_limited: too many streams open from this address"),
            )
            .build(),
        );
    let revoke = OperationBuilder::new()
        .operation_id(Some("replies/revoke"))
        .summary(Some("Ends a stream: its token opens nothing from now on"))
        .parameter(stream.clone())
        .responses(
            refusals(
                ResponsesBuilder::new()
                    .response("204", ResponseBuilder::new().description("Revoked")),
            )
            .build(),
        );
    let follow_up_body = typed(Type::Object)
        .property(
            "content",
            typed(Type::String).description(Some("The visitor's message")),
        )
        .required("content")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
    let follow_up = OperationBuilder::new()
        .operation_id(Some("replies/messages"))
        .summary(Some("The visitor's follow-up in the stream's conversation"))
        .description(Some(
            "Sent as the vendor's follow-up (LiveDesk: an incoming message), idempotent like every \
             send: the Idempotency-Key is required and scoped to the stream.",
        ))
        .parameter(stream)
        .parameter(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .schema(Some(typed(Type::String)))
                .build(),
        )
        .request_body(Some(body(follow_up_body.into())))
        .responses(
            refusals(ResponsesBuilder::new().response(
                "200",
                json(
                    "Sent: the vendor's message in the success envelope",
                    typed(Type::Object)
                        .property("data", typed(Type::Object))
                        .property("upstream", typed(Type::Object))
                        .required("data"),
                ),
            ))
            .response("400", problem("invalid_request, invalid_field or idempotency_key_missing"))
            .response("409", problem("idempotency_in_flight"))
            .response("413", problem("payload_too_large"))
            .response("422", problem("idempotency_key_reused"))
            .response("429", problem("rate_limited"))
            .response("502", problem("upstream_rejected, upstream_unavailable or outcome_unknown"))
            .response("504", problem("upstream_timeout"))
            .build(),
        );
    let intake = OperationBuilder::new()
        .operation_id(Some("hooks/intake"))
        .summary(Some("A vendor's webhook delivery (LiveDesk, mluvii)"))
        .description(Some(
            "The secret path segment from [replies.<vendor>].hook_secret; mluvii with HTTP Basic and \
             LiveDesk with X-Chatwoot-Signature where configured. Acknowledged once stored.",
        ))
        .parameter(path_param("vendor", "livedesk or mluvii"))
        .parameter(path_param("secret", "The intake's secret"))
        .request_body(Some(body(typed(Type::Object).into())))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    json(
                        "Stored (or a redelivery, or nothing for a page)",
                        typed(Type::Object).property("received", typed(Type::String)),
                    ),
                )
                .response("400", problem("invalid_request: not the vendor's webhook format"))
                .response("401", problem("unauthenticated: a bad signature, a stale timestamp or missing HTTP Basic"))
                .response("404", problem("unknown_operation: no intake at this path"))
                .response("413", problem("payload_too_large"))
                .response("503", problem("upstream_unavailable: not stored; deliver it again"))
                .build(),
        );
    let mut paths = paths
        .path(
            format!("{}{{stream}}", hail::protocol::REPLIES_PATH_PREFIX),
            PathItemBuilder::new()
                .operation(HttpMethod::Get, read.build())
                .operation(HttpMethod::Delete, revoke.build())
                .build(),
        )
        .path(
            format!("{}{{stream}}/messages", hail::protocol::REPLIES_PATH_PREFIX),
            PathItemBuilder::new()
                .operation(HttpMethod::Post, follow_up.build())
                .build(),
        )
        .path(
            "/v1/hooks/{vendor}/{secret}",
            PathItemBuilder::new()
                .operation(HttpMethod::Post, intake.build())
                .build(),
        );
    if sandbox {
        let ask = typed(Type::Object)
            .property(
                "vendor",
                typed(Type::String).enum_values(Some(["livedesk", "mluvii"])),
            )
            .property(
                "conversationId",
                utoipa::openapi::schema::OneOfBuilder::new()
                    .item(typed(Type::Integer).minimum(Some(0)))
                    .item(typed(Type::String)),
            )
            .property("content", typed(Type::String))
            .property("private", typed(Type::Boolean))
            .property(
                "delivery",
                typed(Type::String).enum_values(Some([
                    "once",
                    "duplicate",
                    "dropped",
                    "bad_signature",
                    "late",
                ])),
            )
            .required("vendor")
            .required("conversationId")
            .required("content")
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        let reply = OperationBuilder::new()
            .operation_id(Some("sandbox/replies"))
            .summary(Some("A simulated agent answers; the simulated vendor delivers the webhook"))
            .request_body(Some(body(ask.into())))
            .responses(
                ResponsesBuilder::new()
                    .response(
                        "200",
                        json(
                            "Answered; deliveries: the relay's statuses (empty when dropped or late)",
                            typed(Type::Object)
                                .property("messageId", typed(Type::Integer))
                                .property("deliveries", ArrayBuilder::new().items(typed(Type::Integer))),
                        ),
                    )
                    .response("400", problem("invalid_request or invalid_field"))
                    .response("404", problem("unknown_operation: no such conversation"))
                    .response("413", problem("payload_too_large"))
                    .build(),
            );
        paths = paths.path(
            SANDBOX_REPLIES_PATH,
            PathItemBuilder::new()
                .operation(HttpMethod::Post, reply.build())
                .build(),
        );
    }
    paths
}
