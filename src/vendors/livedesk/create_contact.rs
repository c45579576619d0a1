//! `livedesk/create-contact`: a contact in an inbox ([`CALL`]). LiveDesk, as Chatwoot, keeps a
//! contact's e-mail address (case-insensitively), phone number and identifier unique per account
//! (`shared/VENDORS.md`): a second contact with one of them is refused with 422, answered here as
//! `contact_exists`.

use serde::{Deserialize, Serialize};

use super::{decode, error_message, look_back, request, ApiKey, LiveDesk, NAME_MAX_CHARS};
use crate::base_url::BaseUrl;
use crate::encode::{EncodeError, Encoded};
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{lenient, UpstreamError};
use crate::validate::Validate;
use crate::validate::Violations;

use crate::vendor_call::VendorCall;

/// The vendor call.
pub const CALL: VendorCall = VendorCall::post("/api/v2/accounts/contacts");

/// Create a contact in an inbox.
#[hail_derive::request]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[operation(
    id = "livedesk/create-contact",
    sends = true,
    ts_output = "Contact",
    summary = "Creates a contact in an inbox. A contact with the same e-mail address (in any case), phone number or identifier already there is `contact_exists` (409).",
    calls = [CALL],
    email_fields = ["email"],
    example = r#"{"inboxId":407,"name":"Anna","email":"anna@example.com","phoneNumber":"+420123456789","avatarUrl":"https://x.io/a.png","identifier":"i"}"#
)]
pub struct CreateContact {
    /// The inbox (channel) id.
    pub inbox_id: Id,
    /// Display name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number in international format.
    pub phone_number: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// The company's own id of this person.
    pub identifier: Option<String>,
}

impl CreateContact {
    /// A contact in `inbox_id`; set details on the public fields.
    pub fn new(inbox_id: u64) -> Self {
        Self {
            inbox_id: Id(inbox_id),
            ..Self::default()
        }
    }
}

/// The contact fields shared with `start-conversation`, checked under `prefix`.
pub(crate) fn check_contact(
    v: &mut Violations,
    prefix: &str,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    identifier: Option<&str>,
) {
    let path = |f: &str| {
        if prefix.is_empty() {
            f.to_owned()
        } else {
            format!("{prefix}.{f}")
        }
    };
    v.optional_line(&path("name"), name, NAME_MAX_CHARS);
    v.optional_email(&path("email"), email);
    v.optional_phone(&path("phoneNumber"), phone);
    v.optional_line(&path("identifier"), identifier, NAME_MAX_CHARS);
}

#[derive(Serialize)]
pub(crate) struct Wire<'a> {
    pub inbox_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<&'a str>,
}

/// The created contact.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// The contact id.
    pub id: Id,
    /// The contact's source id in the inbox (Chatwoot's `contact_inbox.source_id`), if given.
    pub source_id: Option<String>,
    /// Name as stored.
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    contact: RawContact,
    #[serde(default, deserialize_with = "lenient")]
    contact_inbox: Option<ContactInbox>,
}

#[derive(Deserialize)]
struct RawContact {
    id: Id,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ContactInbox {
    #[serde(default, deserialize_with = "lenient")]
    source_id: Option<String>,
}

/// Whether LiveDesk refused a contact because one of its unique details is already another
/// contact's: 422 with Chatwoot's validation message, e.g. `{"message": "Email has already been
/// taken", "attributes": ["email"]}` (`shared/VENDORS.md`). **Assumed**: LiveDesk answers
/// Chatwoot's English message, as its other error texts are English.
pub(crate) fn is_taken(status: http::StatusCode, body: &[u8]) -> bool {
    status == http::StatusCode::UNPROCESSABLE_ENTITY
        && error_message(body).contains("already been taken")
}

/// Decodes `{"payload":{"contact":{…,"id"},"contact_inbox":{"source_id"}}}`; a duplicate is
/// `contact_exists`.
pub(crate) fn decode_contact(
    status: http::StatusCode,
    body: &[u8],
) -> Result<Contact, UpstreamError> {
    if is_taken(status, body) {
        return Err(UpstreamError {
            code: crate::ErrorCode::ContactExists,
            status: status.as_u16(),
            message: error_message(body),
        });
    }
    let a: Answer = decode(status, body, "payload.contact.id")?;
    Ok(Contact {
        id: a.payload.contact.id,
        source_id: a.payload.contact_inbox.and_then(|c| c.source_id),
        name: a.payload.contact.name,
    })
}

impl SingleCall for CreateContact {
    fn look_back(
        &self,
        _since_ms: u64,
        base: &BaseUrl,
        key: &ApiKey,
    ) -> Result<Option<http::Request<Vec<u8>>>, EncodeError> {
        self.contact_key()
            .map(|k| look_back::search_request(base, key, &k, 1))
            .transpose()
    }

    fn looked(
        &self,
        since_ms: u64,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Option<Contact>, UpstreamError> {
        match self.contact_key() {
            // The contact the first try made: answered with the name this request gave.
            Some(k) => Ok(
                look_back::found_contact(&k, Some(since_ms), status, body)?.map(|c| Contact {
                    name: self.name.clone(),
                    ..c
                }),
            ),
            None => Ok(None),
        }
    }
}

impl CreateContact {
    fn contact_key(&self) -> Option<look_back::ContactKey<'_>> {
        look_back::ContactKey::of(
            self.identifier.as_deref(),
            self.email.as_deref(),
            self.phone_number.as_deref(),
        )
    }
}

impl Validate for CreateContact {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("inboxId", self.inbox_id.0);
        check_contact(
            &mut v,
            "",
            self.name.as_deref(),
            self.email.as_deref(),
            self.phone_number.as_deref(),
            self.identifier.as_deref(),
        );
        v.optional_url("avatarUrl", self.avatar_url.as_deref());
        v.finish()
    }
}

impl Endpoint for CreateContact {
    type Vendor = LiveDesk;
    type Credential = ApiKey;
    type Output = Contact;

    fn encode(&self, base: &BaseUrl, key: &ApiKey) -> Encoded {
        let wire = Wire {
            inbox_id: self.inbox_id.0,
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            phone_number: self.phone_number.as_deref(),
            avatar_url: self.avatar_url.as_deref(),
            identifier: self.identifier.as_deref(),
        };
        request(&CALL, base, &[], "", key, Some(&wire))
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Contact, UpstreamError> {
        decode_contact(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::livedesk::tests::{base, key};

    #[test]
    fn golden_requests() {
        let http = CreateContact::new(407).encode(&base(), &key()).unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(
            http.uri(),
            "https://livedesk-api.engagelab.com/api/v2/accounts/contacts"
        );
        assert_eq!(http.headers()["authorization"], "Basic a2V5OnNlY3JldA==");
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"inbox_id":407}"#
        );
        let full = CreateContact {
            inbox_id: Id(407),
            name: Some("Anna".into()),
            email: Some("anna@example.com".into()),
            phone_number: Some("+420123456789".into()),
            avatar_url: Some("https://x.io/a.png".into()),
            identifier: Some("crm-1".into()),
        };
        assert!(full.validate().is_ok());
        assert_eq!(
            std::str::from_utf8(full.encode(&base(), &key()).unwrap().body()).unwrap(),
            r#"{"inbox_id":407,"name":"Anna","email":"anna@example.com","phone_number":"+420123456789","avatar_url":"https://x.io/a.png","identifier":"crm-1"}"#
        );
    }

    #[test]
    fn bad_inputs() {
        let bad = CreateContact {
            inbox_id: Id(0),
            name: Some("a\nb".into()),
            email: Some("x@".into()),
            phone_number: Some("0123".into()),
            avatar_url: Some("file:///etc/passwd".into()),
            identifier: None,
        };
        let got = crate::validate::broken(&bad);
        assert_eq!(
            got,
            [
                ("inboxId".to_owned(), "range"),
                ("name".to_owned(), "control_char"),
                ("email".to_owned(), "email"),
                ("phoneNumber".to_owned(), "phone"),
                ("avatarUrl".to_owned(), "url"),
            ]
        );
    }

    #[test]
    fn decodes_contact_with_extra_fields() {
        let body = br#"{"payload":{"contact":{"id":2219256,"name":"wjTest","email":null,"custom_attributes":{}},
            "contact_inbox":{"source_id":"c0ffee","inbox":{"id":407}}},"extra":true}"#;
        let c = CreateContact::decode(http::StatusCode::OK, body).unwrap();
        assert_eq!(
            c,
            Contact {
                id: Id(2_219_256),
                source_id: Some("c0ffee".into()),
                name: Some("wjTest".into())
            }
        );
        let e = CreateContact::decode(http::StatusCode::OK, br#"{"payload":{}}"#).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidResponse);
    }

    #[test]
    fn a_duplicate_is_contact_exists_and_other_refusals_are_not() {
        let e = CreateContact::decode(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"message":"Email has already been taken","attributes":["email"]}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                crate::ErrorCode::ContactExists,
                "Email has already been taken"
            )
        );
        let e = CreateContact::decode(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"message":"Phone number should be in e164 format"}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::UpstreamRejected);
    }
}
