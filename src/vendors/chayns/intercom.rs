//! `chayns/intercom`: `POST https://api.chayns.net/v2.0/{LocationID}/Intercom`, Basic TappId:Secret.
//!
//! Intercom messages to users, UAC groups and sites, optionally as one group chat or into a named
//! thread; or, with the caller's own token, from the caller to the site.

use serde::{Deserialize, Serialize};

use secrecy::SecretString;

use super::{error, images, Chayns, ImageUrl, TappCredential, TEXT_MAX_CHARS};
use crate::base_url::BaseUrl;
use crate::encode::{basic, json};
use crate::encode::{EncodeError, Encoded};
use crate::error::Violation;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{lenient, UpstreamError};
use crate::validate::Validate;
use crate::validate::{rule, Violations};

/// The vendor call: the site is the relay's `location_id`.
pub const CALL: crate::vendor_call::VendorCall =
    crate::vendor_call::VendorCall::post("/v2.0/{location_id}/Intercom");
/// Most ids per receiver list. **Assumed** (Hail's limit).
pub const RECEIVERS_MAX: usize = 1000;
/// Longest thread name, in chars. **Assumed** (Hail's limit).
pub const THREAD_NAME_MAX_CHARS: usize = 200;

/// An Intercom message.
#[hail_derive::request]
#[derive(Debug, Clone, Default)]
#[operation(
    id = "chayns/intercom",
    sends = true,
    ts_output = "IntercomResult",
    summary = "Sends an Intercom message to chayns users, UAC groups or sites, or with `asCaller` as the verified caller to the site (the relay's site).",
    calls = [CALL],
    example = r#"{"message":"Hi","userIds":[1],"uacIds":[2],"threadName":"t","useGroupChat":true,"images":["https://x.io/a.png"],"asCaller":false}"#
)]
pub struct Intercom {
    /// The message.
    pub message: String,
    /// Receivers: chayns user ids.
    pub user_ids: Option<Vec<u64>>,
    /// Receivers: UAC group ids.
    pub uac_ids: Option<Vec<u64>>,
    /// Receivers: sites (LocationIDs).
    pub receiver_location_ids: Option<Vec<u64>>,
    /// Sends into (or creates) the chat of this name.
    pub thread_name: Option<String>,
    /// One group chat with all receivers (`true`) or one chat each (`false`).
    pub use_group_chat: Option<bool>,
    /// Image URLs; chayns shows only the first.
    pub images: Option<Vec<String>>,
    /// Send as the verified chayns caller, to the site (the relay supplies the token).
    pub as_caller: Option<bool>,
}

impl Intercom {
    /// A message; add receivers on the public fields.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// Whether the message is to be sent as the caller.
    pub fn as_caller(&self) -> bool {
        self.as_caller == Some(true)
    }
}

/// The Backend API's PascalCase body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Wire<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uac_ids: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_ids: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receiver_location_ids: Option<&'a [u64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    use_group_chat: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_access_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<Vec<ImageUrl<'a>>>,
}

/// What chayns answers: `201 {"data":[{"success":true}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntercomResult {
    /// Whether chayns reports success.
    pub success: bool,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default, deserialize_with = "lenient")]
    data: Option<Vec<AnswerItem>>,
}

#[derive(Deserialize)]
struct AnswerItem {
    #[serde(default, deserialize_with = "lenient")]
    success: Option<bool>,
}

impl SingleCall for Intercom {
    fn wants_caller_token(&self) -> bool {
        self.as_caller()
    }

    /// The caller's `tobitAccessToken`, verified by the relay, becomes `UserAccessToken`.
    fn encode_as_caller(
        &self,
        base: &BaseUrl,
        tapp: &TappCredential,
        caller_token: &SecretString,
    ) -> Encoded {
        self.request(base, tapp, Some(caller_token))
    }
}

impl Validate for Intercom {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.required_text("message", &self.message, TEXT_MAX_CHARS);
        v.id_list("userIds", self.user_ids.as_deref(), RECEIVERS_MAX);
        v.id_list("uacIds", self.uac_ids.as_deref(), RECEIVERS_MAX);
        v.id_list(
            "receiverLocationIds",
            self.receiver_location_ids.as_deref(),
            RECEIVERS_MAX,
        );
        v.optional_line(
            "threadName",
            self.thread_name.as_deref(),
            THREAD_NAME_MAX_CHARS,
        );
        v.url_list("images", self.images.as_deref(), super::IMAGES_MAX);
        let has = |l: &Option<Vec<u64>>| l.as_ref().is_some_and(|l| !l.is_empty());
        if !(has(&self.user_ids)
            || has(&self.uac_ids)
            || has(&self.receiver_location_ids)
            || self.as_caller())
        {
            v.push(
                "userIds",
                rule::REQUIRED,
                "give at least one receiver (userIds, uacIds, receiverLocationIds) or asCaller",
            );
        }
        v.finish()
    }
}

impl Endpoint for Intercom {
    type Vendor = Chayns;
    type Credential = TappCredential;
    type Output = IntercomResult;

    fn encode(&self, base: &BaseUrl, tapp: &TappCredential) -> Encoded {
        self.request(base, tapp, None)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<IntercomResult, UpstreamError> {
        if !status.is_success() {
            return Err(error(status, body));
        }
        // Tolerant: a 2xx without the documented body still means chayns accepted it.
        let success = serde_json::from_slice::<Answer>(body)
            .ok()
            .and_then(|a| a.data)
            .and_then(|d| d.into_iter().next())
            .and_then(|i| i.success)
            .unwrap_or(true);
        Ok(IntercomResult { success })
    }
}

impl Intercom {
    /// The vendor request, as the caller when `caller_token` is given.
    fn request(
        &self,
        base: &BaseUrl,
        tapp: &TappCredential,
        caller_token: Option<&SecretString>,
    ) -> Encoded {
        let user_access_token = match (self.as_caller(), caller_token) {
            (false, _) => None,
            (true, Some(token)) => Some(secrecy::ExposeSecret::expose_secret(token)),
            (true, None) => {
                return Err(EncodeError(
                    "asCaller needs the caller's verified chayns token",
                ))
            }
        };
        let wire = Wire {
            message: &self.message,
            uac_ids: self.uac_ids.as_deref(),
            user_ids: self.user_ids.as_deref(),
            receiver_location_ids: self.receiver_location_ids.as_deref(),
            thread_name: self.thread_name.as_deref(),
            use_group_chat: self.use_group_chat,
            user_access_token,
            images: images(self.images.as_deref()),
        };
        let auth = basic(
            &tapp.tapp_id.to_string(),
            &tapp.secret,
            "the chayns Tapp secret is not a valid header value",
        )?;
        let url = CALL.url_with_id(base, tapp.location_id);
        json(http::Method::POST, url, auth, Some(&wire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::parse_request;

    fn tapp() -> TappCredential {
        TappCredential {
            tapp_id: 123,
            secret: SecretString::from("s3cret"),
            location_id: 77_890,
        }
    }

    fn base() -> BaseUrl {
        BaseUrl::parse("https://api.chayns.net").unwrap()
    }

    fn parse(json: &str) -> Result<Intercom, Violation> {
        parse_request(json.as_bytes())
    }

    #[test]
    fn golden_minimal_request() {
        let mut req = Intercom::new("Hello");
        req.user_ids = Some(vec![1_234_567]);
        assert!(req.validate().is_ok());
        let http = req.encode(&base(), &tapp()).unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(http.uri(), "https://api.chayns.net/v2.0/77890/Intercom");
        assert_eq!(http.headers()["authorization"], "Basic MTIzOnMzY3JldA==");
        assert!(http.headers()["authorization"].is_sensitive());
        assert_eq!(http.headers()["content-type"], "application/json");
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"Message":"Hello","UserIds":[1234567]}"#
        );
    }

    #[test]
    fn golden_full_request() {
        let req = parse(
            r#"{"message":"Hi","userIds":[1],"uacIds":[2,3],"receiverLocationIds":[4],"threadName":"Orders",
                "useGroupChat":true,"images":["https://tsimg.space/v1/Images/a.jpg"],"asCaller":true}"#,
        )
        .unwrap();
        assert!(req.validate().is_ok());
        assert!(
            req.encode(&base(), &tapp()).is_err(),
            "asCaller without a verified token"
        );
        let http = req
            .encode_as_caller(&base(), &tapp(), &SecretString::from("user-token"))
            .unwrap();
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"Message":"Hi","UacIds":[2,3],"UserIds":[1],"ReceiverLocationIds":[4],"ThreadName":"Orders","UseGroupChat":true,"UserAccessToken":"user-token","Images":[{"url":"https://tsimg.space/v1/Images/a.jpg"}]}"#
        );
    }

    #[test]
    fn the_caller_token_never_comes_from_json() {
        assert!(parse(r#"{"message":"m","asCaller":true,"callerToken":"x"}"#).is_err());
        let req = parse(r#"{"message":"m","asCaller":true}"#).unwrap();
        assert!(req.encode(&base(), &tapp()).is_err());
        assert!(!serde_json::to_string(&req).unwrap().contains("caller"));
    }

    #[test]
    fn bad_inputs_name_their_field_and_rule() {
        let cases: [(&str, &str, &str); 6] = [
            (r#"{"message":"m"}"#, "userIds", rule::REQUIRED.as_str()),
            (
                r#"{"message":"m","userIds":[]}"#,
                "userIds",
                rule::REQUIRED.as_str(),
            ),
            (
                r#"{"message":" ","userIds":[1]}"#,
                "message",
                rule::REQUIRED.as_str(),
            ),
            (
                r#"{"message":"m","uacIds":[1,0]}"#,
                "uacIds[1]",
                rule::RANGE.as_str(),
            ),
            (
                r#"{"message":"m","userIds":[9007199254740992]}"#,
                "userIds[0]",
                rule::RANGE.as_str(),
            ),
            (
                r#"{"message":"m","userIds":[1],"images":["ftp://x/a.png"]}"#,
                "images[0]",
                rule::URL.as_str(),
            ),
        ];
        for (json, field, code) in cases {
            let errs = parse(json).unwrap().validate().unwrap_err();
            assert_eq!(
                (errs[0].field.as_str(), errs[0].code.as_str()),
                (field, code),
                "{json}"
            );
        }
        let v = parse(r#"{"message":"m","userIds":[-1]}"#).unwrap_err();
        assert_eq!(
            (v.field.as_str(), v.code.as_str()),
            ("userIds[0]", rule::TYPE.as_str())
        );
    }

    #[test]
    fn decodes_the_documented_answer_and_errors() {
        let ok =
            Intercom::decode(http::StatusCode::CREATED, br#"{"data":[{"success":true}]}"#).unwrap();
        assert!(ok.success);
        let extra = Intercom::decode(
            http::StatusCode::CREATED,
            br#"{"data":[{"success":false,"x":1}],"y":2}"#,
        )
        .unwrap();
        assert!(!extra.success);
        assert!(
            Intercom::decode(http::StatusCode::CREATED, b"")
                .unwrap()
                .success
        );
        let e = Intercom::decode(
            http::StatusCode::UNAUTHORIZED,
            br#"{"message":"Invalid Tapp","errorGuid":"g"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.status),
            (crate::ErrorCode::UpstreamRejected, 401)
        );
        assert_eq!(e.message, "Invalid Tapp (errorGuid g)");
    }
}
