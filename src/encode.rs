//! Building vendor HTTP requests: auth header values from secrets (marked sensitive, so they are
//! never printed by `Debug`), and JSON requests.

use base64::Engine as _;
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// A vendor request ready to send, or why it could not be built.
pub type Encoded = Result<http::Request<Vec<u8>>, EncodeError>;

/// A request could not be encoded (a credential or base URL that makes no valid HTTP request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub &'static str);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<http::Error> for EncodeError {
    fn from(_: http::Error) -> Self {
        Self("the request has an invalid URL or header value")
    }
}

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

/// A header value that carries a secret, marked sensitive.
pub fn sensitive(value: &str, what: &'static str) -> Result<HeaderValue, EncodeError> {
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
) -> Encoded {
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
) -> Encoded {
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

/// Appends `s` as a JSON string literal, escaped exactly as serde_json does (`"`, `\\` and
/// control characters; short forms where JSON has them). Hand-written because it is the
/// browser SDK's only JSON encoding, and serde's serializer would cost it kilobytes; a property
/// test holds it to serde_json's output.
pub fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `n` in decimal, without the formatting machinery (which the browser SDK avoids).
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// What a path segment escapes: all but RFC 3986's unreserved characters, and `.` too, so no
/// input can add a segment, a query, a fragment or a dot-segment (`..`).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one URL path segment (ids are numbers, but a GUID or text may be too).
pub fn path_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT).to_string()
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

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn json_strings_match_serde_json(s in "\\PC*|[\\x00-\\x1f\"\\\\\u{7f}\u{2028}é😀]*") {
            let mut out = String::new();
            push_json_string(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn decimals_match_display(n: u64) {
            let mut out = String::new();
            push_decimal(&mut out, n);
            proptest::prop_assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(path_segment("../x#y%"), "%2E%2E%2Fx%23y%25");
        assert_eq!(path_segment("6f9619ff-8b86-d011"), "6f9619ff-8b86-d011");
        assert_eq!(path_segment("ž"), "%C5%BE");
    }
}
