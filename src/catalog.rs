//! Every operation Hail offers, visited generically: the relay registers a route per operation,
//! the SDK dispatches `call(id, …)` and `validate(id, …)` — without either naming a vendor.

use crate::credential::{Credential, Issued};
use crate::operation::{Endpoint, Operation, Vendor};
use crate::vendors::{chayns, livedesk, memoio, mluvii};

/// Something that does one thing per operation type.
pub trait Visitor {
    /// Called once per operation.
    fn visit<Op: Operation>(&mut self);
}

/// Calls `visitor.visit::<Op>()` for every operation, in DESIGN.md's order.
pub fn visit_all<V: Visitor>(visitor: &mut V) {
    visitor.visit::<memoio::start_conversation::StartConversation>();
    visitor.visit::<memoio::start_direct_conversation::StartDirectConversation>();
    visitor.visit::<chayns::intercom::Intercom>();
    visitor.visit::<livedesk::create_contact::CreateContact>();
    visitor.visit::<livedesk::create_conversation::CreateConversation>();
    visitor.visit::<livedesk::send_message::SendMessage>();
    visitor.visit::<livedesk::start_conversation::StartConversation>();
    visitor.visit::<mluvii::whatsapp_subscriptions::WhatsappSubscriptions>();
    visitor.visit::<mluvii::whatsapp_send_templates::WhatsappSendTemplates>();
    visitor.visit::<mluvii::whatsapp_sent_templates::WhatsappSentTemplates>();
}

/// Something that does one thing per credential kind the relay can hold.
pub trait CredentialVisitor {
    /// A credential built from its vendor's config section.
    fn configured<C: Credential>(&mut self);
    /// A credential issued by a token endpoint for a configured one.
    fn issued<T: Issued>(&mut self)
    where
        <T::Request as Endpoint>::Credential: Credential;
}

/// Calls the visitor for every credential kind.
pub fn visit_credentials<V: CredentialVisitor>(visitor: &mut V) {
    visitor.configured::<memoio::SecretKey>();
    visitor.configured::<chayns::TappCredential>();
    visitor.configured::<livedesk::ApiKey>();
    visitor.configured::<mluvii::ClientCredentials>();
    visitor.issued::<mluvii::AccessToken>();
}

/// Name and default base URL of every vendor API the relay calls.
pub fn vendors() -> [(&'static str, &'static str); 4] {
    fn of<V: Vendor>() -> (&'static str, &'static str) {
        (V::NAME, V::DEFAULT_BASE_URL)
    }
    [
        of::<memoio::Memoio>(),
        of::<chayns::Chayns>(),
        of::<livedesk::LiveDesk>(),
        of::<mluvii::Mluvii>(),
    ]
}

/// The ids of every operation.
pub fn ids() -> Vec<&'static str> {
    struct Ids(Vec<&'static str>);
    impl Visitor for Ids {
        fn visit<Op: Operation>(&mut self) {
            self.0.push(Op::ID);
        }
    }
    let mut ids = Ids(Vec::new());
    visit_all(&mut ids);
    ids.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_vendor_prefixed() {
        let ids = super::ids();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.iter().all(|id| id.split_once('/').is_some()));
        // DESIGN.md's operation table, in its order.
        assert_eq!(
            ids,
            [
                "memoio/start-conversation",
                "memoio/start-direct-conversation",
                "chayns/intercom",
                "livedesk/create-contact",
                "livedesk/create-conversation",
                "livedesk/send-message",
                "livedesk/start-conversation",
                "mluvii/whatsapp-subscriptions",
                "mluvii/whatsapp-send-templates",
                "mluvii/whatsapp-sent-templates",
            ]
        );
    }
}
