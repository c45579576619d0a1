//! `[replies]` in `relay.toml`: the vendors' webhook intakes and the streams' bounds.
//!
//! ```toml
//! [replies]
//! public_url = "https://relay.example.com"   # printed by --check-config in the hook URLs
//! [replies.livedesk]
//! hook_secret = { env = "LIVEDESK_HOOK_SECRET" }        # the secret path segment
//! signing_secret = { env = "LIVEDESK_SIGNING_SECRET" }  # optional: Chatwoot-style signatures
//! [replies.mluvii]
//! hook_secret = { env = "MLUVII_HOOK_SECRET" }
//! basic_user = "mluvii"                                 # optional: HTTP Basic (mluvii's FAQ)
//! basic_password = { env = "MLUVII_HOOK_PASSWORD" }
//! ```

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::config::SecretRef;
use crate::startup_error::{Result, StartupError};

/// Shortest hook secret accepted: it is all that stands between the internet and the intake
/// where a vendor signs nothing (LiveDesk documents no signature; mluvii has none).
pub const HOOK_SECRET_MIN_CHARS: usize = 32;

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

/// One vendor's intake, secrets read.
pub struct Hook {
    /// The secret path segment.
    pub path_secret: SecretString,
    /// The signing secret, if deliveries are signed.
    pub signing: Option<SecretString>,
    /// HTTP Basic user and password, if required.
    pub basic: Option<(String, SecretString)>,
}

impl Hook {
    /// Reads `config`'s secrets (`setting`: `replies.livedesk`, for errors).
    pub fn read(config: &HookConfig, setting: &str, allow_inline: bool) -> Result<Self> {
        let path_secret = config
            .hook_secret
            .resolve(&format!("{setting}.hook_secret"), allow_inline)?;
        if path_secret.expose_secret().chars().count() < HOOK_SECRET_MIN_CHARS
            || !path_secret
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(StartupError::setting(
                format!("{setting}.hook_secret"),
                format!(
                    "must be at least {HOOK_SECRET_MIN_CHARS} characters of A-Z, a-z, 0-9, - and _ (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        let signing = match &config.signing_secret {
            Some(s) => Some(s.resolve(&format!("{setting}.signing_secret"), allow_inline)?),
            None => None,
        };
        let basic = match (&config.basic_user, &config.basic_password) {
            (Some(user), Some(password)) => Some((
                user.clone(),
                password.resolve(&format!("{setting}.basic_password"), allow_inline)?,
            )),
            (None, None) => None,
            _ => {
                return Err(StartupError::setting(
                    format!("{setting}.basic_user"),
                    "basic_user and basic_password go together",
                ))
            }
        };
        Ok(Self {
            path_secret,
            signing,
            basic,
        })
    }

    /// A hook with fresh random secrets (the sandbox's).
    pub fn random(signed: bool, basic: bool) -> Self {
        let secret = |s: String| {
            let s = SecretString::from(s);
            crate::scrub::register(&s);
            s
        };
        Self {
            path_secret: secret(super::token::random_text(32)),
            signing: signed.then(|| secret(super::token::random_text(32))),
            basic: basic.then(|| ("hail".to_owned(), secret(super::token::random_text(24)))),
        }
    }
}
