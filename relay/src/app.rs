//! The relay's HTTP app: one route per operation (from `hail::catalog`), capabilities, health,
//! metrics, the sandbox routes, static files for the demo, and the middleware stack:
//! request id → tracing → problem bodies for every error → sensitive headers → origin check →
//! CORS → head size and body read time limits → body limit → handler. The request id is made
//! once, by the request-id layer; everything inside reads it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hail::catalog::{visit_all, Visitor};
use hail::protocol::{self, operation_path};
use hail::{ErrorCode, Operation};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::config::Access;
use crate::problem::ProblemResponse;
use crate::request_id::{self, NewRequestId};
use crate::state::AppState;

/// The relay's router; `www` is served at `/` when given.
pub fn router(state: Arc<AppState>, www: Option<PathBuf>) -> Router {
    struct Routes(Router<Arc<AppState>>);
    impl Visitor for Routes {
        fn visit<Op: Operation>(&mut self) {
            let routes = std::mem::take(&mut self.0);
            self.0 = routes.route(&operation_path(Op::ID), post(crate::forward::handle::<Op>));
        }
    }
    let mut routes = Routes(Router::new());
    visit_all(&mut routes);

    let mut app = routes
        .0
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    crate::metrics::render(),
                )
            }),
        )
        .route(protocol::CAPABILITIES_PATH, get(capabilities))
        .route(
            "/v1/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        );
    if let Some(sandbox) = &state.sandbox {
        app = app.merge(crate::sandbox::routes().with_state(sandbox.clone()));
    }
    let app = app
        .route("/v1/{*rest}", axum::routing::any(unknown_operation))
        .layer(DefaultBodyLimit::max(state.body_limit));
    let mut app = app.with_state(state.clone());
    app = match www {
        // A missing file is a 404 like any other (made a problem body below).
        Some(www) => app.fallback_service(ServeDir::new(www)),
        None => app.fallback(|| async { StatusCode::NOT_FOUND }),
    };
    let app = app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        bound_request,
    ));
    let allowed = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| allowed.origin_allowed(o))
        }))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(protocol::IDEMPOTENCY_KEY),
        ])
        .expose_headers([
            HeaderName::from_static(protocol::REQUEST_ID),
            HeaderName::from_static(protocol::IDEMPOTENT_REPLAYED),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600));
    app.layer(cors)
        .layer(axum::middleware::from_fn_with_state(state, check_origin))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .layer(axum::middleware::from_fn(crate::problem::problem_bodies))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request_id = %request_id::of(req.headers()),
            )
        }))
        .layer(PropagateRequestIdLayer::new(request_id::HEADER))
        .layer(SetRequestIdLayer::new(request_id::HEADER, NewRequestId))
        // Outermost: the layer keeps an id it finds, and ids in logs and answers are the relay's.
        .layer(axum::middleware::map_request(request_id::drop_clients))
}

/// Bounds a request before any handler sees it: its head (request line and headers) must be
/// at most `max_header_bytes` (hyper's read buffer is several times larger; only a head beyond
/// that gets hyper's own bare 431), and its whole body must arrive within `body_read_timeout`
/// (a client trickling it, or stopping half way, is refused and its connection freed) and be at
/// most `body_limit` bytes. One middleware for both: this runs on every request.
async fn bound_request(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    use http_body_util::{BodyExt as _, LengthLimitError, Limited};
    let refused = |code, detail: String| {
        let mut response = ProblemResponse::new(code, detail).into_response();
        // The client is misbehaving or hostile: no keep-alive.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let uri = req.uri();
    let head = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + req
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head > state.max_header_bytes {
        return refused(
            ErrorCode::InvalidRequest,
            format!(
                "the request headers are larger than {} bytes",
                state.max_header_bytes
            ),
        );
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, state.body_limit).collect();
    match tokio::time::timeout(state.body_read_timeout, read).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(
                parts,
                axum::body::Body::from(collected.to_bytes()),
            ))
            .await
        }
        Ok(Err(e)) if e.is::<LengthLimitError>() => refused(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {} bytes", state.body_limit),
        ),
        Ok(Err(_)) => refused(
            ErrorCode::InvalidRequest,
            "the body could not be read".to_owned(),
        ),
        Err(_) => refused(
            ErrorCode::InvalidRequest,
            format!(
                "the body did not arrive within {} ms",
                state.body_read_timeout.as_millis()
            ),
        ),
    }
}

/// Browsers from origins not on the allow-list get `origin_not_allowed`, preflights included.
async fn check_origin(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let refused = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| !o.to_str().is_ok_and(|o| state.origin_allowed(o)));
    if refused {
        return ProblemResponse::new(
            ErrorCode::OriginNotAllowed,
            "this origin may not call the relay",
        )
        .into_response();
    }
    next.run(req).await
}

async fn unknown_operation(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    ProblemResponse::new(
        ErrorCode::UnknownOperation,
        format!("no operation at {path}"),
    )
    .into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.store.health().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok", "store": "ok" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "degraded", "store": e.0 })),
        )
            .into_response(),
    }
}

/// `GET /v1/capabilities`: the enabled operations, with access mode and fixed fields.
async fn capabilities(State(state): State<Arc<AppState>>) -> Response {
    struct List<'a>(&'a AppState, Vec<serde_json::Value>);
    impl Visitor for List<'_> {
        fn visit<Op: Operation>(&mut self) {
            let Some(policy) = self
                .0
                .policy(Op::ID)
                .filter(|p| p.access != Access::Disabled)
            else {
                return;
            };
            self.1.push(serde_json::json!({
                "id": Op::ID,
                "access": policy.access.as_str(),
                "sends": Op::SENDS,
                "pinned": policy.pin.keys().collect::<Vec<_>>(),
                "bound": policy.bind.keys().collect::<Vec<_>>(),
            }));
        }
    }
    let mut list = List(&state, Vec::new());
    visit_all(&mut list);
    let mut body = serde_json::json!({ "operations": list.1, "sandbox": state.sandbox.is_some() });
    if let Some(sandbox) = &state.sandbox {
        // The simulated chayns user API, which the SDK's chayns user client calls directly.
        body["chaynsUserApi"] = serde_json::Value::String(format!("{}/chayns-user", sandbox.root));
    }
    Json(body).into_response()
}
