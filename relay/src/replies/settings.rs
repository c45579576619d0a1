//! A vendor's webhook intake with its secrets read (`[replies.<vendor>]`, see `config::replies`).

use secrecy::{ExposeSecret as _, SecretString};

use crate::config::HookConfig;
use crate::startup_error::{Result, StartupError};

/// Shortest hook secret accepted: it is all that stands between the internet and the intake
/// where a vendor signs nothing (LiveDesk documents no signature; mluvii has none).
pub const HOOK_SECRET_MIN_CHARS: usize = 32;

/// One vendor's intake, secrets read.
pub struct Hook {
    /// The secret path segment.
    pub path_secret: SecretString,
    /// The signing secret, if deliveries are signed.
    pub signing: Option<SecretString>,
    /// HTTP Basic user and password, if required.
    pub basic: Option<(String, SecretString)>,
    /// Made up by the sandbox for its simulated vendors, not configured.
    pub generated: bool,
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
            generated: false,
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
            generated: true,
        }
    }
}
