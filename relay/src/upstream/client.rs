//! The pooled HTTP client of the vendor calls: hyper-util's pooled client over rustls (`ring`
//! provider, Mozilla's roots), HTTP/1.1, plain `http` allowed for loopback and the sandbox.
//!
//! reqwest was here before: its call took 62 k of the relay's 229 k instructions per request
//! (callgrind, BENCHMARKS.md; this client: 17 k). It converts the URI to a `url::Url` and back,
//! runs redirect-policy and proxy-matching layers the relay does not use (it follows no redirect
//! and retries itself), and clones the headers. The vendor request arrives from `hail` as an `http::Request` whose URI is
//! already parsed (from the base URL parsed once at start-up), and goes out as it is.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// One vendor's connection pool.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The `User-Agent` of every vendor call.
pub const USER_AGENT: http::HeaderValue =
    http::HeaderValue::from_static(concat!("hail-relay/", env!("CARGO_PKG_VERSION")));

/// How long an unused pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// A client with its own pool.
pub fn new_client(connect_timeout: Duration) -> Result<HttpClient, String> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    // The TLS connector below decides the scheme: `https` gets TLS, `http` goes plain.
    http.enforce_http(false);
    let https = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| format!("TLS configuration: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .build(https))
}

/// Why a call failed, as far as the retry rules care.
pub enum SendError {
    /// No connection was made: nothing was sent.
    Connect,
    /// Sent, or perhaps sent, and no whole answer (a broken connection, a malformed answer).
    AfterSending,
}

/// Sends one request; its answer's head.
pub async fn send(
    client: &HttpClient,
    request: http::Request<Full<Bytes>>,
) -> Result<http::Response<Incoming>, SendError> {
    client.request(request).await.map_err(|e| {
        if e.is_connect() {
            SendError::Connect
        } else {
            SendError::AfterSending
        }
    })
}

/// The body, or `Ok(None)` when it is longer than `cap` (read no further: a vendor, or
/// anything in front of it, must not make the relay hold 100 MB). `Err` is a connection that
/// broke while reading.
pub async fn read_capped(
    mut body: Incoming,
    declared: Option<u64>,
    cap: usize,
) -> Result<Option<Bytes>, ()> {
    if declared.is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    // Most vendor answers come in one frame: then that frame's bytes are the body, uncopied.
    let mut first: Option<Bytes> = None;
    let mut joined = bytes::BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| ())?.into_data() else {
            // Trailers: nothing of the body.
            continue;
        };
        len += data.len();
        if len > cap {
            return Ok(None);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            Some(head) => {
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&data);
            }
            None => joined.extend_from_slice(&data),
        }
    }
    Ok(Some(first.unwrap_or_else(|| joined.freeze())))
}
