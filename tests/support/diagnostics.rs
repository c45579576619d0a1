//! What a developer sees when a relay call goes wrong: every violation, the cause, the code of
//! what cut the call, refused option names and operation ids with a suggestion. Run in Chromium
//! and in Node against the sandbox relay.

use wasm_bindgen::{JsCast, JsValue};

use super::relay::*;

/// One `#[wasm_bindgen_test]` per diagnostics scenario.
macro_rules! diagnostics_tests {
    () => {
        diagnostics_tests!(
            refused_calls_list_every_violation,
            token_function_obeys_timeout_and_signal,
            causes_are_kept,
            timeout_then_in_flight_ends_as_timeout,
            misspelt_names_are_refused_with_a_suggestion,
            on_attempt_sees_every_attempt,
            stacks_show_the_caller,
        );
    };
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                crate::diagnostics::$name().await;
            }
        )*
    };
}

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

fn message(e: &JsValue) -> String {
    get(e, "message").as_string().unwrap_or_default()
}

fn with_token(token: &JsValue, extra: &str) -> hail::web::RelayClient {
    let options = js(&format!(r#"{{"relayUrl":"{}"{extra}}}"#, relay_url()));
    js_sys::Reflect::set(&options, &"token".into(), token).expect("set");
    hail::web::create_relay_client(options).unwrap_or_else(|_| panic!("client"))
}

/// A refused call's HailError lists every violation, nested paths included.
pub async fn refused_calls_list_every_violation() {
    let e = settle(client().call(
        "livedesk/start-conversation".into(),
        js(r#"{"inboxId":"inbox-407","contact":{"email":"anna@"}}"#),
        None,
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "invalid_field");
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("inboxId"));
    let fields: Vec<String> = js_sys::Array::from(&get(&e, "violations"))
        .iter()
        .filter_map(|v| get(&v, "field").as_string())
        .collect();
    assert_eq!(
        fields,
        ["inboxId", "contact.email", "content"],
        "field order"
    );
    assert!(message(&e).contains("(and 2 more)"), "{}", message(&e));
}

/// The token function runs under the call's timeout and signal: one that never settles cannot
/// hang the call.
pub async fn token_function_obeys_timeout_and_signal() {
    let never = js_sys::Function::new_no_args("return new Promise(() => {});");
    let c = with_token(&never, r#","timeoutMs":150,"retries":0"#);
    let started = js_sys::Date::now();
    let e = settle(c.call("mluvii/whatsapp-subscriptions".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "timeout");
    assert!(message(&e).contains("token function"), "{}", message(&e));
    assert!(js_sys::Date::now() - started < 1_000.0);

    let controller = web_sys::AbortController::new().expect("controller");
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"signal".into(), &controller.signal()).expect("set");
    let c = with_token(&never, "");
    let pending = c.call(
        "mluvii/whatsapp-subscriptions".into(),
        js("{}"),
        Some(options.into()),
    );
    sleep_ms(50).await;
    controller.abort_with_reason(&"the user left".into());
    let e = settle(pending).await.unwrap_err();
    assert_eq!(code(&e), "aborted");
    assert_eq!(
        get(&e, "cause").as_string().as_deref(),
        Some("the user left")
    );
}

/// The platform's network error, a token function's exception and an abort reason arrive as
/// the HailError's `cause`.
pub async fn causes_are_kept() {
    let down = client_with(r#"{"relayUrl":"http://127.0.0.1:9","retries":0}"#);
    let e = settle(down.call(
        "memoio/start-conversation".into(),
        js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#),
        None,
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "network_error");
    let cause = get(&e, "cause");
    assert!(cause.is_instance_of::<js_sys::Error>(), "{cause:?}");
    assert!(message(&e).contains(&message(&cause)), "{}", message(&e));

    let throwing = js_sys::Function::new_no_args("throw new RangeError('no session');");
    let e = settle(with_token(&throwing, "").call(
        "mluvii/whatsapp-subscriptions".into(),
        js("{}"),
        None,
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert_eq!(
        get(&get(&e, "cause"), "name").as_string().as_deref(),
        Some("RangeError")
    );

    // A HailError without a cause has no `cause` property at all.
    let e = settle(client().call("memoio/start-conversation".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert!(!js_sys::Reflect::has(&e, &"cause".into()).unwrap_or(true));
}

/// An attempt times out, the retries find the relay still sending (409 in flight): the call
/// ends as `timeout`, which is what cut it, not `idempotency_in_flight`.
pub async fn timeout_then_in_flight_ends_as_timeout() {
    // The simulated vendor holds the answer for 5 s: longer than every attempt and backoff.
    fault(r#"{"vendor":"livedesk","kind":"timeout","delayMs":5000}"#).await;
    let c = client_with(&format!(
        r#"{{"relayUrl":"{}","timeoutMs":300,"retries":2}}"#,
        relay_url()
    ));
    let e = settle(c.call(
        "livedesk/create-contact".into(),
        js(r#"{"inboxId":407,"name":"in flight"}"#),
        None,
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "timeout", "{}", message(&e));
    assert!(message(&e).contains("still"), "{}", message(&e));
    assert_eq!(get(&e, "retryable").as_bool(), Some(true));
}

/// Misspelt option names and operation ids are refused, naming the right one.
pub async fn misspelt_names_are_refused_with_a_suggestion() {
    let c = client();
    let e = settle(c.call("memoio/startConversation".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unknown_operation");
    assert!(
        message(&e).contains("did you mean \"memoio/start-conversation\""),
        "{}",
        message(&e)
    );
    let e = settle(c.call("nope".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert!(
        message(&e).contains("livedesk/create-contact"),
        "{}",
        message(&e)
    );
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(c.call(
        "memoio/start-conversation".into(),
        input,
        Some(js(r#"{"timeout":5}"#)),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "field").as_string()),
        ("invalid_request".into(), Some("timeout".into()))
    );
    assert!(
        message(&e).contains("did you mean \"timeoutMs\""),
        "{}",
        message(&e)
    );
    let e = hail::web::create_relay_client(js(r#"{"relayUrl":"http://x","retry":1}"#))
        .err()
        .expect("unknown option");
    assert!(
        message(&e).contains("did you mean \"retries\""),
        "{}",
        message(&e)
    );
    let e = hail::web::validate("mluvii/whatsappSubscriptions".into(), js("{}"))
        .expect_err("unknown id");
    assert!(
        message(&e).contains("mluvii/whatsapp-subscriptions"),
        "{}",
        message(&e)
    );
}

/// A hook that records every event in `events`.
pub fn recorder(events: &js_sys::Array) -> JsValue {
    js_sys::Function::new_with_args("events", "return (e) => { events.push(e); };")
        .call1(&JsValue::NULL, events)
        .expect("recorder")
}

/// `onAttempt` is called for every attempt with operation, attempt number, idempotency key,
/// status or error, and duration; a hook that throws does not break the call.
pub async fn on_attempt_sees_every_attempt() {
    let mark = marker("attempts");
    fault(r#"[{"vendor":"memoio","kind":"status","status":503},{"vendor":"memoio","kind":"status","status":503}]"#).await;
    let events = js_sys::Array::new();
    let options = js(&format!(r#"{{"relayUrl":"{}"}}"#, relay_url()));
    js_sys::Reflect::set(&options, &"onAttempt".into(), &recorder(&events)).expect("set");
    let c = hail::web::create_relay_client(options).unwrap_or_else(|_| panic!("client"));
    let input = js(&format!(
        r#"{{"receiver":"a@b.co","message":"{mark}","channel":"c"}}"#
    ));
    let result = settle(c.call("memoio/start-conversation".into(), input, None))
        .await
        .expect("the third attempt succeeds");
    assert_eq!(events.length(), 3);
    let s = |e: &JsValue, k: &str| get(e, k).as_string().unwrap_or_default();
    let key = s(&events.get(0), "idempotencyKey");
    assert_eq!(key.len(), 36);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(s(&e, "operation"), "memoio/start-conversation");
        assert_eq!(get(&e, "attempt").as_f64(), Some(i as f64 + 1.0));
        assert_eq!(s(&e, "idempotencyKey"), key, "one key for every attempt");
        assert!(get(&e, "durationMs").as_f64().is_some_and(|d| d >= 0.0));
        assert_eq!(get(&e, "retrying").as_bool(), Some(i < 2));
    }
    assert_eq!(s(&events.get(0), "code"), "upstream_unavailable");
    assert_eq!(get(&events.get(0), "status").as_f64(), Some(502.0));
    assert_eq!(get(&events.get(2), "status").as_f64(), Some(200.0));
    assert!(get(&events.get(2), "code").is_undefined());
    assert_eq!(s(&events.get(2), "requestId"), s(&result, "requestId"));

    // A hook that throws is ignored.
    let options = js(&format!(r#"{{"relayUrl":"{}"}}"#, relay_url()));
    let throwing = js_sys::Function::new_no_args("throw new Error('logging broke');");
    js_sys::Reflect::set(&options, &"onAttempt".into(), &throwing).expect("set");
    let c = hail::web::create_relay_client(options).unwrap_or_else(|_| panic!("client"));
    settle(c.call("mluvii/whatsapp-subscriptions".into(), js("{}"), None))
        .await
        .expect("the call goes on");
    let e = hail::web::create_relay_client(js(r#"{"relayUrl":"http://x","onAttempt":1}"#))
        .err()
        .expect("not a function");
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("onAttempt"));
}

/// A rejected call's stack shows the frames of the code that made the call, not only the
/// SDK's own.
pub async fn stacks_show_the_caller() {
    let caller = js_sys::Function::new_with_args(
        "client",
        "return (function theCallersOwnFrame() { return client.call('memoio/start-conversation', {}); })();",
    );
    let client: JsValue = client().into();
    let promise: js_sys::Promise = caller
        .call1(&JsValue::NULL, &client)
        .expect("call")
        .dyn_into()
        .expect("promise");
    let e = settle(promise).await.unwrap_err();
    let stack = get(&e, "stack").as_string().unwrap_or_default();
    assert!(stack.contains("--- called from ---"), "{stack}");
    assert!(stack.contains("theCallersOwnFrame"), "{stack}");
}
