//! The shape every vendor endpoint definition has: a request type that validates itself, encodes
//! itself into an HTTP request with the vendor's credential, and decodes the vendor's answer.

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod parse;

pub use parse::{check_request, parse_request};

use crate::error::{ErrorCode, Violation};
use crate::read::Read;

/// A vendor API: its name in operation ids and its default base URL.
pub trait Vendor: 'static {
    /// The vendor segment of operation ids and relay paths, e.g. `memoio`.
    const NAME: &'static str;
    /// The production base URL, without a trailing slash.
    const DEFAULT_BASE_URL: &'static str;
}

/// Types the relay describes in its OpenAPI document (with feature `openapi`); no bound
/// otherwise, so the browser build carries no schema code.
#[cfg(feature = "openapi")]
pub trait Schema: utoipa::ToSchema {}
#[cfg(feature = "openapi")]
impl<T: utoipa::ToSchema> Schema for T {}
/// Types the relay describes in its OpenAPI document (with feature `openapi`).
#[cfg(not(feature = "openapi"))]
pub trait Schema {}
#[cfg(not(feature = "openapi"))]
impl<T: ?Sized> Schema for T {}

/// A request that checks itself: the same code in the browser and in the relay.
pub trait Validate {
    /// Every broken rule of this request, or `Ok`.
    fn validate(&self) -> Result<(), Vec<Violation>>;
}

/// One vendor endpoint: a request that validates itself, encodes itself into an HTTP request
/// with the credential the endpoint needs, and decodes the vendor's answer. No I/O.
pub trait Endpoint: Validate + Serialize + Send + Sync + 'static {
    /// Whose API this is.
    type Vendor: Vendor;
    /// What [`Self::encode`] needs to authenticate: a company secret, a user token, an OAuth
    /// token. A distinct type per kind, so no request can be encoded with the wrong one.
    type Credential: Send + Sync + 'static;
    /// The decoded vendor answer.
    type Output: Send;

    /// The vendor HTTP request, credential applied. Call only after [`Validate::validate`] passed.
    fn encode(
        &self,
        base: &BaseUrl,
        credential: &Self::Credential,
    ) -> Result<http::Request<Vec<u8>>, EncodeError>;

    /// The vendor's answer, as a typed result or a typed upstream error.
    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Self::Output, UpstreamError>;
}

/// An endpoint the relay exposes as one operation, `POST /v1/{ID}` (one vendor call).
pub trait SingleCall: Endpoint {
    /// `vendor/operation`, e.g. `memoio/start-conversation`.
    const ID: &'static str;
    /// Whether the call sends something (and so needs an `Idempotency-Key`).
    const SENDS: bool;
    /// See [`Operation::EMAIL_FIELDS`].
    const EMAIL_FIELDS: &'static [&'static str] = &[];
    /// See [`Operation::TS_INPUT`].
    const TS_INPUT: &'static str;
    /// See [`Operation::TS_OUTPUT`].
    const TS_OUTPUT: &'static str;

    /// See [`Operation::wants_caller_token`].
    fn wants_caller_token(&self) -> bool {
        false
    }

    /// See [`Operation::set_caller_token`].
    fn set_caller_token(&mut self, _token: SecretString) {}

    /// See [`Operation::look_back`]: the read-back request, where the vendor offers one.
    fn look_back(
        &self,
        _since_ms: u64,
        _base: &BaseUrl,
        _credential: &Self::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        Ok(None)
    }

    /// See [`Operation::looked`]: what the vendor made, or `None` when it provably did not act.
    fn looked(
        &self,
        _since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Option<Self::Output>, UpstreamError> {
        Err(no_look_back(status, body))
    }
}

/// The error of a read-back an endpoint does not have.
fn no_look_back(status: http::StatusCode, _body: &[u8]) -> UpstreamError {
    UpstreamError {
        code: ErrorCode::Internal,
        status: status.as_u16(),
        message: "this endpoint has no read-back".to_owned(),
    }
}

/// A read-back may match what was sent only if it was made after the first try began, less
/// this allowance for the vendor's clock. **Assumed**: vendor clocks are within a minute.
pub const LOOK_BACK_SKEW_MS: u64 = 60_000;

/// What the relay exposes as `POST /v1/{ID}`: one or more vendor calls in order, driven by the
/// relay without knowing the vendor. `Progress` is what the calls so far produced; the relay
/// stores it, so a retry with the same idempotency key resumes after the last call that
/// succeeded instead of repeating it.
pub trait Operation: Validate + Read + Schema + Serialize + Send + Sync + 'static {
    /// `vendor/operation`, e.g. `livedesk/start-conversation`.
    const ID: &'static str;
    /// Whether the operation sends something (and so needs an `Idempotency-Key`).
    const SENDS: bool;
    /// Top-level fields holding one e-mail address, whose domain the vendor treats
    /// case-insensitively (as DNS does): a relay `pin` or `bind` on one accepts the domain in
    /// any case, and the pinned spelling is what is sent. Every other pinned or bound field
    /// must be given exactly as pinned.
    const EMAIL_FIELDS: &'static [&'static str] = &[];
    /// The TypeScript type of the request (the name its tsify derive gives it), for the
    /// package's `Operations` map.
    const TS_INPUT: &'static str;
    /// The TypeScript type of [`Self::Output`] as JS receives it (a declared type's name, or
    /// an expression such as `Subscription[]`), for the package's `Operations` map.
    const TS_OUTPUT: &'static str;
    /// Whose API this is.
    type Vendor: Vendor;
    /// What every call of this operation authenticates with.
    type Credential: Send + Sync + 'static;
    /// The result passed on as the success envelope's `data`.
    type Output: Serialize + Send + Schema;
    /// What the calls so far produced; `Default` before the first.
    type Progress: Default + Clone + Serialize + DeserializeOwned + Send + Sync;

    /// The next vendor request, or `None` when every call is done.
    fn next_request(
        &self,
        progress: &Self::Progress,
        base: &BaseUrl,
        credential: &Self::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError>;

    /// Records the vendor's answer to the request [`Self::next_request`] gave.
    fn record(
        progress: &mut Self::Progress,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<(), UpstreamError>;

    /// The result, once [`Self::next_request`] returned `None`.
    fn output(progress: Self::Progress) -> Option<Self::Output>;

    /// The name of the call `progress` is at, for errors of multi-call operations.
    fn step(_progress: &Self::Progress) -> Option<&'static str> {
        None
    }

    /// Whether this request acts as the caller and so needs the caller's own verified vendor
    /// token (chayns Intercom with `asCaller`).
    fn wants_caller_token(&self) -> bool {
        false
    }

    /// Supplies the caller's verified token (relay only, after verifying it).
    fn set_caller_token(&mut self, _token: SecretString) {}

    /// After an unknown outcome (a timeout after sending, a dropped connection, a relay that
    /// died mid-call; DESIGN.md, "Reliability rules"): the vendor request that reads back
    /// whether the call `progress` is at was acted on, or `None` where the vendor offers no way
    /// to look (the answer then stays `outcome_unknown`). `since_ms`: when the first try began.
    fn look_back(
        &self,
        _progress: &Self::Progress,
        _since_ms: u64,
        _base: &BaseUrl,
        _credential: &Self::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        Ok(None)
    }

    /// Reads the answer to [`Self::look_back`]: `Ok(true)` when the vendor did act (`progress`
    /// now holds what it made, as if the call had answered), `Ok(false)` when it provably did
    /// not (sending is safe), `Err` when it cannot tell.
    fn looked(
        &self,
        _progress: &mut Self::Progress,
        _since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<bool, UpstreamError> {
        Err(no_look_back(status, body))
    }
}

impl<E> Operation for E
where
    E: SingleCall + Read + Schema,
    E::Output: Serialize + DeserializeOwned + Clone + Send + Sync + Schema,
{
    const ID: &'static str = <E as SingleCall>::ID;
    const SENDS: bool = <E as SingleCall>::SENDS;
    const EMAIL_FIELDS: &'static [&'static str] = <E as SingleCall>::EMAIL_FIELDS;
    const TS_INPUT: &'static str = <E as SingleCall>::TS_INPUT;
    const TS_OUTPUT: &'static str = <E as SingleCall>::TS_OUTPUT;
    type Vendor = <E as Endpoint>::Vendor;
    type Credential = <E as Endpoint>::Credential;
    type Output = <E as Endpoint>::Output;
    type Progress = Option<<E as Endpoint>::Output>;

    fn next_request(
        &self,
        progress: &Self::Progress,
        base: &BaseUrl,
        credential: &Self::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        match progress {
            Some(_) => Ok(None),
            None => self.encode(base, credential).map(Some),
        }
    }

    fn record(
        progress: &mut Self::Progress,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<(), UpstreamError> {
        *progress = Some(E::decode(status, body)?);
        Ok(())
    }

    fn output(progress: Self::Progress) -> Option<Self::Output> {
        progress
    }

    fn wants_caller_token(&self) -> bool {
        SingleCall::wants_caller_token(self)
    }

    fn set_caller_token(&mut self, token: SecretString) {
        SingleCall::set_caller_token(self, token);
    }

    fn look_back(
        &self,
        progress: &Self::Progress,
        since_ms: u64,
        base: &BaseUrl,
        credential: &Self::Credential,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        match progress {
            Some(_) => Ok(None),
            None => SingleCall::look_back(self, since_ms, base, credential),
        }
    }

    fn looked(
        &self,
        progress: &mut Self::Progress,
        since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<bool, UpstreamError> {
        let found = SingleCall::looked(self, since_ms, status, body)?;
        let acted = found.is_some();
        *progress = found;
        Ok(acted)
    }
}

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

/// A vendor API base URL: `http` or `https`, a host, an optional path prefix, no trailing slash,
/// no query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses and normalises (drops one trailing slash).
    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        if !trimmed.starts_with("http://") && !trimmed.starts_with("https://") {
            return Err(format!("\"{s}\" must start with http:// or https://"));
        }
        if !crate::validate::is_http_url(trimmed) || trimmed.contains(['?', '#']) {
            return Err(format!("\"{s}\" must be a URL with a host and no query"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self` followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.0.len() + path.len());
        url.push_str(&self.0);
        url.push_str(path);
        url
    }
}

impl TryFrom<String> for BaseUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<BaseUrl> for String {
    fn from(b: BaseUrl) -> String {
        b.0
    }
}

/// The vendor answered with an error, or not in a way Hail understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    /// `upstream_rejected` (vendor 4xx), `upstream_unavailable` (5xx), `unauthenticated` (the
    /// relay's credential was refused).
    pub code: ErrorCode,
    /// The vendor's HTTP status.
    pub status: u16,
    /// The vendor's own message, for `detail`.
    pub message: String,
}

impl UpstreamError {
    /// The default mapping of a non-success status: 5xx → unavailable, else rejected.
    pub fn from_status(status: http::StatusCode, message: String) -> Self {
        let code = if status.is_server_error() {
            ErrorCode::UpstreamUnavailable
        } else {
            ErrorCode::UpstreamRejected
        };
        Self {
            code,
            status: status.as_u16(),
            message,
        }
    }
}

/// A vendor answer passed on as it came: its JSON, or its text as a JSON string. For endpoints
/// whose success body is undocumented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawReply(Box<serde_json::value::RawValue>);

impl RawReply {
    /// The body's JSON, or its trimmed text as a JSON string.
    pub fn from_body(body: &[u8]) -> Self {
        if let Ok(raw) = serde_json::from_slice(body) {
            return Self(raw);
        }
        let text = String::from_utf8_lossy(body);
        // A string always serializes; the fallback is unreachable but keeps this panic-free.
        Self(
            serde_json::value::to_raw_value(text.trim())
                .unwrap_or_else(|_| serde_json::value::to_raw_value(&()).unwrap_or_default()),
        )
    }

    /// The reply as JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

/// Success when 2xx, passing the body on; else the status mapping of
/// [`UpstreamError::from_status`] with `message` taken from the body.
pub fn decode_raw(
    status: http::StatusCode,
    body: &[u8],
    message: impl Fn(&[u8]) -> String,
) -> Result<RawReply, UpstreamError> {
    if status.is_success() {
        Ok(RawReply::from_body(body))
    } else {
        Err(UpstreamError::from_status(status, message(body)))
    }
}

/// A vendor id passed on to JS: a number while it is exact in JS (≤ 2^53−1), else a string.
/// Reads either form.
// `Default` (0, never a valid id) only so that request readers can start from a blank value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Id(pub u64);

#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_ID: &'static str = r#"
/**
 * A vendor id: a number while exact in JavaScript (at most 2^53-1), else its decimal string.
 * Inputs take an id in either form, so an id a result gave can be passed on as it is.
 */
export type Id = number | string;
/** JSON as it came from a vendor (for answers whose shape the vendor does not document). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
"#;

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 <= crate::validate::ID_MAX {
            s.serialize_u64(self.0)
        } else {
            // Not `collect_str`: that links the formatting machinery into the browser SDK,
            // whose requests carry ids.
            let mut text = String::new();
            crate::encode::push_decimal(&mut text, self.0);
            s.serialize_str(&text)
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(u64),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(Id(n)),
            Either::Text(t) => t.parse().map(Id).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    impl utoipa::PartialSchema for super::Id {
        fn schema() -> RefOr<Schema> {
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)).minimum(Some(0)))
                .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).pattern(Some("^[0-9]+$")))
                .description(Some("A vendor id: a number while exact in JavaScript (at most 2^53-1), else its decimal string"))
                .into()
        }
    }

    impl utoipa::ToSchema for super::Id {}

    impl utoipa::PartialSchema for super::RawReply {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some(
                    "The vendor's answer as it came (JSON, or its text as a string)",
                ))
                .into()
        }
    }

    impl utoipa::ToSchema for super::RawReply {}

    /// A vendor value that is a number or a string (e.g. Chatwoot's message type).
    pub fn number_or_string() -> Schema {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)))
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))
            .build()
            .into()
    }
}

#[cfg(feature = "openapi")]
pub use schemas::number_or_string;

/// Tolerant decoding of vendor fields: a field of an unexpected type becomes `None` instead of
/// failing the whole answer. Use as `#[serde(default, deserialize_with = "lenient")]`.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// Longest vendor error text carried into a problem `detail`, in bytes.
pub const UPSTREAM_MESSAGE_MAX_BYTES: usize = 1024;

/// A vendor body as text for an error message: lossy UTF-8, cut at a char boundary.
pub fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(UPSTREAM_MESSAGE_MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // `get`, not indexing: the boundary is checked above, and indexing would link in the
    // panic message machinery of string slicing.
    text.get(..end).unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_normalises_and_rejects() {
        assert_eq!(
            BaseUrl::parse("https://memoio.com/").unwrap().as_str(),
            "https://memoio.com"
        );
        assert_eq!(
            BaseUrl::parse("http://127.0.0.1:9/x").unwrap().join("/api"),
            "http://127.0.0.1:9/x/api"
        );
        for bad in ["", "memoio.com", "ftp://x", "https://x/?a=1", "https://"] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_are_numbers_while_exact_in_js() {
        assert_eq!(
            serde_json::to_string(&Id(17_623_000_010_928)).unwrap(),
            "17623000010928"
        );
        assert_eq!(
            serde_json::to_string(&Id(1 << 53)).unwrap(),
            "\"9007199254740992\""
        );
        assert_eq!(
            serde_json::from_str::<Id>("\"9007199254740992\"").unwrap(),
            Id(1 << 53)
        );
        assert_eq!(serde_json::from_str::<Id>("40").unwrap(), Id(40));
        assert!(serde_json::from_str::<Id>("-1").is_err());
    }

    #[test]
    fn body_excerpt_cuts_at_a_char_boundary() {
        let body = "ü".repeat(UPSTREAM_MESSAGE_MAX_BYTES);
        let cut = body_excerpt(body.as_bytes());
        assert!(cut.len() <= UPSTREAM_MESSAGE_MAX_BYTES);
        assert!(cut.chars().all(|c| c == 'ü'));
    }
}
