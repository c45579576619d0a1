//! The shape every vendor endpoint definition has: a request type that validates itself, encodes
//! itself into an HTTP request with the vendor's credential, and decodes the vendor's answer.

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Serialize;

mod parse;

pub use parse::{check_request, parse_request};

use crate::base_url::BaseUrl;
use crate::encode::{EncodeError, Encoded};
use crate::error::ErrorCode;
use crate::read::Read;
use crate::reply::UpstreamError;
use crate::validate::Validate;

/// A vendor API: its name in operation ids and its default base URL.
pub trait Vendor: 'static {
    /// The vendor segment of operation ids and relay paths, e.g. `memoio`.
    const NAME: &'static str;
    /// The production base URL, without a trailing slash.
    const DEFAULT_BASE_URL: &'static str;
    /// Whether the vendor delivers its agents' replies to the company (a webhook), which the
    /// relay streams to the page that started the conversation (DESIGN.md, "Replies"): LiveDesk
    /// and mluvii do; MEMOIO and chayns publish no such thing (VENDORS.md), and their results'
    /// TypeScript type says so.
    const REPLIES: bool;
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

/// One vendor endpoint: a request that validates itself, encodes itself into an HTTP request
/// with the credential the endpoint needs, and decodes the vendor's answer. No I/O.
pub trait Endpoint: Send + Sync + 'static {
    /// Whose API this is.
    type Vendor: Vendor;
    /// What [`Self::encode`] needs to authenticate: a company secret, a user token, an OAuth
    /// token. A distinct type per kind, so no request can be encoded with the wrong one.
    type Credential: Send + Sync + 'static;
    /// The decoded vendor answer.
    type Output: Send;

    /// The vendor HTTP request, credential applied. Call only after [`Validate::validate`] passed.
    fn encode(&self, base: &BaseUrl, credential: &Self::Credential) -> Encoded;

    /// The vendor's answer, as a typed result or a typed upstream error.
    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Self::Output, UpstreamError>;
}

/// What the relay and the SDK know of an operation without running it. Declared once, on the
/// request type: `#[hail_derive::request]` with `#[operation(id = …, sends = …, ts_output = …,
/// summary = …, example = …)]` (see the `hail-derive` crate).
pub trait Metadata {
    /// `vendor/operation`, e.g. `livedesk/start-conversation`; the relay serves it at
    /// `POST /v1/{ID}`.
    const ID: &'static str;
    /// The vendor segment of [`Self::ID`]: the relay client's namespace (`hail.memoio`).
    const VENDOR: &'static str;
    /// The method of the operation in its namespace, e.g. `startConversation`: the id's name in
    /// camelCase unless `#[operation(js = …)]` says otherwise.
    const JS_METHOD: &'static str;
    /// That method's TypeScript declaration with its JSDoc (the summary), e.g.
    /// `startConversation(input: MemoioStartConversation, options?: CallOptions): Promise<…>;`.
    const TS_METHOD: &'static str;
    /// What the operation does, and the vendor call(s) it makes: the method's JSDoc.
    const SUMMARY: &'static str;
    /// Whether the operation sends something (and so needs an `Idempotency-Key`).
    const SENDS: bool;
    /// Top-level fields holding one e-mail address, whose domain the vendor treats
    /// case-insensitively (as DNS does): a relay `pin` or `bind` on one accepts the domain in
    /// any case, and the pinned spelling is what is sent. Every other pinned or bound field
    /// must be given exactly as pinned.
    const EMAIL_FIELDS: &'static [&'static str];
    /// The TypeScript type of the request (the name its tsify derive gives it), for the
    /// package's `Operations` map.
    const TS_INPUT: &'static str;
    /// The TypeScript type of the result as JS receives it (a declared type's name, or an
    /// expression such as `Subscription[]`), for the package's `Operations` map.
    const TS_OUTPUT: &'static str;
    /// A valid input as JSON: documentation, and the seed of the property tests (a catalog
    /// test checks that it reads and validates).
    const EXAMPLE: &'static str;
    /// Whether its result opens a vendor conversation (`#[operation(replies)]`), to which the
    /// relay binds a reply stream: then [`Operation::thread`] names that conversation (a catalog
    /// test checks both ways), and the SDK's result carries `replies()`.
    const REPLIES: bool;
    /// The TypeScript type of the whole result (what the namespace method and `call` resolve
    /// to), e.g. `ConversationResult<StartedConversation>` or `CallResult<Contact>`.
    const TS_RESULT: &'static str;
}

/// An endpoint the relay exposes as one operation, `POST /v1/{ID}` (one vendor call).
pub trait SingleCall: Endpoint + Metadata + Validate + Serialize {
    /// See [`Operation::wants_caller_token`].
    fn wants_caller_token(&self) -> bool {
        false
    }

    /// The vendor request made as the caller: [`Endpoint::encode`] plus the caller's verified
    /// vendor token (relay only, after verifying it), for a request that
    /// [`Self::wants_caller_token`]. The token is the caller's credential: it travels beside the
    /// request, never inside it.
    fn encode_as_caller(
        &self,
        base: &BaseUrl,
        credential: &Self::Credential,
        _caller_token: &SecretString,
    ) -> Encoded {
        self.encode(base, credential)
    }

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

    /// See [`Operation::thread`].
    fn thread(_output: &Self::Output) -> Thread {
        Thread::default()
    }

    /// See [`Operation::follow_up`].
    fn follow_up(_conversation: &str, _content: &str) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// What a successful send means for replies (DESIGN.md, "Replies"): the vendor conversation it
/// opened, which the relay binds a reply stream to, and the vendor ids of the messages it sent,
/// so that their webhook echoes are never taken for an agent's reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    /// The conversation this send opened (LiveDesk's conversation id), if it opened one.
    pub opens: Option<String>,
    /// The vendor ids of the messages it sent.
    pub sent: Vec<String>,
}

/// The error of a read-back an endpoint does not have.
fn no_look_back(status: http::StatusCode, _body: &[u8]) -> UpstreamError {
    UpstreamError {
        code: ErrorCode::Internal,
        status: status.as_u16(),
        message: "this endpoint has no read-back".to_owned(),
    }
}

/// What the relay exposes as `POST /v1/{ID}`: one or more vendor calls in order, driven by the
/// relay without knowing the vendor. `Progress` is what the calls so far produced; the relay
/// stores it, so a retry with the same idempotency key resumes after the last call that
/// succeeded instead of repeating it.
pub trait Operation:
    Metadata + Validate + Read + Schema + Serialize + Send + Sync + 'static
{
    /// Whose API this is.
    type Vendor: Vendor;
    /// What every call of this operation authenticates with.
    type Credential: Send + Sync + 'static;
    /// The result passed on as the success envelope's `data`.
    type Output: Serialize + Send + Schema;
    /// What the calls so far produced; `Default` before the first.
    type Progress: Default + Clone + Serialize + DeserializeOwned + Send + Sync;

    /// The next vendor request, or `None` when every call is done. `caller_token`: the caller's
    /// verified vendor token, given when [`Self::wants_caller_token`].
    fn next_request(
        &self,
        progress: &Self::Progress,
        base: &BaseUrl,
        credential: &Self::Credential,
        caller_token: Option<&SecretString>,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError>;

    /// Records the vendor's answer to the request [`Self::next_request`] gave.
    fn record(
        &self,
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
    /// token (chayns Intercom with `asCaller`) passed to [`Self::next_request`].
    fn wants_caller_token(&self) -> bool {
        false
    }

    /// After an unknown outcome (a timeout after sending, a dropped connection, a relay that
    /// died mid-call; DESIGN.md, "Reliability rules"): the vendor request that reads back
    /// whether the call `progress` is at was acted on, or `None` where the vendor offers no way
    /// to look (the answer then stays `outcome_unknown`). `since_ms`: when the first try began, less the relay's allowance
    /// for the vendor's clock (`idempotency.look_back_skew_seconds`): nothing dated earlier is
    /// that try's.
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

    /// What this result means for replies: the conversation it opened and the messages it sent
    /// (see [`Thread`]); nothing by default.
    fn thread(_output: &Self::Output) -> Thread {
        Thread::default()
    }

    /// The visitor's follow-up `content` in the vendor's `conversation`, where this operation
    /// is the vendor's way to send one (`POST /v1/replies/{stream}/messages`); `None` for every
    /// other operation. Validated like any request before it is sent.
    fn follow_up(_conversation: &str, _content: &str) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

impl<E> Operation for E
where
    E: SingleCall + Read + Schema,
    E::Output: Serialize + DeserializeOwned + Clone + Send + Sync + Schema,
{
    type Vendor = <E as Endpoint>::Vendor;
    type Credential = <E as Endpoint>::Credential;
    type Output = <E as Endpoint>::Output;
    type Progress = Option<<E as Endpoint>::Output>;

    fn next_request(
        &self,
        progress: &Self::Progress,
        base: &BaseUrl,
        credential: &Self::Credential,
        caller_token: Option<&SecretString>,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        match (progress, caller_token) {
            (Some(_), _) => Ok(None),
            (None, Some(token)) => self.encode_as_caller(base, credential, token).map(Some),
            (None, None) => self.encode(base, credential).map(Some),
        }
    }

    fn record(
        &self,
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

    fn thread(output: &Self::Output) -> Thread {
        <E as SingleCall>::thread(output)
    }

    fn follow_up(conversation: &str, content: &str) -> Option<Self> {
        <E as SingleCall>::follow_up(conversation, content)
    }
}
