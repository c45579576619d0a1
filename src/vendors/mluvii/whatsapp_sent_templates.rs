//! `mluvii/whatsapp-sent-templates`:
//! `GET https://app.mluvii.com/api/v1/WhatsApp/{id}/sentTemplates?since&offset&limit`.

use super::{decode_camel, request, AccessToken, Mluvii};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::error::Violation;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{RawReply, UpstreamError};
use crate::validate::Validate;
use crate::validate::{Violations, ID_MAX};
use crate::vendor_call::VendorCall;

/// The vendor call, with `since`, `offset` and `limit` in its query.
pub const CALL: VendorCall = VendorCall::get("/api/v1/WhatsApp/{subscription_id}/sentTemplates");

/// Largest `limit`. **Assumed** (Hail's limit).
pub const LIMIT_MAX: u64 = 1000;

/// List templates sent through a subscription.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "mluvii/whatsapp-sent-templates",
    sends = false,
    ts_output = "WhatsappSentTemplatesReply",
    summary = "Lists the templates sent through a subscription.",
    calls = [CALL],
    js = "sentWhatsAppTemplates",
    example = r#"{"subscriptionId":"6f9619ff-8b86-d011-b42d-00c04fc964ff","since":"2026-01-31T12:00:00Z","offset":0,"limit":10}"#
)]
pub struct WhatsappSentTemplates {
    /// The WhatsApp subscription (GUID).
    pub subscription_id: String,
    /// Only templates sent since then (RFC 3339).
    pub since: Option<String>,
    /// Skip this many.
    pub offset: Option<u64>,
    /// Return at most this many (1 to 1000).
    pub limit: Option<u64>,
}

impl WhatsappSentTemplates {
    /// Everything sent through `subscription_id`.
    pub fn new(subscription_id: impl Into<String>) -> Self {
        Self {
            subscription_id: subscription_id.into(),
            since: None,
            offset: None,
            limit: None,
        }
    }
}

#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_REPLY: &'static str = r#"
/**
 * What mluvii answered to `GET /api/v1/WhatsApp/{id}/sentTemplates`, passed on as it came. The API
 * (a beta) documents no answer body: **assumed**, its JSON when it is JSON, else its text as
 * a string.
 */
export type WhatsappSentTemplatesReply = JsonValue;
"#;

impl SingleCall for WhatsappSentTemplates {}

impl Validate for WhatsappSentTemplates {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.required_guid("subscriptionId", &self.subscription_id);
        v.optional_date_time("since", self.since.as_deref());
        if let Some(offset) = self.offset {
            v.range("offset", offset, 0, ID_MAX);
        }
        if let Some(limit) = self.limit {
            v.range("limit", limit, 1, LIMIT_MAX);
        }
        v.finish()
    }
}

impl Endpoint for WhatsappSentTemplates {
    type Vendor = Mluvii;
    type Credential = AccessToken;
    type Output = RawReply;

    fn encode(&self, base: &BaseUrl, token: &AccessToken) -> Encoded {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(since) = &self.since {
            query.append_pair("since", since);
        }
        if let Some(offset) = self.offset {
            query.append_pair("offset", &offset.to_string());
        }
        if let Some(limit) = self.limit {
            query.append_pair("limit", &limit.to_string());
        }
        let query = query.finish();
        let fields = [("subscription_id", self.subscription_id.as_str())];
        request::<()>(&CALL, base, &fields, &query, token, None)
    }

    /// Passed on, keys in camelCase (see [`super::camel_keys`]).
    fn decode(status: http::StatusCode, body: &[u8]) -> Result<RawReply, UpstreamError> {
        decode_camel(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::mluvii::tests::{base, token, GUID};

    #[test]
    fn golden_requests() {
        let http = WhatsappSentTemplates::new(GUID)
            .encode(&base(), &token())
            .unwrap();
        assert_eq!(http.method(), "GET");
        assert_eq!(
            http.uri(),
            format!("https://app.mluvii.com/api/v1/WhatsApp/{GUID}/sentTemplates").as_str()
        );
        let full = WhatsappSentTemplates {
            subscription_id: GUID.into(),
            since: Some("2026-01-31T12:00:00+01:00".into()),
            offset: Some(20),
            limit: Some(10),
        };
        assert!(full.validate().is_ok());
        assert_eq!(
            full.encode(&base(), &token()).unwrap().uri(),
            format!("https://app.mluvii.com/api/v1/WhatsApp/{GUID}/sentTemplates?since=2026-01-31T12%3A00%3A00%2B01%3A00&offset=20&limit=10").as_str()
        );
    }

    #[test]
    fn answers_are_passed_on_with_camel_case_keys() {
        let body = br#"[{"ContactId":"+420123456789","FormID":7,"State":"Delivered","ID":"x","nested":{"SentAt":"t"}},{"contactId":"+1","state":"Read"}]"#;
        let got = WhatsappSentTemplates::decode(http::StatusCode::OK, body).unwrap();
        let got: serde_json::Value = serde_json::from_str(got.json()).unwrap();
        assert_eq!(
            got,
            serde_json::json!([
                {"contactId": "+420123456789", "formID": 7, "state": "Delivered", "id": "x", "nested": {"sentAt": "t"}},
                {"contactId": "+1", "state": "Read"}
            ])
        );
        let text = WhatsappSentTemplates::decode(http::StatusCode::OK, b"not json").unwrap();
        assert_eq!(text.json(), r#""not json""#);
    }

    #[test]
    fn bad_inputs() {
        let bad = WhatsappSentTemplates {
            subscription_id: String::new(),
            since: Some("yesterday".into()),
            offset: None,
            limit: Some(0),
        };
        let got = crate::validate::broken(&bad);
        assert_eq!(
            got,
            [
                ("subscriptionId".to_owned(), "required"),
                ("since".to_owned(), "date_time"),
                ("limit".to_owned(), "range")
            ]
        );
    }
}
