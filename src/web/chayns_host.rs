//! Where the chayns user client gets the user's token, the user and the site: asked anew at every
//! send, since the host rotates the token and the visitor may log in or out while the page lives.
//! Every host call runs under the send's deadline and signal: a host that never answers must not
//! hang the send.

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::call::{provided_token, token_text};
use super::error::HailError;
use super::js::get;
use super::transport::within;
use crate::error::ErrorCode;
use crate::validate::ID_MAX;

/// The source of a chayns session.
pub(crate) enum Host {
    /// `createChaynsUserClient`: a token (a string, or a function returning one) and fixed ids.
    Fixed {
        token: JsValue,
        user_id: u64,
        location_id: u64,
    },
    /// `fromChaynsApi`: an object with chayns-api's `getAccessToken`, `getUser`, `getSite` and
    /// optionally `refreshAccessToken`.
    Api(JsValue),
    /// `fromChaynsEnv`: the legacy global `chayns` (`chayns.env.user`, `chayns.env.site`).
    Env(JsValue),
}

/// The sender and the site of a send.
pub(crate) struct Who {
    pub user_id: u64,
    pub location_id: u64,
}

/// A chayns id: a whole number from 1 to 2^53−1.
pub(crate) fn chayns_id(value: &JsValue) -> Option<u64> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= ID_MAX as f64)
        .map(|n| n as u64)
}

fn not_logged_in(why: &str) -> HailError {
    HailError::new(
        ErrorCode::Unauthenticated,
        format!(
            "nobody is logged in to chayns ({why}); nothing was sent: ask the visitor to log in \
             (chayns-api: login())"
        ),
    )
}

/// Calls `api[name]()` and awaits its answer under the deadline and the signal.
async fn ask(
    api: &JsValue,
    name: &str,
    signal: Option<&AbortSignal>,
    timeout_ms: u32,
) -> Result<JsValue, HailError> {
    let failed = |why: &str| {
        HailError::new(
            ErrorCode::Unauthenticated,
            format!("chayns-api's {name}() {why}"),
        )
    };
    let f = get(api, name);
    let f = f
        .dyn_ref::<js_sys::Function>()
        .ok_or_else(|| failed("is not a function"))?;
    let value = f.call0(api).map_err(|e| failed("threw").cause(e))?;
    within(
        &value,
        signal,
        timeout_ms,
        &format!("chayns-api's {name}()"),
    )
    .await?
    .map_err(|e| failed("was rejected").cause(e))
}

impl Host {
    /// The sender and the site, or `unauthenticated` when nobody is logged in.
    pub(crate) async fn who(
        &self,
        signal: Option<&AbortSignal>,
        timeout_ms: u32,
    ) -> Result<Who, HailError> {
        let (user, site) = match self {
            Host::Fixed {
                user_id,
                location_id,
                ..
            } => {
                return Ok(Who {
                    user_id: *user_id,
                    location_id: *location_id,
                })
            }
            Host::Api(api) => {
                let user = ask(api, "getUser", signal, timeout_ms).await?;
                let site = ask(api, "getSite", signal, timeout_ms).await?;
                let user_id = chayns_id(&get(&user, "userId"))
                    .ok_or_else(|| not_logged_in("getUser() has no userId"))?;
                (user_id, get(&site, "locationId"))
            }
            Host::Env(chayns) => {
                let env = get(chayns, "env");
                let user_id = chayns_id(&get(&get(&env, "user"), "id"))
                    .ok_or_else(|| not_logged_in("chayns.env.user has no id"))?;
                (user_id, get(&get(&env, "site"), "locationId"))
            }
        };
        let location_id = chayns_id(&site).ok_or_else(|| {
            HailError::new(
                ErrorCode::InvalidRequest,
                "the chayns site has no locationId (getSite().locationId)",
            )
        })?;
        Ok(Who {
            user_id: user,
            location_id,
        })
    }

    /// The user's current token, or `unauthenticated` when there is none.
    pub(crate) async fn token(
        &self,
        signal: Option<&AbortSignal>,
        timeout_ms: u32,
    ) -> Result<String, HailError> {
        let value = match self {
            Host::Fixed { token, .. } => {
                return provided_token(token, "accessToken", signal, timeout_ms).await
            }
            Host::Api(api) => get(
                &ask(api, "getAccessToken", signal, timeout_ms).await?,
                "accessToken",
            ),
            Host::Env(chayns) => get(&get(&get(chayns, "env"), "user"), "tobitAccessToken"),
        };
        if value.as_string().is_none_or(|t| t.is_empty()) {
            return Err(not_logged_in("there is no access token"));
        }
        token_text(value).map_err(|why| {
            HailError::new(
                ErrorCode::Unauthenticated,
                format!("the chayns access token {why}"),
            )
        })
    }

    /// Whether asking again may give another token (after chayns refused one).
    pub(crate) fn renews(&self) -> bool {
        match self {
            Host::Fixed { token, .. } => token.is_function(),
            Host::Api(_) | Host::Env(_) => true,
        }
    }

    /// Asks the host for a new token where it can (`refreshAccessToken()`); whether it did.
    pub(crate) async fn refresh(
        &self,
        signal: Option<&AbortSignal>,
        timeout_ms: u32,
    ) -> Result<bool, HailError> {
        match self {
            Host::Api(api) if get(api, "refreshAccessToken").is_function() => {
                ask(api, "refreshAccessToken", signal, timeout_ms).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
