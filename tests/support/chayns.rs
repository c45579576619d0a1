//! The chayns user client in a tapp, run in Chromium and in Node against the sandbox's simulated
//! chayns user API (a loopback stand-in for sub54.tobit.com), with a chayns-api stand-in for the
//! host: token rotation, refresh once on 401, abort and timeout (also of the host's own calls),
//! not logged in; and the requests compared with those of chayns-api's own `sendMessageTo*`.

use hail::web::{create_chayns_user_client, from_chayns_api, from_chayns_env, ChaynsUserClient};
use wasm_bindgen::{JsCast, JsValue};

use super::relay::*;

/// One `#[wasm_bindgen_test]` per chayns scenario.
macro_rules! chayns_tests {
    () => {
        chayns_tests!(
            chayns_user_client_sends_directly,
            chayns_api_token_is_asked_at_every_send,
            refresh_once_on_401,
            not_logged_in_sends_nothing,
            host_calls_and_sends_obey_timeout_and_signal,
            requests_equal_chayns_api_requests,
            wrong_usage_is_explained,
        );
    };
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                crate::chayns::$name().await;
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

fn text<T: tsify::Tsify>(t: &str) -> tsify::Ts<T> {
    tsify::Ts::new_unchecked(js(&serde_json::json!({ "text": t }).to_string()))
}

/// The simulated chayns user API of the sandbox relay.
async fn chayns_base() -> String {
    let caps = settle(client().capabilities()).await.expect("capabilities");
    get(&caps, "chaynsUserApi")
        .as_string()
        .expect("sandbox chayns user API")
}

/// A chayns-api stand-in: `getAccessToken` answers `api.token` (asynchronously, as chayns-api
/// does), `getUser` `api.user`, `getSite` the sandbox site; `refreshAccessToken` (when
/// `refreshed` is a string) sets `api.token` to it. `api.calls` lists every call.
fn chayns_api(token: &str, refreshed: Option<&str>) -> JsValue {
    let make = js_sys::Function::new_with_args(
        "token, refreshed",
        r#"
        const api = {
            token, calls: [],
            user: { userId: 1234567, personId: "SBX-1234567", isAnonymous: false },
            getAccessToken() { api.calls.push("getAccessToken"); return Promise.resolve({ accessToken: api.token }); },
            getUser() { api.calls.push("getUser"); return api.user; },
            getSite() { return { id: "77890-12345", locationId: 77890 }; },
        };
        if (refreshed !== undefined) {
            api.refreshAccessToken = async () => { api.calls.push("refreshAccessToken"); api.token = refreshed; };
        }
        return api;
        "#,
    );
    make.call2(
        &JsValue::NULL,
        &token.into(),
        &refreshed.map_or(JsValue::UNDEFINED, JsValue::from),
    )
    .expect("stand-in")
}

fn calls(api: &JsValue, name: &str) -> usize {
    js_sys::Array::from(&get(api, "calls"))
        .iter()
        .filter(|c| c.as_string().as_deref() == Some(name))
        .count()
}

fn set(obj: &JsValue, key: &str, value: &JsValue) {
    js_sys::Reflect::set(obj, &key.into(), value).expect("set");
}

async fn with_api(api: &JsValue, options: &str) -> ChaynsUserClient {
    let base = chayns_base().await;
    let options = js(&format!(r#"{{"baseUrl":"{base}"{options}}}"#));
    from_chayns_api(api.clone(), Some(options)).unwrap_or_else(|_| panic!("fromChaynsApi"))
}

/// Outbox entries of `mark` that chayns accepted (2xx).
async fn delivered(mark: &str) -> usize {
    outbox_with(mark)
        .await
        .iter()
        .filter(|e| {
            get(e, "status")
                .as_f64()
                .is_some_and(|s| (200.0..300.0).contains(&s))
        })
        .count()
}

/// The three kinds of message reach the simulated chayns user API, with the SDK's request id.
pub async fn chayns_user_client_sends_directly() {
    let base = chayns_base().await;
    let options = js(&format!(
        r#"{{"accessToken":"sandbox-user-token","userId":1234567,"locationId":77890,"baseUrl":"{base}"}}"#
    ));
    let me = create_chayns_user_client(options).unwrap_or_else(|_| panic!("client"));
    let mark = marker("chayns-user");
    let page = settle(me.send_message_to_page(text(&format!("page {mark}")), None))
        .await
        .expect("to page");
    assert_eq!(get(&page, "upstreamStatus").as_f64(), Some(200.0));
    let id = get(&page, "requestId").as_string().unwrap_or_default();
    assert_eq!(id.len(), 36, "a UUID made by the SDK: {id}");
    let second = settle(me.send_message_to_user(
        JsValue::from_f64(7_654_321.0),
        text(&format!("user {mark}")),
        None,
    ))
    .await
    .expect("to user");
    assert_ne!(get(&second, "requestId").as_string(), Some(id));
    settle(me.send_message_to_group(
        JsValue::from_f64(42.0),
        tsify::Ts::new_unchecked(js(&format!(
            r#"{{"text":"group {mark}","images":["https://x.io/a.png"]}}"#
        ))),
        None,
    ))
    .await
    .expect("to group");
    let entries = outbox_with(&mark).await;
    assert_eq!(entries.len(), 3);
    let urls: Vec<String> = entries
        .iter()
        .filter_map(|e| get(e, "url").as_string())
        .collect();
    assert!(urls
        .iter()
        .any(|u| u.ends_with("/rest/api/user/1234567/message")));
    assert!(urls
        .iter()
        .any(|u| u.ends_with("/rest/api/location/77890/broadcast")));
    assert!(entries
        .iter()
        .all(|e| header(e, "authorization").as_deref() == Some("<redacted>")));

    // Every violation at once, all `invalid_field`, nothing sent.
    let e = settle(me.send_message_to_user(JsValue::from_f64(0.0), text(" "), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "invalid_field");
    let fields: Vec<String> = js_sys::Array::from(&get(&e, "violations"))
        .iter()
        .filter_map(|v| get(&v, "field").as_string())
        .collect();
    assert_eq!(fields, ["userId", "text"]);
    assert_eq!(get(&e, "requestId").as_string().map(|s| s.len()), Some(36));
    let e = settle(me.send_message_to_user(JsValue::from_str("x"), text("x"), None))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "field").as_string()),
        ("invalid_field".into(), Some("userId".into()))
    );

    let stranger = create_chayns_user_client(js(&format!(
        r#"{{"accessToken":"expired","userId":1234567,"locationId":77890,"baseUrl":"{base}"}}"#
    )))
    .unwrap_or_else(|_| panic!("client"));
    let e = settle(stranger.send_message_to_page(text("x"), None))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "status").as_f64()),
        ("unauthenticated".into(), Some(401.0))
    );

    // The legacy global, read at every send.
    let env = js(
        r#"{"env":{"user":{"id":1234567,"tobitAccessToken":"sandbox-user-token"},"site":{"locationId":77890}}}"#,
    );
    let from_env = from_chayns_env(
        Some(env.clone()),
        Some(js(&format!(r#"{{"baseUrl":"{base}"}}"#))),
    )
    .unwrap_or_else(|_| panic!("from env"));
    settle(from_env.send_message_to_page(text(&format!("env {mark}")), None))
        .await
        .expect("from env");
    set(&get(&env, "env"), "user", &js("{}"));
    let e = settle(from_env.send_message_to_page(text(&format!("env {mark}")), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert_eq!(delivered(&format!("env {mark}")).await, 1);
}

/// `fromChaynsApi` asks for the token at every send: a token the host rotated is used at once;
/// so is a token provider's of `createChaynsUserClient`.
pub async fn chayns_api_token_is_asked_at_every_send() {
    let api = chayns_api("sandbox-user-token", None);
    let me = with_api(&api, "").await;
    let mark = marker("rotate");
    settle(me.send_message_to_page(text(&format!("one {mark}")), None))
        .await
        .expect("first");
    // The host rotates the token (here to one chayns refuses, to make its use visible).
    set(&api, "token", &"rotated-out".into());
    let e = settle(me.send_message_to_page(text(&format!("two {mark}")), None))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "status").as_f64()),
        ("unauthenticated".into(), Some(401.0))
    );
    set(&api, "token", &"sandbox-user-token".into());
    settle(me.send_message_to_page(text(&format!("three {mark}")), None))
        .await
        .expect("third");
    // Two sends asked once each; the refused one asked again (no refreshAccessToken: once).
    assert_eq!(calls(&api, "getAccessToken"), 4);
    assert_eq!(delivered(&mark).await, 2);

    // createChaynsUserClient with a token function: asked at every send.
    let base = chayns_base().await;
    let provider = js_sys::Function::new_no_args(
        "globalThis.__hailTokens = (globalThis.__hailTokens || 0) + 1; return Promise.resolve('sandbox-user-token');",
    );
    let options = js(&format!(
        r#"{{"userId":1234567,"locationId":77890,"baseUrl":"{base}"}}"#
    ));
    set(&options, "accessToken", &provider);
    let me = create_chayns_user_client(options).unwrap_or_else(|_| panic!("client"));
    let before = get(&js_sys::global(), "__hailTokens")
        .as_f64()
        .unwrap_or(0.0);
    for n in 0..2 {
        settle(me.send_message_to_page(text(&format!("fn{n} {mark}")), None))
            .await
            .expect("with a token function");
    }
    let after = get(&js_sys::global(), "__hailTokens")
        .as_f64()
        .unwrap_or(0.0);
    assert_eq!(after - before, 2.0);
}

/// A 401 makes the client call `refreshAccessToken()` once, ask for the token again and send
/// once more; a second 401 is final.
pub async fn refresh_once_on_401() {
    let api = chayns_api("stale-token", Some("sandbox-user-token"));
    let base = chayns_base().await;
    let events = js_sys::Array::new();
    let options = js(&format!(r#"{{"baseUrl":"{base}"}}"#));
    set(
        &options,
        "onAttempt",
        &crate::diagnostics::recorder(&events),
    );
    let me = from_chayns_api(api.clone(), Some(options)).unwrap_or_else(|_| panic!("client"));
    let mark = marker("refresh");
    let ok = settle(me.send_message_to_page(text(&format!("refresh {mark}")), None))
        .await
        .expect("sent after the refresh");
    assert_eq!(get(&ok, "upstreamStatus").as_f64(), Some(200.0));
    // onAttempt: the refused attempt, then the one that went through, one request id.
    assert_eq!(events.length(), 2);
    let (first, second) = (events.get(0), events.get(1));
    assert_eq!(
        get(&first, "operation").as_string().as_deref(),
        Some("chayns-user/sendMessageToPage")
    );
    assert_eq!(
        (
            get(&first, "attempt").as_f64(),
            get(&first, "status").as_f64()
        ),
        (Some(1.0), Some(401.0))
    );
    assert_eq!(
        get(&first, "code").as_string().as_deref(),
        Some("unauthenticated")
    );
    assert_eq!(get(&first, "retrying").as_bool(), Some(true));
    assert_eq!(
        (
            get(&second, "attempt").as_f64(),
            get(&second, "status").as_f64()
        ),
        (Some(2.0), Some(200.0))
    );
    assert_eq!(get(&second, "requestId"), get(&ok, "requestId"));
    assert_eq!(get(&first, "requestId"), get(&ok, "requestId"));
    assert_eq!(calls(&api, "refreshAccessToken"), 1);
    assert_eq!(calls(&api, "getAccessToken"), 2);
    let tried = outbox_with(&mark).await;
    assert_eq!(tried.len(), 2, "the refused attempt and the retry");
    assert_eq!(delivered(&mark).await, 1);

    // A refresh that does not help: one retry, then `unauthenticated`.
    let api = chayns_api("stale-token", Some("still-stale"));
    let me = with_api(&api, "").await;
    let mark = marker("refresh-fails");
    let e = settle(me.send_message_to_page(text(&format!("x {mark}")), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert!(message(&e).contains("renewed"), "{}", message(&e));
    assert_eq!(calls(&api, "refreshAccessToken"), 1);
    assert_eq!(outbox_with(&mark).await.len(), 2);
    assert_eq!(delivered(&mark).await, 0);
}

/// A visitor who is not logged in: `unauthenticated`, saying so, and nothing is sent.
pub async fn not_logged_in_sends_nothing() {
    let api = chayns_api("sandbox-user-token", None);
    set(&api, "user", &JsValue::UNDEFINED);
    let me = with_api(&api, "").await;
    let mark = marker("anonymous");
    let e = settle(me.send_message_to_page(text(&format!("x {mark}")), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert!(
        message(&e).contains("nobody is logged in"),
        "{}",
        message(&e)
    );
    // Logged in as far as getUser() knows, but chayns-api has no token.
    set(
        &api,
        "user",
        &js(r#"{"userId":1234567,"isAnonymous":false}"#),
    );
    set(&api, "token", &JsValue::UNDEFINED);
    let e = settle(me.send_message_to_page(text(&format!("y {mark}")), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert!(
        message(&e).contains("nobody is logged in"),
        "{}",
        message(&e)
    );
    assert!(outbox_with(&mark).await.is_empty(), "nothing may be sent");
}

/// `{signal, timeoutMs}` per send cut a slow chayns, and also a host call that never settles;
/// the final code says what cut it, and the abort reason is the `cause`.
pub async fn host_calls_and_sends_obey_timeout_and_signal() {
    let api = chayns_api("sandbox-user-token", None);
    let me = with_api(&api, "").await;
    // A slow chayns: the per-send timeout cuts it.
    fault(r#"{"vendor":"chayns-user","kind":"timeout","delayMs":1500}"#).await;
    let e = settle(me.send_message_to_page(text("slow"), Some(js(r#"{"timeoutMs":200}"#))))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "timeout");

    // The caller aborts a slow send.
    fault(r#"{"vendor":"chayns-user","kind":"timeout","delayMs":1500}"#).await;
    let controller = web_sys::AbortController::new().expect("controller");
    let options = js_sys::Object::new();
    set(&options, "signal", &controller.signal());
    let pending = me.send_message_to_page(text("abort"), Some(options.clone().into()));
    sleep_ms(100).await;
    let reason = js_sys::Error::new("the user left");
    controller.abort_with_reason(&reason);
    let e = settle(pending).await.unwrap_err();
    assert_eq!(code(&e), "aborted");
    assert_eq!(get(&e, "cause"), JsValue::from(reason));

    // A token provider that never settles: cut by the timeout, and by the signal.
    let never = js_sys::Function::new_no_args("return new Promise(() => {});");
    let hung = chayns_api("sandbox-user-token", None);
    set(&hung, "getAccessToken", &never);
    let me = with_api(&hung, r#","timeoutMs":150"#).await;
    let started = js_sys::Date::now();
    let e = settle(me.send_message_to_page(text("hung"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "timeout");
    assert!(message(&e).contains("getAccessToken"), "{}", message(&e));
    assert!(js_sys::Date::now() - started < 1_000.0);
    let controller = web_sys::AbortController::new().expect("controller");
    let options = js_sys::Object::new();
    set(&options, "signal", &controller.signal());
    let pending = me.send_message_to_page(text("hung"), Some(options.into()));
    controller.abort();
    assert_eq!(code(&settle(pending).await.unwrap_err()), "aborted");

    // A token function that throws: the thrown error is the cause.
    let base = chayns_base().await;
    let options = js(&format!(
        r#"{{"userId":1234567,"locationId":77890,"baseUrl":"{base}"}}"#
    ));
    set(
        &options,
        "accessToken",
        &js_sys::Function::new_no_args("throw new Error('no session');"),
    );
    let me = create_chayns_user_client(options).unwrap_or_else(|_| panic!("client"));
    let e = settle(me.send_message_to_page(text("x"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "unauthenticated");
    assert_eq!(
        get(&get(&e, "cause"), "message").as_string().as_deref(),
        Some("no session")
    );
}

/// chayns-api's own `sendMessageTo*` (3.6.3, `support/chayns-api/sendMessage.cjs`) and Hail's
/// client send the same request for the same message: URL, method, headers, body byte for byte.
pub async fn requests_equal_chayns_api_requests() {
    let reference =
        js_sys::Function::new_with_args("exports", include_str!("chayns-api/sendMessage.cjs"));
    let exports = js_sys::Object::new();
    reference
        .call1(&JsValue::NULL, &exports)
        .expect("chayns-api's sendMessage");
    let compare = js_sys::Function::new_with_args(
        "ref, client, kind, receiver, message",
        r#"
        return (async () => {
            const seen = [];
            const real = globalThis.fetch;
            globalThis.fetch = async (url, init) => {
                const headers = {};
                new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
                seen.push({ url: String(url), method: init.method, headers, body: init.body });
                return new Response('{"success":true}', { status: 200 });
            };
            try {
                const api = {
                    values: { user: { userId: 1234567 }, site: { locationId: 77890 } },
                    functions: { getAccessToken: async () => ({ accessToken: "tok-123.abc" }) },
                };
                if (kind === "page") {
                    await ref.sendMessageToPage(api, message);
                    await client.sendMessageToPage(message);
                } else if (kind === "user") {
                    await ref.sendMessageToUser(api, message, receiver);
                    await client.sendMessageToUser(receiver, message);
                } else {
                    await ref.sendMessageToGroup(api, message, receiver);
                    await client.sendMessageToGroup(receiver, message);
                }
            } finally {
                globalThis.fetch = real;
            }
            return seen;
        })();
        "#,
    );
    let texts = [
        "Hi",
        "Quotes \" and \\ backslash, tab\t, newline\n, ünïcödé 🎉, \u{2028}",
    ];
    let images = [
        None,
        Some(vec![
            "https://tsimg.space/v1/images/a.jpg",
            "https://x.io/b?c=d&e",
        ]),
    ];
    let mut compared = 0;
    for kind in ["page", "user", "group"] {
        for t in texts {
            for imgs in &images {
                let mut message = serde_json::json!({ "text": t });
                if let Some(imgs) = imgs {
                    message["images"] = serde_json::json!(imgs);
                }
                // chayns-api's object as Hail's client would be made from it.
                let api = js_sys::Function::new_no_args(
                    "return { getAccessToken: async () => ({ accessToken: 'tok-123.abc' }), \
                     getUser: () => ({ userId: 1234567 }), getSite: () => ({ locationId: 77890 }) };",
                )
                .call0(&JsValue::NULL)
                .expect("api");
                let client: JsValue = from_chayns_api(api, None)
                    .unwrap_or_else(|_| panic!("client"))
                    .into();
                let promise: js_sys::Promise = compare
                    .apply(
                        &JsValue::NULL,
                        &js_sys::Array::of5(
                            &exports,
                            &client,
                            &kind.into(),
                            &JsValue::from_f64(7_654_321.0),
                            &js(&message.to_string()),
                        ),
                    )
                    .expect("compare")
                    .dyn_into()
                    .expect("promise");
                let seen = js_sys::Array::from(&settle(promise).await.expect("both sent"));
                assert_eq!(seen.length(), 2, "{kind}");
                let json = |v: JsValue| {
                    js_sys::JSON::stringify(&v)
                        .ok()
                        .and_then(|s| s.as_string())
                        .unwrap_or_default()
                };
                assert_eq!(
                    json(seen.get(1)),
                    json(seen.get(0)),
                    "{kind} {message}: Hail (left) differs from chayns-api (right)"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 12);
}

/// Wrong usage gets errors that say what to do.
pub async fn wrong_usage_is_explained() {
    // A chayns-api tapp has no chayns.env: the error points to fromChaynsApi.
    let e = from_chayns_env(Some(js("{}")), None).err().expect("no env");
    assert_eq!(code(&e), "invalid_request");
    assert!(message(&e).contains("fromChaynsApi"), "{}", message(&e));
    let e = from_chayns_env(None, None).err().expect("outside chayns");
    assert!(message(&e).contains("fromChaynsApi"));
    // Not chayns-api.
    let e = from_chayns_api(js(r#"{"getUser":1}"#), None)
        .err()
        .expect("not an api");
    assert_eq!(code(&e), "invalid_request");
    assert!(message(&e).contains("getAccessToken"), "{}", message(&e));
    // Misspelt options are refused with the right name.
    let api = chayns_api("sandbox-user-token", None);
    let e = from_chayns_api(api.clone(), Some(js(r#"{"timeout":5}"#)))
        .err()
        .expect("unknown option");
    assert!(
        message(&e).contains("did you mean \"timeoutMs\""),
        "{}",
        message(&e)
    );
    let me = with_api(&api, "").await;
    let e = settle(me.send_message_to_page(text("x"), Some(js(r#"{"idempotencyKey":"k"}"#))))
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e), get(&e, "field").as_string()),
        ("invalid_request".into(), Some("idempotencyKey".into()))
    );
    let e = create_chayns_user_client(js(r#"{"accessToken":"t","userId":0,"locationId":1}"#))
        .err()
        .expect("bad userId");
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("userId"));
}
