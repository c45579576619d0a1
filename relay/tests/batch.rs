//! The embedded store's group commit, over real HTTP on loopback: relay processes against a
//! sandbox relay as the vendor, whose outbox counts every delivery.
//!
//! - A crash while a batch is being committed (SIGKILL with the writer stopped inside or just
//!   after a batch's transaction, more requests waiting behind it): after a restart, every key
//!   is delivered at most once — a committed key answers `outcome_unknown` and was not sent, a
//!   key whose record was not committed is sent now, once.
//! - 64 concurrent clients on distinct keys, and on one key: exactly one delivery per key.

#[path = "support/process.rs"]
mod process;
#[path = "support/relays.rs"]
mod relays;

use std::path::PathBuf;

use relays::{post, retry, start_with, vendor, Relay, Store, Vendor};
use serde_json::{json, Value};

const MEMOIO: &str = "memoio/start-conversation";

/// Generous deadlines: these tests count deliveries, they do not time anything.
const PATIENT: [(&str, &str); 3] = [
    ("HAIL_RELAY_HTTP__REQUEST_TIMEOUT_MS", "30000"),
    ("HAIL_RELAY_UPSTREAM__TIMEOUT_MS", "20000"),
    ("HAIL_RELAY_HTTP__MAX_CONNECTIONS_PER_ADDRESS", "1024"),
];

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hail-batch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn body(mark: &str) -> String {
    json!({"receiver": "anna@example.com", "message": format!("Hello {mark}"), "channel": "sales"})
        .to_string()
}

/// Sends `keys` (each with its own body) all at once, once each.
async fn send_all(http: &reqwest::Client, relay: &str, keys: &[String]) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (http, relay, key) = (http.clone(), relay.to_owned(), key.clone());
            tokio::spawn(async move { post(&http, &relay, MEMOIO, &key, &body(&key)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Deliveries of each key's own message.
async fn delivered(http: &reqwest::Client, v: &Vendor, keys: &[String]) -> Vec<usize> {
    let mut counts = Vec::new();
    for key in keys {
        // No key is a part of another (fixed-width numbers): counts are per key.
        counts.push(v.deliveries(http, key).await);
    }
    counts
}

#[cfg(feature = "failpoints")]
async fn crash_in_a_batch(point: &str) -> (Vec<(u16, Value)>, Vec<usize>) {
    let http = reqwest::Client::new();
    let v = vendor(&http).await;
    let name = point.replace("::", "-");
    let store = Store::Embedded(temp(&name));
    let failpoint = format!("{point}=return(hang)");
    // The crash matrix's short deadlines: a committed key's hold ends soon after the restart.
    let relay = start_with(&name, &store, &v, Some(&failpoint), &PATIENT[2..]);
    let keys: Vec<String> = (0..16).map(|i| format!("{name}-{i:02}")).collect();
    // The first wave: the writer's first batch stops at the failpoint; the rest of the wave
    // waits behind it, uncommitted.
    let pending = {
        let (http, url, keys) = (http.clone(), relay.url.clone(), keys[..8].to_vec());
        tokio::spawn(async move { send_all(&http, &url, &keys).await })
    };
    relay.wait_for_log("failpoint reached");
    // A second wave, queued behind the stopped writer (or not yet read: not committed either).
    let late = {
        let (http, url, keys) = (http.clone(), relay.url.clone(), keys[8..].to_vec());
        tokio::spawn(async move { send_all(&http, &url, &keys).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    relay.kill9();
    let _ = (pending.await, late.await);
    let restarted = start_with(&format!("{name}-2"), &store, &v, None, &PATIENT[2..]);
    let mut answers = Vec::new();
    for key in &keys {
        answers.push(retry(&http, &restarted.url, MEMOIO, key, &body(key)).await);
    }
    let counts = delivered(&http, &v, &keys).await;
    (answers, counts)
}

/// Every key: delivered once and answered 200, or not delivered and answered unknown.
fn assert_once_or_unknown(answers: &[(u16, Value)], counts: &[usize]) {
    for ((status, answer), count) in answers.iter().zip(counts) {
        match (status, answer["code"].as_str(), count) {
            (200, _, 1) | (502, Some("outcome_unknown"), 0) => {}
            _ => panic!("{count} deliveries, answered {status} {answer}"),
        }
    }
}

/// Killed with a batch written but not committed: no record of it survives, and none of its
/// requests had gone on to the vendor, so each is sent once after the restart.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_before_a_batch_commits_sends_each_request_once_later() {
    let (answers, counts) = crash_in_a_batch("store::before_commit").await;
    assert_once_or_unknown(&answers, &counts);
    assert!(counts.iter().all(|&c| c == 1), "{counts:?}");
}

/// Killed after a batch committed and before its requests were told: the batch's keys are held
/// (unknown, never sent), the requests behind it were not recorded and are sent once.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_after_a_batch_commits_sends_nothing_twice() {
    let (answers, counts) = crash_in_a_batch("store::after_commit").await;
    assert_once_or_unknown(&answers, &counts);
    let unknown = counts.iter().filter(|&&c| c == 0).count();
    assert!(
        unknown >= 1,
        "the committed batch reads as unknown: {counts:?}"
    );
    assert!(
        unknown < counts.len(),
        "the requests behind it are sent: {counts:?}"
    );
}

async fn load_relay(name: &str) -> (reqwest::Client, Vendor, Relay) {
    let http = reqwest::Client::new();
    let v = vendor(&http).await;
    let relay = start_with(name, &Store::Embedded(temp(name)), &v, None, &PATIENT);
    (http, v, relay)
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_clients_on_distinct_keys_deliver_each_once() {
    let (http, v, relay) = load_relay("load-distinct").await;
    // 64 clients at once, each sending four keys one after the other.
    let clients: Vec<_> = (0..64)
        .map(|c| {
            let (http, url) = (http.clone(), relay.url.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for i in 0..4 {
                    let key = format!("distinct-{c:02}-{i}");
                    answers.push((
                        key.clone(),
                        retry(&http, &url, MEMOIO, &key, &body(&key)).await,
                    ));
                }
                answers
            })
        })
        .collect();
    let mut keys = Vec::new();
    for client in clients {
        for (key, (status, answer)) in client.await.unwrap() {
            assert_eq!(status, 200, "{key}: {answer}");
            keys.push(key);
        }
    }
    let counts = delivered(&http, &v, &keys).await;
    assert!(counts.iter().all(|&c| c == 1), "{counts:?}");
    // And each is a replay now, with nothing sent again.
    let again = send_all(&http, &relay.url, &keys[..64]).await;
    assert!(again.iter().all(|(s, _)| *s == 200), "{again:?}");
    assert!(delivered(&http, &v, &keys).await.iter().all(|&c| c == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_clients_on_one_key_deliver_it_once() {
    let (http, v, relay) = load_relay("load-one").await;
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let (http, url) = (http.clone(), relay.url.clone());
            tokio::spawn(
                async move { retry(&http, &url, MEMOIO, "one-key", &body("one-key")).await },
            )
        })
        .collect();
    let mut answers = Vec::new();
    for client in clients {
        answers.push(client.await.unwrap());
    }
    let first = &answers[0];
    for answer in &answers {
        assert_eq!(answer.0, 200, "{}", answer.1);
        // Replays answer what the one delivery answered.
        assert_eq!(answer.1["data"], first.1["data"]);
    }
    assert_eq!(delivered(&http, &v, &["one-key".to_owned()]).await, [1]);
}
