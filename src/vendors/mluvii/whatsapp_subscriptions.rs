//! `mluvii/whatsapp-subscriptions`: `GET https://app.mluvii.com/api/v1/WhatsApp`.

use serde::{Deserialize, Serialize};

use super::{decode, lower_keys, request, AccessToken, Mluvii};
use crate::base_url::BaseUrl;
use crate::encode::Encoded;
use crate::error::Violation;
use crate::id::Id;
use crate::operation::{Endpoint, SingleCall};
use crate::reply::{lenient, UpstreamError};
use crate::validate::Validate;
use crate::vendor_call::VendorCall;

/// The vendor call.
pub const CALL: VendorCall = VendorCall::get("/api/v1/WhatsApp");

/// List the company's WhatsApp subscriptions (numbers). No fields.
#[hail_derive::request]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[operation(
    id = "mluvii/whatsapp-subscriptions",
    sends = false,
    ts_output = "Subscription[]",
    summary = "Lists the company's WhatsApp subscriptions (numbers).",
    calls = [CALL],
    example = r#"{}"#
)]
pub struct WhatsappSubscriptions {}

/// One WhatsApp subscription.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The subscription GUID (`ID`), used by the other WhatsApp operations.
    pub id: String,
    /// The mluvii department that handles the number (`DepartmentId`).
    pub department_id: Option<Id>,
    /// The subscription's name (`Name`).
    pub name: Option<String>,
    /// The WhatsApp number (`PhoneNumber`).
    pub phone_number: Option<String>,
}

/// A subscription as mluvii writes it, keys lower-cased first ([`super::lower_keys`]).
#[derive(Deserialize)]
struct RawSubscription {
    id: String,
    #[serde(default, deserialize_with = "lenient", rename = "departmentid")]
    department_id: Option<Id>,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient", rename = "phonenumber")]
    phone_number: Option<String>,
}

impl SingleCall for WhatsappSubscriptions {}

impl Validate for WhatsappSubscriptions {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        Ok(())
    }
}

impl Endpoint for WhatsappSubscriptions {
    type Vendor = Mluvii;
    type Credential = AccessToken;
    type Output = Vec<Subscription>;

    fn encode(&self, base: &BaseUrl, token: &AccessToken) -> Encoded {
        request::<()>(&CALL, base, &[], "", token, None)
    }

    /// Tolerant: items without an `ID` are skipped; unknown fields ignored.
    fn decode(status: http::StatusCode, body: &[u8]) -> Result<Vec<Subscription>, UpstreamError> {
        let raw = decode(status, body)?;
        let items: Vec<serde_json::Value> = serde_json::from_str(raw.json()).unwrap_or_default();
        Ok(items
            .into_iter()
            .filter_map(|item| serde_json::from_value::<RawSubscription>(lower_keys(item)).ok())
            .map(|s| Subscription {
                id: s.id,
                department_id: s.department_id,
                name: s.name,
                phone_number: s.phone_number,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::mluvii::tests::{base, token, GUID};

    #[test]
    fn golden_request() {
        let http = WhatsappSubscriptions {}.encode(&base(), &token()).unwrap();
        assert_eq!(http.method(), "GET");
        assert_eq!(http.uri(), "https://app.mluvii.com/api/v1/WhatsApp");
        assert_eq!(http.headers()["authorization"], "Bearer tok");
        assert!(http.body().is_empty());
    }

    #[test]
    fn decodes_subscriptions_tolerantly() {
        let body = format!(
            r#"[{{"ID":"{GUID}","DepartmentId":3,"Name":"Sales","PhoneNumber":"+420123456789","Status":"NewValue"}},
                {{"Name":"no id"}}, 5]"#
        );
        let subs = WhatsappSubscriptions::decode(http::StatusCode::OK, body.as_bytes()).unwrap();
        assert_eq!(
            subs,
            [Subscription {
                id: GUID.into(),
                department_id: Some(Id(3)),
                name: Some("Sales".into()),
                phone_number: Some("+420123456789".into()),
            }]
        );
        // mluvii's API answers camelCase (its sample integration reads it so).
        let camel = format!(
            r#"[{{"id":"{GUID}","departmentId":3,"name":"Sales","phoneNumber":"+420123456789","status":"Active"}}]"#
        );
        assert_eq!(
            WhatsappSubscriptions::decode(http::StatusCode::OK, camel.as_bytes()).unwrap(),
            subs
        );
        assert!(WhatsappSubscriptions::decode(http::StatusCode::OK, b"{}")
            .unwrap()
            .is_empty());
        let e = WhatsappSubscriptions::decode(http::StatusCode::FOUND, b"").unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::Unauthenticated);
    }
}
