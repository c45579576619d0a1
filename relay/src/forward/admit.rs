//! Admission: every check before a request's vendor calls (policy, caller, rate, input, vendor),
//! then the lease on the idempotency key of a sending operation, or the answer that key already
//! has.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use hail::protocol;
use hail::read::read_json;
use hail::{Operation, Vendor};

use super::{Call, Lease, Refusal};
use crate::caller::Caller;
use crate::config::Access;
use crate::idempotency::{scope, Begin, Fingerprint, StoredResponse};
use crate::limits::authenticate;
use crate::policy::Policy;
use crate::state::AppState;
use crate::store::Store;

/// A request that passed every check, ready for its vendor calls.
pub(super) struct Admitted<Op> {
    pub op: Call<Op>,
    /// The held key, for sending operations.
    pub lease: Option<Lease>,
    pub progress: Option<Bytes>,
    /// An earlier try with this key may have reached the vendor: `(since, last send)`, Unix ms.
    pub unknown_since: Option<(u64, u64)>,
}

/// How much longer than the request's own deadline a key stays held by it.
pub(super) const HOLD_MARGIN: Duration = Duration::from_secs(5);

/// What `admit` answers right away: a refusal, or the replayed outcome of an earlier try.
pub(super) enum Answer {
    Refused(Refusal),
    Replay(StoredResponse),
}

impl<E: Into<Refusal>> From<E> for Answer {
    fn from(refusal: E) -> Self {
        Self::Refused(refusal.into())
    }
}

/// Admission: every check before the vendor calls (policy, caller, rate, input, vendor), then
/// the lease on the idempotency key of a sending operation.
pub(super) async fn admit<Op: Operation>(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, Refusal>,
    deadline: Instant,
) -> Result<Admitted<Op>, Answer> {
    let (gate, limits) = (&state.gate, &state.limits);
    let policy = gate.policy(Op::ID).ok_or(Refusal::UnknownOperation)?;
    if policy.access == Access::Disabled {
        return Err(Refusal::Disabled.into());
    }
    let body = body?;
    let ip = gate.client_ip(peer, headers);
    let caller = authenticate(gate, limits, policy.access, headers, ip, deadline).await?;
    if let Err(wait) = limits.limiter.check(&caller.key).await {
        return Err(Refusal::RateLimited { wait }.into());
    }
    let key = if Op::SENDS {
        Some(idempotency_key(headers)?)
    } else {
        None
    };
    let op = call::<Op>(&body, policy, &caller)?;
    if state.vendors.accounts.get::<Op::Credential>().is_none() {
        let vendor = <Op::Vendor as Vendor>::NAME;
        return Err(Refusal::VendorMissing { vendor }.into());
    }
    let Some(key) = key else {
        return Ok(Admitted {
            op,
            lease: None,
            progress: None,
            unknown_since: None,
        });
    };
    // The key is held while this request may still be calling the vendor, plus a margin: past
    // that, a record left in flight reads as `outcome_unknown`.
    let hold = limits.request_timeout + HOLD_MARGIN;
    take_lease(&*state.records.store, op, &caller.key, &key, hold).await
}

/// The request's `Idempotency-Key`, required on sending operations.
fn idempotency_key(headers: &HeaderMap) -> Result<String, Refusal> {
    match headers.get(protocol::IDEMPOTENCY_KEY) {
        None => Err(Refusal::KeyMissing),
        Some(k) if !protocol::is_valid_idempotency_key(k.as_bytes()) => Err(Refusal::KeyInvalid),
        Some(k) => Ok(String::from_utf8_lossy(k.as_bytes()).into_owned()),
    }
}

/// The operation the body asks for, validated, with the caller's chayns token where it calls
/// chayns as the caller.
fn call<Op: Operation>(body: &[u8], policy: &Policy, caller: &Caller) -> Result<Call<Op>, Refusal> {
    let op = parse::<Op>(body, policy, caller)?;
    op.validate().map_err(Refusal::Invalid)?;
    let caller_token = if op.wants_caller_token() {
        let token = caller.chayns_token.as_ref();
        Some(token.ok_or(Refusal::CallerTokenMissing)?.clone())
    } else {
        None
    };
    Ok(Call { op, caller_token })
}

/// Begins `key` for `caller`, held for `hold`: a lease on it, or the answer it already has.
pub(super) async fn take_lease<Op: Operation>(
    store: &dyn Store,
    op: Call<Op>,
    caller: &str,
    key: &str,
    hold: Duration,
) -> Result<Admitted<Op>, Answer> {
    let canonical = serde_json::to_vec(&op.op).map_err(|_| Refusal::Unencodable)?;
    let fingerprint = Fingerprint::of(Op::ID, &canonical);
    let store_key = scope(caller, Op::ID, key);
    let (progress, unknown_since, hold) = match store.begin(&store_key, fingerprint, hold).await {
        Err(e) => {
            tracing::error!(error = %e, "idempotency store unavailable");
            return Err(Refusal::StoreUnavailable(e).into());
        }
        Ok(Begin::InFlight) => return Err(Refusal::InFlight.into()),
        Ok(Begin::Mismatch) => return Err(Refusal::KeyReused.into()),
        Ok(Begin::Replay(stored)) => {
            let mut replay = (*stored).clone();
            replay.replayed = true;
            return Err(Answer::Replay(replay));
        }
        Ok(Begin::Proceed { progress, hold }) => (progress, None, hold),
        Ok(Begin::Unknown {
            progress,
            since_ms,
            last_sent_ms,
            hold,
        }) => (progress, Some((since_ms, last_sent_ms)), hold),
    };
    Ok(Admitted {
        op,
        lease: Some(Lease::new(store_key, fingerprint, hold)),
        progress,
        unknown_since,
    })
}

/// Parses the body as `Op`, with the policy's pinned and bound fields applied first.
fn parse<Op: Operation>(body: &[u8], policy: &Policy, caller: &Caller) -> Result<Op, Refusal> {
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
