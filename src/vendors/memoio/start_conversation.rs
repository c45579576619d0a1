//! `memoio/start-conversation`: `POST https://memoio.com/api/start-conversation`.
//!
//! A push message from the company to one person, identified by e-mail address; when they reply
//! they are connected to `channel`.

use serde::Serialize;

use super::{
    decode, Extras, Form, Memoio, Person, Reply, SecretKey, MESSAGE_MAX_CHARS, NAME_MAX_CHARS,
    RECEIVER,
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
    crate::vendor_call::VendorCall::post("/api/start-conversation");

// Which parameters are required is assumed: MEMOIO's page marks them in bold, which did not
// survive (VENDORS.md).
/// Start a conversation with one person (MEMOIO `start-conversation`).
///
/// **Assumed** required: `receiver`, `message`, `channel`.
#[hail_derive::request(ts_name = "MemoioStartConversation")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "memoio/start-conversation",
    sends = true,
    ts_output = "MemoioReply",
    summary = "Sends a message in the company's name to one person (by e-mail address); when they reply, they are connected to `channel`.",
    calls = [CALL],
    email_fields = ["receiver"],
    example = r#"{"receiver":"anna@example.com","message":"Hi","channel":"sales","tags":["a"],"references":["r"],"groupBy":["sameDay"],"receiverName":"Anna","description":"d"}"#
)]
pub struct StartConversation {
    /// The receiver's e-mail address.
    pub receiver: String,
    /// The receiver's name, used when they have no MEMOIO account yet.
    pub receiver_name: Option<String>,
    /// The receiver's company, used when they have no MEMOIO account yet.
    pub receiver_company: Option<String>,
    /// The message, or its headline when `description` carries the full text.
    pub message: String,
    /// The channel the receiver is connected to when they reply.
    pub channel: String,
    /// References visible to the participants.
    pub references: Option<Vec<String>>,
    /// Internal tags.
    pub tags: Option<Vec<String>>,
    /// The full text, when `message` is a headline.
    pub description: Option<String>,
    /// Merge into an earlier conversation that matches on these criteria.
    pub group_by: Option<Vec<GroupBy>>,
}

/// What an earlier conversation must share to be continued instead of starting a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    Reference,
    Tags,
    Message,
    SameDay,
    SameWeek,
    SameMonth,
}

impl GroupBy {
    /// MEMOIO's parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::Tags => "tags",
            Self::Message => "message",
            Self::SameDay => "sameDay",
            Self::SameWeek => "sameWeek",
            Self::SameMonth => "sameMonth",
        }
    }
}

impl GroupBy {
    /// Every criterion.
    pub const ALL: [GroupBy; 6] = [
        Self::Reference,
        Self::Tags,
        Self::Message,
        Self::SameDay,
        Self::SameWeek,
        Self::SameMonth,
    ];
}

impl crate::read::Read for GroupBy {
    fn read<S: crate::read::Source>(
        value: &S,
        path: &mut crate::read::Path,
    ) -> Result<Self, Violation> {
        let variants = Self::ALL.map(|g| (g.as_str(), g));
        crate::read::one_of(value, path, &variants)
    }
}

impl AsRef<str> for GroupBy {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl StartConversation {
    /// A request with the required fields; the rest can be set on the public fields.
    pub fn new(
        receiver: impl Into<String>,
        message: impl Into<String>,
        channel: impl Into<String>,
    ) -> Self {
        Self {
            receiver: receiver.into(),
            receiver_name: None,
            receiver_company: None,
            message: message.into(),
            channel: channel.into(),
            references: None,
            tags: None,
            description: None,
            group_by: None,
        }
    }
}

impl SingleCall for StartConversation {}

impl Validate for StartConversation {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        self.receiver().check(&mut v, RECEIVER);
        v.required_text("message", &self.message, MESSAGE_MAX_CHARS);
        v.required_line("channel", &self.channel, NAME_MAX_CHARS);
        self.extras().check(&mut v);
        v.finish()
    }
}

impl StartConversation {
    fn receiver(&self) -> Person<'_> {
        Person::of(&self.receiver, &self.receiver_name, &self.receiver_company)
    }

    fn extras(&self) -> Extras<'_> {
        Extras::of(&self.references, &self.tags, &self.description)
    }
}

impl Endpoint for StartConversation {
    type Vendor = Memoio;
    type Credential = SecretKey;
    type Output = Reply;

    fn encode(&self, base: &BaseUrl, key: &SecretKey) -> Encoded {
        let mut form = Form::new();
        form.person(RECEIVER, self.receiver())
            .text("message", Some(&self.message))
            .text("channel", Some(&self.channel))
            .extras(self.extras())
            .list("groupBy", self.group_by.as_deref());
        form.into_request(base, &CALL, key)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Reply, UpstreamError> {
        decode(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::parse_request;
    use crate::validate::rule;
    use crate::vendors::memoio::DESCRIPTION_MAX_CHARS;
    use secrecy::SecretString;

    fn key() -> SecretKey {
        SecretKey::new(SecretString::from("s3cret-key"))
    }

    fn base() -> BaseUrl {
        BaseUrl::parse("https://memoio.com").unwrap()
    }

    fn parse(json: &str) -> Result<StartConversation, Violation> {
        parse_request(json.as_bytes())
    }

    #[test]
    fn golden_minimal_request() {
        let req = StartConversation::new("anna@example.com", "Hello", "sales");
        assert!(req.validate().is_ok());
        let http = req.encode(&base(), &key()).unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(http.uri(), "https://memoio.com/api/start-conversation");
        let headers: Vec<_> = http
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "application/json"),
                ("authorization", "s3cret-key"),
            ]
        );
        assert!(http.headers()["authorization"].is_sensitive());
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            "receiver=anna%40example.com&message=Hello&channel=sales"
        );
    }

    #[test]
    fn golden_full_request() {
        let req = parse(
            r#"{"receiver":"anna@example.com","receiverName":"Anna Muster","receiverCompany":"Muster & Co",
                "message":"Your order","channel":"sales","references":["order-1","R 2"],
                "tags":["vip","b2b"],"description":"Line 1\nLine 2 = ü",
                "groupBy":["reference","sameWeek"]}"#,
        )
        .unwrap();
        assert!(req.validate().is_ok());
        let http = req.encode(&base(), &key()).unwrap();
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            "receiver=anna%40example.com&receiverName=Anna+Muster&receiverCompany=Muster+%26+Co\
             &message=Your+order&channel=sales&references=order-1%2CR+2&tags=vip%2Cb2b\
             &description=Line+1%0ALine+2+%3D+%C3%BC&groupBy=reference%2CsameWeek"
        );
    }

    #[test]
    fn bad_inputs_name_their_field_and_rule() {
        let mut req = StartConversation::new("anna@", "", " ");
        req.references = Some(vec!["a,b".into()]);
        req.tags = Some(vec![String::new()]);
        req.receiver_name = Some("A\u{0}".into());
        req.description = Some("x".repeat(DESCRIPTION_MAX_CHARS + 1));
        assert_eq!(
            crate::validate::broken(&req),
            [
                ("receiver".into(), rule::EMAIL.as_str()),
                ("receiverName".into(), rule::CONTROL_CHAR.as_str()),
                ("message".into(), rule::REQUIRED.as_str()),
                ("channel".into(), rule::REQUIRED.as_str()),
                ("references[0]".into(), rule::SEPARATOR.as_str()),
                ("tags[0]".into(), rule::EMPTY_ITEM.as_str()),
                ("description".into(), rule::TOO_LONG.as_str()),
            ]
        );
    }

    #[test]
    fn malformed_json_names_the_field() {
        let cases = [
            (
                r#"{"message":"m","channel":"c"}"#,
                "receiver",
                rule::REQUIRED.as_str(),
            ),
            (
                r#"{"receiver":1,"message":"m","channel":"c"}"#,
                "receiver",
                rule::TYPE.as_str(),
            ),
            (
                r#"{"receiver":"a@b.co","message":"m","channel":"c","tags":["x",2]}"#,
                "tags[1]",
                rule::TYPE.as_str(),
            ),
            (
                r#"{"receiver":"a@b.co","message":"m","channel":"c","groupBy":["daily"]}"#,
                "groupBy[0]",
                rule::NOT_ALLOWED.as_str(),
            ),
            (
                r#"{"receiver":"a@b.co","message":"m","channel":"c","reciever":"x"}"#,
                "reciever",
                rule::UNKNOWN_FIELD.as_str(),
            ),
            (r#"[]"#, "", rule::TYPE.as_str()),
        ];
        for (json, field, code) in cases {
            let v = parse(json).unwrap_err();
            assert_eq!((v.field.as_str(), v.code.as_str()), (field, code), "{json}");
        }
    }

    #[test]
    fn a_secret_that_is_no_header_value_is_an_error_not_a_panic() {
        let req = StartConversation::new("anna@example.com", "Hello", "sales");
        let bad = SecretKey::new(SecretString::from("line\nbreak"));
        assert!(req.encode(&base(), &bad).is_err());
    }
}
