//! The generic operation handler: policy, caller, limits, idempotency, then the operation's
//! vendor calls in order; answers in the relay protocol. It knows no vendor: `hail`'s
//! definitions do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hail::protocol::{self, Success, Upstream};
use hail::read::read_json;
use hail::{ErrorCode, Operation, Vendor};

use crate::caller::{client_ip, Caller};
use crate::config::Access;
use crate::idempotency::{scope, Begin, Fingerprint, Settle, StoredResponse};
use crate::problem::{respond, ProblemCode, ProblemResponse};
use crate::state::AppState;

mod call;
mod failed;
mod lease;
mod look_back;
mod refusal;

use crate::upstream::{exchange_with_retry_after, Acted};
pub(crate) use call::Call;
use failed::{refused, unanswered};
use lease::{Lease, NotSaved};
use look_back::{is_unknown, look_back, unknown_problem};
pub use refusal::Refusal;

/// `POST /v1/{vendor}/{operation}` for operation `Op`. The request is taken whole, not through
/// header and body extractors: they would copy the headers.
pub async fn handle<Op: Operation>(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let request_id = crate::request_id::of(&headers).to_owned();
    // The server puts it on every request.
    let Some(&ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return respond(
            ProblemResponse::new(ErrorCode::Internal, "the request failed").stored(&request_id),
            &request_id,
        );
    };
    let deadline = Instant::now() + state.request_timeout;
    // Admission and the vendor calls run in their own task: a caller who hangs up cuts neither
    // a store write that holds the key nor a call the vendor may be acting on, and the outcome
    // is still stored.
    let (task_state, id) = (state.clone(), request_id.clone());
    // Tracked: a shutdown waits for it.
    let limit = state.body_limit;
    let task = state.vendor_calls.spawn(async move {
        // Already read whole and bounded by the app's front service: this only takes the bytes.
        let body = {
            use http_body_util::{BodyExt as _, LengthLimitError, Limited};
            match Limited::new(body, limit).collect().await {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(e) if e.is::<LengthLimitError>() => Err(Refusal::TooLarge { limit }),
                Err(_) => Err(Refusal::Unreadable),
            }
        };
        match admit::<Op>(&task_state, peer, &headers, body, deadline).await {
            Ok(admitted) => run::<Op>(&task_state, admitted, &id, deadline).await,
            Err(Answer::Refused(refusal)) => ProblemResponse::from(refusal).stored(&id),
            Err(Answer::Replay(stored)) => stored,
        }
    });
    let stored = task.await.unwrap_or_else(|_| {
        ProblemResponse::new(ErrorCode::Internal, "the request failed").stored(&request_id)
    });
    let response = respond(stored, &request_id);
    let code = response.extensions().get::<ProblemCode>();
    crate::metrics::request(Op::ID, code.map_or("ok", |c| c.0.as_str()));
    response
}

/// A request that passed every check, ready for its vendor calls.
struct Admitted<Op> {
    op: Call<Op>,
    /// The held key, for sending operations.
    lease: Option<Lease>,
    progress: Option<Bytes>,
    /// An earlier try with this key may have reached the vendor: `(since, last send)`, Unix ms.
    unknown_since: Option<(u64, u64)>,
}

/// How much longer than the request's own deadline a key stays held by it.
const HOLD_MARGIN: Duration = Duration::from_secs(5);

/// What `admit` answers right away: a refusal, or the replayed outcome of an earlier try.
enum Answer {
    Refused(Refusal),
    Replay(StoredResponse),
}

impl<E: Into<Refusal>> From<E> for Answer {
    fn from(refusal: E) -> Self {
        Self::Refused(refusal.into())
    }
}

/// Every check before the vendor calls.
async fn admit<Op: Operation>(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, Refusal>,
    deadline: Instant,
) -> Result<Admitted<Op>, Answer> {
    let policy = state.policy(Op::ID).ok_or(Refusal::UnknownOperation)?;
    if policy.access == Access::Disabled {
        return Err(Refusal::Disabled.into());
    }
    let body = body?;

    let ip = client_ip(peer, headers, &state.trusted_proxies, state.ipv6_prefix_len);
    let caller = crate::limits::authenticate(state, policy.access, headers, ip, deadline).await?;
    if let Err(wait) = state.limiter.check(&caller.key).await {
        return Err(Refusal::RateLimited { wait }.into());
    }

    let key = if Op::SENDS {
        Some(idempotency_key(headers)?)
    } else {
        None
    };

    let op = parse::<Op>(&body, policy, &caller)?;
    op.validate().map_err(Refusal::Invalid)?;
    let caller_token = if op.wants_caller_token() {
        let token = caller.chayns_token.as_ref();
        Some(token.ok_or(Refusal::CallerTokenMissing)?.clone())
    } else {
        None
    };
    let op = Call { op, caller_token };
    if state.accounts.get::<Op::Credential>().is_none() {
        return Err(Refusal::VendorMissing {
            vendor: <Op::Vendor as Vendor>::NAME,
        }
        .into());
    }

    let Some(key) = key else {
        return Ok(Admitted {
            op,
            lease: None,
            progress: None,
            unknown_since: None,
        });
    };
    take_lease(state, op, &caller.key, &key).await
}

/// The request's `Idempotency-Key`, required on sending operations.
fn idempotency_key(headers: &HeaderMap) -> Result<String, Refusal> {
    match headers.get(protocol::IDEMPOTENCY_KEY) {
        None => Err(Refusal::KeyMissing),
        Some(k) if !protocol::is_valid_idempotency_key(k.as_bytes()) => Err(Refusal::KeyInvalid),
        Some(k) => Ok(String::from_utf8_lossy(k.as_bytes()).into_owned()),
    }
}

/// Begins `key` for `caller`: a lease on it, or the answer it already has.
async fn take_lease<Op: Operation>(
    state: &AppState,
    op: Call<Op>,
    caller: &str,
    key: &str,
) -> Result<Admitted<Op>, Answer> {
    let canonical = serde_json::to_vec(&op.op).map_err(|_| Refusal::Unencodable)?;
    let fingerprint = Fingerprint::of(Op::ID, &canonical);
    let store_key = scope(caller, Op::ID, key);
    // The key is held while this request may still be calling the vendor, plus a margin: past
    // that, a record left in flight reads as `outcome_unknown`.
    let hold = state.request_timeout + HOLD_MARGIN;
    match state.store.begin(&store_key, fingerprint, hold).await {
        Err(e) => {
            tracing::error!(error = %e, "idempotency store unavailable");
            Err(Refusal::StoreUnavailable(e).into())
        }
        Ok(Begin::InFlight) => Err(Refusal::InFlight.into()),
        Ok(Begin::Mismatch) => Err(Refusal::KeyReused.into()),
        Ok(Begin::Replay(stored)) => {
            let mut replay = (*stored).clone();
            replay.replayed = true;
            Err(Answer::Replay(replay))
        }
        Ok(Begin::Proceed { progress, hold }) => Ok(Admitted {
            op,
            lease: Some(Lease::new(store_key, fingerprint, hold)),
            progress,
            unknown_since: None,
        }),
        Ok(Begin::Unknown {
            progress,
            since_ms,
            last_sent_ms,
            hold,
        }) => Ok(Admitted {
            op,
            lease: Some(Lease::new(store_key, fingerprint, hold)),
            progress,
            unknown_since: Some((since_ms, last_sent_ms)),
        }),
    }
}

/// Parses the body as `Op`, with the policy's pinned and bound fields applied first.
fn parse<Op: Operation>(
    body: &[u8],
    policy: &crate::policy::Policy,
    caller: &Caller,
) -> Result<Op, Refusal> {
    let invalid = |v: hail::Violation| {
        if v.field.is_empty() {
            Refusal::Malformed(v.message)
        } else {
            Refusal::Invalid(vec![v])
        }
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Refusal::NotJson)?;
    let Some(map) = value.as_object_mut() else {
        return Err(Refusal::NotAnObject);
    };
    if policy.rewrites() {
        policy.apply(map, &caller.claims, Op::EMAIL_FIELDS)?;
    }
    read_json::<Op>(&value).map_err(invalid)
}

/// Runs the operation's vendor calls from `progress` (first looking back at the vendor when an
/// earlier try's outcome is unknown), stores the outcome, returns the answer.
async fn run<Op: Operation>(
    state: &AppState,
    admitted: Admitted<Op>,
    request_id: &str,
    deadline: Instant,
) -> StoredResponse {
    let Admitted {
        op,
        lease,
        progress,
        unknown_since,
    } = admitted;
    crate::failpoint::hit("relay::before_vendor").await;
    let mut parsed = match progress
        .as_deref()
        .map(serde_json::from_slice::<Op::Progress>)
    {
        None => Ok(Op::Progress::default()),
        Some(Ok(p)) => Ok(p),
        // Progress this version cannot read (stored by another version): starting over could
        // repeat a call that succeeded, so the outcome stays unknown.
        Some(Err(_)) => Err(unknown_problem(
            "",
            "the stored progress of an earlier try could not be read",
            request_id,
        )),
    };
    // `sent`: whether this try made a vendor call that may have been received.
    let (outcome, sent) = match (&mut parsed, unknown_since) {
        (Err(unknown), _) => (Err((unknown.clone(), Acted::Maybe)), false),
        (Ok(progress), Some(times)) => {
            match look_back::<Op>(state, &op, progress, times, request_id, deadline).await {
                Err(unknown) => (Err((unknown, Acted::Maybe)), false),
                Ok(reconciled) => (
                    calls::<Op>(
                        state,
                        &op,
                        progress,
                        lease.as_ref(),
                        request_id,
                        deadline,
                        reconciled,
                    )
                    .await,
                    true,
                ),
            }
        }
        (Ok(progress), None) => (
            calls::<Op>(
                state,
                &op,
                progress,
                lease.as_ref(),
                request_id,
                deadline,
                false,
            )
            .await,
            true,
        ),
    };
    crate::failpoint::hit("relay::before_store").await;
    let Some(lease) = lease else {
        return match outcome {
            Ok(r) | Err((r, _)) => r,
        };
    };
    let stored_progress = || {
        parsed
            .as_ref()
            .ok()
            .and_then(|p| serde_json::to_vec(p).ok())
            .map(Bytes::from)
    };
    let settle = match &outcome {
        Ok(response) => Settle::Final(response.clone()),
        Err((response, _)) if is_unknown(response) => Settle::Unknown {
            progress: stored_progress(),
            sent,
        },
        Err((response, Acted::Maybe)) => Settle::Final(response.clone()),
        Err((_, Acted::No)) => Settle::Retry(stored_progress()),
    };
    lease.settle(&*state.store, settle).await;
    crate::failpoint::hit("relay::after_store").await;
    match outcome {
        Ok(r) | Err((r, _)) => r,
    }
}

/// The vendor calls. `Err` carries the answer and whether the vendor may have acted.
async fn calls<Op: Operation>(
    state: &AppState,
    op: &Call<Op>,
    progress: &mut Op::Progress,
    lease: Option<&Lease>,
    request_id: &str,
    deadline: Instant,
    reconciled: bool,
) -> Result<StoredResponse, (StoredResponse, Acted)> {
    let problem = |code: ErrorCode, detail: String, step: Option<&str>| {
        ProblemResponse::new(code, named(step, detail)).stored(request_id)
    };
    let Some(account) = state.accounts.get::<Op::Credential>() else {
        return Err((
            problem(
                ErrorCode::OperationDisabled,
                "the vendor is not configured".into(),
                None,
            ),
            Acted::No,
        ));
    };
    let mut last_status = StatusCode::OK;
    let mut refreshed = false;
    // Progress a read-back found is new to the store too.
    let mut unsaved = reconciled;
    loop {
        let step = Op::step(progress);
        let credential = account
            .credential(deadline)
            .await
            .map_err(|f| (problem(f.code, f.detail, step), Acted::No))?;
        let next = op.next_request(progress, &account.api.base, &credential).map_err(|e| {
            tracing::error!(operation = Op::ID, error = %e, "encoding the vendor request failed");
            (problem(ErrorCode::Internal, "the vendor request could not be built".into(), step), Acted::No)
        })?;
        let Some(request) = next else { break };
        // Progress is stored before the next call, not after the last one: the outcome is
        // settled right after that (one store write less per request, see `cargo xtask bench`).
        // Not stored, no next call: a retry must resume after what succeeded, never repeat it.
        if let (true, Some(lease)) = (std::mem::take(&mut unsaved), lease) {
            let stored = match serde_json::to_vec(progress) {
                Ok(p) => lease.save_progress(&*state.store, Bytes::from(p)).await,
                Err(e) => Err(NotSaved::Store(crate::store::StoreError(e.to_string()))),
            };
            match stored {
                Ok(()) => crate::failpoint::hit("relay::after_progress").await,
                Err(NotSaved::HoldEnded) => return Err((problem(ErrorCode::IdempotencyInFlight, "this request outlived its hold on the Idempotency-Key; nothing more was sent".into(), step), Acted::No)),
                Err(NotSaved::Store(e)) => {
                    tracing::error!(error = %e, "storing the progress failed; not going on");
                    return Err((problem(ErrorCode::UpstreamUnavailable, "the idempotency store is unavailable; nothing more was sent, try again".into(), step), Acted::No));
                }
            }
        }
        // A read (a search before a create) sends nothing: its failures are no unknown outcome,
        // and a retry with the key resumes there.
        let reads = request.method().is_safe();
        let (status, body, retry_after) =
            exchange_with_retry_after(&account.api, request, deadline, Op::ID)
                .await
                .map_err(|f| unanswered::<Op>(f, reads, step, request_id))?;
        match op.op.record(progress, status, &body) {
            Ok(()) => {
                last_status = status;
                unsaved = true;
            }
            Err(e)
                if e.code == ErrorCode::Unauthenticated
                    && !refreshed
                    && account.refresh(&credential).await =>
            {
                // An issued token was refused (mluvii answers 302): one fresh token, one retry.
                refreshed = true;
            }
            Err(e) => {
                return Err(refused::<Op>(
                    e,
                    status,
                    retry_after,
                    reads,
                    step,
                    request_id,
                ));
            }
        }
    }
    let Some(data) = Op::output(std::mem::take(progress)) else {
        return Err((
            problem(
                ErrorCode::Internal,
                "the operation ended without a result".into(),
                None,
            ),
            Acted::Maybe,
        ));
    };
    let body = serde_json::to_vec(&Success {
        data,
        upstream: Upstream {
            status: last_status.as_u16(),
        },
        reconciled,
    })
    .map_err(|_| {
        (
            problem(
                ErrorCode::Internal,
                "the vendor answer could not be encoded".into(),
                None,
            ),
            Acted::Maybe,
        )
    })?;
    Ok(StoredResponse {
        status: 200,
        content_type: "application/json",
        // Vendor data reaches the caller: redacted like any vendor text.
        body: crate::scrub::json_body(Bytes::from(body)),
        code: None,
        retry_after: None,
        // A reconciled result is the original's, found again: marked as replayed.
        replayed: reconciled,
    })
}

pub(super) fn named(step: Option<&str>, message: String) -> String {
    match step {
        Some(step) => format!("{step}: {message}"),
        None => message,
    }
}
