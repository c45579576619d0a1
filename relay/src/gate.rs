//! Who may call what: each operation's policy, the verifiers of JWT and chayns callers, the
//! browser origins allowed, and how a client's address is read (behind which proxies). One part
//! of the relay's state (see `state`), handed to what admits a request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::caller::{ChaynsVerifier, JwtVerifier};
use crate::policy::Policy;

/// Policies and caller verification.
pub struct Gate {
    /// Policy per operation id (every catalog operation has one).
    pub policies: HashMap<&'static str, Policy>,
    /// Verifies `access = "jwt"` callers.
    pub jwt: Option<JwtVerifier>,
    /// Verifies `access = "chayns"` callers.
    pub chayns: Option<ChaynsVerifier>,
    /// Origins allowed from browsers (`*` = any).
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// IPv6 clients are grouped by networks of this many bits.
    pub ipv6_prefix_len: u8,
}

impl Gate {
    /// The policy of operation `id`.
    pub fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.get(id)
    }

    /// Whether browsers from `origin` may call.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }

    /// The client's address as one caller for limits: see [`crate::caller::client_ip`].
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        crate::caller::client_ip(peer, headers, &self.trusted_proxies, self.ipv6_prefix_len)
    }
}
