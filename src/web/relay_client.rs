//! `createRelayClient(...)`: calls relay operations, validated before the network.

use std::rc::Rc;

use gloo_net::http::Request;
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::error::HailError;
use super::js::{get, new_idempotency_key, set};
use super::transport;
use super::validate::prepare;
use crate::error::ErrorCode;
use crate::protocol::{self, is_valid_idempotency_key};
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

/// Options of `createRelayClient`.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct RelayClientOptions {
    /// The relay's base URL, e.g. `https://relay.example.com`.
    pub relay_url: String,
    /// Per-call timeout in milliseconds (default 15000).
    #[serde(default)]
    #[tsify(optional)]
    pub timeout_ms: Option<u32>,
}

struct Inner {
    relay_url: String,
    timeout_ms: u32,
}

/// A client of one relay.
#[wasm_bindgen]
pub struct RelayClient {
    inner: Rc<Inner>,
}

/// Creates a client of the relay at `relayUrl`.
#[wasm_bindgen(js_name = createRelayClient)]
pub fn create_relay_client(options: Ts<RelayClientOptions>) -> Result<RelayClient, JsValue> {
    let options: RelayClientOptions =
        serde_wasm_bindgen::from_value(options.js_value()).map_err(|e| {
            HailError::new(ErrorCode::InvalidRequest, format!("createRelayClient: {e}"))
        })?;
    let relay_url = options.relay_url.trim_end_matches('/').to_owned();
    if !(relay_url.starts_with("https://") || relay_url.starts_with("http://")) {
        return Err(HailError::new(
            ErrorCode::InvalidRequest,
            "relayUrl must be an absolute http(s) URL",
        )
        .field("relayUrl")
        .into());
    }
    Ok(RelayClient {
        inner: Rc::new(Inner {
            relay_url,
            timeout_ms: options
                .timeout_ms
                .filter(|&t| t > 0)
                .unwrap_or(DEFAULT_TIMEOUT_MS),
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
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        wasm_bindgen_futures::future_to_promise(async move {
            let Some(id) = operation_id.as_string() else {
                return Err(HailError::new(
                    ErrorCode::InvalidRequest,
                    "operationId must be a string",
                )
                .field("operationId")
                .into());
            };
            call(&inner, &id, &input, &options)
                .await
                .map_err(JsValue::from)
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
                    let inner = self.0.clone();
                    let input = input.js_value();
                    let options = options.unwrap_or(JsValue::UNDEFINED);
                    wasm_bindgen_futures::future_to_promise(async move {
                        call(&inner, $id, &input, &options).await.map_err(JsValue::from)
                    })
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

struct CallOptions {
    signal: Option<AbortSignal>,
    timeout_ms: Option<u32>,
    idempotency_key: Option<String>,
}

fn call_options(options: &JsValue) -> Result<CallOptions, HailError> {
    if options.is_undefined() || options.is_null() {
        return Ok(CallOptions {
            signal: None,
            timeout_ms: None,
            idempotency_key: None,
        });
    }
    if !options.is_object() {
        return Err(
            HailError::new(ErrorCode::InvalidRequest, "options must be an object").field("options"),
        );
    }
    let signal = get(options, "signal");
    let signal = if signal.is_undefined() || signal.is_null() {
        None
    } else {
        Some(signal.dyn_into::<AbortSignal>().map_err(|_| {
            HailError::new(ErrorCode::InvalidRequest, "signal must be an AbortSignal")
                .field("signal")
        })?)
    };
    let timeout = get(options, "timeoutMs");
    let timeout_ms = match timeout.as_f64() {
        None if timeout.is_undefined() || timeout.is_null() => None,
        Some(ms) if ms.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&ms) => {
            Some(ms as u32)
        }
        _ => {
            return Err(HailError::new(
                ErrorCode::InvalidRequest,
                "timeoutMs must be a positive whole number",
            )
            .field("timeoutMs"))
        }
    };
    let key = get(options, "idempotencyKey");
    let idempotency_key = match key.as_string() {
        None if key.is_undefined() || key.is_null() => None,
        Some(k) if is_valid_idempotency_key(k.as_bytes()) => Some(k),
        _ => {
            return Err(HailError::new(
                ErrorCode::InvalidRequest,
                "idempotencyKey must be 1 to 255 visible ASCII characters",
            )
            .field("idempotencyKey"))
        }
    };
    Ok(CallOptions {
        signal,
        timeout_ms,
        idempotency_key,
    })
}

async fn call(
    inner: &Inner,
    id: &str,
    input: &JsValue,
    options: &JsValue,
) -> Result<JsValue, HailError> {
    let options = call_options(options)?;
    let prepared = prepare(id, input)?.map_err(|v| HailError::invalid(&v))?;
    let url = format!("{}{}", inner.relay_url, protocol::operation_path(id));
    let mut request = Request::post(&url).header("content-type", "application/json");
    if prepared.sends {
        let key = match options.idempotency_key {
            Some(key) => key,
            None => new_idempotency_key().ok_or_else(|| {
                HailError::new(
                    ErrorCode::Internal,
                    "no crypto.getRandomValues to make an idempotency key",
                )
            })?,
        };
        request = request.header(protocol::IDEMPOTENCY_KEY, &key);
    }
    let timeout = options.timeout_ms.unwrap_or(inner.timeout_ms);
    let received = transport::send(request, Some(prepared.body), timeout, options.signal).await?;
    let request_id = received.headers.get(protocol::REQUEST_ID);
    let body = js_sys::JSON::parse(&received.text).ok();
    if received.status != 200 {
        let body = body.unwrap_or(JsValue::UNDEFINED);
        return Err(HailError::from_problem(received.status, &body, request_id));
    }
    let body = body.filter(JsValue::is_object).ok_or_else(|| {
        HailError::new(ErrorCode::InvalidResponse, "the relay's answer is not JSON")
    })?;
    let upstream_status = get(&get(&body, "upstream"), "status");
    let result = js_sys::Object::new();
    set(&result, "data", get(&body, "data"));
    set(&result, "upstreamStatus", upstream_status);
    set(&result, "requestId", request_id.unwrap_or_default());
    set(
        &result,
        "replayed",
        received
            .headers
            .get(protocol::IDEMPOTENT_REPLAYED)
            .as_deref()
            == Some("true"),
    );
    Ok(result.into())
}
