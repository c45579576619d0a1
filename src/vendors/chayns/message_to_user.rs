//! chayns user API, message from the logged-in user to another user:
//! `POST https://sub54.tobit.com/rest/api/user/{senderUserId}/message`, Bearer user token,
//! `receivers: [{tobitId}]`, `typeId` 1. Called directly from the browser; no relay.

use serde::Serialize;

use super::{
    check_message, user_message, UserApiMessage, UserRequest, UserSession, TYPE_ID_MESSAGE,
};
use crate::base_url::BaseUrl;
use crate::encode::EncodeError;
use crate::error::Violation;
use crate::validate::Validate;
use crate::validate::Violations;

/// A message to one chayns user.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageToUser {
    /// The receiver's chayns user id (tobitId).
    pub user_id: u64,
    /// The text.
    pub text: String,
    /// Image URLs.
    pub images: Option<Vec<String>>,
}

impl MessageToUser {
    /// A text message to `user_id`.
    pub fn new(user_id: u64, text: impl Into<String>) -> Self {
        Self {
            user_id,
            text: text.into(),
            images: None,
        }
    }
}

impl Validate for MessageToUser {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("userId", self.user_id);
        check_message(&mut v, &self.text, self.images.as_deref());
        v.finish()
    }
}

impl UserApiMessage for MessageToUser {
    fn parts(&self, base: &BaseUrl, session: &UserSession) -> Result<UserRequest, EncodeError> {
        Ok(user_message(
            super::USER_MESSAGE.url_with_id(base, session.user_id),
            ("tobitId", self.user_id),
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
    fn golden_request() {
        let base = BaseUrl::parse("https://sub54.tobit.com").unwrap();
        let http = MessageToUser::new(555, "Hi")
            .parts(&base, &session())
            .and_then(|p| p.into_http(&session()))
            .unwrap();
        assert_eq!(
            http.uri(),
            "https://sub54.tobit.com/rest/api/user/1234567/message"
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"receivers":[{"tobitId":555}],"message":{"images":[],"text":"Hi","typeId":1}}"#
        );
    }

    #[test]
    fn bad_inputs() {
        let errs = MessageToUser::new(0, "x").validate().unwrap_err();
        assert_eq!(
            (errs[0].field.as_str(), errs[0].code.as_str()),
            ("userId", "range")
        );
    }
}
