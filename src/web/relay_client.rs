//! `createRelayClient(...)`: calls relay operations, validated before the network.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::call::{call, get_json, positive_ms, FollowUp, Relay, NO_FOLLOW_UP};
use super::error::HailError;
use super::js::get;
use crate::error::ErrorCode;
use crate::protocol;

/// Per-call timeout when none is configured, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;

// Generated from the catalog, so they list exactly the operations `call` dispatches.
#[wasm_bindgen(typescript_custom_section)]
const TS_OPERATIONS: &'static str = crate::catalog::TS_OPERATIONS;
#[wasm_bindgen(typescript_custom_section)]
const TS_NAMESPACES: &'static str = crate::catalog::TS_NAMESPACES;

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
/** An operation id, e.g. `"memoio/start-conversation"`. */
export type OperationId = keyof Operations;
/** The input of operation `K`, e.g. `InputOf<"livedesk/send-message">` is `SendMessage`. */
export type InputOf<K extends OperationId> = Operations[K]["input"];
/** The result data of operation `K`, e.g. `OutputOf<"livedesk/send-message">` is `Message`. */
export type OutputOf<K extends OperationId> = Operations[K]["output"];
/** The whole result of operation `K`, e.g. `ResultOf<"livedesk/send-message">` is
 *  `CallResult<Message>`, and `ResultOf<"livedesk/start-conversation">` has `replies()`. */
export type ResultOf<K extends OperationId> = Operations[K]["result"];
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
    call<K extends OperationId>(operationId: K, input: InputOf<K>, options?: CallOptions): Promise<ResultOf<K>>;
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
    /** The operation id (`memoio/start-conversation`), `replies/send` for a reply stream's
     *  `send`, or for the chayns user client `chayns-user/sendMessageToPage` (…ToUser, …ToGroup). */
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

// The vendors that deliver no replies say so in their results' type.
#[cfg(any(feature = "memoio", feature = "chayns"))]
#[wasm_bindgen(typescript_custom_section)]
const TS_NO_REPLIES: &'static str = r#"
/** The result of a MEMOIO or chayns send: these vendors deliver no replies to Hail (MEMOIO
 *  publishes no webhook for them; chayns replies reach the user in chayns itself). */
export interface NoRepliesResult<T> extends CallResult<T> {
    /** MEMOIO and chayns deliver no replies: there is no reply stream to open. */
    replies?: never;
    /** MEMOIO and chayns deliver no replies: there is no reply stream to open. */
    repliesAccess?: never;
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
    // `replies(access, options)`, made once like the namespaces.
    #[cfg(any(feature = "livedesk", feature = "mluvii"))]
    replies: JsValue,
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
    if url.ends_with("/v1") {
        // Every call's path starts with /v1: the relay's own root is wanted.
        return Err(invalid(
            "relayUrl",
            "must be the relay's root URL, without /v1 (the SDK adds /v1/…)",
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
        memoio: namespace(&inner, "memoio"),
        #[cfg(feature = "chayns")]
        chayns: namespace(&inner, "chayns"),
        #[cfg(feature = "livedesk")]
        livedesk: namespace(&inner, "livedesk"),
        #[cfg(feature = "mluvii")]
        mluvii: namespace(&inner, "mluvii"),
        #[cfg(any(feature = "livedesk", feature = "mluvii"))]
        replies: super::replies::opener(&inner, JsValue::UNDEFINED),
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
        call_promise(
            self.inner.clone(),
            operation_id,
            input,
            options,
            NO_FOLLOW_UP,
        )
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

    /// `replies(access, options?)`: reopens a reply stream from a `repliesAccess` kept from the
    /// result of the send that opened the conversation (e.g. after a reload, with the
    /// `lastEventId` kept from the stream): the same stream as that result's `replies(options)`.
    /// Throws a `HailError` with code `invalid_request` (and `field`) when `access` or an option
    /// is not one. (A function property, the same at every access, so it works detached.)
    #[cfg(any(feature = "livedesk", feature = "mluvii"))]
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "(access: RepliesAccess, options?: RepliesOptions) => ReplyStream"
    )]
    pub fn replies(&self) -> JsValue {
        self.replies.clone()
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

/// The namespace of `vendor` (`hail.memoio`, …): a plain object with one method per operation of
/// the catalog, each `call` with the operation's id. Plain functions rather than a class: they
/// work detached (`const { startConversation } = hail.memoio`), and a new operation needs no
/// code here.
fn namespace(inner: &Rc<Inner>, vendor: &str) -> JsValue {
    let object = js_sys::Object::new();
    for op in crate::catalog::operations().filter(|op| op.vendor == vendor) {
        let inner = inner.clone();
        let id = op.id;
        let method = Closure::<dyn Fn(JsValue, JsValue) -> js_sys::Promise>::new(
            move |input: JsValue, options: JsValue| {
                call_promise(
                    inner.clone(),
                    JsValue::from_str(id),
                    input,
                    Some(options),
                    NO_FOLLOW_UP,
                )
            },
        );
        // Setting a property on an object just made cannot fail.
        let _ = js_sys::Reflect::set(&object, &op.js_method.into(), &method.into_js_value());
    }
    object.into()
}

/// The promise of one call: one instance of the call's state machine for every method (and for
/// a reply stream's `send`, its `follow_up`).
pub(crate) fn call_promise(
    inner: Rc<Inner>,
    operation_id: JsValue,
    input: JsValue,
    options: Option<JsValue>,
    follow_up: FollowUp,
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
        call(&inner, &id, &input, &options, follow_up)
            .await
            .map_err(|e| e.into_js_from(&site))
    })
}
