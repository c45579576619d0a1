//! `mluvii/whatsapp-send-templates`: `POST https://app.mluvii.com/api/v1/WhatsApp/{id}/sendTemplates`.
//!
//! Sends a WhatsApp template (a mluvii form) to many recipients at once.
//! **Assumed**: the body's field names and casing exactly as VENDORS.md gives them (`formID`,
//! `language`, `recipients[].contactId`, `recipients[].fieldValues`); the answer is passed on.

use serde::Serialize;

use super::{decode_camel, request, AccessToken, Mluvii};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::error::Violation;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{RawReply, UpstreamError};
use crate::validate::Validate;
use crate::validate::Violations;
use crate::vendor_call::VendorCall;

/// The vendor call.
pub const CALL: VendorCall = VendorCall::post("/api/v1/WhatsApp/{subscription_id}/sendTemplates");

/// Most recipients per call. **Assumed** (Hail's limit).
pub const RECIPIENTS_MAX: usize = 1000;
/// Most field values per recipient. **Assumed** (Hail's limit).
pub const FIELD_VALUES_MAX: usize = 50;
/// Longest field value, in chars. **Assumed** (WhatsApp allows 1024 per template parameter).
pub const FIELD_VALUE_MAX_CHARS: usize = 1024;

/// Send a template to recipients.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "mluvii/whatsapp-send-templates",
    sends = true,
    ts_output = "WhatsappSendTemplatesReply",
    summary = "Sends a WhatsApp template to many recipients at once.",
    calls = [CALL],
    js = "sendWhatsAppTemplates",
    example = r#"{"subscriptionId":"6f9619ff-8b86-d011-b42d-00c04fc964ff","formId":1,"language":"cs","recipients":[{"contactId":"+420123456789","fieldValues":["a","b"]}]}"#
)]
pub struct WhatsappSendTemplates {
    /// The WhatsApp subscription (GUID, from whatsapp-subscriptions).
    pub subscription_id: String,
    /// The mluvii form that holds the template.
    pub form_id: u64,
    /// The template language, e.g. `cs` or `en_US`.
    pub language: String,
    /// At least one recipient.
    pub recipients: Vec<Recipient>,
}

/// One recipient of a template.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Phone number in international format.
    pub contact_id: String,
    /// The template's values, in the form's order.
    #[serde(default)]
    pub field_values: Vec<String>,
}

#[derive(Serialize)]
struct Wire<'a> {
    #[serde(rename = "formID")]
    form_id: u64,
    language: &'a str,
    recipients: &'a [Recipient],
}

#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_REPLY: &'static str = r#"
/**
 * What mluvii answered to `POST /api/v1/WhatsApp/{id}/sendTemplates`, passed on as it came. The API
 * (a beta) documents no answer body: **assumed**, its JSON when it is JSON, else its text as
 * a string.
 */
export type WhatsappSendTemplatesReply = JsonValue;
"#;

impl SingleCall for WhatsappSendTemplates {}

impl Validate for WhatsappSendTemplates {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.required_guid("subscriptionId", &self.subscription_id);
        v.id("formId", self.form_id);
        v.required_language("language", &self.language);
        v.non_empty_list("recipients", self.recipients.len());
        v.max_items("recipients", self.recipients.len(), RECIPIENTS_MAX);
        for (i, r) in self.recipients.iter().enumerate() {
            v.required_phone(&format!("recipients[{i}].contactId"), &r.contact_id);
            let values = format!("recipients[{i}].fieldValues");
            v.max_items(&values, r.field_values.len(), FIELD_VALUES_MAX);
            for (j, value) in r.field_values.iter().enumerate() {
                v.optional_line(
                    &format!("{values}[{j}]"),
                    Some(value),
                    FIELD_VALUE_MAX_CHARS,
                );
            }
        }
        v.finish()
    }
}

impl Endpoint for WhatsappSendTemplates {
    type Vendor = Mluvii;
    type Credential = AccessToken;
    type Output = RawReply;

    fn encode(&self, base: &BaseUrl, token: &AccessToken) -> Encoded {
        let wire = Wire {
            form_id: self.form_id,
            language: &self.language,
            recipients: &self.recipients,
        };
        let fields = [("subscription_id", self.subscription_id.as_str())];
        request(&CALL, base, &fields, "", token, Some(&wire))
    }

    /// Passed on, keys in camelCase (see [`super::camel_keys`]).
    fn decode(status: http::StatusCode, body: &[u8]) -> Result<RawReply, UpstreamError> {
        decode_camel(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::parse_request;
    use crate::vendors::mluvii::tests::{base, token, GUID};

    fn send(recipients: Vec<Recipient>) -> WhatsappSendTemplates {
        WhatsappSendTemplates {
            subscription_id: GUID.into(),
            form_id: 12,
            language: "cs".into(),
            recipients,
        }
    }

    fn recipient(phone: &str, values: &[&str]) -> Recipient {
        Recipient {
            contact_id: phone.into(),
            field_values: values.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn golden_requests() {
        let min = send(vec![recipient("+420123456789", &[])]);
        assert!(min.validate().is_ok());
        let http = min.encode(&base(), &token()).unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(
            http.uri(),
            format!("https://app.mluvii.com/api/v1/WhatsApp/{GUID}/sendTemplates").as_str()
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"formID":12,"language":"cs","recipients":[{"contactId":"+420123456789","fieldValues":[]}]}"#
        );
        let full = send(vec![
            recipient("+420123456789", &["Anna", "12:00"]),
            recipient("+4915112345678", &["Ben"]),
        ]);
        assert!(full.validate().is_ok());
        assert_eq!(
            std::str::from_utf8(full.encode(&base(), &token()).unwrap().body()).unwrap(),
            r#"{"formID":12,"language":"cs","recipients":[{"contactId":"+420123456789","fieldValues":["Anna","12:00"]},{"contactId":"+4915112345678","fieldValues":["Ben"]}]}"#
        );
    }

    #[test]
    fn bad_inputs_carry_nested_paths() {
        let mut bad = send(vec![
            recipient("+420123456789", &[]),
            recipient("+420123456789", &["ok", "line\nbreak"]),
            recipient("00420123", &[]),
        ]);
        bad.subscription_id = "not-a-guid".into();
        bad.form_id = 0;
        bad.language = "Czech".into();
        let got = crate::validate::broken(&bad);
        assert_eq!(
            got,
            [
                ("subscriptionId".to_owned(), "guid"),
                ("formId".to_owned(), "range"),
                ("language".to_owned(), "language"),
                ("recipients[1].fieldValues[1]".to_owned(), "control_char"),
                ("recipients[2].contactId".to_owned(), "phone"),
            ]
        );
        let empty = send(vec![]);
        assert_eq!(empty.validate().unwrap_err()[0].code, "empty_list");
        let v: Violation = parse_request::<WhatsappSendTemplates>(
            format!(r#"{{"subscriptionId":"{GUID}","formId":1,"language":"cs","recipients":[{{"contactId":"+420123456789"}},{{}}]}}"#).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            (v.field.as_str(), v.code.as_str()),
            ("recipients[1].contactId", "required")
        );
    }
}
