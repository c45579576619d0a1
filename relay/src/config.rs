//! `relay.toml`: the relay's configuration, with `HAIL_RELAY_…` environment overrides
//! (`HAIL_RELAY_HTTP__ALLOWED_ORIGINS='["https://shop.example"]'`). Secrets are references to
//! environment variables or files, resolved once at start and held as `SecretString`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use hail::credential::Section;
use secrecy::SecretString;
use serde::Deserialize;

use crate::startup_error::{ConfigOrigin, Result, SecretProblem, StartupError};

mod replies;
pub use replies::{HookConfig, RepliesConfig};

/// The sandbox's defaults (see [`Config::sandbox_defaults`]).
const SANDBOX_DEFAULTS: &str = "
[upstream]
timeout_ms = 2000
[rate_limit]
per_minute = 6000
burst = 1000
auth_failures_per_minute = 600
auth_failures_burst = 100
";

pub use crate::startup_error::ENV_PREFIX;

/// Variables under [`ENV_PREFIX`] that are not the relay's settings, so never read as overrides
/// (an unknown key is refused, and these are set in the shells relays start from):
/// `HAIL_RELAY_URL`, where a page or a test finds the relay, and `HAIL_RELAY_BINARY`, the binary
/// the npm launcher (`npx hail-relay`) runs, which its child inherits.
const NOT_SETTINGS: &[&str] = &["url", "binary"];

/// The environment overrides.
fn env_overrides() -> Env {
    Env::prefixed(ENV_PREFIX).ignore(NOT_SETTINGS).split("__")
}

/// The configuration from `base` with environment overrides; an error starts with `origin`.
fn extract(base: Figment, origin: ConfigOrigin) -> Result<Config> {
    base.merge(env_overrides())
        .extract()
        .map_err(|e| StartupError::Config {
            origin,
            source: Box::new(e),
        })
}

/// The whole configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Inbound HTTP rules.
    #[serde(default)]
    pub http: HttpConfig,
    /// Calls to vendors.
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// Requests per caller.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// The idempotency store.
    #[serde(default)]
    pub idempotency: IdempotencyConfig,
    /// Where idempotency records live: unset or `"embedded"` (a database file under
    /// `data_dir`, one instance, survives restarts), `"memory"` (not restart-safe: tests only) or
    /// `{ redis = "redis://…" }` (shared by several instances; also the rate limit).
    #[serde(default)]
    pub store: StoreConfig,
    /// The embedded store's folder. Default: `$STATE_DIRECTORY` (set by systemd's
    /// `StateDirectory=`), else `./hail-relay-data`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// How `access = "jwt"` callers are verified.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
    /// How `access = "chayns"` callers are verified.
    #[serde(default)]
    pub chayns_callers: ChaynsCallersConfig,
    /// One section per vendor: `base_url`, settings, and secrets.
    #[serde(default)]
    pub vendors: BTreeMap<String, BTreeMap<String, Value>>,
    /// One policy per operation id; an operation not listed is disabled.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationConfig>,
    /// Replies by vendor webhooks (DESIGN.md, "Replies"): the intakes, the streams' bounds.
    #[serde(default)]
    pub replies: RepliesConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8787))
}

/// Inbound HTTP.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Origins allowed to call from a browser (exact `scheme://host[:port]`); `["*"]` allows any.
    pub allowed_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take, vendor calls included, in milliseconds.
    pub request_timeout_ms: u64,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// IPv6 clients are one caller per network of this prefix length (a host picks freely
    /// among the addresses of its /64); 128 counts every address apart.
    pub ipv6_prefix_len: u8,
    /// Longest wait for a request's headers (from the connection's first byte, or between two
    /// requests on a kept-alive connection), in milliseconds; then the connection is closed.
    pub header_read_timeout_ms: u64,
    /// Longest wait for a whole request body, in milliseconds (a slower body is refused).
    pub body_read_timeout_ms: u64,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Most connections open at once; more are closed at once (keep it well below the process's
    /// open-file limit: vendor connections and files need some).
    pub max_connections: usize,
    /// Most connections open at once from one client address (IPv6: one network, see
    /// `ipv6_prefix_len`).
    pub max_connections_per_address: usize,
    /// On SIGTERM, how long open requests may still take before their connections are closed,
    /// in milliseconds. Vendor calls already under way still complete and are stored.
    pub shutdown_grace_ms: u64,
    /// Serving threads, each accepting on a handle of the one listener, with its own vendor
    /// connections;
    /// 0: one per core.
    pub workers: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            body_limit_bytes: 64 * 1024,
            request_timeout_ms: 30_000,
            trusted_proxies: Vec::new(),
            ipv6_prefix_len: 64,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 15_000,
            max_header_bytes: 16 * 1024,
            max_connections: 768,
            max_connections_per_address: 64,
            shutdown_grace_ms: 10_000,
            workers: 0,
        }
    }
}

/// Calls to vendors.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// TCP + TLS connect timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Timeout of one vendor call, in milliseconds.
    pub timeout_ms: u64,
    /// Extra attempts where the vendor provably did not act (connection refused, 429/503 with
    /// `Retry-After`), within the request's deadline.
    pub retries: u32,
    /// Largest vendor answer read, in bytes; a longer one is cut off and the call fails as
    /// `upstream_unavailable` (the vendor may have acted: not sent again).
    pub max_response_bytes: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            timeout_ms: 20_000,
            retries: 2,
            max_response_bytes: 1 << 20,
        }
    }
}

/// Requests per caller (token subject, else client IP).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per minute per caller; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests a caller may make at once above the sustained rate.
    pub burst: u32,
    /// Failed authentications per minute per client address (a second, stricter limit; each
    /// failure also counts against the address's `per_minute`); 0 turns it off.
    pub auth_failures_per_minute: u32,
    /// Failed authentications a client address may have at once above that rate.
    pub auth_failures_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_minute: 120,
            burst: 30,
            auth_failures_per_minute: 10,
            auth_failures_burst: 5,
        }
    }
}

/// The idempotency store.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// How long a record is kept, in hours.
    pub retention_hours: u64,
    /// Most records kept (memory and embedded stores); the oldest settled ones go first.
    pub max_entries: u64,
    /// Most bytes of stored answers kept (embedded store); the oldest settled ones go first.
    pub max_bytes: u64,
    /// After an unknown outcome, how long after the latest try a vendor read-back that finds
    /// nothing counts as proof that the vendor did not act (a vendor may still finish a request
    /// it received late), in seconds. Default 60; 0 in the sandbox, whose vendors act at once.
    pub look_back_quiet_seconds: Option<u64>,
    /// How far a vendor's clock may be behind the relay's, in seconds: a record the vendor dates
    /// before the first try began, less this, is not that try's. Default 60; 0 in the sandbox,
    /// whose vendors share the relay's clock.
    pub look_back_skew_seconds: Option<u64>,
    /// The embedded store's durability against a power loss: `"normal"` (the default; the
    /// last half second of records may be lost) or `"full"` (an `fsync` per committed batch).
    pub embedded_sync: crate::store::embedded::SyncMode,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            retention_hours: 24,
            max_entries: 100_000,
            max_bytes: 256 << 20,
            look_back_quiet_seconds: None,
            look_back_skew_seconds: None,
            embedded_sync: crate::store::embedded::SyncMode::Normal,
        }
    }
}

/// Where idempotency records and rate-limit counters live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum StoreConfig {
    /// Not configured: the embedded store (memory in the sandbox).
    #[default]
    #[serde(skip)]
    Default,
    /// `"memory"` or `"embedded"`.
    Named(StoreName),
    /// `{ redis = "redis://host:6379/0", timeout_ms = 500 }`.
    Redis {
        /// The Redis URL (`redis://` or `rediss://`); credentials may be in it.
        redis: String,
        /// Timeout of one Redis command, in milliseconds.
        #[serde(default = "default_redis_timeout")]
        timeout_ms: u64,
    },
}

/// A store named by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreName {
    /// In this process only: forgotten on restart.
    Memory,
    /// A database file under `data_dir` (the default).
    Embedded,
}

fn default_redis_timeout() -> u64 {
    500
}

/// JWT verification for `access = "jwt"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// `HS256`, `RS256` or `EdDSA`.
    pub algorithm: String,
    /// HS256: the shared secret.
    #[serde(default)]
    pub secret: Option<SecretRef>,
    /// RS256 / EdDSA: the public key, PEM.
    #[serde(default)]
    pub public_key: Option<SecretRef>,
    /// Required `aud`.
    pub audience: String,
    /// Required `iss`.
    pub issuer: String,
    /// Clock skew allowed on `exp` / `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

fn default_leeway() -> u64 {
    30
}

/// Verification of chayns callers.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChaynsCallersConfig {
    /// Most verified tokens cached.
    pub cache_entries: u64,
    /// Longest a verification is cached when chayns names no expiry, in seconds.
    pub cache_seconds: u64,
    /// How long a token chayns refused is remembered as refused (no second check), in seconds.
    pub negative_cache_seconds: u64,
    /// Most token checks under way at chayns at once, from all callers together.
    pub max_concurrent_checks: u32,
    /// Most token checks sent to chayns per minute, from all callers together (0: no limit).
    pub checks_per_minute: u32,
}

impl Default for ChaynsCallersConfig {
    fn default() -> Self {
        Self {
            cache_entries: 10_000,
            cache_seconds: 300,
            negative_cache_seconds: 30,
            max_concurrent_checks: 32,
            checks_per_minute: 600,
        }
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Nobody (the default).
    #[default]
    Disabled,
    /// Anyone (rate-limited by IP).
    Public,
    /// Callers with a JWT from the company's backend.
    Jwt,
    /// Logged-in chayns users, verified online with chayns.
    Chayns,
}

impl Access {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Public => "public",
            Self::Jwt => "jwt",
            Self::Chayns => "chayns",
        }
    }
}

/// The policy of one operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OperationConfig {
    /// Who may call.
    pub access: Access,
    /// Fields fixed by the company: absent → set; different → `forbidden`.
    pub pin: BTreeMap<String, serde_json::Value>,
    /// Fields that must equal a claim of the caller (`field = "claim"`): absent → set; different
    /// → `forbidden`.
    pub bind: BTreeMap<String, String>,
}

/// A config value in a vendor section: a secret reference, or a plain setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// `{ env = "NAME" }`, `{ file = "path" }` (or, in the sandbox only, `{ value = "…" }`).
    Secret(SecretRef),
    /// A plain string.
    Text(String),
    /// A plain number.
    Number(i64),
    /// A plain boolean.
    Bool(bool),
}

/// Where a secret comes from.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file (trailing newline removed).
    File(PathBuf),
    /// Inline: refused outside the sandbox.
    Value(String),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env {name}"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Value(_) => f.write_str("inline <redacted>"),
        }
    }
}

impl SecretRef {
    /// Reads the secret. Inline values only where `allow_inline` (the sandbox).
    /// `setting` is the reference's key path, named by the error.
    pub fn resolve(&self, setting: &str, allow_inline: bool) -> Result<SecretString> {
        let secret = self
            .read(allow_inline)
            .map_err(|problem| StartupError::Secret {
                setting: setting.to_owned(),
                problem,
            })?;
        // Registered once, here: no text of a vendor's reaches a caller with it.
        crate::scrub::register(&secret);
        Ok(secret)
    }

    fn read(&self, allow_inline: bool) -> Result<SecretString, SecretProblem> {
        match self {
            Self::Env(name) => std::env::var(name)
                .map(SecretString::from)
                .map_err(|_| SecretProblem::EnvUnset(name.clone())),
            Self::File(path) => std::fs::read_to_string(path)
                .map(|s| SecretString::from(s.trim_end_matches(['\r', '\n']).to_owned()))
                .map_err(|source| SecretProblem::File {
                    path: path.clone(),
                    source,
                }),
            Self::Value(v) if allow_inline => Ok(SecretString::from(v.clone())),
            Self::Value(_) => Err(SecretProblem::Inline),
        }
    }
}

impl Config {
    /// Reads `path` with environment overrides.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(StartupError::NoConfigFile(path.to_owned()));
        }
        extract(
            Figment::from(Toml::file(path)),
            ConfigOrigin::File(path.to_owned()),
        )
    }

    /// Parses TOML text (with environment overrides), e.g. in tests.
    pub fn parse(toml: &str) -> Result<Self> {
        extract(Figment::from(Toml::string(toml)), ConfigOrigin::Text)
    }

    /// The sandbox's configuration when no file is given: short vendor timeouts (so timeout
    /// faults resolve quickly) and a generous rate limit; environment overrides apply.
    pub fn sandbox_defaults() -> Result<Self> {
        extract(
            Figment::from(Toml::string(SANDBOX_DEFAULTS)),
            ConfigOrigin::SandboxDefaults,
        )
    }

    /// The section of vendor `name` with its secrets read, and its base URL.
    pub fn vendor_section(
        &self,
        name: &str,
        allow_inline: bool,
    ) -> Result<Option<(Option<String>, Section)>> {
        let Some(raw) = self.vendors.get(name) else {
            return Ok(None);
        };
        let mut section = Section::new();
        let mut base_url = None;
        for (key, value) in raw {
            match value {
                Value::Secret(secret) => {
                    section.set_secret(
                        key.clone(),
                        secret.resolve(&format!("vendors.{name}.{key}"), allow_inline)?,
                    );
                }
                Value::Text(t) if key == "base_url" => base_url = Some(t.clone()),
                Value::Text(t) => {
                    section.set(key.clone(), t.clone());
                }
                Value::Number(n) => {
                    section.set(key.clone(), n.to_string());
                }
                Value::Bool(b) => {
                    section.set(key.clone(), b.to_string());
                }
            }
        }
        Ok(Some((base_url, section)))
    }

    /// The embedded store's folder (see [`Config::data_dir`]).
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        // systemd passes a colon-separated list when several state directories are set.
        std::env::var_os("STATE_DIRECTORY")
            .and_then(|v| {
                v.to_str()
                    .and_then(|s| s.split(':').next())
                    .map(PathBuf::from)
            })
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("hail-relay-data"))
    }

    /// Durations, from the millisecond settings.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.http.request_timeout_ms.max(1))
    }
}
