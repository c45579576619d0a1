//! `mluvii/whatsapp-sent-templates`:
//! `GET https://app.mluvii.com/api/v1/WhatsApp/{id}/sentTemplates?since&offset&limit`.

use super::{decode, request, AccessToken, Mluvii};
use crate::base_url::BaseUrl;
use crate::encode::path_segment;
use crate::encode::Encoded;
use crate::error::Violation;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{RawReply, UpstreamError};
use crate::validate::Validate;
use crate::validate::{Violations, ID_MAX};

/// Largest `limit`. **Assumed** (Hail's limit).
pub const LIMIT_MAX: u64 = 1000;

/// List templates sent through a subscription.
#[hail_derive::request]
#[derive(Debug, Clone, PartialEq, Eq)]
#[operation(
    id = "mluvii/whatsapp-sent-templates",
    sends = false,
    ts_output = "WhatsappSentTemplatesReply",
    summary = "Lists the templates sent through a subscription. Vendor call: `GET https://app.mluvii.com/api/v1/WhatsApp/{subscriptionId}/sentTemplates?since&offset&limit`.",
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
        let mut path = format!(
            "/api/v1/WhatsApp/{}/sentTemplates",
            path_segment(&self.subscription_id)
        );
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
        request::<()>(http::Method::GET, base, &path, token, None)
    }

    fn decode(status: http::StatusCode, body: &[u8]) -> Result<RawReply, UpstreamError> {
        decode(status, body)
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
