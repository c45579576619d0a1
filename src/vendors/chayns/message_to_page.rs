//! chayns user API, message from the logged-in user to the site:
//! `POST https://sub54.tobit.com/rest/api/user/{senderUserId}/message`, Bearer user token,
//! `receivers: [{locationId}]`, `typeId` 1. Called directly from the browser; no relay.

use serde::Serialize;

use super::{
    check_message, user_message, UserApiMessage, UserRequest, UserSession, TYPE_ID_MESSAGE,
};
use crate::base_url::BaseUrl;
use crate::encode::EncodeError;
use crate::error::Violation;
use crate::validate::Validate;
use crate::validate::Violations;

/// A message to the site (page) the user is on.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageToPage {
    /// The text.
    pub text: String,
    /// Image URLs.
    pub images: Option<Vec<String>>,
}

impl MessageToPage {
    /// A text message.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            images: None,
        }
    }
}

impl Validate for MessageToPage {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        check_message(&mut v, &self.text, self.images.as_deref());
        v.finish()
    }
}

impl UserApiMessage for MessageToPage {
    fn parts(&self, base: &BaseUrl, session: &UserSession) -> Result<UserRequest, EncodeError> {
        Ok(user_message(
            super::USER_MESSAGE.url_with_id(base, session.user_id),
            ("locationId", session.location_id),
            &self.text,
            self.images.as_deref(),
            TYPE_ID_MESSAGE,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::chayns::tests::session;

    #[test]
    fn golden_requests() {
        let base = BaseUrl::parse("https://sub54.tobit.com").unwrap();
        let http = MessageToPage::new("Hi")
            .parts(&base, &session())
            .and_then(|p| p.into_http(&session()))
            .unwrap();
        assert_eq!(http.method(), "POST");
        assert_eq!(
            http.uri(),
            "https://sub54.tobit.com/rest/api/user/1234567/message"
        );
        assert_eq!(http.headers()["authorization"], "bearer user-token");
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"receivers":[{"locationId":77890}],"message":{"images":[],"text":"Hi","typeId":1}}"#
        );
        let mut full = MessageToPage::new("Hi");
        full.images = Some(vec!["https://x.io/a.png".into()]);
        assert!(full.validate().is_ok());
        let http = full
            .parts(&base, &session())
            .and_then(|p| p.into_http(&session()))
            .unwrap();
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"receivers":[{"locationId":77890}],"message":{"images":[{"url":"https://x.io/a.png"}],"text":"Hi","typeId":1}}"#
        );
    }

    #[test]
    fn bad_inputs() {
        let mut m = MessageToPage::new("");
        m.images = Some(vec!["nope".into()]);
        let fields = crate::validate::broken(&m);
        assert_eq!(
            fields,
            [
                ("text".to_owned(), "required"),
                ("images[0]".to_owned(), "url")
            ]
        );
    }

    #[test]
    fn any_2xx_is_success_401_is_unauthenticated_and_the_message_is_read() {
        use crate::vendors::chayns::{error_text, user_answer_error};
        assert_eq!(user_answer_error(200), None);
        assert_eq!(user_answer_error(204), None);
        assert_eq!(
            user_answer_error(401),
            Some(crate::ErrorCode::Unauthenticated)
        );
        let json: serde_json::Value = serde_json::from_str(r#"{"message":"expired"}"#).unwrap();
        assert_eq!(error_text(Some(&json), "raw".into()), "expired");
    }
}
