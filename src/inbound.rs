//! Replies from a vendor to the page (DESIGN.md, "Replies"): what a vendor's webhook delivery
//! means, normalised to one event shape, sans-IO. The vendors' own formats and rules live in
//! `vendors/<vendor>/webhook.rs`; the relay verifies, stores and streams what these give.

use serde::{Deserialize, Serialize};

#[allow(unused_imports)]
use crate::operation::Vendor as _;

/// What a reply event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A message for the visitor.
    Message,
    /// A change of the conversation's state (e.g. resolved, ended), `text` naming it.
    Status,
}

/// Who wrote a reply event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    /// A person at the company.
    Agent,
    /// The vendor's or the company's bot.
    Bot,
    /// The platform itself (status changes).
    System,
}

/// One event for the page, before the relay numbers it (`seq`) in its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyEvent {
    /// A message or a status change.
    pub kind: Kind,
    /// Who wrote it.
    pub author: Author,
    /// The message text, or the new status.
    pub text: String,
    /// When the vendor says it happened (RFC 3339, or the vendor's own text when it gives
    /// another form).
    pub at: String,
    /// The vendor's id of the message or activity.
    pub vendor_message_id: String,
}

/// What one webhook delivery holds for the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The vendor's conversation (LiveDesk) or session (mluvii) it belongs to: what a stream is
    /// bound to.
    pub conversation: String,
    /// The same for every redelivery of this event: what duplicates are recognised by.
    pub dedup_key: String,
    /// The event for the page, or `None` for one no page may see (a private note, an activity
    /// line, the visitor's own message, an event of no interest).
    pub event: Option<ReplyEvent>,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The signature is missing, malformed or wrong.
    #[error("the webhook signature does not match")]
    BadSignature,
    /// The signed timestamp is outside the accepted window (a replay, or a clock far off).
    #[error("the webhook timestamp is outside the accepted window")]
    Stale,
    /// The body is not the vendor's webhook format.
    #[error("the webhook body is not understood: {0}")]
    Unreadable(&'static str),
}

/// The vendors that deliver replies by webhook (VENDORS.md, "inbound"); chayns and MEMOIO
/// publish none.
pub const VENDORS: &[&str] = &[
    #[cfg(feature = "livedesk")]
    crate::vendors::livedesk::LiveDesk::NAME,
    #[cfg(feature = "mluvii")]
    crate::vendors::mluvii::Mluvii::NAME,
];

/// Verifies and reads one webhook delivery of `vendor`: `header` looks a request header up (by
/// its lowercase name); `signing`, where the vendor signs and the relay has the secret, is
/// checked first, before the body is read at all. `now_secs`: the relay's clock, for the
/// signature's time window.
pub fn receive(
    vendor: &str,
    signing: Option<&secrecy::SecretString>,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now_secs: u64,
) -> Result<Delivery, InboundError> {
    // (Unused without the vendors' features.)
    let _ = (signing, header, body, now_secs);
    match vendor {
        #[cfg(feature = "livedesk")]
        crate::vendors::livedesk::LiveDesk::NAME => {
            use crate::vendors::livedesk::webhook;
            if let Some(secret) = signing {
                webhook::verify(
                    secret,
                    header(webhook::TIMESTAMP_HEADER).as_deref(),
                    header(webhook::SIGNATURE_HEADER).as_deref(),
                    body,
                    now_secs,
                )?;
            }
            webhook::parse(body, header(webhook::DELIVERY_HEADER).as_deref())
        }
        #[cfg(feature = "mluvii")]
        crate::vendors::mluvii::Mluvii::NAME => crate::vendors::mluvii::webhook::parse(body),
        _ => Err(InboundError::Unreadable("no webhooks from this vendor")),
    }
}

/// A vendor's list of a conversation's recent messages, read to fill a gap in a stream where
/// webhooks were missed (the relay down past the vendor's retries). LiveDesk has one; mluvii
/// publishes none, so a missed mluvii webhook stays missed.
pub trait Backfill: 'static {
    /// The vendor (`livedesk`).
    const VENDOR: &'static str;
    /// What the request authenticates with.
    type Credential: Send + Sync + 'static;
    /// The request for `conversation`'s recent messages, or `None` for an id it cannot name.
    fn request(
        base: &crate::base_url::BaseUrl,
        credential: &Self::Credential,
        conversation: &str,
    ) -> Option<http::Request<Vec<u8>>>;
    /// Each message of the answer as its webhook delivery would read (same event, same key).
    fn read(
        conversation: &str,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Vec<Delivery>, InboundError>;
}

/// Visits every [`Backfill`].
pub trait BackfillVisitor {
    /// Called once per vendor that has one.
    fn visit<B: Backfill>(&mut self);
}

/// Calls `visitor.visit::<B>()` for every vendor's backfill.
#[allow(unused_variables)]
pub fn visit_backfills<V: BackfillVisitor>(visitor: &mut V) {
    #[cfg(feature = "livedesk")]
    visitor.visit::<crate::vendors::livedesk::webhook::RecentMessages>();
}

/// What a registration answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// Registered (or updated), with the webhook's id when the vendor gives it.
    Done(Option<String>),
    /// The URL is registered already, as webhook `id`: update that one.
    Exists(String),
    /// Refused with this HTTP status.
    Refused(u16),
}

/// A vendor's API for registering the relay's intake as its webhook (mluvii's; LiveDesk's URL
/// is pasted into its console).
pub trait Registration: 'static {
    /// The vendor (`mluvii`).
    const VENDOR: &'static str;
    /// What the requests authenticate with.
    type Credential: Send + Sync + 'static;
    /// Registers `url` for the events replies need.
    fn register(
        base: &crate::base_url::BaseUrl,
        credential: &Self::Credential,
        url: &str,
    ) -> Option<http::Request<Vec<u8>>>;
    /// Points webhook `id` at `url`, for the same events.
    fn update(
        base: &crate::base_url::BaseUrl,
        credential: &Self::Credential,
        id: &str,
        url: &str,
    ) -> Option<http::Request<Vec<u8>>>;
    /// Reads an answer to either.
    fn registered(status: http::StatusCode, body: &[u8]) -> Registered;
}

/// Visits every [`Registration`].
pub trait RegistrationVisitor {
    /// Called once per vendor that has one.
    fn visit<R: Registration>(&mut self);
}

/// Calls `visitor.visit::<R>()` for every vendor's registration.
#[allow(unused_variables)]
pub fn visit_registrations<V: RegistrationVisitor>(visitor: &mut V) {
    #[cfg(feature = "mluvii")]
    visitor.visit::<crate::vendors::mluvii::webhook::Registration>();
}
