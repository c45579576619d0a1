//! The relay's HTTP app: one route per operation (from `hail::catalog`), the sandbox routes,
//! static files for the demo, and the middleware stack.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderName, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hail::catalog::{visit_all, Visitor};
use hail::protocol::{self, operation_path};
use hail::{ErrorCode, Operation};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::ServeDir;

use crate::problem::{new_request_id, ProblemResponse};
use crate::sandbox::Outbox;
use crate::vendors::Accounts;

/// Everything a request handler needs.
pub struct AppState {
    /// The vendor accounts.
    pub accounts: Accounts,
    /// Sandbox only: what the simulated vendors received.
    pub outbox: Option<Arc<Outbox>>,
}

/// How to build the app.
pub struct AppOptions {
    /// Serve this folder at `/` (the demo page).
    pub www: Option<PathBuf>,
    /// Answer CORS for any origin (sandbox); otherwise no cross-origin access yet.
    pub any_origin: bool,
}

/// The relay's router.
pub fn router(state: Arc<AppState>, options: AppOptions) -> Router {
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
        .route("/healthz", get(|| async { "ok" }))
        .route(protocol::CAPABILITIES_PATH, get(capabilities))
        .route("/v1/{*rest}", axum::routing::any(unknown_operation));
    if state.outbox.is_some() {
        app = app.merge(crate::sandbox::routes());
    }
    let mut app = app.with_state(state);
    if let Some(www) = options.www {
        app = app.fallback_service(ServeDir::new(www));
    }
    let cors = if options.any_origin {
        CorsLayer::new()
            .allow_origin(AllowOrigin::mirror_request())
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
    } else {
        CorsLayer::new()
    };
    app.layer(cors).layer(SetSensitiveRequestHeadersLayer::new([
        header::AUTHORIZATION,
    ]))
}

async fn unknown_operation(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    ProblemResponse::new(
        ErrorCode::UnknownOperation,
        format!("no operation at {path}"),
        &new_request_id(),
    )
    .into_response()
}

async fn capabilities() -> Response {
    let ops: Vec<_> = hail::catalog::ids()
        .into_iter()
        .map(|id| serde_json::json!({ "id": id, "access": "public" }))
        .collect();
    axum::Json(serde_json::json!({ "operations": ops })).into_response()
}
