//! Faults queued through `POST /v1/sandbox/faults`, taken by the next matching vendor call.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;

/// Most faults queued at once.
pub const FAULTS_MAX: usize = 100;

/// One fault, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Only calls to this vendor (`memoio`, `chayns`, `livedesk`, `mluvii`, `chayns-user`); any
    /// when absent.
    #[serde(default)]
    pub vendor: Option<String>,
    /// Only calls whose path ends with this (e.g. `/api/v2/accounts/conversations`).
    #[serde(default)]
    pub path: Option<String>,
    /// `status`, `timeout`, `drop` or `revokeTokens`.
    pub kind: String,
    /// `status`: the HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// `status`: `Retry-After` seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// `timeout`: the delay; should exceed the relay's upstream timeout.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// `timeout`: whether the vendor acts before the delay.
    #[serde(default)]
    pub after_accept: bool,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer `status` without acting (nothing recorded), with `Retry-After` if given.
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Answer only after `delay_ms`: before acting (nothing recorded), or after acting
    /// (`after_accept`: recorded, the answer comes too late).
    Timeout {
        /// The delay.
        delay_ms: u64,
        /// Whether the vendor acts before the delay.
        after_accept: bool,
    },
    /// Act (recorded), then drop the connection before the answer's body.
    Drop,
    /// mluvii: forget every issued token, so the next call is redirected to the login page.
    RevokeTokens,
}

/// Delay of a `timeout` fault that names none, in milliseconds.
pub const DEFAULT_DELAY_MS: u64 = 10_000;

impl Fault {
    /// The fault's effect, or why it makes no sense.
    pub fn kind(&self) -> Result<FaultKind, String> {
        Ok(match self.kind.as_str() {
            "status" => match self.status {
                Some(status @ 100..=599) => FaultKind::Status {
                    status,
                    retry_after: self.retry_after,
                },
                _ => return Err("a status fault needs status (100-599)".into()),
            },
            "timeout" => FaultKind::Timeout {
                delay_ms: self.delay_ms.unwrap_or(DEFAULT_DELAY_MS).min(120_000),
                after_accept: self.after_accept,
            },
            "drop" => FaultKind::Drop,
            "revokeTokens" => FaultKind::RevokeTokens,
            other => {
                return Err(format!(
                    "unknown fault kind {other:?}: status, timeout, drop or revokeTokens"
                ))
            }
        })
    }
}

/// The queue.
#[derive(Default)]
pub struct Faults(Mutex<VecDeque<Queued>>);

/// A queued fault: its vendor filter, its path filter, its effect.
type Queued = (Option<String>, Option<String>, FaultKind);

impl Faults {
    /// Queues faults; `Err` when the queue would exceed [`FAULTS_MAX`].
    pub fn push(&self, faults: &[Fault]) -> Result<(), String> {
        let kinds = faults
            .iter()
            .map(|f| Ok((f.vendor.clone(), f.path.clone(), f.kind()?)))
            .collect::<Result<Vec<_>, String>>()?;
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() + kinds.len() > FAULTS_MAX {
            return Err(format!("at most {FAULTS_MAX} faults can be queued"));
        }
        q.extend(kinds);
        Ok(())
    }

    /// The first fault for a call to `vendor` at `path`, removed from the queue.
    pub fn take(&self, vendor: &str, path: &str) -> Option<FaultKind> {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let i = q.iter().position(|(v, p, _)| {
            v.as_deref().is_none_or(|v| v == vendor)
                && p.as_deref().is_none_or(|p| path.ends_with(p))
        })?;
        q.remove(i).map(|(_, _, kind)| kind)
    }

    /// Removes every queued fault.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_are_taken_per_vendor_in_order() {
        let faults: Vec<Fault> = serde_json::from_str(
            r#"[{"vendor":"memoio","kind":"status","status":503,"retryAfter":1},
                {"kind":"timeout","delayMs":500,"afterAccept":true},{"kind":"drop"}]"#,
        )
        .unwrap();
        let q = Faults::default();
        q.push(&faults).unwrap();
        assert!(matches!(
            q.take("livedesk", "/x"),
            Some(FaultKind::Timeout {
                delay_ms: 500,
                after_accept: true
            })
        ));
        assert_eq!(
            q.take("memoio", "/x"),
            Some(FaultKind::Status {
                status: 503,
                retry_after: Some(1)
            })
        );
        assert_eq!(q.take("memoio", "/x"), Some(FaultKind::Drop));
        assert_eq!(q.take("memoio", "/x"), None);
        let only: Fault =
            serde_json::from_str(r#"{"path":"/conversations","kind":"drop"}"#).unwrap();
        q.push(&[only]).unwrap();
        assert_eq!(
            q.take("livedesk", "/livedesk/api/v2/accounts/contacts"),
            None
        );
        assert_eq!(
            q.take("livedesk", "/livedesk/api/v2/accounts/conversations"),
            Some(FaultKind::Drop)
        );
        let bad: Fault = serde_json::from_str(r#"{"kind":"explode"}"#).unwrap();
        assert!(q.push(&[bad]).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"drop","extra":1}"#).is_err());
    }
}
