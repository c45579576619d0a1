//! `createRelayClient(...)`: calls relay operations, validated before the network.

use std::rc::Rc;

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::call::{call, get_json, positive_ms, Relay};
use super::error::HailError;
use super::js::get;
use crate::error::ErrorCode;
use crate::protocol;
#[cfg(feature = "chayns")]
use crate::vendors::chayns;
#[cfg(feature = "livedesk")]
use crate::vendors::livedesk;
#[cfg(feature = "memoio")]
use crate::vendors::memoio;
#[cfg(feature = "mluvii")]
use crate::vendors::mluvii;

/// Per-call timeout when none is configured, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;

// Generated from the catalog, so it lists exactly the operations `call` dispatches.
#[wasm_bindgen(typescript_custom_section)]
const TS_OPERATIONS: &'static str = crate::catalog::TS_OPERATIONS;

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
/** An operation id, e.g. `"memoio/start-conversation"`. */
export type OperationId = keyof Operations;
/** The input of operation `K`, e.g. `InputOf<"livedesk/send-message">` is `SendMessage`. */
export type InputOf<K extends OperationId> = Operations[K]["input"];
/** The result data of operation `K`, e.g. `OutputOf<"livedesk/send-message">` is `Message`. */
export type OutputOf<K extends OperationId> = Operations[K]["output"];
/** A client of one relay, made by `createRelayClient`. */
export interface RelayClient {
    /**
     * Calls relay operation `operationId` (`POST {relayUrl}/v1/{operationId}`) with `input`,
     * checked first by the same rules the relay applies: the vendor namespaces
     * (`hail.memoio.startConversation(…)`, …) are this with a fixed id.
     *
     * Rejects with a `HailError`: `invalid_field` / `invalid_request` (refused before the
     * network, `violations` lists every broken rule), `unknown_operation`, `network_error`,
     * `timeout`, `aborted`, `invalid_response`, or what the relay answered (`unauthenticated`,
     * `forbidden`, `origin_not_allowed`, `operation_disabled`, `rate_limited`,
     * `idempotency_key_reused`, `idempotency_in_flight`, `upstream_rejected`,
     * `upstream_unavailable`, `upstream_timeout`, `outcome_unknown`, …).
     */
    call<K extends OperationId>(operationId: K, input: InputOf<K>, options?: CallOptions): Promise<CallResult<OutputOf<K>>>;
}
/** What every successful call resolves to. */
export interface CallResult<T> {
    /** The vendor's answer. */
    data: T;
    /** The vendor's HTTP status. */
    upstreamStatus: number;
    /** The relay's request id, for support (for chayns user-client sends: chayns'
     *  `X-Request-Id`, else an id the SDK made). */
    requestId: string;
    /** Whether the relay answered from its idempotency store instead of calling the vendor again. */
    replayed: boolean;
    /** `true` when an earlier try with the same key ended as `outcome_unknown` and the relay
     * found its result by asking the vendor (LiveDesk): it was sent once, by that earlier try. */
    reconciled?: boolean;
}
/** Options of `createRelayClient`. */
export interface RelayClientOptions {
    /** The relay's base URL, e.g. `https://relay.example.com`. */
    relayUrl: string;
    /** The caller's token (sent as `Authorization: Bearer`), or a function returning it (or a
     *  promise of it); called for every call, and once more after an `unauthenticated` answer. */
    token?: string | (() => string | Promise<string>);
    /** Timeout of one attempt, in milliseconds (default 15000). */
    timeoutMs?: number;
    /** Retries after `network_error`, `timeout`, `upstream_unavailable` or `rate_limited`, with
     *  backoff, always with the same idempotency key (default 2, at most 10). */
    retries?: number;
    /** Called after every attempt (retries included): for logs and debugging. */
    onAttempt?: (event: AttemptEvent) => void;
}
/** One attempt of a call, as `onAttempt` sees it. */
export interface AttemptEvent {
    /** The operation id (`memoio/start-conversation`), or for the chayns user client
     *  `chayns-user/sendMessageToPage` (…ToUser, …ToGroup). */
    operation: string;
    /** 1 for the first attempt of the call. */
    attempt: number;
    /** The call's idempotency key (relay operations that send), the same on every retry. */
    idempotencyKey?: string;
    /** The relay's request id; for direct chayns sends the SDK's id of the send. */
    requestId?: string;
    /** The HTTP status, when an answer came. */
    status?: number;
    /** Why the attempt failed (absent when it succeeded). */
    code?: ErrorCode;
    /** The failure's human-readable message (absent when the attempt succeeded). */
    message?: string;
    /** Whether the call tries again. */
    retrying: boolean;
    /** How long the attempt took, its token included, in milliseconds. */
    durationMs: number;
}
/** What the relay offers (`GET /v1/capabilities`). */
export interface Capabilities {
    /** The operations this relay has enabled (the others answer `operation_disabled`). */
    operations: CapabilityOperation[];
    /** Whether the relay runs with simulated vendors (`hail-relay --sandbox`). */
    sandbox: boolean;
    /** Sandbox only: the simulated chayns user API (a `baseUrl` for the chayns user client). */
    chaynsUserApi?: string;
}
/** One enabled operation, as `Capabilities` lists it. */
export interface CapabilityOperation {
    /** The operation id. */
    id: OperationId;
    /** Who may call it: anyone (`public`), callers with a token the company's backend minted
     *  (`jwt`), or chayns users with their `tobitAccessToken` (`chayns`). */
    access: "public" | "jwt" | "chayns";
    /** Whether it sends something (and so takes an idempotency key). */
    sends: boolean;
    /** Fields the company fixed: leave them out, or give exactly the fixed value (else
     *  `forbidden`). */
    pinned: string[];
    /** Fields that must equal a claim of the caller's token (e.g. their own e-mail address). */
    bound: string[];
}
/** Options of one call. */
export interface CallOptions {
    /** Aborts the call; it then rejects with code `aborted`. */
    signal?: AbortSignal;
    /** Overrides the client's timeout for this call. */
    timeoutMs?: number;
    /** The key of this logical send (1–255 visible ASCII); generated when absent. */
    idempotencyKey?: string;
}
"#;

/// Default number of retries of a failed call (same idempotency key).
pub const DEFAULT_RETRIES: u32 = 2;
/// Most retries a client may configure.
pub const RETRIES_MAX: u32 = 10;

type Inner = Relay;

/// A client of one relay, made by `createRelayClient`.
#[wasm_bindgen]
pub struct RelayClient {
    inner: Rc<Inner>,
    // The vendor namespaces as JS objects, made once: each getter returns the same object every
    // time (`hail.memoio === hail.memoio`), not a new wrapper per access.
    #[cfg(feature = "memoio")]
    memoio: JsValue,
    #[cfg(feature = "chayns")]
    chayns: JsValue,
    #[cfg(feature = "livedesk")]
    livedesk: JsValue,
    #[cfg(feature = "mluvii")]
    mluvii: JsValue,
}

/// Creates a client of the relay at `relayUrl`: nothing is sent until a call. Its vendor
/// namespaces (`hail.memoio`, `hail.chayns`, `hail.livedesk`, `hail.mluvii`) and `call` send
/// each call to the relay (`POST {relayUrl}/v1/{operationId}`), which adds the company's secret
/// and forwards it to the vendor.
///
/// Throws a `HailError` with code `invalid_request` (and `field`) when an option is missing,
/// of the wrong type or unknown.
#[wasm_bindgen(js_name = createRelayClient)]
pub fn create_relay_client(
    #[wasm_bindgen(unchecked_param_type = "RelayClientOptions")] options: JsValue,
) -> Result<RelayClient, JsValue> {
    let invalid = |field: &'static str, why: &str| -> JsValue {
        HailError::new(
            ErrorCode::InvalidRequest,
            format!("createRelayClient: {field} {why}"),
        )
        .field(field)
        .into()
    };
    if !options.is_object() {
        return Err(invalid("options", "must be an object"));
    }
    super::js::known_options(
        &options,
        "relayUrl, token, timeoutMs, retries, onAttempt",
        "createRelayClient",
    )?;
    let url = get(&options, "relayUrl")
        .as_string()
        .ok_or_else(|| invalid("relayUrl", "must be a string"))?;
    let url = url.trim_end_matches('/').to_owned();
    if crate::BaseUrl::parse(&url).is_err() {
        return Err(invalid(
            "relayUrl",
            "must be an absolute http(s) URL without query",
        ));
    }
    let on_attempt = get(&options, "onAttempt");
    if !(on_attempt.is_undefined() || on_attempt.is_function()) {
        return Err(invalid("onAttempt", "must be a function"));
    }
    let token = get(&options, "token");
    if !(token.is_undefined() || token.is_null() || token.is_string() || token.is_function()) {
        return Err(invalid("token", "must be a string or a function"));
    }
    let timeout_ms =
        positive_ms(&get(&options, "timeoutMs"), "timeoutMs")?.unwrap_or(DEFAULT_TIMEOUT_MS);
    let retries = get(&options, "retries");
    let retries = match retries.as_f64() {
        None if retries.is_undefined() || retries.is_null() => DEFAULT_RETRIES,
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(RETRIES_MAX)).contains(&n) => n as u32,
        _ => return Err(invalid("retries", "must be a whole number from 0 to 10")),
    };
    let inner = Rc::new(Relay {
        url,
        token,
        timeout_ms,
        retries,
        on_attempt,
    });
    Ok(RelayClient {
        #[cfg(feature = "memoio")]
        memoio: MemoioApi(inner.clone()).into(),
        #[cfg(feature = "chayns")]
        chayns: ChaynsApi(inner.clone()).into(),
        #[cfg(feature = "livedesk")]
        livedesk: LiveDeskApi(inner.clone()).into(),
        #[cfg(feature = "mluvii")]
        mluvii: MluviiApi(inner.clone()).into(),
        inner,
    })
}

#[wasm_bindgen]
impl RelayClient {
    // Declared generically in `TS_CLIENT` (an interface merged with the class), which
    // wasm-bindgen's per-parameter types cannot express.
    #[wasm_bindgen(skip_typescript)]
    pub fn call(
        &self,
        #[wasm_bindgen(js_name = operationId)] operation_id: JsValue,
        input: JsValue,
        options: Option<JsValue>,
    ) -> js_sys::Promise {
        call_promise(self.inner.clone(), operation_id, input, options)
    }

    /// What the relay offers (`GET {relayUrl}/v1/capabilities`): the enabled operations with
    /// their access mode and fixed fields.
    ///
    /// Rejects with a `HailError`: `network_error`, `timeout`, `invalid_response`, or the
    /// relay's own error code.
    #[wasm_bindgen(unchecked_return_type = "Promise<Capabilities>")]
    pub fn capabilities(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        let site = super::error::call_site();
        wasm_bindgen_futures::future_to_promise(async move {
            let url = format!("{}{}", inner.url, protocol::CAPABILITIES_PATH);
            get_json(&url, inner.timeout_ms)
                .await
                .map_err(|e| e.into_js_from(&site))
        })
    }

    #[cfg(feature = "memoio")]
    /// MEMOIO operations. The same object at every access.
    #[wasm_bindgen(getter = memoio, unchecked_return_type = "MemoioApi")]
    pub fn memoio_js(&self) -> JsValue {
        self.memoio.clone()
    }

    #[cfg(feature = "chayns")]
    /// chayns Backend API operations. The same object at every access.
    #[wasm_bindgen(getter = chayns, unchecked_return_type = "ChaynsApi")]
    pub fn chayns_js(&self) -> JsValue {
        self.chayns.clone()
    }

    #[cfg(feature = "livedesk")]
    /// LiveDesk operations. The same object at every access.
    #[wasm_bindgen(getter = livedesk, unchecked_return_type = "LiveDeskApi")]
    pub fn livedesk_js(&self) -> JsValue {
        self.livedesk.clone()
    }

    #[cfg(feature = "mluvii")]
    /// mluvii operations. The same object at every access.
    #[wasm_bindgen(getter = mluvii, unchecked_return_type = "MluviiApi")]
    pub fn mluvii_js(&self) -> JsValue {
        self.mluvii.clone()
    }
}

// For Rust callers (the wasm tests): a handle on the same client. JS gets one object per
// namespace from the getters above.
impl RelayClient {
    #[cfg(feature = "memoio")]
    /// The MEMOIO operations.
    pub fn memoio(&self) -> MemoioApi {
        MemoioApi(self.inner.clone())
    }

    #[cfg(feature = "chayns")]
    /// The chayns Backend API operations.
    pub fn chayns(&self) -> ChaynsApi {
        ChaynsApi(self.inner.clone())
    }

    #[cfg(feature = "livedesk")]
    /// The LiveDesk operations.
    pub fn livedesk(&self) -> LiveDeskApi {
        LiveDeskApi(self.inner.clone())
    }

    #[cfg(feature = "mluvii")]
    /// The mluvii operations.
    pub fn mluvii(&self) -> MluviiApi {
        MluviiApi(self.inner.clone())
    }
}

/// The promise of one call: one instance of the call's state machine for every method.
fn call_promise(
    inner: Rc<Inner>,
    operation_id: JsValue,
    input: JsValue,
    options: Option<JsValue>,
) -> js_sys::Promise {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let site = super::error::call_site();
    wasm_bindgen_futures::future_to_promise(async move {
        let Some(id) = operation_id.as_string() else {
            return Err(
                HailError::new(ErrorCode::InvalidRequest, "operationId must be a string")
                    .field("operationId")
                    .into_js_from(&site),
            );
        };
        call(&inner, &id, &input, &options)
            .await
            .map_err(|e| e.into_js_from(&site))
    })
}

// One JS class per vendor namespace, one method per operation: `call` with a fixed id. The
// JSDoc lines are string literals, not `///`: wasm-bindgen copies a doc literal's source text,
// and `///` passed through `macro_rules!` arrives as a raw string (`r" …`). wasm-bindgen wants
// literals for the id and the return type too; each is checked at compile time against the
// operation's declaration (`#[operation(…)]`), so it cannot drift from it.
macro_rules! namespace {
    ([$($doc:literal),* $(,)?] $api:ident {
        $( [$($mdoc:literal),* $(,)?] $js:literal => $method:ident ($input:ty, $id:literal, $ts:literal); )*
    }) => {
        $(#[doc = $doc])*
        #[wasm_bindgen]
        pub struct $api(Rc<Inner>);

        #[wasm_bindgen]
        impl $api {
            $(
                $(#[doc = $mdoc])*
                #[doc = ""]
                #[doc = "Rejects with a `HailError`: `invalid_field` before the network (`violations`"]
                #[doc = "lists every broken rule), `network_error`, `timeout`, `aborted`,"]
                #[doc = "`invalid_response`, or what the relay answered: `unauthenticated`, `forbidden`,"]
                #[doc = "`origin_not_allowed`, `operation_disabled`, `rate_limited`, `upstream_rejected`"]
                #[doc = "(the vendor refused), `upstream_unavailable`, `upstream_timeout`, `outcome_unknown`, …"]
                #[wasm_bindgen(js_name = $js, unchecked_return_type = $ts)]
                pub fn $method(
                    &self,
                    input: Ts<$input>,
                    #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
                ) -> js_sys::Promise {
                    call_promise(self.0.clone(), JsValue::from_str($id), input.js_value(), options)
                }
            )*
        }

        $(
            const_format::assertcp_eq!(<$input as crate::operation::Metadata>::ID, $id);
            const_format::assertcp_eq!(
                const_format::concatcp!(
                    "Promise<CallResult<",
                    <$input as crate::operation::Metadata>::TS_OUTPUT,
                    ">>"
                ),
                $ts
            );
        )*
    };
}

#[cfg(feature = "memoio")]
namespace!(
    [
        "MEMOIO operations of a relay client (`hail.memoio`).",
    ]
    MemoioApi {
        [
            "Sends a message in the company's name to one person (by e-mail address); when they",
            "reply, they are connected to `channel`. Vendor call:",
            "`POST https://memoio.com/api/start-conversation`.",
        ]
        "startConversation" => start_conversation(memoio::start_conversation::StartConversation,
            "memoio/start-conversation", "Promise<CallResult<MemoioReply>>");
        [
            "Connects two people (one of them belongs to the company) in one conversation, in",
            "the company's name. Vendor call: `POST https://memoio.com/api/start-direct-conversation`.",
        ]
        "startDirectConversation" => start_direct_conversation(memoio::start_direct_conversation::StartDirectConversation,
            "memoio/start-direct-conversation", "Promise<CallResult<MemoioReply>>");
    }
);

#[cfg(feature = "chayns")]
namespace!(
    [
        "chayns Backend API operations of a relay client (`hail.chayns`).",
    ]
    ChaynsApi {
        [
            "Sends an Intercom message to chayns users, UAC groups or sites, or with `asCaller`",
            "as the verified caller to the site. Vendor call:",
            "`POST https://api.chayns.net/v2.0/{LocationID}/Intercom` (the site is the relay's).",
        ]
        "intercom" => intercom(chayns::intercom::Intercom, "chayns/intercom", "Promise<CallResult<IntercomResult>>");
    }
);

#[cfg(feature = "livedesk")]
namespace!(
    [
        "EngageLab LiveDesk operations of a relay client (`hail.livedesk`).",
    ]
    LiveDeskApi {
        [
            "Creates a contact in an inbox. Vendor call:",
            "`POST https://livedesk-api.engagelab.com/api/v2/accounts/contacts`.",
        ]
        "createContact" => create_contact(livedesk::create_contact::CreateContact,
            "livedesk/create-contact", "Promise<CallResult<Contact>>");
        [
            "Creates a conversation with a contact. Vendor call:",
            "`POST https://livedesk-api.engagelab.com/api/v2/accounts/conversations`.",
        ]
        "createConversation" => create_conversation(livedesk::create_conversation::CreateConversation,
            "livedesk/create-conversation", "Promise<CallResult<Conversation>>");
        [
            "Sends a message into a conversation. Vendor call:",
            "`POST https://livedesk-api.engagelab.com/api/v2/accounts/conversations/{conversationId}/messages`.",
        ]
        "sendMessage" => send_message(livedesk::send_message::SendMessage,
            "livedesk/send-message", "Promise<CallResult<Message>>");
        [
            "Creates a contact, a conversation with it and its first message, as one call with",
            "one idempotency key: a retry resumes after the last vendor call that succeeded.",
            "Vendor calls: `POST …/contacts`, `POST …/conversations`,",
            "`POST …/conversations/{id}/messages` of `https://livedesk-api.engagelab.com/api/v2/accounts`.",
        ]
        "startConversation" => start_conversation(livedesk::start_conversation::StartConversation,
            "livedesk/start-conversation", "Promise<CallResult<StartedConversation>>");
    }
);

#[cfg(feature = "mluvii")]
namespace!(
    [
        "mluvii operations of a relay client (`hail.mluvii`).",
    ]
    MluviiApi {
        [
            "Lists the company's WhatsApp subscriptions (numbers). Vendor call:",
            "`GET https://app.mluvii.com/api/v1/WhatsApp`.",
        ]
        "whatsappSubscriptions" => whatsapp_subscriptions(mluvii::whatsapp_subscriptions::WhatsappSubscriptions,
            "mluvii/whatsapp-subscriptions", "Promise<CallResult<Subscription[]>>");
        [
            "Sends a WhatsApp template to many recipients at once. Vendor call:",
            "`POST https://app.mluvii.com/api/v1/WhatsApp/{subscriptionId}/sendTemplates`.",
        ]
        "sendWhatsAppTemplates" => send_whatsapp_templates(mluvii::whatsapp_send_templates::WhatsappSendTemplates,
            "mluvii/whatsapp-send-templates", "Promise<CallResult<WhatsappSendTemplatesReply>>");
        [
            "Lists the templates sent through a subscription. Vendor call:",
            "`GET https://app.mluvii.com/api/v1/WhatsApp/{subscriptionId}/sentTemplates?since&offset&limit`.",
        ]
        "sentWhatsAppTemplates" => sent_whatsapp_templates(mluvii::whatsapp_sent_templates::WhatsappSentTemplates,
            "mluvii/whatsapp-sent-templates", "Promise<CallResult<WhatsappSentTemplatesReply>>");
    }
);
