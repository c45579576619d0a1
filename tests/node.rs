//! wasm-bindgen-test in Node against the sandbox relay (`cargo xtask test`): the SDK without a
//! browser (server-side rendering, scripts).
#![cfg(target_arch = "wasm32")]

#[path = "support/relay.rs"]
mod relay;
#[macro_use]
#[path = "support/scenarios.rs"]
mod scenarios;
#[macro_use]
#[path = "support/chayns.rs"]
mod chayns;
#[macro_use]
#[path = "support/diagnostics.rs"]
mod diagnostics;
#[macro_use]
#[path = "support/replies.rs"]
mod replies;

use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn runs_in_node_without_window() {
    let process = js_sys::Reflect::get(&js_sys::global(), &"process".into()).unwrap_or_default();
    assert!(process.is_object(), "not in Node");
    assert!(!js_sys::Reflect::has(&js_sys::global(), &"window".into()).unwrap_or(true));
}

scenario_tests!();
chayns_tests!();
diagnostics_tests!();
replies_tests!();
