//! Idempotency (DESIGN.md, "Reliability rules"): the outcome of every sending call is stored per
//! (caller, operation, key) with a fingerprint of the validated body. The same key and body
//! replay the outcome; another body is `idempotency_key_reused`; a call still running is
//! `idempotency_in_flight`. A failure where the vendor provably did not act is not final: the
//! same key may try again, resuming multi-call operations after their last successful call.
//!
//! A record is written *before* the vendor call (in flight, with a deadline) and settled after
//! it. A record never turns back into "unused": an in-flight record that outlived its deadline
//! (its relay died, or could not store the outcome) is answered as `outcome_unknown`, like a
//! call that timed out after sending, until a vendor read-back resolves it.
//!
//! Every store ([`crate::store`]) shares the state machine in [`decide`]; the stores differ only
//! in where the record lives and how they make one `begin` atomic.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hail::ErrorCode;
use sha2::{Digest, Sha256};

/// A stored answer, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// `application/json` or `application/problem+json`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
    /// A problem's code (`None` on success): for the metrics, without reading the body again.
    pub code: Option<ErrorCode>,
    /// `Retry-After` seconds (never stored: refusals before the store).
    pub retry_after: Option<u64>,
    /// Whether this answer is a replay (set when replaying).
    pub replayed: bool,
}

impl StoredResponse {
    /// Whether the body is a problem document.
    pub fn is_problem(&self) -> bool {
        self.content_type == hail::protocol::PROBLEM_CONTENT_TYPE
    }

    /// A stored answer read back from a store: `problem` picks the content type. The stores
    /// keep a problem's body only, so its code is read from there (once, here).
    pub fn restored(status: u16, problem: bool, body: Bytes) -> Self {
        #[derive(serde::Deserialize)]
        struct Code {
            code: ErrorCode,
        }
        let code = problem
            .then(|| serde_json::from_slice::<Code>(&body).map_or(ErrorCode::Internal, |c| c.code));
        Self {
            status,
            content_type: if problem {
                hail::protocol::PROBLEM_CONTENT_TYPE
            } else {
                "application/json"
            },
            body,
            code,
            retry_after: None,
            replayed: false,
        }
    }
}

/// SHA-256 of the operation id and the validated request's canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of `operation` with `canonical_body`.
    pub fn of(operation: &str, canonical_body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(operation.as_bytes());
        h.update([0]);
        h.update(canonical_body);
        Self(h.finalize().into())
    }
}

/// What [`crate::store::Store::begin`] found. Every variant but `InFlight`, `Replay` and
/// `Mismatch` leaves the key in flight, held by the caller of `begin` until it settles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Go ahead, resuming from `progress` if a try before left some.
    Proceed {
        /// The stored progress of an earlier try (multi-call operations).
        progress: Option<Bytes>,
        /// This request's hold: settling and storing progress apply only while it lasts.
        hold: Hold,
    },
    /// An earlier try may have reached the vendor and its outcome is not known: look back at
    /// the vendor where it lets us, else answer `outcome_unknown`. Never send blindly.
    Unknown {
        /// The progress the earlier try had stored.
        progress: Option<Bytes>,
        /// When the first try began (Unix ms): read-backs look from there.
        since_ms: u64,
        /// The last moment an earlier try may have sent a vendor call (Unix ms). A read-back
        /// that finds nothing proves nothing until the vendor has had time to finish a request
        /// received that late.
        last_sent_ms: u64,
        /// This request's hold.
        hold: Hold,
    },
    /// The same key is being processed right now.
    InFlight,
    /// The outcome of an earlier call with the same key and body.
    Replay(Arc<StoredResponse>),
    /// The key was used with another body.
    Mismatch,
}

/// A request's hold on a key: the end of the hold (Unix ms), which also tells this hold from a
/// later one. A late settle of a hold that expired (and was taken over) writes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold(pub u64);

/// How a call that held a key ended.
#[derive(Debug, Clone)]
pub enum Settle {
    /// A final answer: replayed for the same key from now on.
    Final(StoredResponse),
    /// The vendor provably did not act: the same key and body may try again, from `progress`.
    Retry(Option<Bytes>),
    /// The vendor may have acted: the next try with this key looks back or answers
    /// `outcome_unknown`, never sends blindly. `sent`: this try made a vendor call that may
    /// have been received (else it only looked).
    Unknown {
        /// Progress to keep (else the held one).
        progress: Option<Bytes>,
        /// Whether this try sent.
        sent: bool,
    },
}

#[cfg(test)]
impl Begin {
    /// The hold this answer gives; a test that expects one fails without.
    pub(crate) fn expect_hold(&self) -> Hold {
        match self {
            Begin::Proceed { hold, .. } | Begin::Unknown { hold, .. } => *hold,
            other => panic!("no hold: {other:?}"),
        }
    }
}

impl Settle {
    /// The phase the record is left in.
    pub fn phase(&self) -> Phase {
        match self {
            Self::Final(_) => Phase::Final,
            Self::Retry(_) => Phase::Retryable,
            Self::Unknown { .. } => Phase::Unknown,
        }
    }
}

/// The store key of (caller, operation, idempotency key): unambiguous since the parts are
/// length-prefixed.
pub fn scope(caller: &str, operation: &str, key: &str) -> String {
    format!(
        "{}:{caller}|{}:{operation}|{key}",
        caller.len(),
        operation.len()
    )
}

/// Where a record stands, without its answer: the one name every store uses for it. Stores
/// that keep it as text or a number use these: the letter is the Redis record's `s` (its Lua
/// scripts compare letters), the number the embedded store's `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::FromRepr)]
#[repr(u8)]
pub enum Phase {
    /// See [`State::InFlight`].
    #[strum(serialize = "i")]
    InFlight = 0,
    /// See [`State::Retryable`].
    #[strum(serialize = "r")]
    Retryable = 1,
    /// See [`State::Unknown`].
    #[strum(serialize = "u")]
    Unknown = 2,
    /// See [`State::Final`].
    #[strum(serialize = "f")]
    Final = 3,
}

impl Phase {
    /// The letter the Redis record keeps.
    pub fn letter(self) -> &'static str {
        self.into()
    }
}

/// A record's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// A request holds the key until the record's `until_ms`.
    InFlight,
    /// The vendor provably did not act: may try again.
    Retryable,
    /// The vendor may have acted.
    Unknown,
    /// Replayed as is.
    Final(Arc<StoredResponse>),
}

impl State {
    /// Its phase, without the answer.
    pub fn phase(&self) -> Phase {
        match self {
            Self::InFlight => Phase::InFlight,
            Self::Retryable => Phase::Retryable,
            Self::Unknown => Phase::Unknown,
            Self::Final(_) => Phase::Final,
        }
    }
}

/// One idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The body it belongs to.
    pub fingerprint: Fingerprint,
    /// Where it stands.
    pub state: State,
    /// Progress of multi-call operations.
    pub progress: Option<Bytes>,
    /// When the first try began (Unix ms).
    pub started_ms: u64,
    /// In flight: when the hold ends (Unix ms), also the hold's token.
    pub until_ms: u64,
    /// The last moment a try may have sent a vendor call (Unix ms; 0: none known).
    pub sent_ms: u64,
}

/// The one state machine of every store: what `begin` answers for `existing`, and the record
/// to write (if any).
pub fn decide(
    existing: Option<&Record>,
    fingerprint: Fingerprint,
    now_ms: u64,
    hold: Duration,
) -> (Begin, Option<Record>) {
    let until_ms = now_ms.saturating_add(hold.as_millis() as u64).max(1);
    let held = |progress: Option<Bytes>, started_ms, sent_ms| Record {
        fingerprint,
        state: State::InFlight,
        progress,
        started_ms,
        until_ms,
        sent_ms,
    };
    let hold = Hold(until_ms);
    let Some(record) = existing else {
        return (
            Begin::Proceed {
                progress: None,
                hold,
            },
            Some(held(None, now_ms, 0)),
        );
    };
    if record.state == State::InFlight && now_ms < record.until_ms {
        return (Begin::InFlight, None);
    }
    if record.fingerprint != fingerprint {
        return (Begin::Mismatch, None);
    }
    let progress = record.progress.clone();
    match &record.state {
        State::Final(response) => (Begin::Replay(response.clone()), None),
        State::Retryable => (
            Begin::Proceed {
                progress: progress.clone(),
                hold,
            },
            Some(held(progress, record.started_ms, record.sent_ms)),
        ),
        // A flight past its deadline ended without an outcome: as unknown as a timeout, and it
        // may have been sending until its very end.
        State::InFlight | State::Unknown => {
            let last_sent_ms = if record.state == State::InFlight {
                record.sent_ms.max(record.until_ms)
            } else {
                record.sent_ms
            };
            (
                Begin::Unknown {
                    progress: progress.clone(),
                    since_ms: record.started_ms,
                    last_sent_ms,
                    hold,
                },
                Some(held(progress, record.started_ms, last_sent_ms)),
            )
        }
    }
}

/// The record `settle` leaves, from the one held (progress kept where the settle names none);
/// `None` when `hold` is no longer the record's (nothing may be written).
pub fn settled(
    held: Option<&Record>,
    fingerprint: Fingerprint,
    hold: Hold,
    settle: Settle,
    now_ms: u64,
) -> Option<Record> {
    let held = held.filter(|r| r.state == State::InFlight && r.until_ms == hold.0)?;
    let (state, progress, sent_ms) = match settle {
        Settle::Final(response) => (State::Final(Arc::new(response)), None, held.sent_ms),
        Settle::Retry(p) => (
            State::Retryable,
            p.or_else(|| held.progress.clone()),
            held.sent_ms,
        ),
        Settle::Unknown { progress, sent } => (
            State::Unknown,
            progress.or_else(|| held.progress.clone()),
            if sent { now_ms } else { held.sent_ms },
        ),
    };
    Some(Record {
        fingerprint,
        state,
        progress,
        started_ms: held.started_ms,
        until_ms: now_ms,
        sent_ms,
    })
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: Duration = Duration::from_secs(10);

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::of("op", s.as_bytes())
    }

    #[test]
    fn phases_keep_the_names_stores_wrote() {
        // Records outlive a relay version: these are on disk and in Redis.
        for (phase, letter, number) in [
            (Phase::InFlight, "i", 0),
            (Phase::Retryable, "r", 1),
            (Phase::Unknown, "u", 2),
            (Phase::Final, "f", 3),
        ] {
            assert_eq!(phase.letter(), letter);
            assert_eq!(phase as u8, number);
            assert_eq!(Phase::from_repr(number), Some(phase));
        }
    }

    #[test]
    fn an_expired_flight_is_unknown_never_unused() {
        let (begin, held) = decide(None, fp("a"), 1_000, HOLD);
        assert_eq!(begin.expect_hold(), Hold(11_000));
        let held = held.unwrap();
        assert_eq!(decide(Some(&held), fp("a"), 5_000, HOLD).0, Begin::InFlight);
        assert_eq!(decide(Some(&held), fp("b"), 5_000, HOLD).0, Begin::InFlight);
        let (begin, again) = decide(Some(&held), fp("a"), 11_000, HOLD);
        assert_eq!(
            begin,
            Begin::Unknown {
                progress: None,
                since_ms: 1_000,
                // It may have been sending until its hold ended.
                last_sent_ms: 11_000,
                hold: Hold(21_000),
            }
        );
        // The look-back holds the key again, keeping when the first try began.
        let again = again.unwrap();
        assert_eq!(again.started_ms, 1_000);
        assert_eq!(
            decide(Some(&again), fp("a"), 12_000, HOLD).0,
            Begin::InFlight
        );
        assert_eq!(
            decide(Some(&held), fp("b"), 11_000, HOLD).0,
            Begin::Mismatch
        );
        // The expired hold's late settle writes nothing over the new hold.
        let late = settled(
            Some(&again),
            fp("a"),
            Hold(11_000),
            Settle::Retry(None),
            12_000,
        );
        assert_eq!(late, None);
    }

    #[test]
    fn only_a_try_that_sent_moves_the_last_send() {
        let (begin, held) = decide(None, fp("a"), 0, HOLD);
        let unknown = settled(
            held.as_ref(),
            fp("a"),
            begin.expect_hold(),
            Settle::Unknown {
                progress: Some(Bytes::from_static(b"p")),
                sent: true,
            },
            1,
        )
        .unwrap();
        let (begin, looking) = decide(Some(&unknown), fp("a"), 2, HOLD);
        assert!(matches!(
            begin,
            Begin::Unknown {
                progress: Some(_),
                since_ms: 0,
                last_sent_ms: 1,
                ..
            }
        ));
        // A try that only looked (and found nothing yet) keeps the last send where it was.
        let still = settled(
            looking.as_ref(),
            fp("a"),
            begin.expect_hold(),
            Settle::Unknown {
                progress: None,
                sent: false,
            },
            5_000,
        )
        .unwrap();
        assert!(matches!(
            decide(Some(&still), fp("a"), 6_000, HOLD).0,
            Begin::Unknown {
                last_sent_ms: 1,
                progress: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn settled_records_answer_by_their_state() {
        let (begin, held) = decide(None, fp("a"), 0, HOLD);
        let h = begin.expect_hold();
        let retry = settled(held.as_ref(), fp("a"), h, Settle::Retry(None), 1).unwrap();
        assert!(matches!(
            decide(Some(&retry), fp("a"), 2, HOLD).0,
            Begin::Proceed { progress: None, .. }
        ));
        let response = StoredResponse::restored(200, false, Bytes::from_static(b"{}"));
        let done = settled(
            held.as_ref(),
            fp("a"),
            h,
            Settle::Final(response.clone()),
            1,
        )
        .unwrap();
        assert_eq!(
            decide(Some(&done), fp("a"), 2, HOLD).0,
            Begin::Replay(Arc::new(response))
        );
        assert_eq!(decide(Some(&done), fp("b"), 2, HOLD).0, Begin::Mismatch);
    }
}
