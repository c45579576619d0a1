//! The chayns user client: messages as the logged-in chayns user, sent straight from the
//! browser to the chayns user API with the user's own access token (no relay, no company
//! secret). Encoded and decoded by the same definitions as everything else
//! (`vendors::chayns::message_to_*`); the requests are those chayns-api's own `sendMessageTo*`
//! send. Where token, user and site come from: `chayns_host`.

use std::rc::Rc;

use secrecy::SecretString;
use serde::Serialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::call::{call_options, positive_ms, CallOptions};
use super::chayns_host::{chayns_id, Host};
use super::error::HailError;
use super::js::{get, known_options, new_idempotency_key, report, result_object, Attempt};
use super::relay_client::DEFAULT_TIMEOUT_MS;
use super::transport::{self, Outgoing};
use super::validate::{parse_input, Plain};
use crate::base_url::BaseUrl;
use crate::error::ErrorCode;
use crate::operation::Vendor;
use crate::reply::body_excerpt;
use crate::validate::Validate;
use crate::vendors::chayns::message_to_group::MessageToGroup;
use crate::vendors::chayns::message_to_page::MessageToPage;
use crate::vendors::chayns::message_to_user::MessageToUser;
use crate::vendors::chayns::{
    error_text, user_answer_error, user_authorization, ChaynsUserApi, UserApiMessage, UserRequest,
    UserSession, UserToken,
};

// The constructors: createChaynsUserClient, fromChaynsApi, fromChaynsEnv.
mod create;
// The TypeScript declarations of the options and results.
mod typescript;

pub use create::{create_chayns_user_client, from_chayns_api, from_chayns_env};

// Its reader is derived from the serde attributes, which also shape its TypeScript type.
/// A message a chayns user sends: text and optional image URLs.
#[derive(Serialize, Tsify, hail_derive::Read)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserMessage {
    /// The text.
    pub text: String,
    /// Image URLs.
    #[serde(default)]
    #[tsify(optional)]
    pub images: Option<Vec<String>>,
}

impl Validate for UserMessage {
    fn validate(&self) -> Result<(), Vec<crate::Violation>> {
        let mut v = crate::validate::Violations::new();
        crate::vendors::chayns::check_message(&mut v, &self.text, self.images.as_deref());
        v.finish()
    }
}

struct Inner {
    host: Host,
    base: BaseUrl,
    timeout_ms: u32,
    /// `onAttempt`: a function called after every attempt, or `undefined`.
    on_attempt: JsValue,
}

/// Sends chayns messages as the logged-in user.
#[wasm_bindgen]
pub struct ChaynsUserClient {
    inner: Rc<Inner>,
}

/// The options of one send: chayns has no idempotency keys.
const SEND_OPTIONS: &str = "signal, timeoutMs";

/// One message, validated, waiting for its session.
enum Message {
    Page(MessageToPage),
    User(MessageToUser),
    Group(MessageToGroup),
}

impl Message {
    /// The name `onAttempt` events give it.
    fn name(&self) -> &'static str {
        match self {
            Message::Page(_) => "chayns-user/sendMessageToPage",
            Message::User(_) => "chayns-user/sendMessageToUser",
            Message::Group(_) => "chayns-user/sendMessageToGroup",
        }
    }

    fn parts(&self, base: &BaseUrl, session: &UserSession) -> Result<UserRequest, HailError> {
        match self {
            Message::Page(m) => m.parts(base, session),
            Message::User(m) => m.parts(base, session),
            Message::Group(m) => m.parts(base, session),
        }
        .map_err(|e| HailError::new(ErrorCode::InvalidRequest, e.0))
    }
}

#[wasm_bindgen]
impl ChaynsUserClient {
    /// Sends a message from the user to the site (page): chayns' `sendMessageToPage`,
    /// `POST {baseUrl}/rest/api/user/{userId}/message` (default base `https://sub54.tobit.com`).
    ///
    /// Rejects with a `HailError`: `invalid_field` before the network (`violations` lists every
    /// broken rule), `unauthenticated` (no user logged in, or chayns refused the token, also
    /// after one renewal), `upstream_rejected`, `upstream_unavailable`, `network_error`,
    /// `timeout`, `aborted`, or the error the host's token function threw (as `cause`).
    /// Never sent twice: chayns has no idempotency keys.
    #[wasm_bindgen(js_name = sendMessageToPage, unchecked_return_type = "Promise<CallResult<ChaynsUserReply>>")]
    pub fn send_message_to_page(
        &self,
        message: Ts<UserMessage>,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: Option<JsValue>,
    ) -> js_sys::Promise {
        let m = message_to(None, &message.js_value()).map(|(_, m)| {
            let mut page = MessageToPage::new(m.text);
            page.images = m.images;
            Message::Page(page)
        });
        self.send(m, options)
    }

    /// Sends a message from the user to the chayns user `userId`: chayns' `sendMessageToUser`,
    /// `POST {baseUrl}/rest/api/user/{senderUserId}/message`.
    ///
    /// Rejects with a `HailError`: `invalid_field` before the network (`violations` lists every
    /// broken rule), `unauthenticated` (no user logged in, or chayns refused the token, also
    /// after one renewal), `upstream_rejected`, `upstream_unavailable`, `network_error`,
    /// `timeout`, `aborted`, or the error the host's token function threw (as `cause`).
    /// Never sent twice: chayns has no idempotency keys.
    #[wasm_bindgen(js_name = sendMessageToUser, unchecked_return_type = "Promise<CallResult<ChaynsUserReply>>")]
    pub fn send_message_to_user(
        &self,
        #[wasm_bindgen(js_name = userId, unchecked_param_type = "number")] user_id: JsValue,
        message: Ts<UserMessage>,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: Option<JsValue>,
    ) -> js_sys::Promise {
        let m = message_to(Some(("userId", &user_id)), &message.js_value()).map(|(id, m)| {
            let mut to_user = MessageToUser::new(id, m.text);
            to_user.images = m.images;
            Message::User(to_user)
        });
        self.send(m, options)
    }

    /// Sends a broadcast from the user to the UAC group `groupId` of the site: chayns'
    /// `sendMessageToGroup`, `POST {baseUrl}/rest/api/location/{locationId}/broadcast`.
    ///
    /// Rejects with a `HailError`: `invalid_field` before the network (`violations` lists every
    /// broken rule), `unauthenticated` (no user logged in, or chayns refused the token, also
    /// after one renewal), `upstream_rejected`, `upstream_unavailable`, `network_error`,
    /// `timeout`, `aborted`, or the error the host's token function threw (as `cause`).
    /// Never sent twice: chayns has no idempotency keys.
    #[wasm_bindgen(js_name = sendMessageToGroup, unchecked_return_type = "Promise<CallResult<ChaynsUserReply>>")]
    pub fn send_message_to_group(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "number")] group_id: JsValue,
        message: Ts<UserMessage>,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: Option<JsValue>,
    ) -> js_sys::Promise {
        let m = message_to(Some(("groupId", &group_id)), &message.js_value()).map(|(id, m)| {
            let mut to_group = MessageToGroup::new(id, m.text);
            to_group.images = m.images;
            Message::Group(to_group)
        });
        self.send(m, options)
    }
}

/// Reads the receiver id (if the message has one) and the message, and validates both as the
/// vendor definition does: every violation at once, all `invalid_field`.
fn message_to(
    receiver: Option<(&'static str, &JsValue)>,
    message: &JsValue,
) -> Result<(u64, UserMessage), HailError> {
    let mut v = crate::validate::Violations::new();
    let mut id = 0;
    if let Some((field, value)) = receiver {
        // Anything but a chayns id (a string, 0, 1.5) breaks the id rule, which names the range.
        id = chayns_id(value).unwrap_or_default();
        v.id(field, id);
    }
    let mut violations = v.finish().err().unwrap_or_default();
    match parse_input::<UserMessage>(message) {
        Ok((m, _)) if violations.is_empty() => Ok((id, m)),
        Ok(_) => Err(HailError::invalid(&violations)),
        Err(more) => {
            violations.extend(more);
            Err(HailError::invalid(&violations))
        }
    }
}

impl ChaynsUserClient {
    /// Sends a message (or rejects with the error that stopped it): one state machine for
    /// every kind of message.
    fn send(
        &self,
        message: Result<Message, HailError>,
        options: Option<JsValue>,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        let options = call_options(&options.unwrap_or(JsValue::UNDEFINED), SEND_OPTIONS);
        let site = super::error::call_site();
        wasm_bindgen_futures::future_to_promise(async move {
            // Made here, not by chayns (which gives none and is sent nothing of it): it names
            // this send in results, errors and logs.
            let request_id = new_idempotency_key().unwrap_or_default();
            let mut progress = Progress {
                attempt: 1,
                started: js_sys::Date::now(),
            };
            let (sent, name) = match (message, options) {
                (Ok(message), Ok(options)) => (
                    send(&inner, &message, &options, &request_id, &mut progress).await,
                    message.name(),
                ),
                (Err(e), _) | (_, Err(e)) => (Err(e), "chayns-user"),
            };
            let sent = sent.map_err(|mut e| {
                e.request_id = Some(request_id.clone());
                e
            });
            let attempt = Attempt {
                operation: name,
                attempt: progress.attempt,
                idempotency_key: None,
                request_id: Some(request_id),
                status: sent
                    .as_ref()
                    .ok()
                    .and_then(|r| get(r, "upstreamStatus").as_f64())
                    .map(|s| s as u16),
                retrying: false,
                started: progress.started,
            };
            report(&inner.on_attempt, attempt, sent.as_ref().err());
            sent.map_err(|e| e.into_js_from(&site))
        })
    }
}

/// Which attempt of a send is running (1, or 2 after a renewed token), since when.
struct Progress {
    attempt: u32,
    started: f64,
}

/// Milliseconds left of a send that started at `start` with `timeout_ms`, or `timeout`.
fn left(start: f64, timeout_ms: u32) -> Result<u32, HailError> {
    let left = f64::from(timeout_ms) - (js_sys::Date::now() - start);
    if left < 1.0 {
        return Err(HailError::new(
            ErrorCode::Timeout,
            format!("no answer within {timeout_ms} ms"),
        ));
    }
    Ok(left as u32)
}

/// Sends a user API request as the session's user and reads the answer. Tried again only once,
/// after chayns refused the token (401: it did not act) and the host gave a new one; never
/// otherwise: the chayns user API has no idempotency keys, so a second send could duplicate the
/// message. The timeout covers the whole send, the host's calls included.
async fn send(
    inner: &Inner,
    message: &Message,
    options: &CallOptions,
    request_id: &str,
    progress: &mut Progress,
) -> Result<JsValue, HailError> {
    let start = js_sys::Date::now();
    let timeout = options.timeout_ms.unwrap_or(inner.timeout_ms);
    let signal: Option<&AbortSignal> = options.signal.as_ref();
    let who = inner.host.who(signal, left(start, timeout)?).await?;
    let mut token = inner.host.token(signal, left(start, timeout)?).await?;
    // Whether the send was tried again with a renewed token (at most once).
    let mut retried = false;
    loop {
        let session = UserSession {
            token: UserToken(SecretString::from(token.clone())),
            user_id: who.user_id,
            location_id: who.location_id,
        };
        let parts = message.parts(&inner.base, &session)?;
        let body = String::from_utf8(parts.body)
            .map_err(|_| HailError::new(ErrorCode::Internal, "the body is not text"))?;
        // Exactly chayns-api's headers.
        let authorization = user_authorization(&token);
        let headers = [
            ("authorization", authorization.as_str()),
            ("content-type", "application/json"),
        ];
        let request = Outgoing {
            method: "POST",
            url: &parts.url,
            headers: &headers,
            body: Some(&body),
        };
        let received = transport::send(&request, left(start, timeout)?, signal).await?;
        let status = received.status();
        let text = received.text();
        let json = js_sys::JSON::parse(&text).ok();
        let Some(code) = user_answer_error(status) else {
            let id = received
                .header("x-request-id")
                .unwrap_or_else(|| request_id.to_owned());
            return Ok(result_object(
                json.unwrap_or_else(|| JsValue::from_str(text.trim())),
                JsValue::from(status),
                id,
                false,
            ));
        };
        if code == ErrorCode::Unauthenticated && !retried && inner.host.renews() {
            let refreshed = inner.host.refresh(signal, left(start, timeout)?).await?;
            let fresh = inner.host.token(signal, left(start, timeout)?).await?;
            if refreshed || fresh != token {
                let mut refused = HailError::new(code, "chayns refused the access token");
                refused.status = Some(status);
                let attempt = Attempt {
                    operation: message.name(),
                    attempt: progress.attempt,
                    idempotency_key: None,
                    request_id: Some(request_id.to_owned()),
                    status: None,
                    retrying: true,
                    started: progress.started,
                };
                report(&inner.on_attempt, attempt, Some(&refused));
                *progress = Progress {
                    attempt: 2,
                    started: js_sys::Date::now(),
                };
                token = fresh;
                retried = true;
                continue;
            }
        }
        let excerpt = body_excerpt(text.as_bytes());
        let mut why = error_text(json.map(Plain), excerpt);
        if code == ErrorCode::Unauthenticated {
            why = format!(
                "chayns refused the access token{}: {why}",
                if retried {
                    " (also the renewed one)"
                } else {
                    ""
                }
            );
        }
        let mut err = HailError::new(code, why);
        err.status = Some(status);
        return Err(err);
    }
}
