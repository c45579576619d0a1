//! Building vendor HTTP requests: auth header values from secrets (marked sensitive, so they are
//! never printed by `Debug`), and JSON requests.

use base64::Engine as _;
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::operation::EncodeError;

/// A header value carrying a secret as it is (e.g. MEMOIO's `Authorization: <key>`).
pub fn secret_header(
    secret: &SecretString,
    what: &'static str,
) -> Result<HeaderValue, EncodeError> {
    sensitive(secret.expose_secret(), what)
}

/// `Basic base64(user:secret)`.
pub fn basic(
    user: &str,
    secret: &SecretString,
    what: &'static str,
) -> Result<HeaderValue, EncodeError> {
    let mut plain = String::with_capacity(user.len() + 1 + secret.expose_secret().len());
    plain.push_str(user);
    plain.push(':');
    plain.push_str(secret.expose_secret());
    let mut value = String::from("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(plain.as_bytes(), &mut value);
    sensitive(&value, what)
}

/// `Bearer <token>`.
pub fn bearer(token: &SecretString, what: &'static str) -> Result<HeaderValue, EncodeError> {
    let mut value = String::from("Bearer ");
    value.push_str(token.expose_secret());
    sensitive(&value, what)
}

fn sensitive(value: &str, what: &'static str) -> Result<HeaderValue, EncodeError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| EncodeError(what))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A JSON request: `method url`, `Authorization: auth`, body `body`.
pub fn json<B: Serialize>(
    method: http::Method,
    url: String,
    auth: HeaderValue,
    body: Option<&B>,
) -> Result<http::Request<Vec<u8>>, EncodeError> {
    let bytes = body
        .map(serde_json::to_vec)
        .transpose()
        .map_err(|_| EncodeError("the body cannot be encoded as JSON"))?;
    json_bytes(method, url, auth, bytes)
}

/// A JSON request whose body is already encoded.
pub fn json_bytes(
    method: http::Method,
    url: String,
    auth: HeaderValue,
    body: Option<Vec<u8>>,
) -> Result<http::Request<Vec<u8>>, EncodeError> {
    let builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header(ACCEPT, "application/json")
        .header(AUTHORIZATION, auth);
    Ok(match body {
        Some(bytes) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(bytes)?,
        None => builder.body(Vec::new())?,
    })
}

/// Percent-encodes one URL path segment (ids are numbers, but a GUID or text may be too).
pub fn path_segment(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_is_base64_of_user_colon_secret_and_sensitive() {
        let v = basic("123", &SecretString::from("s3cret"), "x").unwrap();
        assert_eq!(v, "Basic MTIzOnMzY3JldA==");
        assert!(v.is_sensitive());
        assert!(bearer(&SecretString::from("a\nb"), "bad token").is_err());
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("a b/c?d"), "a%20b%2Fc%3Fd");
    }
}
