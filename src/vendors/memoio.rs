//! MEMOIO (<https://memoio.com>): push conversations from a company to people by e-mail address.
//!
//! Facts and assumptions: `shared/VENDORS.md`, "MEMOIO". Every call carries the company's secret
//! key in the `Authorization` header (never the discouraged `key` parameter).

pub mod start_conversation;
pub mod start_direct_conversation;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::SecretString;

use crate::credential::{Credential, Section, SectionError};
use crate::encode::secret_header;

use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::operation::Vendor;
use crate::reply::{body_excerpt, decode_raw, RawReply, UpstreamError};
use crate::validate::Violations;

/// The MEMOIO vendor.
pub struct Memoio;

impl Vendor for Memoio {
    const NAME: &'static str = "memoio";
    const DEFAULT_BASE_URL: &'static str = "https://memoio.com";
    // None published (VENDORS.md, "chayns and MEMOIO inbound").
    const REPLIES: bool = false;
}

/// The company's MEMOIO secret key.
pub struct SecretKey(SecretString);

impl SecretKey {
    /// Wraps the key; it is only ever exposed to build the `Authorization` header.
    pub fn new(key: SecretString) -> Self {
        Self(key)
    }
}

impl Credential for SecretKey {
    type Vendor = Memoio;
    const KEYS: &'static [&'static str] = &["secret_key"];
    fn from_section(section: &Section) -> Result<Self, SectionError> {
        section.secret("secret_key").map(Self)
    }
}

/// Separator of MEMOIO's list parameters (`references`, `tags`, `groupBy`).
pub const LIST_SEPARATOR: char = ',';

/// Longest `message`, in chars. **Assumed** (Hail's limit; MEMOIO documents none).
pub const MESSAGE_MAX_CHARS: usize = 10_000;
/// Longest `description`, in chars. **Assumed** (Hail's limit; MEMOIO documents none).
pub const DESCRIPTION_MAX_CHARS: usize = 50_000;
/// Longest name, company or channel, in chars. **Assumed** (Hail's limit).
pub const NAME_MAX_CHARS: usize = 200;
/// Most items in `references` or `tags`. **Assumed** (Hail's limit).
pub const LIST_MAX_ITEMS: usize = 50;
/// Longest item of `references` or `tags`, in chars. **Assumed** (Hail's limit).
pub const LIST_ITEM_MAX_CHARS: usize = 200;

/// The form body of a MEMOIO call, built in parameter order; `None` values are left out and
/// lists are joined with [`LIST_SEPARATOR`].
pub(crate) struct Form(form_urlencoded::Serializer<'static, String>);

impl Form {
    pub(crate) fn new() -> Self {
        Self(form_urlencoded::Serializer::new(String::new()))
    }

    pub(crate) fn text(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.0.append_pair(name, value);
        }
        self
    }

    pub(crate) fn list<S: AsRef<str>>(&mut self, name: &str, items: Option<&[S]>) -> &mut Self {
        if let Some(items) = items {
            let mut joined = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    joined.push(LIST_SEPARATOR);
                }
                joined.push_str(item.as_ref());
            }
            self.0.append_pair(name, &joined);
        }
        self
    }

    /// A person's address, name and company, under `fields`' names.
    pub(crate) fn person(&mut self, fields: PersonFields, person: Person<'_>) -> &mut Self {
        let [email, name, company] = fields;
        self.text(email, Some(person.email))
            .text(name, person.name)
            .text(company, person.company)
    }

    /// The references, the tags and the description, which both operations end with.
    pub(crate) fn extras(&mut self, extras: Extras<'_>) -> &mut Self {
        self.list("references", extras.references)
            .list("tags", extras.tags)
            .text("description", extras.description)
    }

    /// The vendor call `call` with this form and the secret key.
    /// **Assumed**: POST with `application/x-www-form-urlencoded` (the page allows GET or POST).
    pub(crate) fn into_request(
        mut self,
        base: &BaseUrl,
        call: &crate::vendor_call::VendorCall,
        key: &SecretKey,
    ) -> Encoded {
        let auth = secret_header(&key.0, "the MEMOIO secret key is not a valid header value")?;
        Ok(http::Request::post(call.url(base, &[], "")?)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, auth)
            .body(self.0.finish().into_bytes())?)
    }
}

/// The wire names of a person's address, name and company.
pub(crate) type PersonFields = [&'static str; 3];
/// The receiver's parameters.
pub(crate) const RECEIVER: PersonFields = ["receiver", "receiverName", "receiverCompany"];
/// The sender's parameters (start-direct-conversation).
pub(crate) const SENDER: PersonFields = ["sender", "senderName", "senderCompany"];

/// A person as MEMOIO takes one: an e-mail address, and a name and company for when they have
/// no MEMOIO account yet.
#[derive(Clone, Copy)]
pub(crate) struct Person<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub company: Option<&'a str>,
}

impl<'a> Person<'a> {
    /// A request's person from its three fields.
    pub(crate) fn of(
        email: &'a str,
        name: &'a Option<String>,
        company: &'a Option<String>,
    ) -> Self {
        Self {
            email,
            name: name.as_deref(),
            company: company.as_deref(),
        }
    }

    /// A required address and an optional name and company, checked under `fields`' names.
    pub(crate) fn check(self, v: &mut Violations, fields: PersonFields) {
        let [email, name, company] = fields;
        v.required_email(email, self.email);
        v.optional_line(name, self.name, NAME_MAX_CHARS);
        v.optional_line(company, self.company, NAME_MAX_CHARS);
    }
}

/// What both operations take after the message: references and tags (lists joined with
/// [`LIST_SEPARATOR`]) and a description.
#[derive(Clone, Copy)]
pub(crate) struct Extras<'a> {
    pub references: Option<&'a [String]>,
    pub tags: Option<&'a [String]>,
    pub description: Option<&'a str>,
}

impl<'a> Extras<'a> {
    /// A request's extras from its three fields.
    pub(crate) fn of(
        references: &'a Option<Vec<String>>,
        tags: &'a Option<Vec<String>>,
        description: &'a Option<String>,
    ) -> Self {
        Self {
            references: references.as_deref(),
            tags: tags.as_deref(),
            description: description.as_deref(),
        }
    }

    /// References and tags as separated lists, the description as text.
    pub(crate) fn check(self, v: &mut Violations) {
        for (field, list) in [("references", self.references), ("tags", self.tags)] {
            v.separated_list(
                field,
                list,
                LIST_SEPARATOR,
                LIST_MAX_ITEMS,
                LIST_ITEM_MAX_CHARS,
            );
        }
        v.optional_text("description", self.description, DESCRIPTION_MAX_CHARS);
    }
}

/// What MEMOIO answered on success, passed on.
///
/// **Assumed**: any 2xx is success and its body is passed on (JSON if it parses, else text);
/// no error format is known, so a failure carries the body's text.
pub type Reply = RawReply;

#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_REPLY: &'static str = r#"
/**
 * What MEMOIO answered to `start-conversation` or `start-direct-conversation`, passed on as it
 * came. MEMOIO documents no answer body: **assumed**, its JSON when it is JSON, else its text
 * as a string.
 */
export type MemoioReply = JsonValue;
"#;

pub(crate) fn decode(status: http::StatusCode, body: &[u8]) -> Result<Reply, UpstreamError> {
    decode_raw(status, body, body_excerpt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn json_replies_pass_through_and_text_becomes_a_string() {
        let r = decode(StatusCode::OK, br#"{"conversationId":"c1","extra":[1,2]}"#).unwrap();
        assert_eq!(r.json(), r#"{"conversationId":"c1","extra":[1,2]}"#);
        let r = decode(StatusCode::OK, b"OK\n").unwrap();
        assert_eq!(r.json(), r#""OK""#);
        let r = decode(StatusCode::OK, b"").unwrap();
        assert_eq!(r.json(), r#""""#);
    }

    #[test]
    fn failures_map_by_status_and_carry_the_body() {
        let e = decode(StatusCode::UNAUTHORIZED, b"invalid key").unwrap_err();
        assert_eq!(
            (e.code, e.status, e.message.as_str()),
            (crate::ErrorCode::UpstreamRejected, 401, "invalid key")
        );
        let e = decode(StatusCode::BAD_GATEWAY, b"").unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::UpstreamUnavailable);
    }
}
