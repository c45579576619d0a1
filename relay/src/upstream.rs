//! One vendor call over HTTP, with the only retries that cannot send a message twice: where the
//! vendor provably did not act (connection refused; 429/503 with `Retry-After`), and only within
//! the request's deadline.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hail::{BaseUrl, ErrorCode};
use http::StatusCode;
use http_body_util::Full;

mod client;

use client::{read_capped, send, HttpClient, SendError, USER_AGENT};

/// A vendor API as configured: where, and one pooled client (no redirects, bounded time).
pub struct VendorApi {
    /// The vendor's name.
    pub name: &'static str,
    /// Base URL, from config only: parsed once, at start-up.
    pub base: BaseUrl,
    /// Connection pools, one per serving thread (see `serving::worker`) and one for any other
    /// thread: a thread's vendor connections are driven by that thread's runtime, so a request
    /// stays on its thread. A client follows no redirect: a 3xx is the vendor's answer.
    clients: Vec<HttpClient>,
    /// Timeout of one call.
    pub timeout: Duration,
    /// Extra attempts where the vendor provably did not act.
    pub retries: u32,
    /// Largest answer read.
    pub max_response_bytes: usize,
}

impl VendorApi {
    /// A vendor API with fresh clients, for `workers` serving threads.
    pub fn new(
        name: &'static str,
        base: BaseUrl,
        connect_timeout: Duration,
        timeout: Duration,
        retries: u32,
        max_response_bytes: usize,
        workers: usize,
    ) -> Result<Self, String> {
        let clients = (0..=workers)
            .map(|_| client::new_client(connect_timeout))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("HTTP client for {name}: {e}"))?;
        Ok(Self {
            name,
            base,
            clients,
            timeout,
            retries,
            max_response_bytes,
        })
    }
}

impl VendorApi {
    /// This thread's pool.
    fn client(&self) -> &HttpClient {
        // ok: `new` made workers + 1 clients (never empty), and the index is taken modulo their
        // count: it cannot panic.
        &self.clients[crate::serving::worker() % self.clients.len()]
    }
}

/// Whether the vendor may have acted on a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acted {
    /// Provably not (nothing was sent, or the vendor said "not now").
    No,
    /// Perhaps: the request may have been received.
    Maybe,
}

/// A call that produced no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct CallFailure {
    /// `upstream_unavailable`, `upstream_timeout` (nothing sent), `outcome_unknown` (sent, no
    /// answer) or `internal`.
    pub code: ErrorCode,
    /// For the problem's `detail`.
    pub detail: &'static str,
    /// Whether a retry with the same key may send again.
    pub acted: Acted,
}

/// Whether a vendor answer means "not acted, come back later".
pub fn is_not_now(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
}

/// Sends `request`, retrying only where the vendor provably did not act.
pub async fn exchange(
    api: &VendorApi,
    request: http::Request<Vec<u8>>,
    deadline: Instant,
    operation: &'static str,
) -> Result<(StatusCode, Bytes), CallFailure> {
    exchange_with_retry_after(api, request, deadline, operation)
        .await
        .map(|(status, body, _)| (status, body))
}

/// [`exchange`], with the vendor's last `Retry-After` (for a final 429/503, which the caller
/// may retry after that wait).
pub async fn exchange_with_retry_after(
    api: &VendorApi,
    request: http::Request<Vec<u8>>,
    deadline: Instant,
    operation: &'static str,
) -> Result<(StatusCode, Bytes, Option<Duration>), CallFailure> {
    let (mut parts, body) = request.into_parts();
    if parts.uri.scheme().is_none() || parts.uri.authority().is_none() {
        return Err(CallFailure {
            code: ErrorCode::Internal,
            detail: "the vendor request has an invalid URL",
            acted: Acted::No,
        });
    }
    parts
        .headers
        .entry(http::header::USER_AGENT)
        .or_insert(USER_AGENT);
    // Shared by every attempt, not copied.
    let body = Bytes::from(body);
    let mut attempt = 0;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(CallFailure {
                code: ErrorCode::UpstreamTimeout,
                detail: "no time was left to call the vendor",
                acted: Acted::No,
            });
        }
        let mut req = http::Request::new(Full::new(body.clone()));
        *req.method_mut() = parts.method.clone();
        *req.uri_mut() = parts.uri.clone();
        *req.headers_mut() = parts.headers.clone();
        let started = Instant::now();
        // One bound for the whole call, the answer's body included.
        let call = async {
            let response = send(api.client(), req).await?;
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let declared = hyper::body::Body::size_hint(response.body()).exact();
            match read_capped(response.into_body(), declared, api.max_response_bytes).await {
                Ok(body) => Ok((status, body, retry_after)),
                Err(()) => Err(SendError::AfterSending),
            }
        };
        let result = match tokio::time::timeout(api.timeout.min(remaining), call).await {
            Ok(Ok((status, Some(body), retry_after))) => Ok((status, body, retry_after)),
            Ok(Ok((status, None, _))) => {
                tracing::warn!(
                    operation,
                    vendor = api.name,
                    upstream_status = status.as_u16(),
                    limit = api.max_response_bytes,
                    "vendor answer too large"
                );
                return Err(CallFailure {
                    code: ErrorCode::UpstreamUnavailable,
                    detail: "the vendor's answer was larger than the relay reads (upstream.max_response_bytes); it may have acted, so it is not sent again",
                    acted: if is_not_now(status) { Acted::No } else { Acted::Maybe },
                });
            }
            Ok(Err(e)) => Err(Some(e)),
            // Timed out: perhaps after sending.
            Err(_) => Err(None),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok((status, body, retry_after)) => {
                tracing::info!(
                    operation,
                    vendor = api.name,
                    upstream_status = status.as_u16(),
                    upstream_ms = elapsed_ms,
                    attempt,
                    "vendor answered"
                );
                crate::metrics::upstream(api.name, status.as_u16(), started.elapsed());
                if let (true, Some(wait)) = (is_not_now(status), retry_after) {
                    if attempt < api.retries && Instant::now() + wait < deadline {
                        attempt += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                return Ok((status, body, retry_after));
            }
            Err(Some(SendError::Connect)) => {
                tracing::warn!(operation, vendor = api.name, attempt, "vendor unreachable");
                let backoff = Duration::from_millis(100 << attempt.min(5));
                if attempt < api.retries && Instant::now() + backoff < deadline {
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                return Err(CallFailure {
                    code: ErrorCode::UpstreamUnavailable,
                    detail: "the vendor could not be reached",
                    acted: Acted::No,
                });
            }
            Err(e) => {
                let timeout = e.is_none();
                tracing::warn!(
                    operation,
                    vendor = api.name,
                    attempt,
                    timeout,
                    "vendor call failed after sending"
                );
                return Err(CallFailure {
                    code: ErrorCode::OutcomeUnknown,
                    detail: if timeout {
                        "the vendor did not answer in time; it may have received the request, so it is not sent again with this key"
                    } else {
                        "the connection to the vendor broke; it may have received the request, so it is not sent again with this key"
                    },
                    acted: Acted::Maybe,
                });
            }
        }
    }
}

/// `Retry-After` in seconds (an HTTP date is not honoured: treated as absent).
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}
