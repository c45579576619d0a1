//! Test bodies run both in Chromium (`browser.rs`) and in Node (`node.rs`).

use hail::web::{is_hail_error, validate};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};

use super::relay::*;

/// One `#[wasm_bindgen_test]` per scenario, so that browser.rs and node.rs run the same list.
macro_rules! all_scenarios {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                crate::scenarios::$name().await;
            }
        )*

        #[wasm_bindgen_test]
        fn each_namespace_is_one_object() {
            crate::scenarios::each_namespace_is_one_object();
        }

        #[wasm_bindgen_test]
        fn validate_lists_every_violation() {
            crate::scenarios::validate_lists_every_violation();
        }

        #[wasm_bindgen_test]
        fn js_values_are_read_as_the_relay_reads_json() {
            crate::scenarios::js_values_are_read_as_the_relay_reads_json();
        }
    };
}

/// Every scenario, as tests of the including crate.
macro_rules! scenario_tests {
    () => {
        all_scenarios!(
            start_conversation_reaches_memoio,
            every_method_reaches_its_vendor,
            bad_receiver_is_rejected_before_the_network,
            call_by_operation_id,
            relay_errors_are_hail_errors,
            bad_input_and_network_errors_are_hail_errors,
            retries_use_one_key_and_deliver_once,
            timeouts_and_aborts,
            a_timed_out_send_is_retried_safely_with_the_errors_key,
            tokens_are_asked_for_each_call,
            random_bad_inputs_never_trap,
            fault_matrix,
            an_unknown_outcome_is_resolved_with_the_same_key,
        );
    };
}

fn jv(v: serde_json::Value) -> JsValue {
    js(&v.to_string())
}

/// `hail.<vendor>.<name>(input)` as JS would call it, detached from its namespace (no `this`).
fn method(hail: &JsValue, vendor: &str, name: &str, input: JsValue) -> js_sys::Promise {
    let f: js_sys::Function = get(&get(hail, vendor), name)
        .dyn_into()
        .unwrap_or_else(|_| panic!("hail.{vendor}.{name} is not a function"));
    f.call1(&JsValue::UNDEFINED, &input)
        .unwrap_or_else(|e| panic!("hail.{vendor}.{name} threw: {e:?}"))
        .unchecked_into()
}

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

/// `hail.memoio === hail.memoio` (and so for every namespace), as JS sees the client; two
/// clients have two.
pub fn each_namespace_is_one_object() {
    let hail = JsValue::from(client());
    let other = JsValue::from(client());
    for ns in ["memoio", "chayns", "livedesk", "mluvii"] {
        let first = get(&hail, ns);
        assert!(first.is_object(), "{ns}");
        assert!(
            js_sys::Object::is(&first, &get(&hail, ns)),
            "hail.{ns} is one object"
        );
        assert!(
            !js_sys::Object::is(&first, &get(&other, ns)),
            "{ns}: one per client"
        );
    }
}

/// MEMOIO start-conversation through the SDK and the relay: what did MEMOIO receive?
pub async fn start_conversation_reaches_memoio() {
    let mark = marker("start");
    let input = js(&format!(
        r#"{{"receiver":"anna@example.com","receiverName":"Anna","message":"Hello {mark}",
            "channel":"sales","tags":["vip","b2b"],"groupBy":["sameDay"]}}"#
    ));
    let result = settle(method(
        &client().into(),
        "memoio",
        "startConversation",
        input,
    ))
    .await
    .unwrap_or_else(|e| panic!("startConversation rejected: {e:?}"));
    assert_eq!(get(&result, "upstreamStatus").as_f64(), Some(200.0));
    assert_eq!(get(&get(&result, "data"), "success").as_bool(), Some(true));
    assert_eq!(get(&result, "replayed").as_bool(), Some(false));
    assert!(get(&result, "requestId")
        .as_string()
        .is_some_and(|id| id.len() >= 16));

    let entries = outbox_with(&mark).await;
    assert_eq!(entries.len(), 1, "exactly one delivery");
    let entry = &entries[0];
    assert_eq!(get(entry, "vendor").as_string().as_deref(), Some("memoio"));
    assert_eq!(get(entry, "method").as_string().as_deref(), Some("POST"));
    assert!(get(entry, "url")
        .as_string()
        .is_some_and(|u| u.ends_with("/api/start-conversation")));
    assert_eq!(
        header(entry, "authorization").as_deref(),
        Some("<redacted>")
    );
    assert_eq!(
        header(entry, "content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let body = get(entry, "body").as_string().unwrap_or_default();
    assert_eq!(
        body,
        format!(
            "receiver=anna%40example.com&receiverName=Anna&message=Hello+{mark}&channel=sales\
             &tags=vip%2Cb2b&groupBy=sameDay"
        )
    );
}

/// Every namespaced method reaches its simulated vendor.
pub async fn every_method_reaches_its_vendor() {
    let client = client();
    let caps = client.capabilities();
    let c = JsValue::from(client);
    let mark = marker("every");
    let guid = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    let calls: Vec<(&str, js_sys::Promise)> = vec![
        (
            "memoio",
            method(
                &c,
                "memoio",
                "startDirectConversation",
                jv(
                    json!({"sender": "bob@company.com", "receiver": "anna@example.com", "message": format!("direct {mark}")}),
                ),
            ),
        ),
        (
            "chayns",
            method(
                &c,
                "chayns",
                "intercom",
                jv(json!({"message": format!("intercom {mark}"), "userIds": [1_234_567]})),
            ),
        ),
        (
            "livedesk",
            method(
                &c,
                "livedesk",
                "createContact",
                jv(json!({"inboxId": 407, "name": format!("contact {mark}")})),
            ),
        ),
        (
            "livedesk",
            method(
                &c,
                "livedesk",
                "createConversation",
                jv(json!({"inboxId": 407, "sourceId": format!("src-{mark}")})),
            ),
        ),
        (
            "livedesk",
            method(
                &c,
                "livedesk",
                "sendMessage",
                jv(json!({"conversationId": 40, "content": format!("message {mark}")})),
            ),
        ),
        (
            "livedesk",
            method(
                &c,
                "livedesk",
                "startConversation",
                jv(
                    json!({"inboxId": 407, "contact": {"name": "Anna"}, "content": format!("start {mark}")}),
                ),
            ),
        ),
        (
            "mluvii",
            method(
                &c,
                "mluvii",
                "sendWhatsAppTemplates",
                jv(
                    json!({"subscriptionId": guid, "formId": 1, "language": "cs", "recipients": [{"contactId": "+420123456789", "fieldValues": [format!("wa {mark}")]}]}),
                ),
            ),
        ),
    ];
    for (vendor, promise) in calls {
        let result = settle(promise)
            .await
            .unwrap_or_else(|e| panic!("{vendor}: {e:?}"));
        assert!(
            get(&result, "upstreamStatus")
                .as_f64()
                .is_some_and(|s| (200.0..300.0).contains(&s)),
            "{vendor}"
        );
    }
    let all = outbox_with("").await;
    for needle in [
        "direct+",
        "intercom ",
        "contact ",
        "src-",
        "message ",
        "start ",
        "wa ",
    ] {
        let n = format!("{needle}{mark}");
        let hits = all
            .iter()
            .filter(|e| get(e, "body").as_string().is_some_and(|b| b.contains(&n)))
            .count();
        assert_eq!(hits, 1, "{n}");
    }
    let subs = settle(method(&c, "mluvii", "whatsappSubscriptions", jv(json!({}))))
        .await
        .expect("subscriptions");
    assert_eq!(
        get(
            &js_sys::Reflect::get_u32(&get(&subs, "data"), 0).unwrap(),
            "id"
        )
        .as_string()
        .as_deref(),
        Some(guid)
    );
    let sent = settle(method(
        &c,
        "mluvii",
        "sentWhatsAppTemplates",
        jv(json!({"subscriptionId": guid, "limit": 1000})),
    ))
    .await
    .expect("sent");
    assert!(js_sys::Array::from(&get(&sent, "data")).length() >= 1);
    let caps = settle(caps).await.expect("capabilities");
    assert_eq!(js_sys::Array::from(&get(&caps, "operations")).length(), 10);
}

/// A bad address is a HailError naming `receiver`, and nothing reaches MEMOIO.
pub async fn bad_receiver_is_rejected_before_the_network() {
    let mark = marker("bad");
    let input = js(&format!(
        r#"{{"receiver":"anna@example","message":"Hello {mark}","channel":"sales"}}"#
    ));
    let err = settle(method(
        &client().into(),
        "memoio",
        "startConversation",
        input,
    ))
    .await
    .expect_err("a bad receiver must be rejected");
    assert!(is_hail_error(err.clone()), "not a HailError: {err:?}");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("HailError"));
    assert!(
        get(&err, "stack").as_string().is_some(),
        "a real Error with a stack"
    );
    assert_eq!(code(&err), "invalid_field");
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("receiver"));
    assert_eq!(get(&err, "retryable").as_bool(), Some(false));
    assert!(
        outbox_with(&mark).await.is_empty(),
        "nothing may reach MEMOIO"
    );
}

/// `call(id, …)` reaches the same operation.
pub async fn call_by_operation_id() {
    let mark = marker("call");
    let input = js(&format!(
        r#"{{"receiver":"b@example.org","message":"{mark}","channel":"support"}}"#
    ));
    let result = settle(client().call("memoio/start-conversation".into(), input, None))
        .await
        .expect("call");
    assert_eq!(get(&result, "upstreamStatus").as_f64(), Some(200.0));
    assert_eq!(outbox_with(&mark).await.len(), 1);
}

/// Relay errors arrive as HailErrors with code, status and request id.
pub async fn relay_errors_are_hail_errors() {
    let c = client();
    let e = settle(c.call("memoio/nope".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unknown_operation");
    let e = settle(c.call(JsValue::from_f64(3.0), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "invalid_request");
    // Rejected by the vendor: LiveDesk has no conversation 999999.
    let e = settle(c.call(
        "livedesk/send-message".into(),
        js(r#"{"conversationId":999999,"content":"x"}"#),
        None,
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "upstream_rejected");
    assert_eq!(get(&e, "status").as_f64(), Some(502.0));
    assert!(get(&e, "requestId")
        .as_string()
        .is_some_and(|id| id.len() == 32));
    assert!(get(&e, "message")
        .as_string()
        .is_some_and(|m| m.contains("Resource could not be found")));
    // The same key with another body.
    let key = js(&format!(r#"{{"idempotencyKey":"{}"}}"#, marker("reuse")));
    let first = js(r#"{"receiver":"a@b.co","message":"one","channel":"c"}"#);
    let second = js(r#"{"receiver":"a@b.co","message":"two","channel":"c"}"#);
    settle(c.call(
        "memoio/start-conversation".into(),
        first.clone(),
        Some(key.clone()),
    ))
    .await
    .expect("first");
    let again = settle(c.call("memoio/start-conversation".into(), first, Some(key.clone())))
        .await
        .expect("replay");
    assert_eq!(get(&again, "replayed").as_bool(), Some(true));
    let e = settle(c.call("memoio/start-conversation".into(), second, Some(key)))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "idempotency_key_reused");
}

/// Wrong types, wrong options, unreachable relays: HailErrors, and the instance stays usable.
pub async fn bad_input_and_network_errors_are_hail_errors() {
    let c = client();
    for (bad, want) in [
        ("null", "invalid_request"),
        ("[]", "invalid_request"),
        (r#"["a@b.co","m","c"]"#, "invalid_request"),
        ("42", "invalid_request"),
        (
            r#"{"receiver":1,"message":"m","channel":"c"}"#,
            "invalid_field",
        ),
    ] {
        let e = settle(c.call("memoio/start-conversation".into(), js(bad), None))
            .await
            .unwrap_err();
        assert!(is_hail_error(e.clone()), "{bad}");
        assert_eq!(code(&e), want, "{bad}");
    }
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(c.call(
        "memoio/start-conversation".into(),
        input,
        Some(js(r#"{"idempotencyKey":"has space"}"#)),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "field").as_string()),
        ("invalid_request".into(), Some("idempotencyKey".into()))
    );

    let down = client_with(r#"{"relayUrl":"http://127.0.0.1:9","retries":0}"#);
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(down.call("memoio/start-conversation".into(), input, None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "network_error");
    // The message names the relay and what to check; the platform's error is the cause.
    let message = get(&e, "message").as_string().unwrap_or_default();
    for part in [
        "http://127.0.0.1:9/v1/",
        "relay running at http://127.0.0.1:9",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(get(&e, "cause").is_object(), "{message}");
    assert!(get(&e, "idempotencyKey").as_string().is_some());
    assert!(!message.contains(".)."), "{message}");
    if is_node() {
        // Node says why, two causes deep (port 9 is one fetch never connects to), so it was
        // never sent; and it sends no Origin, so CORS is no likely cause.
        assert!(message.contains("(bad port)"), "{message}");
        assert!(!message.contains("allowed_origins"), "{message}");
        assert_eq!(get(&e, "possiblySent").as_bool(), Some(false), "{message}");
        // A TLS handshake with a plain-HTTP relay sent nothing either.
        let tls = relay_url().replacen("http://", "https://", 1);
        let tls = client_with(&format!(r#"{{"relayUrl":"{tls}","retries":0}}"#));
        let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
        let e = settle(tls.call("memoio/start-conversation".into(), input, None))
            .await
            .unwrap_err();
        let message = get(&e, "message").as_string().unwrap_or_default();
        assert_eq!(code(&e), "network_error", "{message}");
        assert_eq!(get(&e, "possiblySent").as_bool(), Some(false), "{message}");
    } else {
        assert!(message.contains("allowed_origins"), "{message}");
    }
    assert_eq!(get(&e, "retryable").as_bool(), Some(true));
    for bad in [
        r#"{"relayUrl":"relay.example.com"}"#,
        r#"{"relayUrl":"http://x","retries":-1}"#,
        r#"{"relayUrl":"http://x","token":5}"#,
        // The SDK adds /v1: a relayUrl ending in it would call /v1/v1/….
        r#"{"relayUrl":"http://relay.example.com/v1/"}"#,
        "7",
    ] {
        let e = hail::web::create_relay_client(js(bad)).err().expect(bad);
        assert_eq!(code(&e), "invalid_request", "{bad}");
    }
    call_by_operation_id().await;
}

/// A vendor 503 is retried with the same key: one delivery, one success.
pub async fn retries_use_one_key_and_deliver_once() {
    let mark = marker("retry");
    fault(r#"[{"vendor":"memoio","kind":"status","status":503},{"vendor":"memoio","kind":"status","status":503}]"#).await;
    let input = js(&format!(
        r#"{{"receiver":"a@b.co","message":"{mark}","channel":"c"}}"#
    ));
    let result = settle(client().call("memoio/start-conversation".into(), input, None))
        .await
        .unwrap_or_else(|e| panic!("after two 503s the third attempt succeeds: {e:?}"));
    assert_eq!(get(&result, "upstreamStatus").as_f64(), Some(200.0));
    assert_eq!(outbox_with(&mark).await.len(), 1, "exactly one delivery");
    // Without retries the 503 is reported, retryable.
    fault(r#"{"vendor":"memoio","kind":"status","status":503}"#).await;
    let once = client_with(&format!(r#"{{"relayUrl":"{}","retries":0}}"#, relay_url()));
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(once.call("memoio/start-conversation".into(), input, None))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "retryable").as_bool()),
        ("upstream_unavailable".into(), Some(true))
    );
}

/// A send that timed out in the SDK while the relay went on sending it: the error says it may
/// have been sent and carries the key; calling again with that key delivers nothing twice and
/// resolves with the outcome.
pub async fn a_timed_out_send_is_retried_safely_with_the_errors_key() {
    let c = client_with(&format!(r#"{{"relayUrl":"{}","retries":0}}"#, relay_url()));
    let mark = marker("timed-out");
    // MEMOIO acts at once but answers after 1 s (within the relay's vendor timeout of 2 s).
    fault(r#"{"vendor":"memoio","kind":"timeout","delayMs":1000,"afterAccept":true}"#).await;
    let input = js(&format!(
        r#"{{"receiver":"a@b.co","message":"{mark}","channel":"c"}}"#
    ));
    let e = settle(c.call(
        "memoio/start-conversation".into(),
        input.clone(),
        Some(js(r#"{"timeoutMs":200}"#)),
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "timeout");
    assert_eq!(get(&e, "possiblySent").as_bool(), Some(true));
    let key = get(&e, "idempotencyKey")
        .as_string()
        .expect("a send's error carries its idempotency key");
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(message.contains(&key), "{message}");
    // Called again as the error says: the relay answers from its record (or is still at it, and
    // the SDK waits), and MEMOIO received the message once.
    let patient = client_with(&format!(r#"{{"relayUrl":"{}","retries":6}}"#, relay_url()));
    let again = settle(patient.call(
        "memoio/start-conversation".into(),
        input,
        Some(jv(json!({ "idempotencyKey": key }))),
    ))
    .await
    .expect("the same key gets the outcome");
    assert_eq!(get(&again, "replayed").as_bool(), Some(true));
    assert_eq!(outbox_with(&mark).await.len(), 1, "exactly one delivery");
}

/// Timeouts and aborts (also with a non-Error reason) are HailErrors; the instance survives.
pub async fn timeouts_and_aborts() {
    let c = client_with(&format!(r#"{{"relayUrl":"{}","retries":0}}"#, relay_url()));
    // The simulated vendor holds the answer for 1.5 s without acting.
    fault(r#"{"vendor":"livedesk","kind":"timeout","delayMs":1500}"#).await;
    let input = js(r#"{"inboxId":407,"name":"slow"}"#);
    let e = settle(c.call(
        "livedesk/create-contact".into(),
        input,
        Some(js(r#"{"timeoutMs":200}"#)),
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "timeout");
    assert_eq!(get(&e, "retryable").as_bool(), Some(true));
    // The request left: it may have been sent, and the error has the key to ask again with.
    assert_eq!(get(&e, "possiblySent").as_bool(), Some(true));
    assert!(get(&e, "idempotencyKey").is_string());

    let controller = web_sys::AbortController::new().unwrap();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"signal".into(), &controller.signal()).unwrap();
    fault(r#"{"vendor":"livedesk","kind":"timeout","delayMs":1500}"#).await;
    let pending = c.call(
        "livedesk/create-contact".into(),
        js(r#"{"inboxId":407,"name":"abort"}"#),
        Some(options.clone().into()),
    );
    sleep_ms(100).await;
    controller.abort_with_reason(&JsValue::from_str("not an Error"));
    let e = settle(pending).await.unwrap_err();
    assert_eq!(code(&e), "aborted");
    // Already aborted before the call.
    let e = settle(c.call(
        "livedesk/create-contact".into(),
        js(r#"{"inboxId":407}"#),
        Some(options.into()),
    ))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "aborted");
    call_by_operation_id().await;
}

/// `token`: a string or a function (sync or async), asked for every call; failures are HailErrors.
pub async fn tokens_are_asked_for_each_call() {
    let calls = js_sys::Array::new();
    let counter = calls.clone();
    let f = wasm_bindgen::closure::Closure::<dyn FnMut() -> JsValue>::new(move || {
        counter.push(&JsValue::TRUE);
        js_sys::Promise::resolve(&JsValue::from_str("caller-token")).into()
    });
    let options = js(&format!(r#"{{"relayUrl":"{}"}}"#, relay_url()));
    js_sys::Reflect::set(&options, &"token".into(), f.as_ref()).unwrap();
    let c = hail::web::create_relay_client(options).unwrap_or_else(|_| panic!("client"));
    for _ in 0..2 {
        settle(c.call("mluvii/whatsapp-subscriptions".into(), js("{}"), None))
            .await
            .expect("call");
    }
    assert_eq!(calls.length(), 2);
    let throwing = js_sys::Function::new_no_args("throw new Error('no session')");
    let options = js(&format!(r#"{{"relayUrl":"{}"}}"#, relay_url()));
    js_sys::Reflect::set(&options, &"token".into(), &throwing).unwrap();
    let c = hail::web::create_relay_client(options).unwrap_or_else(|_| panic!("client"));
    let e = settle(c.call("mluvii/whatsapp-subscriptions".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "field").as_string()),
        ("unauthenticated".into(), Some("token".into()))
    );
}

/// `validate()` reports every violation with field path and rule, without network.
pub fn validate_lists_every_violation() {
    let input = js(r#"{"receiver":"x","message":" ","channel":"c","tags":["a,b"]}"#);
    let out = validate("memoio/start-conversation".into(), input).expect("validate");
    let out: js_sys::Array = out.dyn_into().expect("array");
    let got: Vec<(String, String)> = out
        .iter()
        .map(|v| {
            (
                get(&v, "field").as_string().unwrap(),
                get(&v, "code").as_string().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("receiver".into(), "email".into()),
            ("message".into(), "required".into()),
            ("tags[0]".into(), "separator".into())
        ]
    );
    let ok = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let out = validate("memoio/start-conversation".into(), ok).expect("validate");
    assert_eq!(js_sys::Array::from(&out).length(), 0);
    // An id as a result may give it (`Id`: a number, or its decimal string) is accepted back.
    let string_id = js(r#"{"conversationId":"40","content":"Hi","inReplyTo":"7"}"#);
    let out = validate("livedesk/send-message".into(), string_id).expect("validate");
    assert_eq!(js_sys::Array::from(&out).length(), 0);
    let nested = js(
        r#"{"subscriptionId":"x","formId":1,"language":"cs","recipients":[{"contactId":"+420123456789"},{"contactId":"0"}]}"#,
    );
    let out = js_sys::Array::from(
        &validate("mluvii/whatsapp-send-templates".into(), nested).expect("validate"),
    );
    let fields: Vec<String> = out
        .iter()
        .filter_map(|v| get(&v, "field").as_string())
        .collect();
    assert_eq!(fields, ["subscriptionId", "recipients[1].contactId"]);

    // Everything at once: missing, wrong type, unknown, and the rules of the fields read.
    let all = |id: &str, input: &str| -> Vec<(String, String)> {
        js_sys::Array::from(&validate(id.into(), js(input)).expect("validate"))
            .iter()
            .map(|v| {
                let s = |k| get(&v, k).as_string().unwrap_or_default();
                (s("field"), s("code"))
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        all("memoio/start-conversation", "{}"),
        pairs(&[
            ("receiver", "required"),
            ("message", "required"),
            ("channel", "required")
        ])
    );
    assert_eq!(
        all(
            "memoio/start-conversation",
            r#"{"receiver":"x","message":2,"channel":"c","tags":"vip","recievr":1}"#
        ),
        // In field order (a form's order), whatever kind of rule each broke; a field the
        // operation does not have comes first.
        pairs(&[
            ("recievr", "unknown_field"),
            ("receiver", "email"),
            ("message", "type"),
            ("tags", "type")
        ])
    );
    assert_eq!(
        all(
            "livedesk/start-conversation",
            r#"{"inboxId":"inbox-407","contact":{"email":"anna@"},"content":""}"#
        ),
        pairs(&[
            ("inboxId", "type"),
            ("contact.email", "email"),
            ("content", "required")
        ])
    );
    assert_eq!(
        all(
            "mluvii/whatsapp-send-templates",
            r#"{"subscriptionId":"6f9619ff-8b86-d011-b42d-00c04fc964ff","formId":1,"language":"cs","recipients":[{"contactId":"+420123456789"},{"contactId":7},{"contactId":"1"}]}"#
        ),
        pairs(&[
            ("recipients[1].contactId", "type"),
            ("recipients[2].contactId", "phone")
        ])
    );
}

/// The browser reads a JS value (through the shared reader over `JSON.parse`d data) exactly as
/// the relay reads the JSON text the SDK sends for it: the same violations, field for field, for
/// random inputs of every operation.
pub fn js_values_are_read_as_the_relay_reads_json() {
    use hail::catalog::{visit_all, Visitor};
    use hail::operation::check_request;
    use hail::Operation;

    fn pairs(list: &[hail::Violation]) -> Vec<(String, String)> {
        list.iter()
            .map(|v| (v.field.clone(), v.code.as_str().to_owned()))
            .collect()
    }

    struct Compare(u32);
    impl Visitor for Compare {
        fn visit<Op: Operation>(&mut self) {
            for _ in 0..300 {
                let input = random_value(3);
                // What the SDK would send; inputs without JSON never leave the browser.
                let Some(text) = js_sys::JSON::stringify(&input)
                    .ok()
                    .and_then(|t| t.as_string())
                else {
                    continue;
                };
                let relay = check_request::<Op>(text.as_bytes())
                    .err()
                    .map(|v| pairs(&v))
                    .unwrap_or_default();
                let browser: Vec<(String, String)> =
                    js_sys::Array::from(&validate(Op::ID.into(), input).expect("validate"))
                        .iter()
                        .map(|v| {
                            let s = |k| get(&v, k).as_string().unwrap_or_default();
                            (s("field"), s("code"))
                        })
                        .collect();
                let excerpt: String = text.chars().take(300).collect();
                assert_eq!(browser, relay, "{} {excerpt}", Op::ID);
                self.0 += 1;
            }
        }
    }
    let mut compare = Compare(0);
    visit_all(&mut compare);
    assert!(compare.0 > 1000, "only {} inputs had JSON", compare.0);
}

/// 1,000 random bad inputs of every kind, then a good call: no trap, every failure a HailError
/// or a list of violations.
pub async fn random_bad_inputs_never_trap() {
    let ids = [
        "memoio/start-conversation",
        "chayns/intercom",
        "livedesk/start-conversation",
        "mluvii/whatsapp-send-templates",
        "nope",
        "",
    ];
    let c = client();
    for i in 0..1000u32 {
        let input = random_value(3);
        let id = ids[(js_sys::Math::random() * ids.len() as f64) as usize % ids.len()];
        match validate(id.into(), input.clone()) {
            Ok(list) => assert!(js_sys::Array::is_array(&list), "{id}"),
            Err(e) => assert!(is_hail_error(e), "{id}"),
        }
        if i % 10 == 0 {
            // Invalid inputs fail before the network; valid ones (rare) are sent.
            if let Err(e) = settle(c.call(id.into(), input, None)).await {
                assert!(is_hail_error(e), "{id}");
            }
        }
    }
    call_by_operation_id().await;
}

fn random_value(depth: u32) -> JsValue {
    let r = js_sys::Math::random();
    let pick = (r * 14.0) as u32;
    match pick {
        0 => JsValue::NULL,
        1 => JsValue::UNDEFINED,
        2 => JsValue::from_f64(js_sys::Math::random() * 1e17 - 5e16),
        3 => JsValue::from_f64(f64::NAN),
        4 => JsValue::from_bool(r > 0.5),
        5 => JsValue::from_str(&"ü\u{0}x,@".repeat((r * 40.0) as usize)),
        6 => JsValue::from_str(&"x".repeat(100_000)),
        7 => js_sys::Symbol::for_("s").into(),
        8 => {
            // A cyclic object.
            let o = js_sys::Object::new();
            js_sys::Reflect::set(&o, &"self".into(), &o).unwrap();
            js_sys::Reflect::set(&o, &"message".into(), &o).unwrap();
            o.into()
        }
        12 | 13 => {
            // Numbers at the edges of what a u64 field accepts.
            let edges = [
                0.0,
                1.0,
                42.0,
                -1.0,
                1.5,
                -0.0,
                9_007_199_254_740_993.0,
                1e19,
                1e21,
            ];
            JsValue::from_f64(
                edges[(js_sys::Math::random() * edges.len() as f64) as usize % edges.len()],
            )
        }
        9 if depth > 0 => {
            let a = js_sys::Array::new();
            for _ in 0..(r * 4.0) as u32 {
                a.push(&random_value(depth - 1));
            }
            a.into()
        }
        _ if depth > 0 => {
            let keys = [
                "receiver",
                "message",
                "channel",
                "userIds",
                "inboxId",
                "contact",
                "content",
                "recipients",
                "subscriptionId",
                "formId",
                "language",
                "tags",
                "asCaller",
                "contactId",
                "fieldValues",
                "email",
                "name",
                "groupBy",
                "images",
                "text",
                "__proto__",
                "x",
            ];
            let o = js_sys::Object::new();
            for _ in 0..(r * 6.0) as u32 {
                let k = keys[(js_sys::Math::random() * keys.len() as f64) as usize % keys.len()];
                js_sys::Reflect::set(&o, &k.into(), &random_value(depth - 1)).unwrap();
            }
            o.into()
        }
        _ => JsValue::from_str("anna@example.com"),
    }
}

/// Every sending operation × every fault: when the SDK reports success the vendor received the
/// message exactly once; it never receives it twice.
pub async fn fault_matrix() {
    let guid = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    let faults = [
        ("503", r#"{"kind":"status","status":503}"#),
        ("429", r#"{"kind":"status","status":429,"retryAfter":0}"#),
        ("timeout-before", r#"{"kind":"timeout","delayMs":1500}"#),
        (
            "timeout-after",
            r#"{"kind":"timeout","delayMs":1500,"afterAccept":true}"#,
        ),
        ("drop-after", r#"{"kind":"drop"}"#),
    ];
    let c = client();
    let mut report = Vec::new();
    for (fault_name, fault_json) in faults {
        let mark = marker(fault_name);
        let ops: [(&str, &str, serde_json::Value); 7] = [
            (
                "memoio/start-conversation",
                "memoio",
                json!({"receiver": "a@b.co", "message": format!("m1 {mark}"), "channel": "c"}),
            ),
            (
                "memoio/start-direct-conversation",
                "memoio",
                json!({"sender": "b@c.co", "receiver": "a@b.co", "message": format!("m2 {mark}")}),
            ),
            (
                "chayns/intercom",
                "chayns",
                json!({"message": format!("m3 {mark}"), "userIds": [1]}),
            ),
            (
                "livedesk/create-contact",
                "livedesk",
                json!({"inboxId": 407, "name": format!("m4 {mark}")}),
            ),
            (
                "livedesk/send-message",
                "livedesk",
                json!({"conversationId": 40, "content": format!("m5 {mark}")}),
            ),
            (
                "livedesk/start-conversation",
                "livedesk",
                json!({"inboxId": 407, "contact": {"name": format!("m6 {mark}")}, "content": format!("m6 {mark}")}),
            ),
            (
                "mluvii/whatsapp-send-templates",
                "mluvii",
                json!({"subscriptionId": guid, "formId": 1, "language": "cs",
                "recipients": [{"contactId": "+420123456789", "fieldValues": [format!("m7 {mark}")]}]}),
            ),
        ];
        for (i, (op, vendor, input)) in ops.into_iter().enumerate() {
            let mut spec: serde_json::Value = serde_json::from_str(fault_json).expect("fault");
            spec["vendor"] = json!(vendor);
            fault(&spec.to_string()).await;
            let outcome = settle(c.call(op.into(), js(&input.to_string()), None)).await;
            let needle = format!("m{} {mark}", i + 1);
            let all = outbox_with("").await;
            let delivered = all
                .iter()
                .filter(|e| {
                    get(e, "status")
                        .as_f64()
                        .is_some_and(|s| (200.0..300.0).contains(&s))
                })
                .filter(|e| {
                    get(e, "body").as_string().is_some_and(|b| {
                        b.contains(&needle) || b.contains(&needle.replace(' ', "+"))
                    })
                })
                .count();
            // A multi-call operation delivers one contact and one message: both carry the mark.
            let expected_max = if op == "livedesk/start-conversation" {
                2
            } else {
                1
            };
            let ok = outcome.is_ok();
            report.push(format!(
                "{op} × {fault_name}: {} ({delivered} delivered)",
                if ok {
                    "success".into()
                } else {
                    code(&outcome.clone().unwrap_err())
                }
            ));
            assert!(
                delivered <= expected_max,
                "{op} × {fault_name}: delivered {delivered} times"
            );
            if ok {
                assert_eq!(
                    delivered, expected_max,
                    "{op} × {fault_name}: reported success but delivered {delivered}"
                );
            } else {
                assert!(is_hail_error(outcome.unwrap_err()), "{op} × {fault_name}");
            }
        }
    }
    web_sys::console::log_1(&report.join("\n").into());
}

/// A LiveDesk call that timed out after LiveDesk acted: `outcome_unknown`, not retried by the
/// SDK; the same call with the same key then resolves with what LiveDesk made (reconciled),
/// and nothing is sent twice.
pub async fn an_unknown_outcome_is_resolved_with_the_same_key() {
    let c = client();
    let mark = marker("reconcile");
    // Longer than the sandbox relay's vendor timeout (2 s): LiveDesk acts, the answer is late.
    fault(r#"{"vendor":"livedesk","kind":"timeout","delayMs":3000,"afterAccept":true}"#).await;
    let input = js(
        &json!({"inboxId": 407, "name": mark, "email": format!("{mark}@example.com")}).to_string(),
    );
    let key = js(&format!(r#"{{"idempotencyKey":"{mark}"}}"#));
    let e = settle(c.call(
        "livedesk/create-contact".into(),
        input.clone(),
        Some(key.clone()),
    ))
    .await
    .expect_err("unknown");
    assert_eq!(code(&e), "outcome_unknown");
    assert_eq!(get(&e, "retryable").as_bool(), Some(false));
    assert_eq!(get(&e, "possiblySent").as_bool(), Some(true));
    // The relay's own words say what calling again can learn; the SDK adds nothing to them.
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(!message.contains("It may have been sent"), "{message}");
    let again = settle(c.call("livedesk/create-contact".into(), input, Some(key)))
        .await
        .expect("resolved with the same key");
    assert_eq!(get(&again, "reconciled").as_bool(), Some(true));
    assert_eq!(get(&again, "replayed").as_bool(), Some(true));
    assert_eq!(
        get(&get(&again, "data"), "name").as_string(),
        Some(mark.clone())
    );
    let delivered = outbox_with(&mark)
        .await
        .iter()
        .filter(|e| get(e, "method").as_string().as_deref() == Some("POST"))
        .count();
    assert_eq!(delivered, 1);
}
