//! wasm-bindgen-test in Node against the sandbox relay (`cargo xtask test`): the SDK without a
//! browser (server-side rendering, scripts).
#![cfg(target_arch = "wasm32")]

#[path = "support/relay.rs"]
mod relay;
#[path = "support/scenarios.rs"]
mod scenarios;

use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn runs_in_node_without_window() {
    let process = js_sys::Reflect::get(&js_sys::global(), &"process".into()).unwrap_or_default();
    assert!(process.is_object(), "not in Node");
    assert!(!js_sys::Reflect::has(&js_sys::global(), &"window".into()).unwrap_or(true));
}

#[wasm_bindgen_test]
async fn start_conversation_reaches_memoio() {
    scenarios::start_conversation_reaches_memoio().await;
}

#[wasm_bindgen_test]
async fn every_method_reaches_its_vendor() {
    scenarios::every_method_reaches_its_vendor().await;
}

#[wasm_bindgen_test]
async fn bad_receiver_is_rejected_before_the_network() {
    scenarios::bad_receiver_is_rejected_before_the_network().await;
}

#[wasm_bindgen_test]
async fn call_by_operation_id() {
    scenarios::call_by_operation_id().await;
}

#[wasm_bindgen_test]
async fn relay_errors_are_hail_errors() {
    scenarios::relay_errors_are_hail_errors().await;
}

#[wasm_bindgen_test]
async fn bad_input_and_network_errors_are_hail_errors() {
    scenarios::bad_input_and_network_errors_are_hail_errors().await;
}

#[wasm_bindgen_test]
async fn retries_use_one_key_and_deliver_once() {
    scenarios::retries_use_one_key_and_deliver_once().await;
}

#[wasm_bindgen_test]
async fn timeouts_and_aborts() {
    scenarios::timeouts_and_aborts().await;
}

#[wasm_bindgen_test]
async fn tokens_are_asked_for_each_call() {
    scenarios::tokens_are_asked_for_each_call().await;
}

#[wasm_bindgen_test]
async fn chayns_user_client_sends_directly() {
    scenarios::chayns_user_client_sends_directly().await;
}

#[wasm_bindgen_test]
async fn random_bad_inputs_never_trap() {
    scenarios::random_bad_inputs_never_trap().await;
}

#[wasm_bindgen_test]
async fn fault_matrix() {
    scenarios::fault_matrix().await;
}

#[wasm_bindgen_test]
fn validate_lists_every_violation() {
    scenarios::validate_lists_every_violation();
}
