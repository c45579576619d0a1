//! Test bodies run both in Chromium (`browser.rs`) and in Node (`node.rs`).

use hail::web::{is_hail_error, validate};
use wasm_bindgen::{JsCast, JsValue};

use super::relay::*;

/// MEMOIO start-conversation through the SDK and the relay: what did MEMOIO receive?
pub async fn start_conversation_reaches_memoio() {
    let mark = marker("start");
    let input = js(&format!(
        r#"{{"receiver":"anna@example.com","receiverName":"Anna","message":"Hello {mark}",
            "channel":"sales","tags":["vip","b2b"],"groupBy":["sameDay"]}}"#
    ));
    let result = settle(
        client()
            .memoio()
            .start_conversation(tsify::Ts::new_unchecked(input), None),
    )
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

/// A bad address is a HailError naming `receiver`, and nothing reaches MEMOIO.
pub async fn bad_receiver_is_rejected_before_the_network() {
    let mark = marker("bad");
    let input = js(&format!(
        r#"{{"receiver":"anna@example","message":"Hello {mark}","channel":"sales"}}"#
    ));
    let err = settle(
        client()
            .memoio()
            .start_conversation(tsify::Ts::new_unchecked(input), None),
    )
    .await
    .expect_err("a bad receiver must be rejected");
    assert!(is_hail_error(err.clone()), "not a HailError: {err:?}");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("invalid_field")
    );
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
    let id = JsValue::from_str("memoio/start-conversation");
    let result = settle(client().call(id, input, None)).await.expect("call");
    assert_eq!(get(&result, "upstreamStatus").as_f64(), Some(200.0));
    assert_eq!(outbox_with(&mark).await.len(), 1);
}

/// Wrong ids, wrong types, unreachable relays: HailErrors, and the instance stays usable.
pub async fn errors_are_hail_errors() {
    let code = |e: &JsValue| get(e, "code").as_string().unwrap_or_default();
    let c = client();
    let e = settle(c.call("memoio/nope".into(), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unknown_operation");
    let e = settle(c.call(JsValue::from_f64(3.0), js("{}"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "invalid_request");
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
    let options = js(r#"{"idempotencyKey":"has space"}"#);
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(c.call("memoio/start-conversation".into(), input, Some(options)))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "invalid_request");
    assert_eq!(
        get(&e, "field").as_string().as_deref(),
        Some("idempotencyKey")
    );

    let down = client_of("http://127.0.0.1:9");
    let input = js(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#);
    let e = settle(down.call("memoio/start-conversation".into(), input, None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "network_error");
    assert_eq!(get(&e, "retryable").as_bool(), Some(true));
    // Still usable afterwards.
    call_by_operation_id().await;
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
}
