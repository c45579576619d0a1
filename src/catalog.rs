//! Every operation Hail offers, visited generically: the relay registers a route per operation,
//! the SDK dispatches `call(id, …)` and `validate(id, …)` — without either naming a vendor.

use crate::credential::{Credential, Issued};
use crate::operation::{Endpoint, Operation};
#[cfg(all(
    feature = "memoio",
    feature = "chayns",
    feature = "livedesk",
    feature = "mluvii"
))]
use crate::vendors::{chayns, livedesk, memoio, mluvii};

/// Something that does one thing per operation type.
pub trait Visitor {
    /// Called once per operation.
    fn visit<Op: Operation>(&mut self);
}

/// Lists every operation once, in DESIGN.md's order, grouped by vendor feature, and makes of the
/// list both [`visit_all`] and [`TS_OPERATIONS`]: the TypeScript map cannot miss an operation,
/// and a build without a vendor's feature has none of its operations in either.
macro_rules! catalog {
    ($($feature:literal $vendor:ident: $($op:ty),+;)*) => {
        /// Calls `visitor.visit::<Op>()` for every operation, in DESIGN.md's order.
        // (A build without any vendor feature visits nothing.)
        #[allow(unused_variables)]
        pub fn visit_all<V: Visitor>(visitor: &mut V) {
            $(
                #[cfg(feature = $feature)]
                {
                    use crate::vendors::*;
                    $(visitor.visit::<$op>();)+
                }
            )*
        }

        // Each vendor's part of the TypeScript map: its operations with its feature, else "".
        mod ts {
            $(
                #[cfg(feature = $feature)]
                pub mod $vendor {
                    use crate::operation::Metadata;
                    use crate::vendors::*;
                    pub const OPERATIONS: &str = const_format::concatcp!($(
                        "    /** `POST {relayUrl}/v1/", <$op as Metadata>::ID, "` */\n",
                        "    \"", <$op as Metadata>::ID, "\": {\n",
                        "        /** The request. */\n        input: ", <$op as Metadata>::TS_INPUT, ";\n",
                        "        /** The result's `data`. */\n        output: ", <$op as Metadata>::TS_OUTPUT,
                        ";\n    };\n",
                    )+);
                }
                #[cfg(not(feature = $feature))]
                pub mod $vendor {
                    pub const OPERATIONS: &str = "";
                }
            )*
        }

        /// The TypeScript `Operations` map of the npm package: every operation id with the
        /// TypeScript types of its input and its result data.
        pub const TS_OPERATIONS: &str = const_format::concatcp!(
            "\n/** Every relay operation: its input and its result data, by operation id. */\n",
            "export interface Operations {\n",
            $(ts::$vendor::OPERATIONS,)*
            "}\n",
        );
    };
}

catalog!(
    "memoio" memoio:
        memoio::start_conversation::StartConversation,
        memoio::start_direct_conversation::StartDirectConversation;
    "chayns" chayns:
        chayns::intercom::Intercom;
    "livedesk" livedesk:
        livedesk::create_contact::CreateContact,
        livedesk::create_conversation::CreateConversation,
        livedesk::send_message::SendMessage,
        livedesk::start_conversation::StartConversation;
    "mluvii" mluvii:
        mluvii::whatsapp_subscriptions::WhatsappSubscriptions,
        mluvii::whatsapp_send_templates::WhatsappSendTemplates,
        mluvii::whatsapp_sent_templates::WhatsappSentTemplates;
);

/// Something that does one thing per credential kind the relay can hold (the relay builds with
/// every vendor).
pub trait CredentialVisitor {
    /// A credential built from its vendor's config section.
    fn configured<C: Credential>(&mut self);
    /// A credential issued by a token endpoint for a configured one.
    fn issued<T: Issued>(&mut self)
    where
        <T::Request as Endpoint>::Credential: Credential;
}

/// Calls the visitor for every credential kind.
#[cfg(all(
    feature = "memoio",
    feature = "chayns",
    feature = "livedesk",
    feature = "mluvii"
))]
pub fn visit_credentials<V: CredentialVisitor>(visitor: &mut V) {
    visitor.configured::<memoio::SecretKey>();
    visitor.configured::<chayns::TappCredential>();
    visitor.configured::<livedesk::ApiKey>();
    visitor.configured::<mluvii::ClientCredentials>();
    visitor.issued::<mluvii::AccessToken>();
}

/// Name and default base URL of every vendor API the relay calls.
#[cfg(all(
    feature = "memoio",
    feature = "chayns",
    feature = "livedesk",
    feature = "mluvii"
))]
pub fn vendors() -> [(&'static str, &'static str); 4] {
    fn of<V: crate::operation::Vendor>() -> (&'static str, &'static str) {
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
    fn every_example_reads_and_validates() {
        struct Examples(usize);
        impl super::Visitor for Examples {
            fn visit<Op: super::Operation>(&mut self) {
                let checked = crate::operation::check_request::<Op>(Op::EXAMPLE.as_bytes());
                assert!(checked.is_ok(), "{}: {:?}", Op::ID, checked.err());
                self.0 += 1;
            }
        }
        let mut examples = Examples(0);
        super::visit_all(&mut examples);
        assert_eq!(examples.0, super::ids().len());
    }

    #[test]
    fn the_typescript_map_has_every_operation_once_in_order() {
        let ts = super::TS_OPERATIONS;
        let ids: Vec<&str> = ts
            .lines()
            .filter_map(|line| line.trim().strip_prefix('"')?.split_once('"'))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, super::ids());
        #[cfg(feature = "livedesk")]
        assert!(ts.contains(
            "input: LiveDeskStartConversation;\n        /** The result's `data`. */\n        output: StartedConversation;"
        ));
        assert!(!ts.contains("unknown"), "{ts}");
    }

    #[test]
    fn a_build_has_the_operations_of_its_vendor_features_only() {
        let ids = super::ids();
        let built = [
            ("memoio", cfg!(feature = "memoio")),
            ("chayns", cfg!(feature = "chayns")),
            ("livedesk", cfg!(feature = "livedesk")),
            ("mluvii", cfg!(feature = "mluvii")),
        ];
        for (vendor, on) in built {
            let prefix = format!("{vendor}/");
            assert_eq!(ids.iter().any(|id| id.starts_with(&prefix)), on, "{vendor}");
        }
        assert!(ids.iter().all(|id| built
            .iter()
            .any(|(v, on)| *on && id.starts_with(&format!("{v}/")))));
    }

    #[test]
    #[cfg(all(
        feature = "memoio",
        feature = "chayns",
        feature = "livedesk",
        feature = "mluvii"
    ))]
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
