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

/// Lists every operation once, in DESIGN.md's order, grouped by vendor (each group behind its
/// cargo feature), and makes of the list [`visit_all`], [`operations`], [`TS_OPERATIONS`] and
/// [`TS_NAMESPACES`]: neither the TypeScript types nor the relay client's namespaces can miss an
/// operation, and a build without a vendor's feature has none of its operations in any.
macro_rules! catalog {
    ($($feature:literal $vendor:ident $ts_api:literal $doc:literal { $($op:ty),+ $(,)? })*) => {
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

        // Each vendor's part of the tables: its operations with its feature, else nothing.
        mod parts {
            $(
                #[cfg(feature = $feature)]
                pub mod $vendor {
                    use super::super::{Listed, NAMESPACE_DOC};
                    use crate::operation::Metadata;
                    use crate::vendors::*;
                    pub const LISTED: &[Listed] = &[$(Listed {
                        id: <$op as Metadata>::ID,
                        vendor: <$op as Metadata>::VENDOR,
                        js_method: <$op as Metadata>::JS_METHOD,
                        sends: <$op as Metadata>::SENDS,
                    },)+];
                    pub const TS_OPERATIONS: &str = const_format::concatcp!($(
                        "    /** `POST {relayUrl}/v1/", <$op as Metadata>::ID, "` */\n",
                        "    \"", <$op as Metadata>::ID, "\": {\n",
                        "        /** The request. */\n        input: ", <$op as Metadata>::TS_INPUT, ";\n",
                        "        /** The result's `data`. */\n        output: ", <$op as Metadata>::TS_OUTPUT,
                        ";\n        /** The whole result. */\n        result: ", <$op as Metadata>::TS_RESULT,
                        ";\n    };\n",
                    )+);
                    pub const TS_NAMESPACE: &str = const_format::concatcp!(
                        "\n/**\n * ", $doc, "\n *\n", NAMESPACE_DOC, " */\n",
                        "export interface ", $ts_api, " {\n",
                        $(<$op as Metadata>::TS_METHOD,)+
                        "}\n",
                    );
                }
                #[cfg(not(feature = $feature))]
                pub mod $vendor {
                    pub const LISTED: &[super::super::Listed] = &[];
                    pub const TS_OPERATIONS: &str = "";
                    pub const TS_NAMESPACE: &str = "";
                }
            )*
        }

        /// Every operation's id, namespace, method there and whether it sends, in DESIGN.md's
        /// order.
        pub fn operations() -> impl Iterator<Item = &'static Listed> {
            std::iter::empty()$(.chain(parts::$vendor::LISTED.iter()))*
        }

        /// The TypeScript `Operations` map of the npm package: every operation id with the
        /// TypeScript types of its input and its result data.
        pub const TS_OPERATIONS: &str = const_format::concatcp!(
            "\n/** Every relay operation: its input, its result data and its whole result, by operation id. */\n",
            "export interface Operations {\n",
            $(parts::$vendor::TS_OPERATIONS,)*
            "}\n",
        );

        /// The TypeScript interface of each vendor namespace of the relay client
        /// (`hail.memoio`, …): one method per operation, `call` with the operation's id.
        pub const TS_NAMESPACES: &str = const_format::concatcp!($(parts::$vendor::TS_NAMESPACE,)*);
    };
}

/// What every namespace's JSDoc says of its methods.
const NAMESPACE_DOC: &str = "\
 * The same object at every access; its methods need no `this`. Each method rejects with a
 * `HailError`: `invalid_field` before the network (`violations` lists every broken rule),
 * `network_error`, `timeout`, `aborted`, `invalid_response`, or what the relay answered:
 * `unauthenticated`, `forbidden`, `origin_not_allowed`, `operation_disabled`, `rate_limited`,
 * `upstream_rejected` (the vendor refused), `contact_exists` (LiveDesk has a contact with those
 * details), `upstream_unavailable`, `upstream_timeout`,
 * `outcome_unknown`, …
";

/// One operation as the relay client's namespaces list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// The operation id, e.g. `memoio/start-conversation`.
    pub id: &'static str,
    /// Its namespace, e.g. `memoio`.
    pub vendor: &'static str,
    /// Its method there, e.g. `startConversation`.
    pub js_method: &'static str,
    /// Whether it sends (and so takes an idempotency key).
    pub sends: bool,
}

catalog!(
    "memoio" memoio "MemoioApi" "MEMOIO operations of a relay client (`hail.memoio`)." {
        memoio::start_conversation::StartConversation,
        memoio::start_direct_conversation::StartDirectConversation,
    }
    "chayns" chayns "ChaynsApi" "chayns Backend API operations of a relay client (`hail.chayns`)." {
        chayns::intercom::Intercom,
    }
    "livedesk" livedesk "LiveDeskApi" "EngageLab LiveDesk operations of a relay client (`hail.livedesk`)." {
        livedesk::create_contact::CreateContact,
        livedesk::create_conversation::CreateConversation,
        livedesk::send_message::SendMessage,
        livedesk::start_conversation::StartConversation,
    }
    "mluvii" mluvii "MluviiApi" "mluvii operations of a relay client (`hail.mluvii`)." {
        mluvii::whatsapp_subscriptions::WhatsappSubscriptions,
        mluvii::whatsapp_send_templates::WhatsappSendTemplates,
        mluvii::whatsapp_sent_templates::WhatsappSentTemplates,
    }
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
    operations().map(|op| op.id).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_reads_and_validates() {
        struct Examples(usize);
        impl super::Visitor for Examples {
            fn visit<Op: super::Operation>(&mut self) {
                use crate::operation::Vendor;
                // The id's vendor segment (the namespace) is the vendor the operation calls.
                assert_eq!(Op::VENDOR, <Op::Vendor as Vendor>::NAME, "{}", Op::ID);
                let checked = crate::operation::check_request::<Op>(Op::EXAMPLE.as_bytes());
                assert!(checked.is_ok(), "{}: {:?}", Op::ID, checked.err());
                self.0 += 1;
            }
        }
        let mut examples = Examples(0);
        super::visit_all(&mut examples);
        assert_eq!(examples.0, super::ids().len());
    }

    /// What a vendor may answer each step of an operation with; a step takes the first its
    /// decoding accepts (a LiveDesk search finding nothing; a created record; a list; anything).
    const ANSWERS: [&str; 4] = [
        r#"{"meta":{"count":0},"payload":[]}"#,
        r#"{"id":40,"payload":{"contact":{"id":9}}}"#,
        "[]",
        "{}",
    ];

    #[test]
    fn an_operation_opens_a_conversation_exactly_when_marked_replies() {
        struct Opens(usize);
        impl super::Visitor for Opens {
            fn visit<Op: super::Operation>(&mut self) {
                use crate::operation::Vendor;
                let op = crate::operation::check_request::<Op>(Op::EXAMPLE.as_bytes())
                    .unwrap_or_else(|e| panic!("{}: {e:?}", Op::ID));
                // Runs the example to its result, step by step, with answers that decode.
                let mut progress = Op::Progress::default();
                let mut output = None;
                for _ in 0..8 {
                    output = Op::output(progress.clone());
                    if output.is_some() {
                        break;
                    }
                    progress = ANSWERS
                        .iter()
                        .find_map(|body| {
                            let mut next = progress.clone();
                            let ok = op.record(&mut next, http::StatusCode::OK, body.as_bytes());
                            ok.is_ok().then_some(next)
                        })
                        .unwrap_or_else(|| panic!("{}: no answer decodes", Op::ID));
                }
                let output = output.unwrap_or_else(|| panic!("{}: never done", Op::ID));
                let opens = Op::thread(&output).opens;
                assert_eq!(opens.is_some(), Op::REPLIES, "{}: {opens:?}", Op::ID);
                assert!(
                    !Op::REPLIES || <Op::Vendor as Vendor>::REPLIES,
                    "{}",
                    Op::ID
                );
                self.0 += usize::from(Op::REPLIES);
            }
        }
        let mut opens = Opens(0);
        super::visit_all(&mut opens);
        // Both LiveDesk operations that open a conversation, when LiveDesk is built.
        assert_eq!(opens.0, if cfg!(feature = "livedesk") { 2 } else { 0 });
    }

    #[test]
    fn result_types_say_whether_the_vendor_has_replies() {
        let ts = super::TS_OPERATIONS;
        #[cfg(feature = "livedesk")]
        {
            assert!(ts.contains("result: ConversationResult<StartedConversation>;"));
            assert!(ts.contains("result: ConversationResult<Conversation>;"));
            assert!(ts.contains("result: CallResult<Message>;"));
        }
        #[cfg(feature = "memoio")]
        assert!(ts.contains("result: NoRepliesResult<MemoioReply>;"));
        #[cfg(feature = "chayns")]
        assert!(ts.contains("result: NoRepliesResult<IntercomResult>;"));
        #[cfg(feature = "mluvii")]
        assert!(ts.contains("result: CallResult<Subscription[]>;"));
        #[cfg(feature = "livedesk")]
        assert!(super::TS_NAMESPACES
            .contains("options?: CallOptions): Promise<ConversationResult<StartedConversation>>;"));
        assert_eq!(
            ts.matches("result: ").count(),
            super::ids().len(),
            "one result per operation"
        );
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
        // Each vendor's operations together, in the catalog's vendor order: nothing to list
        // here when an operation is added.
        let vendors: Vec<&str> = ids.iter().filter_map(|id| id.split('/').next()).collect();
        let mut groups = vendors.clone();
        groups.dedup();
        let mut distinct = groups.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(groups.len(), distinct.len(), "{ids:?}");
        assert_eq!(groups, ["memoio", "chayns", "livedesk", "mluvii"]);
    }
}
