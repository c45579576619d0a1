//! The vendor accounts the relay holds: one [`VendorApi`] per vendor, and per credential kind
//! either a fixed credential from config or a cache of issued tokens. Looked up generically by
//! credential type: each endpoint names the credential it needs.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hail::credential::Issued;
use hail::{Endpoint, ErrorCode};

use crate::upstream::{exchange, CallFailure, VendorApi};

/// Vendor accounts and upstream clients, and the vendor calls under way: one part of the relay's
/// state (see `state`).
pub struct Vendors {
    /// Vendor APIs and credentials.
    pub accounts: Accounts,
    /// The vendor calls under way: a shutdown waits for them, so their outcome is stored.
    pub calls: tokio_util::task::TaskTracker,
}

/// Issued tokens are refreshed this long before they expire.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Why no credential could be had.
#[derive(Debug, Clone)]
pub struct CredentialFailure {
    /// The code for the caller.
    pub code: ErrorCode,
    /// For the problem's `detail` (never the credential).
    pub detail: String,
}

/// Something that issues credentials of type `C` on demand.
#[async_trait]
pub trait Issuer<C>: Send + Sync {
    /// A valid credential, refreshed when due (one refresh at a time).
    async fn get(&self, deadline: Instant) -> Result<Arc<C>, CredentialFailure>;
    /// Drops `used` if it is still the cached one (it was refused); `true` if a fresh one can
    /// be had.
    async fn invalidate(&self, used: &Arc<C>) -> bool;
}

/// Where an account's credential comes from.
pub enum Source<C> {
    /// Fixed, from config.
    Fixed(Arc<C>),
    /// Issued by a token endpoint and cached.
    Issued(Arc<dyn Issuer<C>>),
}

/// One credential kind of one vendor.
pub struct Account<C> {
    /// The vendor API it is used with.
    pub api: Arc<VendorApi>,
    /// The credential.
    pub source: Source<C>,
}

impl<C: Send + Sync + 'static> Account<C> {
    /// The credential to use now.
    pub async fn credential(&self, deadline: Instant) -> Result<Arc<C>, CredentialFailure> {
        match &self.source {
            Source::Fixed(c) => Ok(c.clone()),
            Source::Issued(issuer) => issuer.get(deadline).await,
        }
    }

    /// After the vendor refused `used`: whether a fresh credential can be tried once.
    pub async fn refresh(&self, used: &Arc<C>) -> bool {
        match &self.source {
            Source::Fixed(_) => false,
            Source::Issued(issuer) => issuer.invalidate(used).await,
        }
    }
}

/// Every configured account, by credential type; and every vendor API, by name.
#[derive(Default, Clone)]
pub struct Accounts {
    credentials: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    apis: HashMap<&'static str, Arc<VendorApi>>,
}

impl Accounts {
    /// Adds a vendor API.
    pub fn add_api(&mut self, api: Arc<VendorApi>) {
        self.apis.insert(api.name, api);
    }

    /// The API of vendor `name`.
    pub fn api(&self, name: &str) -> Option<&Arc<VendorApi>> {
        self.apis.get(name)
    }

    /// Adds (or replaces) the account of credential type `C`.
    pub fn insert<C: Send + Sync + 'static>(&mut self, account: Account<C>) {
        self.credentials
            .insert(TypeId::of::<C>(), Arc::new(account));
    }

    /// The account of credential type `C`, if configured.
    pub fn get<C: Send + Sync + 'static>(&self) -> Option<&Account<C>> {
        self.credentials.get(&TypeId::of::<C>())?.downcast_ref()
    }

    /// Whether credential type `C` is configured.
    pub fn has<C: 'static>(&self) -> bool {
        self.credentials.contains_key(&TypeId::of::<C>())
    }
}

/// A cache of tokens issued by `T::Request` for a configured client credential.
pub struct TokenCache<T: Issued> {
    api: Arc<VendorApi>,
    client: Arc<<T::Request as Endpoint>::Credential>,
    current: tokio::sync::Mutex<Option<(Arc<T>, Instant)>>,
}

impl<T: Issued> TokenCache<T> {
    /// An empty cache; the first call fetches a token.
    pub fn new(api: Arc<VendorApi>, client: Arc<<T::Request as Endpoint>::Credential>) -> Self {
        Self {
            api,
            client,
            current: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl<T: Issued> Issuer<T> for TokenCache<T> {
    async fn get(&self, deadline: Instant) -> Result<Arc<T>, CredentialFailure> {
        // Held across the refresh: concurrent callers wait for one refresh, not start their own.
        let mut current = self.current.lock().await;
        if let Some((token, expires)) = current.as_ref() {
            if Instant::now() + REFRESH_MARGIN < *expires {
                return Ok(token.clone());
            }
        }
        let failure = |code, detail: String| CredentialFailure { code, detail };
        let request = T::Request::default()
            .encode(&self.api.base, &self.client)
            .map_err(|e| failure(ErrorCode::Internal, format!("token request: {e}")))?;
        let (status, body) = exchange(&self.api, request, deadline, "token")
            .await
            .map_err(|CallFailure { code, detail, .. }| {
                failure(code, format!("token request: {detail}"))
            })?;
        let issue = T::Request::decode(status, &body).map_err(|e| {
            tracing::error!(
                vendor = self.api.name,
                status = e.status,
                "the token request was refused"
            );
            failure(
                if e.code == ErrorCode::UpstreamUnavailable {
                    e.code
                } else {
                    ErrorCode::Internal
                },
                format!(
                    "the relay could not get a {} token (HTTP {})",
                    self.api.name, e.status
                ),
            )
        })?;
        // Before any use: a vendor echoing the token must not show it to a caller.
        crate::scrub::register_issued(issue.token.secret());
        let token = Arc::new(issue.token);
        *current = Some((token.clone(), Instant::now() + issue.lifetime));
        Ok(token)
    }

    async fn invalidate(&self, used: &Arc<T>) -> bool {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|(t, _)| Arc::ptr_eq(t, used)) {
            *current = None;
        }
        true
    }
}
