//! `createRelayClient(...)`: calls relay operations, validated before the network.

use std::rc::Rc;

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::call::{call, get_json, positive_ms, Relay};
use super::error::HailError;
use super::js::get;
use crate::error::ErrorCode;
use crate::protocol;
use crate::vendors::{chayns, livedesk, memoio, mluvii};

/// Per-call timeout when none is configured, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
/** Every relay operation: its input and its result data. */
export interface Operations {
    "memoio/start-conversation": { input: MemoioStartConversation; output: unknown };
    "memoio/start-direct-conversation": { input: StartDirectConversation; output: unknown };
    "chayns/intercom": { input: Intercom; output: IntercomResult };
    "livedesk/create-contact": { input: CreateContact; output: Contact };
    "livedesk/create-conversation": { input: CreateConversation; output: Conversation };
    "livedesk/send-message": { input: SendMessage; output: Message };
    "livedesk/start-conversation": { input: LiveDeskStartConversation; output: StartedConversation };
    "mluvii/whatsapp-subscriptions": { input: WhatsappSubscriptions; output: Subscription[] };
    "mluvii/whatsapp-send-templates": { input: WhatsappSendTemplates; output: unknown };
    "mluvii/whatsapp-sent-templates": { input: WhatsappSentTemplates; output: unknown };
}
/** An operation id, e.g. `"memoio/start-conversation"`. */
export type OperationId = keyof Operations;
/** What every successful call resolves to. */
export interface CallResult<T> {
    /** The vendor's answer. */
    data: T;
    /** The vendor's HTTP status. */
    upstreamStatus: number;
    /** The relay's request id. */
    requestId: string;
    /** Whether the relay answered from its idempotency store instead of calling the vendor again. */
    replayed: boolean;
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
    message?: string;
    /** Whether the call tries again. */
    retrying: boolean;
    /** How long the attempt took, its token included, in milliseconds. */
    durationMs: number;
}
/** What the relay offers (`GET /v1/capabilities`). */
export interface Capabilities {
    operations: { id: OperationId; access: "public" | "jwt" | "chayns"; sends: boolean; pinned: string[]; bound: string[] }[];
    sandbox: boolean;
    /** Sandbox only: the simulated chayns user API (a `baseUrl` for the chayns user client). */
    chaynsUserApi?: string;
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

/// A client of one relay.
#[wasm_bindgen]
pub struct RelayClient {
    inner: Rc<Inner>,
}

/// Creates a client of the relay at `relayUrl`.
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
    Ok(RelayClient {
        inner: Rc::new(Relay {
            url,
            token,
            timeout_ms,
            retries,
            on_attempt,
        }),
    })
}

#[wasm_bindgen]
impl RelayClient {
    /// Calls any operation by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<CallResult<unknown>>")]
    pub fn call(
        &self,
        #[wasm_bindgen(js_name = operationId, unchecked_param_type = "OperationId")]
        operation_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> js_sys::Promise {
        call_promise(self.inner.clone(), operation_id, input, options)
    }

    /// What the relay offers: the enabled operations with access mode and fixed fields.
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

    /// MEMOIO operations.
    #[wasm_bindgen(getter)]
    pub fn memoio(&self) -> MemoioApi {
        MemoioApi(self.inner.clone())
    }

    /// chayns Backend API operations.
    #[wasm_bindgen(getter)]
    pub fn chayns(&self) -> ChaynsApi {
        ChaynsApi(self.inner.clone())
    }

    /// LiveDesk operations.
    #[wasm_bindgen(getter)]
    pub fn livedesk(&self) -> LiveDeskApi {
        LiveDeskApi(self.inner.clone())
    }

    /// mluvii operations.
    #[wasm_bindgen(getter)]
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

/// One JS class per vendor namespace, one method per operation: `call` with a fixed id.
macro_rules! namespace {
    ($(#[$doc:meta])* $api:ident { $( $js:literal => $method:ident ($input:ty, $id:literal, $ts:literal); )* }) => {
        $(#[$doc])*
        #[wasm_bindgen]
        pub struct $api(Rc<Inner>);

        #[wasm_bindgen]
        impl $api {
            $(
                #[doc = concat!("`", $id, "`.")]
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
    };
}

namespace!(
    /// MEMOIO operations of a relay client.
    MemoioApi {
        "startConversation" => start_conversation(memoio::start_conversation::StartConversation,
            "memoio/start-conversation", "Promise<CallResult<unknown>>");
        "startDirectConversation" => start_direct_conversation(memoio::start_direct_conversation::StartDirectConversation,
            "memoio/start-direct-conversation", "Promise<CallResult<unknown>>");
    }
);

namespace!(
    /// chayns Backend API operations of a relay client.
    ChaynsApi {
        "intercom" => intercom(chayns::intercom::Intercom, "chayns/intercom", "Promise<CallResult<IntercomResult>>");
    }
);

namespace!(
    /// LiveDesk operations of a relay client.
    LiveDeskApi {
        "createContact" => create_contact(livedesk::create_contact::CreateContact,
            "livedesk/create-contact", "Promise<CallResult<Contact>>");
        "createConversation" => create_conversation(livedesk::create_conversation::CreateConversation,
            "livedesk/create-conversation", "Promise<CallResult<Conversation>>");
        "sendMessage" => send_message(livedesk::send_message::SendMessage,
            "livedesk/send-message", "Promise<CallResult<Message>>");
        "startConversation" => start_conversation(livedesk::start_conversation::StartConversation,
            "livedesk/start-conversation", "Promise<CallResult<StartedConversation>>");
    }
);

namespace!(
    /// mluvii operations of a relay client.
    MluviiApi {
        "whatsappSubscriptions" => whatsapp_subscriptions(mluvii::whatsapp_subscriptions::WhatsappSubscriptions,
            "mluvii/whatsapp-subscriptions", "Promise<CallResult<Subscription[]>>");
        "sendWhatsAppTemplates" => send_whatsapp_templates(mluvii::whatsapp_send_templates::WhatsappSendTemplates,
            "mluvii/whatsapp-send-templates", "Promise<CallResult<unknown>>");
        "sentWhatsAppTemplates" => sent_whatsapp_templates(mluvii::whatsapp_sent_templates::WhatsappSentTemplates,
            "mluvii/whatsapp-sent-templates", "Promise<CallResult<unknown>>");
    }
);
