//! The chayns user client: messages as the logged-in chayns user, sent straight from the
//! browser to the chayns user API with the user's own `tobitAccessToken` (no relay, no company
//! secret). Encoded and decoded by the same definitions as everything else
//! (`vendors::chayns::message_to_*`).

use std::rc::Rc;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use super::call::positive_ms;
use super::error::HailError;
use super::js::{get, result_object};
use super::relay_client::DEFAULT_TIMEOUT_MS;
use super::transport;
use super::validate::parse_input;
use super::validate::Plain;
use crate::error::ErrorCode;
use crate::operation::{body_excerpt, BaseUrl, Validate, Vendor};
use crate::validate::ID_MAX;
use crate::vendors::chayns::message_to_group::MessageToGroup;
use crate::vendors::chayns::message_to_page::MessageToPage;
use crate::vendors::chayns::message_to_user::MessageToUser;
use crate::vendors::chayns::{
    error_text, user_answer_error, ChaynsUserApi, UserApiMessage, UserRequest, UserSession,
    UserToken,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_CHAYNS: &'static str = r#"
/** Options of `createChaynsUserClient`. */
export interface ChaynsUserClientOptions {
    /** The user's `tobitAccessToken` (`chayns.env.user.tobitAccessToken`). */
    accessToken: string;
    /** The user's id (`chayns.env.user.id`): the sender. */
    userId: number;
    /** The site (`chayns.env.site.locationId`). */
    locationId: number;
    /** The chayns user API (default https://sub54.tobit.com). */
    baseUrl?: string;
    /** Timeout of a send, in milliseconds (default 15000). */
    timeoutMs?: number;
}
/** The part of `window.chayns` that `fromChaynsEnv` reads. */
export interface ChaynsEnvironment {
    env: { user?: { id?: number; tobitAccessToken?: string; isAuthenticated?: boolean }; site?: { locationId?: number } };
}
"#;

/// A user message: text and optional image URLs. Read by `impl_read!`; the serde attributes
/// shape its TypeScript type.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserMessage {
    /// The text.
    pub text: String,
    /// Image URLs.
    #[serde(default)]
    #[tsify(optional)]
    pub images: Option<Vec<String>>,
}

crate::impl_read!(UserMessage {
    text: "text",
    images: "images"
});

impl Validate for UserMessage {
    fn validate(&self) -> Result<(), Vec<crate::Violation>> {
        let mut v = crate::validate::Violations::new();
        crate::vendors::chayns::check_message(&mut v, &self.text, self.images.as_deref());
        v.finish()
    }
}

struct Inner {
    session: UserSession,
    base: BaseUrl,
    timeout_ms: u32,
}

/// Sends chayns messages as the logged-in user.
#[wasm_bindgen]
pub struct ChaynsUserClient {
    inner: Rc<Inner>,
}

fn invalid(field: &'static str, why: &str) -> HailError {
    HailError::new(ErrorCode::InvalidRequest, format!("{field} {why}")).field(field)
}

/// A chayns id from JS: a whole number from 1 to 2^53−1.
fn id(value: &JsValue, field: &'static str) -> Result<u64, HailError> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= ID_MAX as f64 => Ok(n as u64),
        _ => Err(invalid(field, "must be a whole number from 1 to 2^53-1")),
    }
}

fn client(
    token: JsValue,
    user_id: JsValue,
    location_id: JsValue,
    base: JsValue,
    timeout: JsValue,
) -> Result<ChaynsUserClient, HailError> {
    let token = token
        .as_string()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| invalid("accessToken", "must be the user's tobitAccessToken"))?;
    let base = match base.as_string() {
        Some(url) => BaseUrl::parse(&url)
            .map_err(|_| invalid("baseUrl", "must be an absolute http(s) URL"))?,
        None if base.is_undefined() || base.is_null() => {
            BaseUrl::parse(ChaynsUserApi::DEFAULT_BASE_URL)
                .map_err(|_| invalid("baseUrl", "has no default"))?
        }
        None => return Err(invalid("baseUrl", "must be a string")),
    };
    Ok(ChaynsUserClient {
        inner: Rc::new(Inner {
            session: UserSession {
                token: UserToken(SecretString::from(token)),
                user_id: id(&user_id, "userId")?,
                location_id: id(&location_id, "locationId")?,
            },
            base,
            timeout_ms: positive_ms(&timeout, "timeoutMs")?.unwrap_or(DEFAULT_TIMEOUT_MS),
        }),
    })
}

/// A client for the user with `accessToken`, `userId` on site `locationId`.
#[wasm_bindgen(js_name = createChaynsUserClient)]
pub fn create_chayns_user_client(
    #[wasm_bindgen(unchecked_param_type = "ChaynsUserClientOptions")] options: JsValue,
) -> Result<ChaynsUserClient, JsValue> {
    if !options.is_object() {
        return Err(invalid("options", "must be an object").into());
    }
    let o = |k| get(&options, k);
    Ok(client(
        o("accessToken"),
        o("userId"),
        o("locationId"),
        o("baseUrl"),
        o("timeoutMs"),
    )?)
}

/// A client for the user logged in to the chayns tapp around this page: reads
/// `chayns.env.user.tobitAccessToken`, `chayns.env.user.id` and `chayns.env.site.locationId` from
/// `chayns` (default: the global `chayns`).
#[wasm_bindgen(js_name = fromChaynsEnv)]
pub fn from_chayns_env(
    #[wasm_bindgen(unchecked_optional_param_type = "ChaynsEnvironment")] chayns: Option<JsValue>,
    #[wasm_bindgen(unchecked_optional_param_type = "{ baseUrl?: string; timeoutMs?: number }")]
    options: Option<JsValue>,
) -> Result<ChaynsUserClient, JsValue> {
    let chayns = chayns
        .filter(|c| !c.is_undefined() && !c.is_null())
        .unwrap_or_else(|| get(&js_sys::global(), "chayns"));
    let env = get(&chayns, "env");
    if !env.is_object() {
        return Err(HailError::new(
            ErrorCode::Unauthenticated,
            "not inside a chayns tapp: no chayns.env (pass window.chayns, or use createChaynsUserClient)",
        )
        .into());
    }
    let user = get(&env, "user");
    let token = get(&user, "tobitAccessToken");
    if token.as_string().is_none_or(|t| t.is_empty()) {
        return Err(HailError::new(
            ErrorCode::Unauthenticated,
            "the chayns user is not logged in",
        )
        .into());
    }
    let options = options.unwrap_or(JsValue::UNDEFINED);
    Ok(client(
        token,
        get(&user, "id"),
        get(&get(&env, "site"), "locationId"),
        get(&options, "baseUrl"),
        get(&options, "timeoutMs"),
    )?)
}

#[wasm_bindgen]
impl ChaynsUserClient {
    /// A message from the user to the site (page).
    #[wasm_bindgen(js_name = sendMessageToPage, unchecked_return_type = "Promise<CallResult<unknown>>")]
    pub fn send_message_to_page(&self, message: Ts<UserMessage>) -> js_sys::Promise {
        let parts = read_message(&message.js_value()).and_then(|m| {
            let mut page = MessageToPage::new(m.text);
            page.images = m.images;
            self.parts(&page)
        });
        self.send(parts)
    }

    /// A message from the user to another chayns user.
    #[wasm_bindgen(js_name = sendMessageToUser, unchecked_return_type = "Promise<CallResult<unknown>>")]
    pub fn send_message_to_user(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "number")] user_id: JsValue,
        message: Ts<UserMessage>,
    ) -> js_sys::Promise {
        let parts = id(&user_id, "userId").and_then(|receiver| {
            let m = read_message(&message.js_value())?;
            let mut to_user = MessageToUser::new(receiver, m.text);
            to_user.images = m.images;
            self.parts(&to_user)
        });
        self.send(parts)
    }

    /// A broadcast from the user to a UAC group of the site.
    #[wasm_bindgen(js_name = sendMessageToGroup, unchecked_return_type = "Promise<CallResult<unknown>>")]
    pub fn send_message_to_group(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "number")] group_id: JsValue,
        message: Ts<UserMessage>,
    ) -> js_sys::Promise {
        let parts = id(&group_id, "groupId").and_then(|group| {
            let m = read_message(&message.js_value())?;
            let mut to_group = MessageToGroup::new(group, m.text);
            to_group.images = m.images;
            self.parts(&to_group)
        });
        self.send(parts)
    }
}

fn read_message(message: &JsValue) -> Result<UserMessage, HailError> {
    parse_input::<UserMessage>(message)
        .map(|(m, _)| m)
        .map_err(|v| HailError::invalid(&v))
}

impl ChaynsUserClient {
    /// The validated message's request.
    fn parts<M: UserApiMessage + Validate>(&self, message: &M) -> Result<UserRequest, HailError> {
        message.validate().map_err(|v| HailError::invalid(&v))?;
        message
            .parts(&self.inner.base, &self.inner.session)
            .map_err(|e| HailError::new(ErrorCode::InvalidRequest, e.0))
    }

    /// Sends a request (or rejects with the error that stopped it): one state machine for
    /// every kind of message.
    fn send(&self, parts: Result<UserRequest, HailError>) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            send(&inner, parts?).await.map_err(JsValue::from)
        })
    }
}

/// Sends a user API request as the session's user and reads the answer. No retries: the chayns
/// user API has no idempotency keys, so a second send could duplicate the message. Built from
/// the endpoint's plain parts, not its `http::Request`: the browser has `fetch`, and the HTTP
/// types would triple the module's size.
async fn send(inner: &Inner, parts: UserRequest) -> Result<JsValue, HailError> {
    let body = String::from_utf8(parts.body)
        .map_err(|_| HailError::new(ErrorCode::Internal, "the body is not text"))?;
    // The token was checked to be visible ASCII, so gloo-net cannot throw on the header.
    let bearer = format!("Bearer {}", inner.session.token.0.expose_secret());
    let request = gloo_net::http::Request::post(&parts.url)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("authorization", &bearer);
    let received = transport::send(request, Some(body), inner.timeout_ms, None).await?;
    let json = js_sys::JSON::parse(&received.text).ok();
    match user_answer_error(received.status) {
        None => Ok(result_object(
            json.unwrap_or_else(|| JsValue::from_str(received.text.trim())),
            JsValue::from(received.status),
            String::new(),
            false,
        )),
        Some(code) => {
            let excerpt = body_excerpt(received.text.as_bytes());
            let mut err = HailError::new(code, error_text(json.map(Plain), excerpt));
            err.status = Some(received.status);
            Err(err)
        }
    }
}
