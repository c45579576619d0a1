//! Shared by the wasm test crates: the sandbox relay's URL (compiled in by `cargo xtask test`,
//! since wasm tests cannot read the environment at run time) and small JS helpers.

use hail::web::{create_relay_client, RelayClient};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The sandbox relay started by `cargo xtask test`.
pub fn relay_url() -> &'static str {
    match option_env!("HAIL_RELAY_URL") {
        Some(url) => url,
        None => panic!("HAIL_RELAY_URL was not set at compile time: run `cargo xtask test`"),
    }
}

pub fn js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON")
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).expect("property")
}

pub fn client_with(options: &str) -> RelayClient {
    create_relay_client(js(options)).unwrap_or_else(|_| panic!("createRelayClient({options})"))
}

pub fn client() -> RelayClient {
    client_with(&format!(r#"{{"relayUrl":"{}"}}"#, relay_url()))
}

/// Queues sandbox faults (JSON text).
pub async fn fault(json: &str) {
    let url = format!("{}/v1/sandbox/faults", relay_url());
    let response = gloo_net::http::Request::post(&url)
        .header("content-type", "application/json")
        .body(json)
        .expect("fault request")
        .send()
        .await
        .expect("faults");
    assert_eq!(
        response.status(),
        202,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout: js_sys::Function = js_sys::Reflect::get(&global, &"setTimeout".into())
            .expect("setTimeout")
            .into();
        set_timeout
            .call2(&global, &resolve, &ms.into())
            .expect("setTimeout call");
    });
    JsFuture::from(promise).await.expect("sleep");
}

/// Awaits a promise: `Ok` value or `Err` rejection.
pub async fn settle(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// A marker no other test uses, to find this test's outbox entries.
pub fn marker(name: &str) -> String {
    format!("{name}-{}", js_sys::Math::random().to_bits())
}

/// The sandbox outbox entries whose body contains `needle`.
pub async fn outbox_with(needle: &str) -> Vec<JsValue> {
    let url = format!("{}{}", relay_url(), hail::protocol::SANDBOX_OUTBOX_PATH);
    let response = gloo_net::http::Request::get(&url)
        .send()
        .await
        .expect("outbox");
    assert_eq!(response.status(), 200);
    let body = js(&response.text().await.expect("outbox body"));
    let entries: js_sys::Array = get(&body, "entries").dyn_into().expect("entries array");
    entries
        .iter()
        .filter(|e| {
            get(e, "body")
                .as_string()
                .is_some_and(|b| b.contains(needle))
        })
        .collect()
}

/// The value of header `name` in an outbox entry (`[[name, value], …]`).
pub fn header(entry: &JsValue, name: &str) -> Option<String> {
    let headers: js_sys::Array = get(entry, "headers").dyn_into().ok()?;
    headers.iter().find_map(|pair| {
        let pair: js_sys::Array = pair.dyn_into().ok()?;
        (pair.get(0).as_string()? == name)
            .then(|| pair.get(1).as_string())
            .flatten()
    })
}

/// Whether the tests run in Node (`process.versions.node`), not in a browser.
pub fn is_node() -> bool {
    let process = get(&js_sys::global(), "process");
    process.is_object() && get(&get(&process, "versions"), "node").is_string()
}
