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

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::credential::{Credential, Section, SectionError};
use crate::encode::{push_decimal, push_json_string};
use crate::encode::{EncodeError, Encoded};
use crate::operation::Vendor;
use crate::read::{Shape, Source};
use crate::reply::{body_excerpt, UpstreamError};
use crate::validate::Validate;
use crate::validate::Violations;
use crate::vendor_call::VendorCall;

/// The chayns Backend API (`api.chayns.net`).
pub struct Chayns;

impl Vendor for Chayns {
    const NAME: &'static str = "chayns";
    const DEFAULT_BASE_URL: &'static str = "https://api.chayns.net";
    // chayns replies reach the user in chayns itself (VENDORS.md).
    const REPLIES: bool = false;
}

/// The chayns user API that chayns' own JS API calls (`sub54.tobit.com`).
/// **Assumed**: the base URL is configurable (tests point it at loopback).
pub struct ChaynsUserApi;

impl Vendor for ChaynsUserApi {
    const NAME: &'static str = "chayns-user";
    const DEFAULT_BASE_URL: &'static str = "https://sub54.tobit.com";
    // chayns replies reach the user in chayns itself (VENDORS.md).
    const REPLIES: bool = false;
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
    fn from_section(section: &Section) -> Result<Self, SectionError> {
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

/// An image as chayns expects it (Intercom's body).
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

/// `typeId` of a message to a page or a user (as chayns' JS API sends it).
pub const TYPE_ID_MESSAGE: u8 = 1;
/// The user API's message to a user or a site, sent as user `user_id`.
pub const USER_MESSAGE: VendorCall = VendorCall::post("/rest/api/user/{user_id}/message");
/// The user API's message to a UAC group of site `location_id`.
pub const BROADCAST: VendorCall = VendorCall::post("/rest/api/location/{location_id}/broadcast");
/// `typeId` of a broadcast to a UAC group (as chayns' JS API sends it).
pub const TYPE_ID_BROADCAST: u8 = 6;

/// A message as the user (the user API endpoints), as plain parts: the browser sends them with
/// `fetch` (`UserRequest::into_http` makes the same parts an `http::Request`, for tests and
/// any Rust caller). Not an [`Endpoint`]: no relay forwards it.
pub trait UserApiMessage: Validate + Serialize + Send + Sync + 'static {
    /// `POST url` with `body` (JSON), authorized as the session's user.
    fn parts(
        &self,
        base: &crate::BaseUrl,
        session: &UserSession,
    ) -> Result<UserRequest, EncodeError>;
}

/// A user API request: `POST url`, JSON `body`, `Authorization: bearer <the user's token>`.
pub struct UserRequest {
    pub url: String,
    pub body: Vec<u8>,
}

/// The `Authorization` value of a user API request, spelt as chayns-api's own `sendMessage`
/// spells it (`bearer`, lower case): Hail's requests are byte for byte what chayns' own client
/// sends, so chayns sees nothing new.
pub fn user_authorization(token: &str) -> String {
    let mut value = String::with_capacity(7 + token.len());
    value.push_str("bearer ");
    value.push_str(token);
    value
}

impl UserRequest {
    /// The request with the session's bearer token.
    pub fn into_http(self, session: &UserSession) -> Encoded {
        let auth = crate::encode::sensitive(
            &user_authorization(session.token.0.expose_secret()),
            "the chayns access token is not a valid header value",
        )?;
        crate::encode::json_bytes(http::Method::POST, self.url, auth, Some(self.body))
    }
}

/// `POST {base}{path}`: a user message to the receiver `{"<key>": id}`, as the body
/// `{"receivers": [{key: id}], "message": {"images": [{"url"}], "text", "typeId"}}`: the keys in
/// chayns-api's order, `images` always present (`[]` when none), as chayns-api sends it.
pub(crate) fn user_message(
    url: String,
    receiver: (&str, u64),
    text: &str,
    image_urls: Option<&[String]>,
    type_id: u8,
) -> UserRequest {
    let mut body = String::with_capacity(80 + text.len());
    body.push_str("{\"receivers\":[{");
    push_json_string(&mut body, receiver.0);
    body.push(':');
    push_decimal(&mut body, receiver.1);
    body.push_str("}],\"message\":{\"images\":[");
    for (i, url) in image_urls.unwrap_or_default().iter().enumerate() {
        body.push_str(if i == 0 { "{\"url\":" } else { ",{\"url\":" });
        push_json_string(&mut body, url);
        body.push('}');
    }
    body.push_str("],\"text\":");
    push_json_string(&mut body, text);
    body.push_str(",\"typeId\":");
    push_decimal(&mut body, u64::from(type_id));
    body.push_str("}}");
    UserRequest {
        url,
        body: body.into_bytes(),
    }
}

/// What a user API status means: `None` for success (any 2xx), else the error code. A 401 means
/// the user's token is no longer valid. **Assumed**: the success body format is unknown.
pub fn user_answer_error(status: u16) -> Option<crate::ErrorCode> {
    match status {
        200..=299 => None,
        401 => Some(crate::ErrorCode::Unauthenticated),
        500..=599 => Some(crate::ErrorCode::UpstreamUnavailable),
        _ => Some(crate::ErrorCode::UpstreamRejected),
    }
}

/// The message of a chayns error answer `{"message": …, "errorGuid": …}` (its parsed JSON, if
/// any): `message (errorGuid …)`, else `text`. Fields of other types count as missing.
pub fn error_text<S: Source>(json: Option<S>, text: String) -> String {
    let Some(Shape::Object(fields)) = json.as_ref().map(Source::shape) else {
        return text;
    };
    let string = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| match v.shape() {
                Shape::Text(s) => Some(s),
                _ => None,
            })
    };
    match (string("message"), string("errorGuid")) {
        (Some(m), Some(guid)) => format!("{m} (errorGuid {guid})"),
        (Some(m), None) => m,
        (None, _) => text,
    }
}

/// [`error_text`] of a raw answer.
pub(crate) fn error_message(body: &[u8]) -> String {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    error_text(json.as_ref(), body_excerpt(body))
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
    fn user_message_bodies_are_the_json_they_mean() {
        let urls = [
            "https://x.io/a\"b.png".to_owned(),
            "https://x.io/c.png".to_owned(),
        ];
        let base = crate::BaseUrl::parse("https://h").unwrap();
        let text = "Hi \"you\"\n\u{1}é\\";
        let req = user_message(base.join("/p"), ("tobitId", 7), text, Some(&urls), 6);
        let got: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let want = serde_json::json!({
            "receivers": [{"tobitId": 7}],
            "message": {
                "text": text,
                "images": [{"url": urls[0]}, {"url": urls[1]}],
                "typeId": 6
            }
        });
        assert_eq!(got, want);
        let bare = user_message(base.join("/p"), ("groupId", 1), "x", None, 6);
        assert_eq!(
            std::str::from_utf8(&bare.body).unwrap(),
            r#"{"receivers":[{"groupId":1}],"message":{"images":[],"text":"x","typeId":6}}"#
        );
        assert_eq!(req.url, "https://h/p");
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
