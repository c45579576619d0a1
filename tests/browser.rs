//! wasm-bindgen-test in headless Chromium against the sandbox relay (`cargo xtask test`).
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

// Unconditional: without it these tests would silently run in Node.
wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn runs_in_chromium() {
    let ua = web_sys::window().map(|w| w.navigator().user_agent().unwrap_or_default());
    assert!(
        ua.is_some_and(|ua| ua.contains("Chrome")),
        "not in Chromium"
    );
}

scenario_tests!();
chayns_tests!();
diagnostics_tests!();
replies_tests!();
