//! Reply streams (`replies()`), run both in Chromium (`browser.rs`) and in Node (`node.rs`): the
//! test bodies are JS (`replies.js`, where `for await`, `AbortController` and a scripted `fetch`
//! are at home); each throws on a failed check, which fails the test with its stack.

use wasm_bindgen::JsValue;

use super::relay::{client, client_with, relay_url};

mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/tests/support/replies.js")]
    extern "C" {
        #[wasm_bindgen(thread_local_v2, js_name = FAKE)]
        pub static FAKE: String;

        #[wasm_bindgen(catch, js_name = accessAndOptionsAreChecked)]
        pub fn access_and_options_are_checked(hail: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = anAgentsReplyArrives)]
        pub async fn an_agents_reply_arrives(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = privateNotesNeverArrive)]
        pub async fn private_notes_never_arrive(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = followUpsReachTheVendorAsTheVisitor)]
        pub async fn follow_ups_reach_the_vendor_as_the_visitor(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = resumingGetsOnlyLaterEvents)]
        pub async fn resuming_gets_only_later_events(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = abortingTheSignalEndsTheIteration)]
        pub async fn aborting_the_signal_ends_the_iteration(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = aWrongTokenIsRefused)]
        pub async fn a_wrong_token_is_refused(
            hail: JsValue,
            relay: &str,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = serverSentEventsAreParsedAsTheStandardSays)]
        pub async fn server_sent_events_are_parsed_as_the_standard_says(
            hail: JsValue,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = droppedConnectionsResumeAfterTheLastEvent)]
        pub async fn dropped_connections_resume_after_the_last_event(
            hail: JsValue,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = refusalsEndTheStreamWithoutReconnecting)]
        pub async fn refusals_end_the_stream_without_reconnecting(
            hail: JsValue,
        ) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = theConnectionLivesWhileAnyoneListens)]
        pub async fn the_connection_lives_while_anyone_listens(
            hail: JsValue,
        ) -> Result<JsValue, JsValue>;
    }
}

/// Fails the test with what the JS test threw (its stack names the failed check).
fn passed(outcome: Result<JsValue, JsValue>) {
    if let Err(e) = outcome {
        let stack = js_sys::Reflect::get(&e, &"stack".into())
            .ok()
            .and_then(|s| s.as_string());
        panic!("{}", stack.unwrap_or_else(|| format!("{e:?}")));
    }
}

/// A client whose relay is the scripted `fetch` of `replies.js`.
fn scripted() -> JsValue {
    let fake = js::FAKE.with(String::clone);
    client_with(&format!(r#"{{"relayUrl":"{fake}"}}"#)).into()
}

pub fn access_and_options_are_checked() {
    passed(js::access_and_options_are_checked(client().into()));
}

pub async fn an_agents_reply_arrives() {
    passed(js::an_agents_reply_arrives(client().into(), relay_url()).await);
}

pub async fn private_notes_never_arrive() {
    passed(js::private_notes_never_arrive(client().into(), relay_url()).await);
}

pub async fn follow_ups_reach_the_vendor_as_the_visitor() {
    passed(js::follow_ups_reach_the_vendor_as_the_visitor(client().into(), relay_url()).await);
}

pub async fn resuming_gets_only_later_events() {
    passed(js::resuming_gets_only_later_events(client().into(), relay_url()).await);
}

pub async fn aborting_the_signal_ends_the_iteration() {
    passed(js::aborting_the_signal_ends_the_iteration(client().into(), relay_url()).await);
}

pub async fn a_wrong_token_is_refused() {
    passed(js::a_wrong_token_is_refused(client().into(), relay_url()).await);
}

pub async fn server_sent_events_are_parsed_as_the_standard_says() {
    passed(js::server_sent_events_are_parsed_as_the_standard_says(scripted()).await);
}

pub async fn dropped_connections_resume_after_the_last_event() {
    passed(js::dropped_connections_resume_after_the_last_event(scripted()).await);
}

pub async fn refusals_end_the_stream_without_reconnecting() {
    passed(js::refusals_end_the_stream_without_reconnecting(scripted()).await);
}

pub async fn the_connection_lives_while_anyone_listens() {
    passed(js::the_connection_lives_while_anyone_listens(scripted()).await);
}

/// One `#[wasm_bindgen_test]` per reply stream test, in a module `replies_tests` of the
/// including crate (`cargo test … -- replies_tests` runs them alone).
macro_rules! replies_tests {
    () => {
        mod replies_tests {
            use wasm_bindgen_test::*;

            replies_tests!(
                an_agents_reply_arrives,
                private_notes_never_arrive,
                follow_ups_reach_the_vendor_as_the_visitor,
                resuming_gets_only_later_events,
                aborting_the_signal_ends_the_iteration,
                a_wrong_token_is_refused,
                server_sent_events_are_parsed_as_the_standard_says,
                dropped_connections_resume_after_the_last_event,
                refusals_end_the_stream_without_reconnecting,
                the_connection_lives_while_anyone_listens,
            );

            #[wasm_bindgen_test]
            fn access_and_options_are_checked() {
                crate::replies::access_and_options_are_checked();
            }
        }
    };
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                crate::replies::$name().await;
            }
        )*
    };
}
