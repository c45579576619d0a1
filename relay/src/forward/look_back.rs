//! After an unknown outcome: ask the vendor what it did before anything is sent again.

use std::time::Duration;

use hail::{ErrorCode, Operation, Vendor};

use crate::idempotency::StoredResponse;
use crate::problem::ProblemResponse;
use crate::upstream::exchange;

/// An `outcome_unknown` problem: `step` (or empty), then why the outcome is not known.
pub(super) fn unknown_problem(step: &str, why: &str, request_id: &str) -> StoredResponse {
    ProblemResponse::new(
        ErrorCode::OutcomeUnknown,
        format!("an earlier try with this Idempotency-Key may have reached the vendor{step} and its outcome is not known; {why}. It is not sent again with this key"),
    )
    .stored(request_id)
}

/// Whether `response` is an `outcome_unknown` problem.
pub(super) fn is_unknown(response: &StoredResponse) -> bool {
    response.code == Some(ErrorCode::OutcomeUnknown)
}

/// After an unknown outcome: asks the vendor whether the call at `progress` was acted on.
/// `Ok(true)`: it was, and `progress` now holds what it made; `Ok(false)`: provably not, so
/// sending is safe; `Err`: the answer for this try, `outcome_unknown`.
pub(super) async fn look_back<Op: Operation>(
    attempt: &super::Attempt<'_, Op>,
    progress: &mut Op::Progress,
    (since_ms, last_sent_ms): (u64, u64),
) -> Result<bool, StoredResponse> {
    let (op, records, deadline) = (attempt.op, attempt.records, attempt.deadline);
    let step = Op::step(progress).map_or(String::new(), |s| format!(" ({s})"));
    // The earliest time the vendor may have dated what the first try made.
    let since_ms = since_ms.saturating_sub(records.look_back_skew.as_millis() as u64);
    let unknown = |why: &str| unknown_problem(&step, why, attempt.request_id);
    let Some(account) = attempt.vendors.accounts.get::<Op::Credential>() else {
        return Err(unknown("the vendor is not configured"));
    };
    let credential = account
        .credential(deadline)
        .await
        .map_err(|_| unknown("the vendor could not be asked"))?;
    let base = &account.api.base;
    let request = match op.op.look_back(progress, since_ms, base, &credential) {
        Ok(Some(request)) => request,
        // Every call answered and its answer was stored as progress before the try ended: that
        // is the result, nothing to look up.
        Ok(None) if matches!(op.next_request(progress, base, &credential), Ok(None)) => {
            return Ok(true)
        }
        Ok(None) => {
            let vendor = <Op::Vendor as Vendor>::NAME;
            return Err(unknown(&format!(
                "{vendor} offers no way to look up this request"
            )));
        }
        Err(_) => return Err(unknown("the look-up request could not be built")),
    };
    let (status, body) = exchange(&account.api, request, deadline, Op::ID)
        .await
        .map_err(|_| unknown("looking it up at the vendor failed; try again later"))?;
    let acted = op
        .op
        .looked(progress, since_ms, status, &body)
        .map_err(|_| unknown("the vendor's look-up answer was not understood; try again later"))?;
    if !acted {
        // Nothing found proves nothing while the vendor may still be working on a request the
        // latest try sent just before its hold ended.
        too_early::<Op>(last_sent_ms, records.look_back_quiet).map_err(|why| unknown(&why))?;
    }
    tracing::info!(
        operation = Op::ID,
        acted,
        "an unknown outcome was looked up at the vendor"
    );
    Ok(acted)
}

/// `Err(why)` while the vendor may still be working on a request sent at `last_sent_ms` (for
/// `quiet` after it): a look-up that found nothing proves nothing yet.
fn too_early<Op: Operation>(last_sent_ms: u64, quiet: Duration) -> Result<(), String> {
    let quiet_until = last_sent_ms.saturating_add(quiet.as_millis() as u64);
    let now = crate::idempotency::now_ms();
    if now >= quiet_until {
        return Ok(());
    }
    let wait = (quiet_until - now).div_ceil(1000);
    tracing::info!(
        operation = Op::ID,
        wait_s = wait,
        "read-back found nothing yet; too early to tell"
    );
    Err(format!(
        "the vendor shows nothing yet, but may still be working on it; check again with the same key in {wait} s"
    ))
}
