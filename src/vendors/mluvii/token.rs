//! The OAuth2 client-credentials token: `POST https://app.mluvii.com/login/connect/token`,
//! form `response_type=token&grant_type=client_credentials&client_id=…&client_secret=…`.
//! The relay caches the token and refreshes it before it expires, one refresh at a time.

use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{AccessToken, ClientCredentials, Mluvii};
use crate::base_url::BaseUrl;
use crate::credential::Issue;
use crate::encode::Encoded;
use crate::error::ErrorCode;
use crate::operation::Endpoint;
use crate::reply::{body_excerpt, lenient, UpstreamError};

/// The vendor call.
pub const CALL: crate::vendor_call::VendorCall =
    crate::vendor_call::VendorCall::post("/login/connect/token");
/// Lifetime assumed when mluvii names none (its tokens last about an hour).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Request a token for the company's client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestToken;

/// A token and how long it lives (from `expires_in`).
pub type Token = Issue<AccessToken>;

/// The answer, keys lower-cased first (read case-insensitively, as every mluvii answer).
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct Answer {
    access_token: String,
    #[serde(default, deserialize_with = "lenient")]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "lenient")]
    error: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    error_description: Option<String>,
}

impl Endpoint for RequestToken {
    type Vendor = Mluvii;
    type Credential = ClientCredentials;
    type Output = Token;

    fn encode(&self, base: &BaseUrl, client: &ClientCredentials) -> Encoded {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "token")
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &client.client_id)
            .append_pair("client_secret", client.client_secret.expose_secret())
            .finish();
        Ok(http::Request::post(CALL.url(base, &[], "")?)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.into_bytes())?)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Token, UpstreamError> {
        if !status.is_success() {
            let message = match serde_json::from_slice::<ErrorBody>(body) {
                Ok(ErrorBody {
                    error: Some(e),
                    error_description,
                }) => match error_description {
                    Some(d) => format!("{e}: {d}"),
                    None => e,
                },
                _ => body_excerpt(body),
            };
            return Err(UpstreamError::from_status(status, message));
        }
        let answer: Answer = serde_json::from_slice(body)
            .map(super::lower_keys)
            .and_then(serde_json::from_value)
            .map_err(|_| UpstreamError {
                code: ErrorCode::InvalidResponse,
                status: status.as_u16(),
                message: "mluvii's token answer has no access_token".to_owned(),
            })?;
        Ok(Token {
            token: AccessToken(SecretString::from(answer.access_token)),
            lifetime: answer
                .expires_in
                .map_or(DEFAULT_LIFETIME, Duration::from_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::mluvii::tests::base;

    #[test]
    fn golden_request() {
        let client = ClientCredentials {
            client_id: "hail app".into(),
            client_secret: SecretString::from("s&cret"),
        };
        let http = RequestToken.encode(&base(), &client).unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(http.uri(), "https://app.mluvii.com/login/connect/token");
        assert_eq!(
            http.headers()["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            "response_type=token&grant_type=client_credentials&client_id=hail+app&client_secret=s%26cret"
        );
    }

    #[test]
    fn decodes_the_token_answer() {
        let t = RequestToken::decode(
            http::StatusCode::OK,
            br#"{"access_token":"eyJ","expires_in":3599,"token_type":"Bearer","scope":"api"}"#,
        )
        .unwrap();
        assert_eq!(t.token.0.expose_secret(), "eyJ");
        assert_eq!(t.lifetime, Duration::from_secs(3599));
        let t = RequestToken::decode(
            http::StatusCode::OK,
            br#"{"access_token":"x","expires_in":"soon"}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime, DEFAULT_LIFETIME);
        // Read case-insensitively, as every mluvii answer.
        let t = RequestToken::decode(
            http::StatusCode::OK,
            br#"{"Access_Token":"y","Expires_In":60}"#,
        )
        .unwrap();
        assert_eq!(
            (t.token.0.expose_secret(), t.lifetime),
            ("y", Duration::from_secs(60))
        );
        let e = RequestToken::decode(
            http::StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_client"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::UpstreamRejected, "invalid_client")
        );
        let e = RequestToken::decode(http::StatusCode::OK, b"{}").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidResponse);
    }
}
