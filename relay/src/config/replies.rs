//! `[replies]` in `relay.toml`: the vendors' webhook intakes and the streams' bounds.
//!
//! ```toml
//! [replies]
//! public_url = "https://relay.example.com"   # shown by --check-config in the hook URLs
//! [replies.livedesk]
//! hook_secret = { env = "LIVEDESK_HOOK_SECRET" }        # the secret path segment
//! signing_secret = { env = "LIVEDESK_SIGNING_SECRET" }  # optional: Chatwoot-style signatures
//! [replies.mluvii]
//! hook_secret = { env = "MLUVII_HOOK_SECRET" }
//! basic_user = "mluvii"                                 # optional: HTTP Basic (mluvii's FAQ)
//! basic_password = { env = "MLUVII_HOOK_PASSWORD" }
//! ```

use serde::Deserialize;

use super::SecretRef;

/// `[replies]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepliesConfig {
    /// The relay's public root URL, for the hook URLs `--check-config` prints.
    pub public_url: Option<String>,
    /// LiveDesk's intake; none: `POST /v1/hooks/livedesk/…` is 404 and no stream is bound.
    pub livedesk: Option<HookConfig>,
    /// mluvii's intake.
    pub mluvii: Option<HookConfig>,
    /// How long a stream's token works, in hours (default 24).
    pub token_ttl_hours: u64,
    /// How long events are kept, in hours (default 72).
    pub retention_hours: u64,
    /// Most events kept per stream (default 1000; the oldest go first).
    pub max_events_per_stream: u64,
    /// Most streams open at once from one client address (default 16).
    pub max_open_per_address: usize,
    /// Seconds between heartbeats on an open stream (default 15).
    pub heartbeat_seconds: u64,
}

impl Default for RepliesConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            livedesk: None,
            mluvii: None,
            token_ttl_hours: 24,
            retention_hours: 72,
            max_events_per_stream: 1000,
            max_open_per_address: 16,
            heartbeat_seconds: 15,
        }
    }
}

/// One vendor's intake.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// The secret last segment of the hook URL (at least 32 characters).
    pub hook_secret: SecretRef,
    /// LiveDesk: verify `X-Chatwoot-Signature` with this secret (then unsigned deliveries are
    /// refused).
    pub signing_secret: Option<SecretRef>,
    /// mluvii: require HTTP Basic with this user …
    pub basic_user: Option<String>,
    /// … and this password.
    pub basic_password: Option<SecretRef>,
}
