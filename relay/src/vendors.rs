//! The vendor accounts the relay holds: base URL, credential and one pooled HTTP client each,
//! looked up generically by credential type (each endpoint names the credential it needs).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hail::{BaseUrl, Vendor};

/// Timeouts of upstream calls.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamTimeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// The whole exchange, headers and body.
    pub total: Duration,
}

impl Default for UpstreamTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(20),
        }
    }
}

/// One vendor as configured: where, with what credential, through which client.
pub struct Account<C> {
    /// The vendor's API base URL (from config only; never from a caller).
    pub base: BaseUrl,
    /// The company's credential.
    pub credential: C,
    /// One pooled client per vendor: no redirects, bounded time.
    pub client: reqwest::Client,
}

impl<C: Send + Sync + 'static> Account<C> {
    /// An account of vendor `V` with a fresh client.
    pub fn new<V: Vendor>(
        base: BaseUrl,
        credential: C,
        timeouts: UpstreamTimeouts,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("hail-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client for {}: {e}", V::NAME))?;
        Ok(Self {
            base,
            credential,
            client,
        })
    }
}

/// The configured accounts, keyed by credential type.
#[derive(Default, Clone)]
pub struct Accounts(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Accounts {
    /// Adds (or replaces) the account holding credential type `C`.
    pub fn insert<C: Send + Sync + 'static>(&mut self, account: Account<C>) {
        self.0.insert(TypeId::of::<C>(), Arc::new(account));
    }

    /// The account holding credential type `C`, if configured.
    pub fn get<C: Send + Sync + 'static>(&self) -> Option<&Account<C>> {
        self.0.get(&TypeId::of::<C>())?.downcast_ref()
    }
}
