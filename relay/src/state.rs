//! The relay's state, built from the configuration: vendor accounts, per-operation policies,
//! caller verification, rate limits, the idempotency store and, in sandbox mode, the simulated
//! vendors.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use hail::catalog::{visit_all, visit_credentials, CredentialVisitor, Visitor};
use hail::credential::{Credential, Issued, Section};
use hail::{BaseUrl, Endpoint, Operation, Vendor};

use crate::accounts::{Account, Accounts, Source, TokenCache, Vendors};
use crate::caller::{ChaynsVerifier, JwtVerifier};
use crate::config::{Access, Config, StoreConfig, StoreName};
use crate::gate::Gate;
use crate::limits::{AuthFailures, Limits};
use crate::policy::Policy;
use crate::rate_limit::Limiter;
use crate::replies::log::{self, ReplyLog};
use crate::replies::{Hook, Replies};
use crate::sandbox::Sandbox;
use crate::serving::ServerLimits;
use crate::startup_error::StartupError;
use crate::store::embedded::Limits as StoreBounds;
use crate::store::{EmbeddedStore, MemoryStore, Records, RedisStore, Store};
use crate::upstream::VendorApi;
use tokio_util::task::TaskTracker;
use utoipa::openapi::{RefOr, Schema};

/// Everything a request handler needs, in parts with one job each, handed separately to what
/// needs them: the vendors (accounts, upstream clients, calls under way), the gate (policies and
/// caller verification), the idempotency records, the limits; and in sandbox mode the simulated
/// vendors.
pub struct AppState {
    /// Vendor accounts and upstream clients.
    pub vendors: Vendors,
    /// Policies and caller verification.
    pub gate: Gate,
    /// The idempotency store.
    pub records: Records,
    /// Rates, failures, sizes and times.
    pub limits: Limits,
    /// Reply streams: intakes, the log, open streams.
    pub replies: Arc<Replies>,
    /// Sandbox only: the simulated vendors.
    pub sandbox: Option<Arc<Sandbox>>,
}

/// Builds the state. In sandbox mode, every vendor points at its simulation and every
/// operation is public unless the config says otherwise.
pub fn build(config: &Config, sandbox: Option<Sandbox>) -> Result<AppState, StartupError> {
    let allow_inline = sandbox.is_some();
    let mut sections: BTreeMap<&'static str, (BaseUrl, Section)> = BTreeMap::new();
    let sandbox_sections = sandbox.as_ref().map(Sandbox::sections).unwrap_or_default();
    for (name, default_base) in hail::catalog::vendors() {
        let configured = config.vendor_section(name, allow_inline)?;
        let (base, section) = match (configured, sandbox_sections.get(name)) {
            // In the sandbox a config file may still change a vendor's URL or credentials.
            (Some((base, configured)), Some((root, sandbox))) => {
                let mut section = sandbox.clone();
                section.overlay(configured);
                (base.unwrap_or_else(|| root.clone()), section)
            }
            (None, Some((root, section))) => (root.clone(), section.clone()),
            (Some((base, section)), None) => {
                (base.unwrap_or_else(|| default_base.to_owned()), section)
            }
            (None, None) => continue,
        };
        let base = BaseUrl::parse(&base)
            .map_err(|e| StartupError::setting(format!("vendors.{name}.base_url"), e))?;
        sections.insert(name, (base, section));
    }
    for name in config.vendors.keys() {
        if !hail::catalog::vendors().iter().any(|(n, _)| n == name) {
            return Err(StartupError::setting(
                format!("vendors.{name}"),
                "no such vendor",
            ));
        }
    }

    let mut accounts = Accounts::default();
    let up = config.upstream;
    for (name, (base, _)) in &sections {
        let api = VendorApi::new(
            name,
            base.clone(),
            Duration::from_millis(up.connect_timeout_ms.max(1)),
            Duration::from_millis(up.timeout_ms.max(1)),
            up.retries,
            up.max_response_bytes.max(1024),
            crate::serving::workers(config.http.workers),
        )
        .map_err(StartupError::Upstream)?;
        accounts.add_api(Arc::new(api));
    }
    let mut creds = Creds {
        sections: &sections,
        accounts: &mut accounts,
        error: None,
    };
    visit_credentials(&mut creds);
    if let Some(e) = creds.error {
        return Err(e);
    }

    let mut policies = Policies {
        config,
        sandbox: sandbox.is_some(),
        accounts: &accounts,
        out: HashMap::new(),
        error: None,
    };
    visit_all(&mut policies);
    if let Some(e) = policies.error {
        return Err(e);
    }
    let policies = policies.out;
    for id in config.operations.keys() {
        if !policies.contains_key(id.as_str()) {
            return Err(StartupError::setting(
                format!("operations.\"{id}\""),
                "no such operation",
            ));
        }
    }

    let needs = |a: Access| policies.values().any(|p| p.access == a);
    let jwt = match &config.jwt {
        Some(j) => Some(JwtVerifier::new(j, allow_inline)?),
        None if needs(Access::Jwt) => {
            return Err(StartupError::setting(
                "jwt",
                "an operation has access = \"jwt\" but there is no [jwt] section",
            ))
        }
        None => None,
    };
    let chayns = match (
        accounts.api(hail::vendors::chayns::Chayns::NAME),
        sections.get("chayns"),
    ) {
        (Some(api), Some((_, section))) if section.has_any(&["location_id"]) => {
            Some(ChaynsVerifier::new(
                api.clone(),
                section
                    .id("location_id")
                    .map_err(|source| StartupError::Section {
                        vendor: "chayns".into(),
                        source,
                        needs: None,
                    })?,
                config.chayns_callers,
            ))
        }
        _ if needs(Access::Chayns) => {
            return Err(StartupError::setting(
                "vendors.chayns.location_id",
                "an operation has access = \"chayns\" but [vendors.chayns] has no location_id",
            ))
        }
        _ => None,
    };
    let mut allowed_origins = config.http.allowed_origins.clone();
    if sandbox.is_some() && allowed_origins.is_empty() {
        allowed_origins.push("*".to_owned());
    }
    let (store, limiter, redis) = store(config, sandbox.is_some())?;
    let replies = Arc::new(replies(config, sandbox.as_ref(), redis)?);
    Ok(AppState {
        replies,
        vendors: Vendors {
            accounts,
            calls: TaskTracker::new(),
        },
        gate: Gate {
            policies,
            jwt,
            chayns,
            allowed_origins,
            trusted_proxies: config.http.trusted_proxies.clone(),
            ipv6_prefix_len: config.http.ipv6_prefix_len.min(128),
        },
        records: Records {
            store,
            look_back_quiet: look_back(
                config.idempotency.look_back_quiet_seconds,
                sandbox.is_some(),
            ),
            look_back_skew: look_back(config.idempotency.look_back_skew_seconds, sandbox.is_some()),
        },
        limits: Limits {
            limiter,
            auth_failures: AuthFailures::new(config.rate_limit),
            request_timeout: config.request_timeout(),
            body_limit: config.http.body_limit_bytes,
            body_read_timeout: Duration::from_millis(config.http.body_read_timeout_ms.max(1)),
            max_header_bytes: config.http.max_header_bytes.max(1024),
            server: ServerLimits::from_config(&config.http),
        },
        sandbox: sandbox.map(Arc::new),
    })
}

/// A read-back allowance in seconds as configured; by default 60, none in the sandbox (whose
/// vendors share the relay's clock and answer at once).
fn look_back(configured: Option<u64>, sandbox: bool) -> Duration {
    Duration::from_secs(configured.unwrap_or(if sandbox { 0 } else { 60 }))
}

/// The idempotency store, the rate limiter, and the Redis store when it is one.
type Stores = (Arc<dyn Store>, Limiter, Option<Arc<RedisStore>>);

/// The reply streams' part: intakes from the config (in the sandbox, fresh random secrets for
/// the simulated vendors, which deliver to this relay), and the log beside the store.
fn replies(
    config: &Config,
    sandbox: Option<&Sandbox>,
    redis: Option<Arc<RedisStore>>,
) -> Result<Replies, StartupError> {
    let settings = &config.replies;
    let allow_inline = sandbox.is_some();
    let mut hooks = std::collections::HashMap::new();
    for &vendor in hail::inbound::VENDORS {
        let configured = match vendor {
            "livedesk" => settings.livedesk.as_ref(),
            "mluvii" => settings.mluvii.as_ref(),
            _ => None,
        };
        let hook = match (configured, sandbox) {
            (Some(c), _) => Hook::read(c, &format!("replies.{vendor}"), allow_inline)?,
            // LiveDesk's simulation signs, mluvii's uses HTTP Basic, as each vendor can.
            (None, Some(_)) => Hook::random(vendor == "livedesk", vendor == "mluvii"),
            (None, None) => continue,
        };
        hooks.insert(vendor, hook);
    }
    let bounds = log::Bounds {
        retention_ms: settings.retention_hours.max(1) * 3_600_000,
        max_events_per_stream: settings.max_events_per_stream.max(1),
    };
    let reply_log: Arc<dyn ReplyLog> = match (&redis, &config.store) {
        (Some(redis), _) => Arc::new(log::redis::RedisLog::new(redis.clone(), bounds)),
        (None, StoreConfig::Named(StoreName::Memory)) => {
            Arc::new(log::memory::MemoryLog::new(bounds))
        }
        (None, StoreConfig::Default) if sandbox.is_some() => {
            Arc::new(log::memory::MemoryLog::new(bounds))
        }
        (None, _) => Arc::new(log::embedded::EmbeddedLog::open(
            &config.data_dir(),
            bounds,
        )?),
    };
    let mut replies = Replies::new(settings, hooks, reply_log);
    replies.announcements = redis.map(|r| r.client().clone());
    Ok(replies)
}

/// The idempotency store, the rate limiter the configuration asks for, and the Redis store when
/// it is one (the reply log shares it).
fn store(config: &Config, sandbox: bool) -> Result<Stores, StartupError> {
    let idem = config.idempotency;
    let retention = Duration::from_secs(idem.retention_hours.max(1) * 3600);
    let memory = || -> Stores {
        (
            Arc::new(MemoryStore::new(idem.max_entries, retention)),
            Limiter::new(config.rate_limit),
            None,
        )
    };
    Ok(match &config.store {
        StoreConfig::Redis { redis, timeout_ms } => {
            let shared = Arc::new(RedisStore::new(
                redis,
                Duration::from_millis((*timeout_ms).max(1)),
                retention,
            )?);
            (
                shared.clone(),
                Limiter::redis(config.rate_limit, shared.clone()),
                Some(shared),
            )
        }
        // The sandbox simulates its vendors in memory too: nothing to keep across restarts.
        StoreConfig::Default if sandbox => memory(),
        StoreConfig::Named(StoreName::Memory) => {
            if !sandbox {
                tracing::warn!(
                    "store = \"memory\": idempotency records are lost on restart, so a retry after a restart may send a message twice; use the default embedded store in production"
                );
            }
            memory()
        }
        StoreConfig::Default | StoreConfig::Named(StoreName::Embedded) => {
            let dir = config.data_dir();
            let store = EmbeddedStore::open(
                &dir,
                StoreBounds {
                    retention,
                    max_entries: idem.max_entries,
                    max_bytes: idem.max_bytes,
                },
                idem.embedded_sync,
            )?;
            tracing::info!(path = %store.path().display(), "idempotency records in the embedded store");
            // Rate-limit state stays in memory: losing it on restart only forgives a burst.
            (Arc::new(store), Limiter::new(config.rate_limit), None)
        }
    })
}

struct Creds<'a> {
    sections: &'a BTreeMap<&'static str, (BaseUrl, Section)>,
    accounts: &'a mut Accounts,
    error: Option<StartupError>,
}

impl CredentialVisitor for Creds<'_> {
    fn configured<C: Credential>(&mut self) {
        let name = <C::Vendor as Vendor>::NAME;
        let (Some((_, section)), Some(api)) =
            (self.sections.get(name), self.accounts.api(name).cloned())
        else {
            return;
        };
        if !section.has_any(C::KEYS) {
            return;
        }
        match C::from_section(section) {
            Ok(c) => self.accounts.insert(Account {
                api,
                source: Source::Fixed(Arc::new(c)),
            }),
            Err(source) => {
                self.error = Some(StartupError::Section {
                    vendor: name.to_owned(),
                    source,
                    needs: Some(C::KEYS.join(", ")),
                })
            }
        }
    }

    fn issued<T: Issued>(&mut self)
    where
        <T::Request as Endpoint>::Credential: Credential,
    {
        let Some(client) = self.accounts.get::<<T::Request as Endpoint>::Credential>() else {
            return;
        };
        let crate::accounts::Source::Fixed(client_credential) = &client.source else {
            return;
        };
        let api = client.api.clone();
        let cache = TokenCache::<T>::new(api.clone(), client_credential.clone());
        self.accounts.insert(Account::<T> {
            api,
            source: Source::Issued(Arc::new(cache)),
        });
    }
}

struct Policies<'a> {
    config: &'a Config,
    sandbox: bool,
    accounts: &'a Accounts,
    out: HashMap<&'static str, Policy>,
    error: Option<StartupError>,
}

impl Visitor for Policies<'_> {
    fn visit<Op: Operation>(&mut self) {
        let policy = match self.config.operations.get(Op::ID) {
            Some(c) => Policy::from(c),
            None if self.sandbox => Policy {
                access: Access::Public,
                ..Policy::default()
            },
            None => Policy::default(),
        };
        let id = Op::ID;
        if policy.access != Access::Disabled && !self.accounts.has::<Op::Credential>() {
            self.error = Some(StartupError::setting(
                format!("operations.\"{id}\".access"),
                format_args!(
                    "enabled but [vendors.{}] has no credentials for it",
                    <Op::Vendor as Vendor>::NAME
                ),
            ));
        }
        // None only for a schema that is no plain object (the test below keeps it from
        // happening): then every pin is refused, loudly.
        let fields = request_fields::<Op>().unwrap_or_default();
        let pins = policy.pin.keys().map(|f| ("pin", f));
        for (rule, field) in pins.chain(policy.bind.keys().map(|f| ("bind", f))) {
            if !fields.contains(field) {
                self.error = Some(StartupError::setting(
                    format!("operations.\"{id}\".{rule}.{field}"),
                    "not a field of this operation",
                ));
            }
        }
        self.out.insert(id, policy);
    }
}

/// The JSON names of `Op`'s request fields, from its schema: derived from the same serde
/// attributes its reader follows (fields the reader never takes, like the caller's token, are
/// skipped by both).
fn request_fields<Op: Operation>() -> Option<Vec<String>> {
    match <Op as utoipa::PartialSchema>::schema() {
        RefOr::T(Schema::Object(object)) => Some(object.properties.into_keys().collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_names_its_request_fields() {
        struct Check(usize);
        impl Visitor for Check {
            fn visit<Op: Operation>(&mut self) {
                // An operation whose schema is no plain object would refuse every pin.
                let fields = request_fields::<Op>().unwrap_or_else(|| panic!("{}", Op::ID));
                let has = |name: &str| fields.iter().any(|f| f == name);
                match Op::ID {
                    "memoio/start-conversation" => assert!(has("receiverName"), "{fields:?}"),
                    // The caller's token is set by the relay, never a field.
                    "chayns/intercom" => {
                        assert!(has("asCaller") && !has("callerToken"), "{fields:?}")
                    }
                    _ => {}
                }
                self.0 += 1;
            }
        }
        let mut check = Check(0);
        visit_all(&mut check);
        assert!(check.0 >= 10);
    }
}
