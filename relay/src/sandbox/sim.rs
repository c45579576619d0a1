//! What every simulated vendor shares: the request as received, the outbox, the fault queue,
//! and the answer.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::faults::{FaultKind, Faults};
use super::Outbox;

/// Largest body a simulated vendor reads.
const BODY_MAX: usize = 1 << 20;

/// State of the simulated vendors.
#[derive(Default)]
pub struct Sim {
    /// What they received.
    pub outbox: Arc<Outbox>,
    /// Queued faults.
    pub faults: Arc<Faults>,
    /// Id counter (LiveDesk contacts, conversations, messages; MEMOIO conversations).
    pub next_id: AtomicU64,
    /// mluvii tokens issued and not revoked.
    pub tokens: Mutex<HashSet<String>>,
    /// LiveDesk's contacts, conversations and messages.
    pub livedesk: Mutex<super::livedesk::Records>,
    /// mluvii templates sent, per subscription.
    pub sent: Mutex<HashMap<String, Vec<Value>>>,
    /// mluvii's registered webhooks.
    pub mluvii_webhooks: Mutex<Vec<Value>>,
    /// Where their webhooks go.
    pub webhooks: super::webhooks::Webhooks,
}

impl Sim {
    /// A fresh id.
    pub fn id(&self) -> u64 {
        1000 + self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// `router` with `handler` at the vendor call `call` (its method and path template, as `hail`
/// declares it: the sandbox spells no vendor path of its own).
pub fn route<H, T>(
    router: axum::Router<Arc<Sim>>,
    call: hail::VendorCall,
    handler: H,
) -> axum::Router<Arc<Sim>>
where
    H: axum::handler::Handler<T, Arc<Sim>>,
    T: 'static,
{
    let method = match call.method {
        "GET" => axum::routing::MethodFilter::GET,
        "PUT" => axum::routing::MethodFilter::PUT,
        _ => axum::routing::MethodFilter::POST,
    };
    router.route(call.path, axum::routing::on(method, handler))
}

/// A request as a simulated vendor received it.
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// Reads the whole request.
    pub async fn read(req: Request) -> Self {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, BODY_MAX)
            .await
            .unwrap_or_default();
        // Inside `nest`, the URI lacks the vendor prefix; the outbox shows the one received.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri, |o| o.0.clone());
        Self {
            method: parts.method,
            uri,
            headers: parts.headers,
            body,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Records the request with the status answered, and answers `body` as JSON.
    pub fn answer(
        self,
        sim: &Sim,
        vendor: &'static str,
        status: StatusCode,
        body: &Value,
    ) -> Response {
        sim.outbox.record(
            vendor,
            &self.method,
            &self.uri,
            &self.headers,
            &self.body,
            status.as_u16(),
        );
        (status, axum::Json(body)).into_response()
    }
}

/// The vendor a sandbox path belongs to (its first segment).
fn vendor_of(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// Applies the next queued fault for the vendor of the request, if any.
pub async fn apply_faults(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let vendor = vendor_of(req.uri().path()).to_owned();
    match sim.faults.take(&vendor, req.uri().path()) {
        None => next.run(req).await,
        Some(FaultKind::RevokeTokens) => {
            sim.tokens.lock().unwrap_or_else(|p| p.into_inner()).clear();
            next.run(req).await
        }
        Some(FaultKind::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response = (
                status,
                axum::Json(
                    serde_json::json!({ "message": "sandbox fault", "errorGuid": "5b1f3c8e-0000-4000-8000-0000000fa017" }),
                ),
            )
                .into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
        Some(FaultKind::Timeout {
            delay_ms,
            after_accept,
        }) => {
            let delay = Duration::from_millis(delay_ms);
            if after_accept {
                let response = next.run(req).await;
                tokio::time::sleep(delay).await;
                response
            } else {
                tokio::time::sleep(delay).await;
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
        }
        Some(FaultKind::Drop) => {
            let response = next.run(req).await;
            let (parts, _) = response.into_parts();
            // Headers go out, then the body fails: the connection is cut mid-answer.
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "sandbox fault: connection dropped",
                ))
            });
            Response::from_parts(parts, Body::from_stream(broken))
        }
    }
}
