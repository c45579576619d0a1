//! chayns (Tobit.Software): Intercom messages through the Backend API (company Tapp secret, relay
//! only), messages as the user through the user API (the user's own token, direct from the
//! browser), and the token check the relay uses to verify a chayns caller.
//!
//! Facts and assumptions: `shared/VENDORS.md`, "chayns Intercom".

pub mod access_token;
pub mod intercom;
pub mod message_to_group;
pub mod message_to_page;
pub mod message_to_user;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::credential::{Credential, Section};
use crate::operation::{body_excerpt, UpstreamError, Vendor};
use crate::validate::Violations;

/// The chayns Backend API (`api.chayns.net`).
pub struct Chayns;

impl Vendor for Chayns {
    const NAME: &'static str = "chayns";
    const DEFAULT_BASE_URL: &'static str = "https://api.chayns.net";
}

/// The chayns user API that chayns' own JS API calls (`sub54.tobit.com`).
/// **Assumed**: the base URL is configurable (tests point it at loopback).
pub struct ChaynsUserApi;

impl Vendor for ChaynsUserApi {
    const NAME: &'static str = "chayns-user";
    const DEFAULT_BASE_URL: &'static str = "https://sub54.tobit.com";
}

/// A Tapp's Backend API credential, and the site (LocationID) it acts on. Relay only.
pub struct TappCredential {
    /// The Tapp id (`chayns.env.site.tapp`).
    pub tapp_id: u64,
    /// The Tapp secret.
    pub secret: SecretString,
    /// The site's LocationID (`chayns.env.site.locationId`).
    pub location_id: u64,
}

impl Credential for TappCredential {
    type Vendor = Chayns;
    const KEYS: &'static [&'static str] = &["tapp_id", "tapp_secret", "location_id"];
    fn from_section(section: &Section) -> Result<Self, String> {
        Ok(Self {
            tapp_id: section.id("tapp_id")?,
            secret: section.secret("tapp_secret")?,
            location_id: section.id("location_id")?,
        })
    }
}

/// A user's `tobitAccessToken`.
#[derive(Clone, Debug)]
pub struct UserToken(pub SecretString);

/// A logged-in chayns user: their token, their user id (the sender) and the site.
#[derive(Clone, Debug)]
pub struct UserSession {
    /// `chayns.env.user.tobitAccessToken`.
    pub token: UserToken,
    /// `chayns.env.user.id`.
    pub user_id: u64,
    /// `chayns.env.site.locationId`.
    pub location_id: u64,
}

/// Longest message text, in chars. **Assumed** (Hail's limit; chayns documents none).
pub const TEXT_MAX_CHARS: usize = 10_000;
/// Most images per message. **Assumed**; chayns shows only the first.
pub const IMAGES_MAX: usize = 10;

/// An image as chayns expects it.
#[derive(Serialize)]
pub(crate) struct ImageUrl<'a> {
    pub url: &'a str,
}

pub(crate) fn images(urls: Option<&[String]>) -> Option<Vec<ImageUrl<'_>>> {
    urls.map(|urls| urls.iter().map(|url| ImageUrl { url }).collect())
}

/// Text and optional images, as in every user message (fields `text`, `images`).
pub fn check_message(v: &mut Violations, text: &str, images: Option<&[String]>) {
    v.required_text("text", text, TEXT_MAX_CHARS);
    v.url_list("images", images, IMAGES_MAX);
}

/// The user API's message body: `{"receivers": [..], "message": {"text", "images", "typeId"}}`.
#[derive(Serialize)]
pub(crate) struct UserMessageWire<'a, R: Serialize> {
    pub receivers: [R; 1],
    pub message: UserMessageText<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserMessageText<'a> {
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageUrl<'a>>>,
    pub type_id: u8,
}

/// `typeId` of a message to a page or a user (as chayns' JS API sends it).
pub const TYPE_ID_MESSAGE: u8 = 1;
/// `typeId` of a broadcast to a UAC group (as chayns' JS API sends it).
pub const TYPE_ID_BROADCAST: u8 = 6;

/// `POST {base}{path}` with the user's bearer token and a user message to `receiver`.
pub(crate) fn user_message<R: Serialize>(
    base: &crate::BaseUrl,
    path: &str,
    session: &UserSession,
    receiver: R,
    text: &str,
    image_urls: Option<&[String]>,
    type_id: u8,
) -> Result<http::Request<Vec<u8>>, crate::operation::EncodeError> {
    let body = UserMessageWire {
        receivers: [receiver],
        message: UserMessageText {
            text,
            images: images(image_urls),
            type_id,
        },
    };
    let auth = crate::encode::bearer(
        &session.token.0,
        "the chayns access token is not a valid header value",
    )?;
    crate::encode::json(http::Method::POST, base.join(path), auth, Some(&body))
}

/// Any 2xx of the user API is success; its body is passed on. **Assumed**: the body format is
/// unknown. A 401 means the user's token is no longer valid.
pub(crate) fn decode_user_answer(
    status: http::StatusCode,
    body: &[u8],
) -> Result<crate::operation::RawReply, UpstreamError> {
    if status == http::StatusCode::UNAUTHORIZED {
        return Err(UpstreamError {
            code: crate::ErrorCode::Unauthenticated,
            status: status.as_u16(),
            message: error_message(body),
        });
    }
    crate::operation::decode_raw(status, body, error_message)
}

/// A chayns error body: `{"message": …, "errorGuid": …}`. Decoded without `lenient` (it runs in
/// the browser too, and a body of other types falls back to its text anyway).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_guid: Option<String>,
}

/// The message of a chayns error answer: `message (errorGuid …)`, else the body's text.
pub(crate) fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            message: Some(m),
            error_guid,
        }) => match error_guid {
            Some(guid) => format!("{m} (errorGuid {guid})"),
            None => m,
        },
        _ => body_excerpt(body),
    }
}

/// A non-success chayns answer.
pub(crate) fn error(status: http::StatusCode, body: &[u8]) -> UpstreamError {
    UpstreamError::from_status(status, error_message(body))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn session() -> UserSession {
        UserSession {
            token: UserToken(SecretString::from("user-token")),
            user_id: 1_234_567,
            location_id: 77_890,
        }
    }

    #[test]
    fn error_bodies_carry_message_and_guid() {
        let e = error(
            http::StatusCode::FORBIDDEN,
            br#"{"message":"Tapp has no permission Intercom","errorGuid":"a1b2","extra":1}"#,
        );
        assert_eq!(e.code, crate::ErrorCode::UpstreamRejected);
        assert_eq!(
            e.message,
            "Tapp has no permission Intercom (errorGuid a1b2)"
        );
        assert_eq!(error_message(b"<html>oops</html>"), "<html>oops</html>");
        assert_eq!(error_message(br#"{"message":7}"#), r#"{"message":7}"#);
    }
}
