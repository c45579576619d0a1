//! chayns user API, broadcast from the logged-in user to a UAC group of the site:
//! `POST https://sub54.tobit.com/rest/api/location/{locationId}/broadcast`, Bearer user token,
//! `receivers: [{groupId}]`, `typeId` 6. Called directly from the browser; no relay.

use serde::Serialize;

use super::{
    check_message, user_message, UserApiMessage, UserRequest, UserSession, TYPE_ID_BROADCAST,
};
use crate::base_url::BaseUrl;
use crate::encode::EncodeError;
use crate::error::Violation;
use crate::validate::Validate;
use crate::validate::Violations;

/// A broadcast to one UAC group.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageToGroup {
    /// The UAC group id.
    pub group_id: u64,
    /// The text.
    pub text: String,
    /// Image URLs.
    pub images: Option<Vec<String>>,
}

impl MessageToGroup {
    /// A text broadcast to `group_id`.
    pub fn new(group_id: u64, text: impl Into<String>) -> Self {
        Self {
            group_id,
            text: text.into(),
            images: None,
        }
    }
}

impl Validate for MessageToGroup {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Violations::new();
        v.id("groupId", self.group_id);
        check_message(&mut v, &self.text, self.images.as_deref());
        v.finish()
    }
}

impl UserApiMessage for MessageToGroup {
    fn parts(&self, base: &BaseUrl, session: &UserSession) -> Result<UserRequest, EncodeError> {
        Ok(user_message(
            super::BROADCAST.url_with_id(base, session.location_id),
            ("groupId", self.group_id),
            &self.text,
            self.images.as_deref(),
            TYPE_ID_BROADCAST,
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
        let http = MessageToGroup::new(42, "Hi all")
            .parts(&base, &session())
            .and_then(|p| p.into_http(&session()))
            .unwrap();
        assert_eq!(
            http.uri(),
            "https://sub54.tobit.com/rest/api/location/77890/broadcast"
        );
        assert_eq!(
            std::str::from_utf8(http.body()).unwrap(),
            r#"{"receivers":[{"groupId":42}],"message":{"images":[],"text":"Hi all","typeId":6}}"#
        );
    }

    #[test]
    fn bad_inputs() {
        let errs = MessageToGroup::new(1, "\u{7}").validate().unwrap_err();
        assert_eq!(
            (errs[0].field.as_str(), errs[0].code.as_str()),
            ("text", "control_char")
        );
    }
}
