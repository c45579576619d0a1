//! `GET /v1/replies/{stream}`: the stream's events as Server-Sent Events (`id: seq`, the event's
//! JSON as `data`), from after `Last-Event-ID` (or `?lastEventId=`), then live; heartbeats
//! between. It and the follow-up (`forward::follow_up`) take the stream's token (see
//! `replies::authorize`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use hail::ErrorCode;
use tokio::sync::broadcast::error::RecvError;

use crate::idempotency::now_ms;
use crate::problem::ProblemResponse;
use crate::replies::log::{Numbered, StreamRecord};
use crate::replies::{authorize, query_value, OpenGuard, Replies};
use crate::state::AppState;

/// Events read from the log at once.
const PAGE: usize = 100;
/// How often a stream over a shared log (Redis) looks again without a notice: a missed
/// notice (a dropped subscription) delays an event by at most this.
const POLL_SHARED: Duration = Duration::from_secs(2);

/// `GET /v1/replies/{stream}`.
pub async fn open(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let replies = state.replies.clone();
    let (headers, uri) = (request.headers(), request.uri());
    let record = match authorize(&replies, &id, headers, uri.query()).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query_value(uri.query(), "lastEventId"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = match peer {
        Some(peer) => state.gate.client_ip(peer, headers),
        None => return ProblemResponse::new(ErrorCode::Internal, "no peer").into_response(),
    };
    let Some(guard) = replies.open_one(ip) else {
        return ProblemResponse::new(
            ErrorCode::RateLimited,
            format!(
                "at most {} reply streams may be open from one address",
                replies.max_open_per_address
            ),
        )
        .into_response();
    };
    // What missed webhooks left out, from the vendor's own list, before the stream reads.
    super::backfill::fill(&state, &record).await;
    let heartbeat = replies.heartbeat;
    let events = events(replies, record, after, guard);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("ping"))
        .into_response();
    // Proxies (nginx) must pass events on as they come.
    response
        .headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The stream's events after `after`, then each new one, until the token expires, the relay
/// shuts down or the page goes away (dropping this, and `guard` with it).
fn events(
    replies: Arc<Replies>,
    record: StreamRecord,
    after: u64,
    guard: OpenGuard,
) -> impl Stream<Item = Result<Event, Infallible>> {
    struct S {
        replies: Arc<Replies>,
        record: StreamRecord,
        last: u64,
        hub: tokio::sync::broadcast::Receiver<Arc<str>>,
        ready: std::collections::VecDeque<Numbered>,
        _guard: OpenGuard,
    }
    let hub = replies.hub.subscribe();
    let s = S {
        replies,
        record,
        last: after,
        hub,
        ready: Default::default(),
        _guard: guard,
    };
    stream::unfold(s, |mut s| async move {
        loop {
            if let Some(n) = s.ready.pop_front() {
                s.last = n.seq;
                let event = Event::default().id(n.seq.to_string()).data(n.json);
                return Some((Ok(event), s));
            }
            match s.replies.log.read(&s.record.id, s.last, PAGE).await {
                Ok(page) if !page.is_empty() => {
                    s.ready.extend(page);
                    continue;
                }
                Ok(_) => {}
                // The page reconnects with its Last-Event-ID: nothing is lost.
                Err(e) => {
                    tracing::warn!(error = %e, "replies: reading a stream failed; ending it");
                    return None;
                }
            }
            let left = s.record.expires_ms.saturating_sub(now_ms());
            if left == 0 {
                return None;
            }
            let wait = if s.replies.log.shared() {
                POLL_SHARED
            } else {
                Duration::from_millis(left)
            };
            tokio::select! {
                () = s.replies.closing.cancelled() => return None,
                () = tokio::time::sleep(wait.min(Duration::from_millis(left))) => {}
                got = wait_for(&mut s.hub, &s.record.id) => {
                    // A notice with nothing new to read may be the stream's revocation.
                    if !got || !matches!(s.replies.log.stream(&s.record.id).await, Ok(Some(_))) {
                        return None;
                    }
                }
            }
        }
    })
}

/// Waits for a notice about stream `id` (or a lag, after which the log is read anyway);
/// `false` when the hub closed.
async fn wait_for(hub: &mut tokio::sync::broadcast::Receiver<Arc<str>>, id: &str) -> bool {
    loop {
        match hub.recv().await {
            Ok(notice) if &*notice == id => return true,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return true,
            Err(RecvError::Closed) => return false,
        }
    }
}

/// `DELETE /v1/replies/{stream}`: the page is done with the conversation; its token opens
/// nothing from now on and the stream's open connections end.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let replies = &state.replies;
    let (headers, uri) = (request.headers(), request.uri());
    if let Err(response) = authorize(replies, &id, headers, uri.query()).await {
        return response;
    }
    match replies.log.revoke(&id).await {
        Ok(()) => {
            let _ = replies.hub.send(Arc::from(id.as_str()));
            axum::http::StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "replies: cannot revoke a stream");
            ProblemResponse::new(
                ErrorCode::UpstreamUnavailable,
                "the reply log is unavailable; try again",
            )
            .into_response()
        }
    }
}
