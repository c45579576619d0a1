//! The token check: `GET https://api.chayns.net/v2.0/{LocationID}/AccessToken`, Bearer user token.
//!
//! The relay verifies a chayns caller with it (`access = "chayns"`). The token looks like a JWT,
//! but its signing key is not public: its claims are never trusted without this online check.

use serde::{Deserialize, Serialize};

use super::{error_message, Chayns, UserToken};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::encode::{bearer, json};
use crate::error::ErrorCode;
use crate::operation::Endpoint;
use crate::reply::{lenient, UpstreamError};
use crate::vendor_call::VendorCall;

/// The vendor call: the site is `location_id`.
pub const CALL: VendorCall = VendorCall::get("/v2.0/{location_id}/AccessToken");

/// Check a user token against a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyAccessToken {
    /// The site (LocationID) the token must belong to.
    pub location_id: u64,
}

/// What chayns says about a valid token (`data[0]`); every field optional, unknown ones ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenInfo {
    /// The site the token was issued for.
    #[serde(default, deserialize_with = "lenient")]
    pub location_id: Option<u64>,
    /// The chayns user id.
    #[serde(default, deserialize_with = "lenient")]
    pub user_id: Option<u64>,
    /// The person id (e.g. `"123-45678"`).
    #[serde(default, deserialize_with = "lenient")]
    pub person_id: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "lenient")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient")]
    pub last_name: Option<String>,
    /// Expiry as chayns writes it (an ISO 8601 date-time). **Assumed** to be a string.
    #[serde(default, deserialize_with = "lenient")]
    pub expires: Option<String>,
    /// The token type as chayns reports it (number or string).
    #[serde(default, deserialize_with = "lenient")]
    pub token_type: Option<serde_json::Value>,
    /// Permissions granted to the token.
    #[serde(default, deserialize_with = "lenient")]
    pub permissions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default, deserialize_with = "lenient")]
    data: Option<Vec<AccessTokenInfo>>,
}

impl Endpoint for VerifyAccessToken {
    type Vendor = Chayns;
    type Credential = UserToken;
    type Output = AccessTokenInfo;

    fn encode(&self, base: &BaseUrl, token: &UserToken) -> Encoded {
        let auth = bearer(
            &token.0,
            "the chayns access token is not a valid header value",
        )?;
        let url = CALL.url_with_id(base, self.location_id);
        json::<()>(http::Method::GET, url, auth, None)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<AccessTokenInfo, UpstreamError> {
        if matches!(status.as_u16(), 401 | 403) {
            // The caller's token is invalid, expired or not for this site.
            return Err(UpstreamError {
                code: ErrorCode::Unauthenticated,
                status: status.as_u16(),
                message: error_message(body),
            });
        }
        if !status.is_success() {
            return Err(super::error(status, body));
        }
        serde_json::from_slice::<Answer>(body)
            .ok()
            .and_then(|a| a.data)
            .and_then(|d| d.into_iter().next())
            .ok_or_else(|| UpstreamError {
                code: ErrorCode::InvalidResponse,
                status: status.as_u16(),
                message: "chayns confirmed the token without describing it".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn golden_request() {
        let base = BaseUrl::parse("https://api.chayns.net").unwrap();
        let http = VerifyAccessToken {
            location_id: 77_890,
        }
        .encode(&base, &UserToken(SecretString::from("tok")))
        .unwrap();
        assert_eq!(http.method(), "GET");
        assert_eq!(http.uri(), "https://api.chayns.net/v2.0/77890/AccessToken");
        assert_eq!(http.headers()["authorization"], "Bearer tok");
        assert!(http.body().is_empty());
    }

    #[test]
    fn decodes_data_zero_tolerantly() {
        let body = br#"{"data":[{"locationId":77890,"userId":1234567,"personId":"131-12345","firstName":"Anna",
            "lastName":"Muster","expires":"2026-12-01T10:00:00Z","tokenType":2,"permissions":["Intercom"],"new":1}]}"#;
        let info = VerifyAccessToken::decode(http::StatusCode::OK, body).unwrap();
        assert_eq!(info.user_id, Some(1_234_567));
        assert_eq!(info.location_id, Some(77_890));
        assert_eq!(info.first_name.as_deref(), Some("Anna"));
        assert_eq!(info.permissions, Some(vec!["Intercom".to_owned()]));
        // A field of an unexpected type is dropped, not fatal.
        let odd = VerifyAccessToken::decode(
            http::StatusCode::OK,
            br#"{"data":[{"userId":"x","locationId":5}]}"#,
        )
        .unwrap();
        assert_eq!((odd.user_id, odd.location_id), (None, Some(5)));
        let e =
            VerifyAccessToken::decode(http::StatusCode::UNAUTHORIZED, br#"{"message":"expired"}"#)
                .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthenticated);
        let e = VerifyAccessToken::decode(http::StatusCode::OK, br#"{"data":[]}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidResponse);
    }
}
