//! `memoio/start-direct-conversation`: `POST https://memoio.com/api/start-direct-conversation`.
//!
//! Connects two people in one conversation on behalf of the company; one of them must belong to
//! the company (MEMOIO checks that).

use super::{
    decode, Extras, Form, Memoio, Person, Reply, SecretKey, MESSAGE_MAX_CHARS, RECEIVER, SENDER,
};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::error::Violation;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::UpstreamError;
use crate::validate::Validate;
use crate::validate::Violations;

/// The vendor call.
pub const CALL: crate::vendor_call::VendorCall =
    crate::vendor_call::VendorCall::post("/api/start-direct-conversation");

/// Connect a sender and a receiver.
///
/// **Assumed** required: `sender`, `receiver`, `message`.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "memoio/start-direct-conversation",
    sends = true,
    ts_output = "MemoioReply",
    summary = "Connects two people (one of them belongs to the company) in one conversation, in the company's name.",
    calls = [CALL],
    email_fields = ["sender", "receiver"],
    example = r#"{"sender":"bob@company.com","receiver":"anna@example.com","message":"Hi","tags":["a"],"senderName":"Bob"}"#
)]
pub struct StartDirectConversation {
    /// The sender's e-mail address.
    pub sender: String,
    /// The sender's name, used when they have no MEMOIO account yet.
    pub sender_name: Option<String>,
    /// The sender's company, used when they have no MEMOIO account yet.
    pub sender_company: Option<String>,
    /// The receiver's e-mail address.
    pub receiver: String,
    /// The receiver's name, used when they have no MEMOIO account yet.
    pub receiver_name: Option<String>,
    /// The receiver's company, used when they have no MEMOIO account yet.
    pub receiver_company: Option<String>,
    /// The message, or its headline when `description` carries the full text.
    pub message: String,
    /// References visible to the participants.
    pub references: Option<Vec<String>>,
    /// Internal tags.
    pub tags: Option<Vec<String>>,
    /// The full text, when `message` is a headline.
    pub description: Option<String>,
}

impl StartDirectConversation {
    /// A request with the required fields; the rest can be set on the public fields.
    pub fn new(
        sender: impl Into<String>,
        receiver: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            sender: sender.into(),
            sender_name: None,
            sender_company: None,
            receiver: receiver.into(),
            receiver_name: None,
            receiver_company: None,
            message: message.into(),
            references: None,
            tags: None,
            description: None,
        }
    }
}

impl SingleCall for StartDirectConversation {}

impl Validate for StartDirectConversation {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        self.sender().check(&mut v, SENDER);
        self.receiver().check(&mut v, RECEIVER);
        v.required_text("message", &self.message, MESSAGE_MAX_CHARS);
        self.extras().check(&mut v);
        v.finish()
    }
}

impl StartDirectConversation {
    fn sender(&self) -> Person<'_> {
        Person::of(&self.sender, &self.sender_name, &self.sender_company)
    }

    fn receiver(&self) -> Person<'_> {
        Person::of(&self.receiver, &self.receiver_name, &self.receiver_company)
    }

    fn extras(&self) -> Extras<'_> {
        Extras::of(&self.references, &self.tags, &self.description)
    }
}

impl Endpoint for StartDirectConversation {
    type Vendor = Memoio;
    type Credential = SecretKey;
    type Output = Reply;

    fn encode(&self, base: &BaseUrl, key: &SecretKey) -> Encoded {
        let mut form = Form::new();
        form.person(SENDER, self.sender())
            .person(RECEIVER, self.receiver())
            .text("message", Some(&self.message))
            .extras(self.extras());
        form.into_request(base, &CALL, key)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Reply, UpstreamError> {
        decode(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::rule;
    use crate::vendors::memoio::NAME_MAX_CHARS;
    use secrecy::SecretString;

    fn key() -> SecretKey {
        SecretKey::new(SecretString::from("s3cret-key"))
    }

    fn base() -> BaseUrl {
        BaseUrl::parse("https://memoio.com").unwrap()
    }

    #[test]
    fn golden_requests() {
        let min = StartDirectConversation::new("bob@company.com", "anna@example.com", "Hi");
        assert!(min.validate().is_ok());
        let http = min.encode(&base(), &key()).unwrap();
        assert_eq!(
            http.uri(),
            "https://memoio.com/api/start-direct-conversation"
        );
        assert_eq!(http.headers()["authorization"], "s3cret-key");
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            "sender=bob%40company.com&receiver=anna%40example.com&message=Hi"
        );
        let mut full = min.clone();
        full.sender_name = Some("Bob".into());
        full.sender_company = Some("Company".into());
        full.receiver_name = Some("Anna".into());
        full.receiver_company = Some("Example".into());
        full.references = Some(vec!["T-1".into()]);
        full.tags = Some(vec!["intro".into(), "b2b".into()]);
        full.description = Some("Long text".into());
        assert!(full.validate().is_ok());
        assert_eq!(
            std::str::from_utf8(full.encode(&base(), &key()).unwrap().body()).unwrap(),
            "sender=bob%40company.com&senderName=Bob&senderCompany=Company&receiver=anna%40example.com\
             &receiverName=Anna&receiverCompany=Example&message=Hi&references=T-1&tags=intro%2Cb2b\
             &description=Long+text"
        );
    }

    #[test]
    fn bad_inputs_name_their_field_and_rule() {
        let mut bad = StartDirectConversation::new("", "anna@example", "");
        bad.sender_name = Some("x".repeat(NAME_MAX_CHARS + 1));
        bad.tags = Some(vec!["a,b".into()]);
        let got = crate::validate::broken(&bad);
        assert_eq!(
            got,
            [
                ("sender".to_owned(), rule::REQUIRED.as_str()),
                ("senderName".to_owned(), rule::TOO_LONG.as_str()),
                ("receiver".to_owned(), rule::EMAIL.as_str()),
                ("message".to_owned(), rule::REQUIRED.as_str()),
                ("tags[0]".to_owned(), rule::SEPARATOR.as_str()),
            ]
        );
    }
}
