//! The generic operation handler; answers in the relay protocol. It reads as the request goes:
//! admission (policy, caller, rate, input, vendor: `admit`) → the lease on the idempotency key
//! (`admit::take_lease`) → the vendor calls (`run`, `calls`, after a read-back where an earlier
//! try's outcome is unknown) → settling the key's record with the outcome (`settlement`). It
//! knows no vendor: `hail`'s definitions do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use hail::protocol::{Success, Upstream};
use hail::{ErrorCode, Operation};

use crate::accounts::Vendors;
use crate::idempotency::{Settle, StoredResponse};
use crate::problem::{respond, ProblemCode, ProblemResponse};
use crate::replies::Replies;
use crate::state::AppState;
use crate::store::Records;

mod admit;
mod call;
mod failed;
pub mod follow_up;
mod lease;
mod look_back;
mod refusal;

use crate::upstream::{exchange_with_retry_after, Acted};
use admit::{admit, Admitted, Answer};
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
    let (mut parts, body) = request.into_parts();
    let request_id = crate::request_id::of(&parts.headers).to_owned();
    // The server puts it on every request.
    let Some(&ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return respond(
            ProblemResponse::new(ErrorCode::Internal, "the request failed").stored(&request_id),
            &request_id,
        );
    };
    let deadline = Instant::now() + state.limits.request_timeout;
    // Admission and the vendor calls run in their own task: a caller who hangs up cuts neither
    // a store write that holds the key nor a call the vendor may be acting on, and the outcome
    // is still stored.
    let (task_state, id) = (state.clone(), request_id.clone());
    let buffered = parts.extensions.remove::<Buffered>();
    // Tracked: a shutdown waits for it.
    let task = state.vendors.calls.spawn(async move {
        let body = body_of(buffered, body, task_state.limits.body_limit).await;
        let headers = &parts.headers;
        match admit::<Op>(&task_state, peer, headers, body, deadline).await {
            Ok(admitted) => {
                let parts = Parts {
                    vendors: &task_state.vendors,
                    records: &task_state.records,
                    replies: &task_state.replies,
                };
                run::<Op>(parts, admitted, &id, deadline).await
            }
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

/// Sends `op` for `caller` (a reply stream's follow-up: the stream is the caller, and its token
/// was the authentication) under idempotency key `key`: the lease on the key, the vendor calls
/// and settling, as for `POST /v1/{operation}`, in a tracked task of its own.
pub(crate) async fn send_as<Op: Operation>(
    state: Arc<AppState>,
    caller: String,
    key: String,
    op: Op,
    request_id: String,
) -> Response {
    let deadline = Instant::now() + state.limits.request_timeout;
    let id = request_id.clone();
    let tracker = state.vendors.calls.clone();
    let task = tracker.spawn(async move {
        let refused = |r: Refusal| ProblemResponse::from(r).stored(&id);
        if let Err(wait) = state.limits.limiter.check(&caller).await {
            return refused(Refusal::RateLimited { wait });
        }
        if let Err(violations) = op.validate() {
            return refused(Refusal::Invalid(violations));
        }
        if state.vendors.accounts.get::<Op::Credential>().is_none() {
            let vendor = <Op::Vendor as hail::Vendor>::NAME;
            return refused(Refusal::VendorMissing { vendor });
        }
        let call = Call {
            op,
            caller_token: None,
        };
        let hold = state.limits.request_timeout + admit::HOLD_MARGIN;
        let store = &*state.records.store;
        match admit::take_lease(store, call, &caller, &key, hold).await {
            Ok(admitted) => {
                let parts = Parts {
                    vendors: &state.vendors,
                    records: &state.records,
                    replies: &state.replies,
                };
                run::<Op>(parts, admitted, &id, deadline).await
            }
            Err(Answer::Refused(refusal)) => refused(refusal),
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

/// The request body: the bytes the app's front service read (`Buffered`, so it is read once),
/// or, on a route the front service did not bound, read here under the same limit.
async fn body_of(buffered: Option<Buffered>, body: Body, limit: usize) -> Result<Bytes, Refusal> {
    use http_body_util::{BodyExt as _, LengthLimitError, Limited};
    if let Some(Buffered(bytes)) = buffered {
        return Ok(bytes);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Refusal::TooLarge { limit }),
        Err(_) => Err(Refusal::Unreadable),
    }
}

/// A request body as the app's front service read it (bounded in size and time): put on the
/// request so that the handler takes these bytes rather than reading the body again.
#[derive(Clone)]
pub struct Buffered(pub Bytes);

/// The parts of the state a try at the vendor uses.
struct Parts<'a> {
    vendors: &'a Vendors,
    records: &'a Records,
    replies: &'a Replies,
}

/// One try of an admitted request at its vendor: what its calls, its read-back and its progress
/// writes need.
struct Attempt<'a, Op> {
    vendors: &'a Vendors,
    records: &'a Records,
    replies: &'a Replies,
    op: &'a Call<Op>,
    lease: Option<&'a Lease>,
    request_id: &'a str,
    deadline: Instant,
}

impl<Op> Attempt<'_, Op> {
    /// A problem answer for this request, naming the step it happened at.
    fn problem(&self, code: ErrorCode, detail: String, step: Option<&str>) -> StoredResponse {
        ProblemResponse::new(code, named(step, detail)).stored(self.request_id)
    }
}

/// Calls and settle: runs the operation's vendor calls from the stored progress (first looking
/// back at the vendor when an earlier try's outcome is unknown), settles the key's record with
/// the outcome, returns the answer.
async fn run<Op: Operation>(
    parts: Parts<'_>,
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
    let Parts {
        vendors,
        records,
        replies,
    } = parts;
    let attempt = Attempt {
        vendors,
        records,
        replies,
        op: &op,
        lease: lease.as_ref(),
        request_id,
        deadline,
    };
    crate::failpoint::hit("relay::before_vendor").await;
    let mut parsed = stored_progress::<Op>(progress.as_deref(), request_id);
    // `sent`: whether this try made a vendor call that may have been received.
    let (outcome, sent) = match &mut parsed {
        Err(unknown) => (Err((unknown.clone(), Acted::Maybe)), false),
        Ok(progress) => resume(&attempt, progress, unknown_since).await,
    };
    crate::failpoint::hit("relay::before_store").await;
    if let Some(lease) = lease {
        let progress = parsed.as_ref().ok();
        lease
            .settle(&*records.store, settlement::<Op>(&outcome, progress, sent))
            .await;
        crate::failpoint::hit("relay::after_store").await;
    }
    match outcome {
        Ok(r) | Err((r, _)) => r,
    }
}

/// The progress an earlier try stored, or a new one. Progress this version cannot read (stored
/// by another version) is an unknown outcome: starting over could repeat a call that succeeded.
fn stored_progress<Op: Operation>(
    progress: Option<&[u8]>,
    request_id: &str,
) -> Result<Op::Progress, StoredResponse> {
    match progress.map(serde_json::from_slice::<Op::Progress>) {
        None => Ok(Op::Progress::default()),
        Some(Ok(p)) => Ok(p),
        Some(Err(_)) => Err(unknown_problem(
            "",
            "the stored progress of an earlier try could not be read",
            request_id,
        )),
    }
}

/// The vendor calls from `progress`, after a read-back when an earlier try's outcome is
/// unknown; and whether this try made a call the vendor may have received.
async fn resume<Op: Operation>(
    attempt: &Attempt<'_, Op>,
    progress: &mut Op::Progress,
    unknown_since: Option<(u64, u64)>,
) -> (Outcome, bool) {
    let reconciled = match unknown_since {
        None => false,
        Some(times) => match look_back(attempt, progress, times).await {
            Err(unknown) => return (Err((unknown, Acted::Maybe)), false),
            Ok(reconciled) => reconciled,
        },
    };
    (calls(attempt, progress, reconciled).await, true)
}

/// An answer, or a failure's answer and whether the vendor may have acted.
type Outcome = Result<StoredResponse, (StoredResponse, Acted)>;

/// What the key's record becomes after `outcome`.
fn settlement<Op: Operation>(
    outcome: &Outcome,
    progress: Option<&Op::Progress>,
    sent: bool,
) -> Settle {
    let stored_progress = || {
        progress
            .and_then(|p| serde_json::to_vec(p).ok())
            .map(Bytes::from)
    };
    match outcome {
        Ok(response) => Settle::Final(response.clone()),
        Err((response, _)) if is_unknown(response) => Settle::Unknown {
            progress: stored_progress(),
            sent,
        },
        Err((response, Acted::Maybe)) => Settle::Final(response.clone()),
        Err((_, Acted::No)) => Settle::Retry(stored_progress()),
    }
}

/// The vendor calls, in order, from `progress`.
async fn calls<Op: Operation>(
    attempt: &Attempt<'_, Op>,
    progress: &mut Op::Progress,
    reconciled: bool,
) -> Outcome {
    let Some(account) = attempt.vendors.accounts.get::<Op::Credential>() else {
        let detail = "the vendor is not configured".into();
        return Err((
            attempt.problem(ErrorCode::OperationDisabled, detail, None),
            Acted::No,
        ));
    };
    let (op, request_id, deadline) = (attempt.op, attempt.request_id, attempt.deadline);
    let mut last_status = StatusCode::OK;
    let mut refreshed = false;
    // Progress a read-back found is new to the store too.
    let mut unsaved = reconciled;
    loop {
        let step = Op::step(progress);
        let credential = account
            .credential(deadline)
            .await
            .map_err(|f| (attempt.problem(f.code, f.detail, step), Acted::No))?;
        let next = op.next_request(progress, &account.api.base, &credential).map_err(|e| {
            tracing::error!(operation = Op::ID, error = %e, "encoding the vendor request failed");
            let detail = "the vendor request could not be built".into();
            (attempt.problem(ErrorCode::Internal, detail, step), Acted::No)
        })?;
        let Some(request) = next else { break };
        // Progress is stored before the next call, not after the last one: the outcome is
        // settled right after that (one store write less per request, see `cargo xtask bench`).
        if std::mem::take(&mut unsaved) {
            save_progress(attempt, progress, step).await?;
        }
        // A read (a search before a create) sends nothing: its failures are no unknown outcome,
        // and a retry with the key resumes there.
        let reads = request.method().is_safe();
        let (status, body, retry_after) =
            exchange_with_retry_after(&account.api, request, deadline, Op::ID)
                .await
                .map_err(|f| unanswered::<Op>(f, reads, step, request_id))?;
        match op.op.record(progress, status, &body) {
            Ok(()) => (last_status, unsaved) = (status, true),
            Err(e)
                if e.code == ErrorCode::Unauthenticated
                    && !refreshed
                    && account.refresh(&credential).await =>
            {
                // An issued token was refused (mluvii answers 302): one fresh token, one retry.
                refreshed = true;
            }
            Err(e) => {
                let refusal = refused::<Op>(e, status, retry_after, reads, step, request_id);
                return Err(refusal);
            }
        }
    }
    success::<Op>(attempt, progress, last_status, reconciled).await
}

/// Stores `progress` before the next call. Not stored, no next call: a retry must resume after
/// what succeeded, never repeat it.
async fn save_progress<Op: Operation>(
    attempt: &Attempt<'_, Op>,
    progress: &Op::Progress,
    step: Option<&str>,
) -> Result<(), (StoredResponse, Acted)> {
    let Some(lease) = attempt.lease else {
        return Ok(());
    };
    let stored = match serde_json::to_vec(progress) {
        Ok(p) => {
            lease
                .save_progress(&*attempt.records.store, Bytes::from(p))
                .await
        }
        Err(e) => Err(NotSaved::Store(crate::store::StoreError(e.to_string()))),
    };
    let (code, detail) = match stored {
        Ok(()) => {
            crate::failpoint::hit("relay::after_progress").await;
            return Ok(());
        }
        Err(NotSaved::HoldEnded) => (
            ErrorCode::IdempotencyInFlight,
            "this request outlived its hold on the Idempotency-Key; nothing more was sent",
        ),
        Err(NotSaved::Store(e)) => {
            tracing::error!(error = %e, "storing the progress failed; not going on");
            (
                ErrorCode::UpstreamUnavailable,
                "the idempotency store is unavailable; nothing more was sent, try again",
            )
        }
    };
    Err((attempt.problem(code, detail.into(), step), Acted::No))
}

/// The answer of an operation whose calls all succeeded: its output, the last vendor status,
/// whether it was reconciled.
async fn success<Op: Operation>(
    attempt: &Attempt<'_, Op>,
    progress: &mut Op::Progress,
    last_status: StatusCode,
    reconciled: bool,
) -> Outcome {
    let internal = |detail: &str| {
        let problem = attempt.problem(ErrorCode::Internal, detail.into(), None);
        (problem, Acted::Maybe)
    };
    let Some(data) = Op::output(std::mem::take(progress)) else {
        return Err(internal("the operation ended without a result"));
    };
    // Before the answer is stored: a replay of this key gives the same stream.
    let replies = crate::replies::bind(attempt.replies, Op::VENDOR, Op::thread(&data)).await;
    let body = serde_json::to_vec(&Success {
        data,
        upstream: Upstream {
            status: last_status.as_u16(),
        },
        reconciled,
        replies,
    })
    .map_err(|_| internal("the vendor answer could not be encoded"))?;
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
