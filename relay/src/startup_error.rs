//! Why the relay refused to start. Each error names the setting at fault as the operator
//! writes it in `relay.toml` (`store.redis`, `vendors.memoio.secret_key`), so a refusal says
//! what to change. A leaf: it holds plain data and imports no other relay module, so any
//! module may return it.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use hail::credential::SectionError;

/// Prefix of environment overrides; `__` separates nested keys. Defined here, not in `config`,
/// so this module stays a leaf; `config` re-exports it.
pub const ENV_PREFIX: &str = "HAIL_RELAY_";

/// A start-up result.
pub type Result<T, E = StartupError> = std::result::Result<T, E>;

/// Why the relay refused to start; printed as `hail-relay: …`, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The command line is incomplete.
    #[error("{0}")]
    Usage(&'static str),
    /// `--config` names no file.
    #[error("--config {}: no such file", .0.display())]
    NoConfigFile(PathBuf),
    /// The configuration does not parse; figment's message names the key (and the file).
    #[error("{origin}{source}")]
    Config {
        /// Where the configuration came from.
        origin: ConfigOrigin,
        /// Boxed: figment's error is large, and this is no hot path.
        #[source]
        source: Box<figment::Error>,
    },
    /// A setting that parsed but is wrong.
    #[error("{setting}: {why}")]
    Setting {
        /// The key path, e.g. `vendors.memoio.base_url` or `operations."memoio/send".access`.
        setting: String,
        /// What is wrong with it.
        why: String,
    },
    /// A secret reference that cannot be read.
    #[error("{setting}: {problem}")]
    Secret {
        /// The key path of the reference, e.g. `vendors.memoio.secret_key` or `jwt.secret`.
        setting: String,
        /// Why it cannot be read.
        #[source]
        problem: SecretProblem,
    },
    /// A vendor section lacks what its credential needs (the section error names the key).
    #[error("vendors.{vendor}.{source}{}", needs.as_ref().map(|n| format!(" (needs {n})")).unwrap_or_default())]
    Section {
        /// The vendor's name.
        vendor: String,
        /// What is wrong, naming the key.
        #[source]
        source: SectionError,
        /// The keys the credential needs, if that helps.
        needs: Option<String>,
    },
    /// The store's files cannot be opened.
    #[error(
        "{setting}: cannot open store at {}: {source} (set {setting} or {})",
        path.display(),
        env_override(setting)
    )]
    Store {
        /// The setting that places the store (`data_dir`).
        setting: &'static str,
        /// The folder or file that failed.
        path: PathBuf,
        /// The system's or SQLite's reason.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The listen address cannot be bound.
    #[error("listen: cannot listen on {addr}: {}", listen_why(source))]
    Listen {
        /// The address (`listen` or `--listen`).
        addr: SocketAddr,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The sandbox's simulated vendors did not start.
    #[error("starting the simulated vendors: {0}")]
    Sandbox(#[source] io::Error),
    /// A vendor's HTTP client cannot be built (no setting at fault: the system's TLS).
    #[error("{0}")]
    Upstream(String),
    /// The serving threads failed.
    #[error("{0}")]
    Serve(String),
}

impl StartupError {
    /// A wrong `setting`.
    pub fn setting(setting: impl Into<String>, why: impl std::fmt::Display) -> Self {
        Self::Setting {
            setting: setting.into(),
            why: why.to_string(),
        }
    }
}

/// Where a configuration came from, as the start of its error message.
#[derive(Debug, Clone)]
pub enum ConfigOrigin {
    /// A file given with `--config`.
    File(PathBuf),
    /// TOML text (tests).
    Text,
    /// The sandbox's defaults with environment overrides.
    SandboxDefaults,
}

impl std::fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}: ", path.display()),
            Self::Text => Ok(()),
            Self::SandboxDefaults => f.write_str("sandbox configuration: "),
        }
    }
}

/// Why a secret reference cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretProblem {
    /// `{ env = "NAME" }` with `NAME` unset.
    #[error("environment variable {0} is not set")]
    EnvUnset(String),
    /// `{ file = "path" }` that cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// `{ value = "…" }` outside the sandbox.
    #[error(
        "inline secrets are refused outside --sandbox; use {{ env = \"NAME\" }} or {{ file = \"path\" }}"
    )]
    Inline,
}

/// The environment variable that overrides `setting` (`data_dir` → `HAIL_RELAY_DATA_DIR`).
pub fn env_override(setting: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        setting.to_ascii_uppercase().replace('.', "__")
    )
}

/// A bind failure, with what to do about the common one.
fn listen_why(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::AddrInUse {
        "address in use (another relay or program listens there: one relay per address; \
         `--listen 127.0.0.1:0` takes any free port, and the repository's README, \"Deploying \
         the relay\", shows how to restart one without downtime)"
            .to_owned()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_setting() {
        let store = StartupError::Store {
            setting: "data_dir",
            path: PathBuf::from("/x/idempotency.db"),
            source: "the database is read-only for the relay".into(),
        };
        assert_eq!(
            store.to_string(),
            "data_dir: cannot open store at /x/idempotency.db: the database is read-only for the \
             relay (set data_dir or HAIL_RELAY_DATA_DIR)"
        );
        let secret = StartupError::Secret {
            setting: "vendors.memoio.secret_key".into(),
            problem: SecretProblem::EnvUnset("K".into()),
        };
        assert_eq!(
            secret.to_string(),
            "vendors.memoio.secret_key: environment variable K is not set"
        );
        let section = StartupError::Section {
            vendor: "memoio".into(),
            source: SectionError::Missing("secret_key".into()),
            needs: Some("secret_key".into()),
        };
        assert_eq!(
            section.to_string(),
            "vendors.memoio.secret_key is missing (needs secret_key)"
        );
        let listen = StartupError::Listen {
            addr: SocketAddr::from(([127, 0, 0, 1], 1)),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert!(listen
            .to_string()
            .starts_with("listen: cannot listen on 127.0.0.1:1: address in use"));
        assert_eq!(env_override("store.redis"), "HAIL_RELAY_STORE__REDIS");
    }
}
