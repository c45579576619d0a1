//! Who is calling: authentication per access mode (public, JWT, chayns) and the caller's key for
//! rate limits and idempotency scopes.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hail::vendors::chayns::access_token::{AccessTokenInfo, VerifyAccessToken};
use hail::vendors::chayns::UserToken;
use hail::{Endpoint, ErrorCode};
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{Access, ChaynsCallersConfig, JwtConfig};
use crate::startup_error::StartupError;
use crate::upstream::{exchange, VendorApi};

mod error;

pub use error::{AuthError, AuthErrorKind};

/// A caller that passed its operation's access check.
pub struct Caller {
    /// Rate-limit and idempotency scope: `jwt:<sub>`, `chayns:<userId>` or `ip:<addr>`.
    pub key: String,
    /// Claims `bind` may refer to.
    pub claims: Map<String, Value>,
    /// The verified chayns token (for operations that act as the caller).
    pub chayns_token: Option<SecretString>,
}

/// The client, as one caller for rate limits: the peer, or the first untrusted address of
/// `X-Forwarded-For` when the peer is a trusted proxy; grouped by [`caller_address`].
pub fn client_ip(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted: &[IpAddr],
    ipv6_prefix_len: u8,
) -> IpAddr {
    caller_address(forwarded_client(peer, headers, trusted), ipv6_prefix_len)
}

fn forwarded_client(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    let mut ip = peer.ip().to_canonical();
    if !is_trusted(ip) {
        return ip;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match parse_hop(hop) {
            Some(addr) if is_trusted(addr) => ip = addr,
            Some(addr) => return addr,
            None => return ip,
        }
    }
    ip
}

/// One `X-Forwarded-For` entry: `a.b.c.d`, `a.b.c.d:port`, `v6`, `[v6]` or `[v6]:port`
/// (proxies write all of these), as a canonical address.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse::<IpAddr>().ok())
        })?;
    Some(ip.to_canonical())
}

/// The address that stands for one caller: IPv4-mapped IPv6 as IPv4 (one host, one caller
/// whichever way it connects), and IPv6 as its network of `ipv6_prefix_len` bits (a host
/// chooses freely among the addresses of its /64).
pub fn caller_address(ip: IpAddr, ipv6_prefix_len: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u32::from(ipv6_prefix_len.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthErrorKind::NoBearer)?;
    let value = value
        .to_str()
        .map_err(|_| AuthErrorKind::AuthorizationNotText)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AuthErrorKind::NotBearer.into()),
    }
}

/// Verifies company-issued JWTs.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl JwtVerifier {
    /// From config; secrets already readable.
    pub fn new(config: &JwtConfig, allow_inline: bool) -> Result<Self, StartupError> {
        let (algorithm, key) = match config.algorithm.as_str() {
            "HS256" => {
                let secret = config
                    .secret
                    .as_ref()
                    .ok_or_else(|| StartupError::setting("jwt.secret", "required for HS256"))?;
                let secret = secret.resolve("jwt.secret", allow_inline)?;
                if secret.expose_secret().len() < 32 {
                    return Err(StartupError::setting(
                        "jwt.secret",
                        "must be at least 32 bytes",
                    ));
                }
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                )
            }
            "RS256" | "EdDSA" => {
                let pem = config
                    .public_key
                    .as_ref()
                    .ok_or_else(|| {
                        StartupError::setting("jwt.public_key", "required for RS256 and EdDSA")
                    })?
                    .resolve("jwt.public_key", true)?;
                let pem = pem.expose_secret().as_bytes();
                if config.algorithm == "RS256" {
                    (
                        Algorithm::RS256,
                        DecodingKey::from_rsa_pem(pem)
                            .map_err(|e| StartupError::setting("jwt.public_key", e))?,
                    )
                } else {
                    (
                        Algorithm::EdDSA,
                        DecodingKey::from_ed_pem(pem)
                            .map_err(|e| StartupError::setting("jwt.public_key", e))?,
                    )
                }
            }
            other => {
                return Err(StartupError::setting(
                    "jwt.algorithm",
                    format_args!("{other:?}: use HS256, RS256 or EdDSA"),
                ))
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[&config.audience]);
        validation.set_issuer(&[&config.issuer]);
        validation.leeway = config.leeway_seconds;
        // A token minted for later is not valid yet (jsonwebtoken skips `nbf` by default).
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        Ok(Self { key, validation })
    }

    /// The token's claims, if it is valid.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map_err(|e| AuthErrorKind::InvalidJwt {
            reason: jwt_reason(&e),
        })?;
        Ok(data.claims)
    }
}

fn jwt_reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "expired",
        K::InvalidAudience => "wrong audience",
        K::InvalidIssuer => "wrong issuer",
        K::InvalidSignature => "bad signature",
        K::ImmatureSignature => "not yet valid",
        K::MissingRequiredClaim(_) => "a required claim is missing",
        K::InvalidAlgorithm => "wrong algorithm",
        _ => "malformed",
    }
}

struct Verified {
    claims: Map<String, Value>,
    user_id: u64,
    until: Instant,
}

/// chayns' answer about one token: valid until, or refused (remembered briefly).
type Verdict = Result<Verified, AuthError>;

/// How long a verdict is cached: a valid token until it (or the cache's maximum) expires, a
/// refused one for the negative cache time.
struct VerdictExpiry {
    negative: Duration,
}

impl moka::Expiry<[u8; 32], Arc<Verdict>> for VerdictExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        verdict: &Arc<Verdict>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(match verdict.as_ref() {
            Ok(v) => v.until.saturating_duration_since(Instant::now()),
            Err(_) => self.negative,
        })
    }
}

/// Verifies chayns users' tokens online, caching each answer (valid until it expires, refused
/// briefly; bounded), with one check at a time per token: a flood of one bogus token costs
/// chayns one call, not one per request.
///
/// Checks sent to chayns are capped for all callers together (at once and per minute): the
/// per-address failure limit bounds one address, this bounds many (a botnet, or addresses
/// rotated behind a trusted proxy). Over the cap a token is not checked (`rate_limited`, not
/// cached), and a token already checked is still served from the cache.
pub struct ChaynsVerifier {
    api: Arc<VendorApi>,
    location_id: u64,
    max_age: Duration,
    cache: moka::future::Cache<[u8; 32], Arc<Verdict>>,
    checks: tokio::sync::Semaphore,
    checks_per_minute: Option<DefaultDirectRateLimiter>,
}

impl ChaynsVerifier {
    /// A verifier for site `location_id` through `api`.
    pub fn new(api: Arc<VendorApi>, location_id: u64, config: ChaynsCallersConfig) -> Self {
        Self {
            api,
            location_id,
            max_age: Duration::from_secs(config.cache_seconds.max(1)),
            cache: moka::future::Cache::builder()
                .max_capacity(config.cache_entries.max(1))
                .expire_after(VerdictExpiry {
                    negative: Duration::from_secs(config.negative_cache_seconds),
                })
                .build(),
            checks: tokio::sync::Semaphore::new(config.max_concurrent_checks.max(1) as usize),
            checks_per_minute: NonZeroU32::new(config.checks_per_minute)
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
        }
    }

    /// Whether chayns' verdict on `token` is cached (checking it again costs no call).
    pub fn is_cached(&self, token: &str) -> bool {
        self.cache.contains_key(&token_key(token))
    }

    /// The verified user of `token`.
    async fn verify(&self, token: &str, deadline: Instant) -> Result<Arc<Verdict>, AuthError> {
        let key = token_key(token);
        // Concurrent checks of one token wait for the first; a failure to check (chayns
        // unreachable) is shared with them but not cached.
        let verdict = self
            .cache
            .try_get_with(key, self.check(token, deadline))
            .await
            .map_err(|e| e.as_ref().clone())?;
        match verdict.as_ref() {
            Ok(v) if Instant::now() >= v.until => {
                self.cache.invalidate(&key).await;
                Err(AuthErrorKind::Expired.into())
            }
            _ => Ok(verdict),
        }
    }

    /// Asks chayns about `token`: `Ok` with a verdict to cache, `Err` if chayns could not say.
    async fn check(&self, token: &str, deadline: Instant) -> Result<Arc<Verdict>, AuthError> {
        let refused = |kind: AuthErrorKind| Ok(Arc::new(Err(kind.into())));
        // The global cap: a permit for the whole call, then one of the minute's checks.
        let Ok(_permit) = self.checks.try_acquire() else {
            return Err(AuthErrorKind::ChecksBusy {
                wait: Duration::from_secs(1),
            }
            .into());
        };
        if let Some(limiter) = &self.checks_per_minute {
            limiter
                .check()
                .map_err(|not_until| AuthErrorKind::ChecksBusy {
                    wait: not_until.wait_time_from(DefaultClock::default().now()),
                })?;
        }
        let check = VerifyAccessToken {
            location_id: self.location_id,
        };
        let token = UserToken(SecretString::from(token.to_owned()));
        let request = check
            .encode(&self.api.base, &token)
            .map_err(|_| AuthErrorKind::NotAHeaderValue)?;
        let (status, body) = exchange(&self.api, request, deadline, "chayns token check")
            .await
            .map_err(|f| AuthErrorKind::ChaynsUnreachable {
                code: f.code,
                detail: f.detail,
            })?;
        let info: AccessTokenInfo = match VerifyAccessToken::decode(status, &body) {
            Ok(info) => info,
            Err(e) if e.code == ErrorCode::Unauthenticated => {
                return refused(AuthErrorKind::ChaynsRefused)
            }
            Err(e) => {
                return Err(AuthErrorKind::ChaynsFailed {
                    code: e.code,
                    status: e.status,
                }
                .into())
            }
        };
        if info.location_id.is_some_and(|l| l != self.location_id) {
            return refused(AuthErrorKind::OtherSite);
        }
        let Some(user_id) = info.user_id else {
            return refused(AuthErrorKind::NoUser);
        };
        let expires = info
            .expires
            .as_deref()
            .and_then(hail::validate::rfc3339_unix_seconds)
            .and_then(|t| u64::try_from(t).ok())
            .map(|t| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                Duration::from_secs(t.saturating_sub(now))
            });
        if expires.is_some_and(|d| d.is_zero()) {
            return refused(AuthErrorKind::Expired);
        }
        let until = Instant::now() + expires.map_or(self.max_age, |d| d.min(self.max_age));
        let claims = match serde_json::to_value(&info) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Ok(Arc::new(Ok(Verified {
            claims,
            user_id,
            until,
        })))
    }
}

/// The cache key of `token`: a hash, so that the cache holds no usable token.
fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Checks the caller against `access`.
pub async fn authenticate(
    access: Access,
    headers: &HeaderMap,
    ip: IpAddr,
    jwt: Option<&JwtVerifier>,
    chayns: Option<&ChaynsVerifier>,
    deadline: Instant,
) -> Result<Caller, AuthError> {
    match access {
        Access::Disabled => Err(AuthErrorKind::Disabled.into()),
        Access::Public => Ok(Caller {
            key: format!("ip:{ip}"),
            claims: Map::new(),
            chayns_token: None,
        }),
        Access::Jwt => {
            let verifier = jwt.ok_or(AuthErrorKind::JwtNotConfigured)?;
            let claims = verifier.verify(bearer(headers)?)?;
            let sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Ok(Caller {
                key: format!("jwt:{sub}"),
                claims,
                chayns_token: None,
            })
        }
        Access::Chayns => {
            let verifier = chayns.ok_or(AuthErrorKind::ChaynsNotConfigured)?;
            let token = bearer(headers)?;
            let verdict = verifier.verify(token, deadline).await?;
            let verified = verdict.as_ref().as_ref().map_err(Clone::clone)?;
            Ok(Caller {
                key: format!("chayns:{}", verified.user_id),
                claims: verified.claims.clone(),
                chayns_token: Some(SecretString::from(token.to_owned())),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(proxy, 5000);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().unwrap());
        assert_eq!(
            client_ip(peer, &h, &[proxy], 64),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &h, &[], 64), proxy);
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(peer, &h, &[proxy], 64), proxy);
    }

    #[test]
    fn one_host_is_one_caller() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let peer = |s: &str| SocketAddr::new(ip(s), 5000);
        let h = HeaderMap::new();
        assert_eq!(
            client_ip(peer("::ffff:203.0.113.7"), &h, &[], 64),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(peer("2001:db8:1:2:aaaa::1"), &h, &[], 64),
            client_ip(peer("2001:db8:1:2:bbbb::2"), &h, &[], 64)
        );
        assert_ne!(
            client_ip(peer("2001:db8:1:2::1"), &h, &[], 64),
            client_ip(peer("2001:db8:1:3::1"), &h, &[], 64)
        );
        assert_ne!(
            client_ip(peer("2001:db8:1:2::1"), &h, &[], 128),
            client_ip(peer("2001:db8:1:2::2"), &h, &[], 128)
        );
        let proxy = ip("10.0.0.1");
        for (hop, client) in [
            ("203.0.113.7:4711", "203.0.113.7"),
            ("[2001:db8::7]:4711", "2001:db8::"),
            ("[2001:db8::7]", "2001:db8::"),
            ("\"::ffff:203.0.113.9\"", "203.0.113.9"),
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", hop.parse().unwrap());
            assert_eq!(
                client_ip(peer("::ffff:10.0.0.1"), &h, &[proxy], 64),
                ip(client),
                "{hop}"
            );
        }
    }
}
