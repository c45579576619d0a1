//! The relay's HTTP app: one route per operation (from `hail::catalog`), capabilities, health,
//! metrics, the sandbox routes, static files for the demo, and in front of them one service,
//! [`Front`], that does for every request what a stack of layers did before: request id →
//! tracing span → problem bodies for every error → sensitive headers → origin check → CORS →
//! head size and body read time limits → body limit → handler. The request id is made once,
//! here; everything inside reads it.
//!
//! Why one hand-written service: the nested layers cloned and dropped a boxed service stack per
//! request (each `from_fn` clones the service below it): about 22 k of 229 k instructions per
//! request (callgrind, BENCHMARKS.md), more than reading and validating the body. A
//! request without `Origin` (a company's backend, not a browser) and not a preflight skips the
//! CORS layer, whose answer to it would only add `Vary`; browsers' requests and every `OPTIONS`
//! go through tower-http's CORS layer as before.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hail::catalog::{visit_all, Visitor};
use hail::protocol::{self, operation_path};
use hail::{ErrorCode, Operation};
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, Service, ServiceExt as _};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument as _;

use crate::config::Access;
use crate::problem::ProblemResponse;
use crate::request_id;
use crate::state::AppState;

/// The relay's app; `www` is served at `/` when given.
pub fn router(state: Arc<AppState>, www: Option<PathBuf>) -> Front {
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
            "/v1/hooks/{vendor}/{secret}",
            post(crate::reply_routes::intake),
        )
        .route(
            "/v1/replies/{stream}",
            get(crate::reply_routes::open).delete(crate::reply_routes::revoke),
        )
        .route(
            "/v1/replies/{stream}/messages",
            post(crate::forward::follow_up::handle),
        )
        .route(
            "/v1/openapi.json",
            // The sandbox's endpoints are listed only where they are routed (below).
            get(|State(state): State<Arc<AppState>>| async move {
                Json(crate::openapi::document(state.sandbox.is_some()))
            }),
        );
    if let Some(sandbox) = &state.sandbox {
        app = app.merge(crate::sandbox::routes().with_state(sandbox.clone()));
    }
    let app = app
        .route("/v1/{*rest}", axum::routing::any(unknown_operation))
        .layer(DefaultBodyLimit::max(state.limits.body_limit));
    let mut app = app.with_state(state.clone());
    app = match www {
        // A missing file is a 404 like any other (made a problem body below).
        // Only what lies inside the folder, no dotfiles (see `www`).
        Some(www) => {
            let www = crate::www::Www::new(www);
            app.fallback(move |request: Request| www.clone().serve(request))
        }
        None => app.fallback(|| async { StatusCode::NOT_FOUND }),
    };
    let allowed = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.gate.origin_allowed(o))
        }))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(protocol::IDEMPOTENCY_KEY),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            HeaderName::from_static(protocol::REQUEST_ID),
            HeaderName::from_static(protocol::IDEMPOTENT_REPLAYED),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600));
    // Browsers' path: CORS outside the bounds, so that a refusal of the bounds carries the CORS
    // headers a page needs to read it.
    let browsers = cors.layer(
        axum::middleware::from_fn_with_state(state.clone(), bound_request).layer(app.clone()),
    );
    Front {
        state,
        router: app,
        browsers: BoxCloneSyncService::new(browsers),
    }
}

/// The relay's one outer service (see the module's documentation).
#[derive(Clone)]
pub struct Front {
    state: Arc<AppState>,
    /// Requests without `Origin`, preflights excepted: the bounds run inline, then this.
    router: Router,
    /// Requests with `Origin` and every `OPTIONS`: tower-http's CORS, the bounds, the router.
    browsers: BoxCloneSyncService<Request, Response, Infallible>,
}

/// What tower-http's CORS layer puts on every answer (the answer depends on these request
/// headers), put on the fast path's answers too, for caches.
const VARY: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);

impl Service<Request> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router and the boxed CORS stack are always ready (axum's routes are).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // Ids in logs and answers are the relay's own: one a client sent is dropped.
        let id = request_id::new();
        let preflight = req.method() == Method::OPTIONS;
        let headers = req.headers_mut();
        headers.insert(request_id::HEADER, id.clone());
        // Never in a log line (tower-http's sensitive-headers layer did this before).
        if let Some(auth) = headers.get_mut(header::AUTHORIZATION) {
            auth.set_sensitive(true);
        }
        let origin = headers.get(header::ORIGIN);
        let browser = origin.is_some() || preflight;
        // Browsers from origins not on the allow-list get `origin_not_allowed`, preflights
        // included.
        let refused =
            origin.is_some_and(|o| !o.to_str().is_ok_and(|o| self.state.gate.origin_allowed(o)));
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %crate::replies::loggable(req.uri().path()),
            request_id = %request_id::text(Some(&id)),
        );
        // Cheap clones (shared bytes): for a problem body's text, made only on error.
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let state = self.state.clone();
        let (mut router, browsers) = if browser {
            (None, Some(self.browsers.clone()))
        } else {
            (Some(self.router.clone()), None)
        };
        Box::pin(
            async move {
                let started = Instant::now();
                tracing::debug!("started processing request");
                let response = match (refused, browsers, router.as_mut()) {
                    (true, _, _) => ProblemResponse::new(
                        ErrorCode::OriginNotAllowed,
                        "this origin may not call the relay",
                    )
                    .into_response(),
                    (false, Some(browsers), _) => match browsers.oneshot(req).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    },
                    (false, None, Some(router)) => match bound(&state, req).await {
                        Ok(req) => {
                            let Ok(mut response) = router.call(req).await;
                            response.headers_mut().append(header::VARY, VARY);
                            response
                        }
                        Err(refusal) => refusal,
                    },
                    (false, None, None) => {
                        ProblemResponse::new(ErrorCode::Internal, "the request failed")
                            .into_response()
                    }
                };
                let mut response = crate::problem::finish(
                    response,
                    &method,
                    &uri,
                    request_id::text(Some(&id)),
                );
                response
                    .headers_mut()
                    .entry(request_id::HEADER)
                    .or_insert(id);
                let latency = started.elapsed();
                let status = response.status();
                tracing::debug!(?latency, status = status.as_u16(), "finished processing request");
                if status.is_server_error() {
                    tracing::error!(?latency, classification = %format_args!("Status code: {status}"), "response failed");
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// Bounds a request before any handler sees it (browsers' path): see [`bound`].
async fn bound_request(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match bound(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(refusal) => refusal,
    }
}

/// Bounds a request before any handler sees it: its head (request line and headers) must be
/// at most `max_header_bytes` (hyper's read buffer is several times larger; only a head beyond
/// that gets hyper's own bare 431), and its whole body must arrive within `body_read_timeout`
/// (a client trickling it, or stopping half way, is refused and its connection freed) and be at
/// most `body_limit` bytes. One step for both: this runs on every request.
async fn bound(state: &AppState, req: Request) -> Result<Request, Response> {
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
    if head > state.limits.max_header_bytes {
        return Err(refused(
            ErrorCode::InvalidRequest,
            format!(
                "the request headers are larger than {} bytes",
                state.limits.max_header_bytes
            ),
        ));
    }
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, state.limits.body_limit).collect();
    Err(
        match tokio::time::timeout(state.limits.body_read_timeout, read).await {
            Ok(Ok(collected)) => {
                // Read once: the operation handler takes these bytes (shared, not copied).
                let bytes = collected.to_bytes();
                let mut parts = parts;
                parts
                    .extensions
                    .insert(crate::forward::Buffered(bytes.clone()));
                return Ok(Request::from_parts(parts, axum::body::Body::from(bytes)));
            }
            Ok(Err(e)) if e.is::<LengthLimitError>() => refused(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {} bytes", state.limits.body_limit),
            ),
            Ok(Err(_)) => refused(
                ErrorCode::InvalidRequest,
                "the body could not be read".to_owned(),
            ),
            Err(_) => refused(
                ErrorCode::InvalidRequest,
                format!(
                    "the body did not arrive within {} ms",
                    state.limits.body_read_timeout.as_millis()
                ),
            ),
        },
    )
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
    match state.records.store.health().await {
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
    let operations: Vec<_> = hail::catalog::operations()
        .filter_map(|op| {
            let policy = state
                .gate
                .policy(op.id)
                .filter(|p| p.access != Access::Disabled)?;
            Some(serde_json::json!({
                "id": op.id,
                "access": policy.access.as_str(),
                "sends": op.sends,
                "pinned": policy.pin.keys().collect::<Vec<_>>(),
                "bound": policy.bind.keys().collect::<Vec<_>>(),
            }))
        })
        .collect();
    let mut body =
        serde_json::json!({ "operations": operations, "sandbox": state.sandbox.is_some() });
    if let Some(sandbox) = &state.sandbox {
        // The simulated chayns user API, which the SDK's chayns user client calls directly.
        body["chaynsUserApi"] = serde_json::Value::String(format!("{}/chayns-user", sandbox.root));
    }
    Json(body).into_response()
}
