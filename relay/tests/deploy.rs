//! Deploying the relay (README, "Deploying the relay"): one relay per listening address — a
//! second process on the same address fails at start instead of splitting the traffic — and
//! the zero-downtime restart the README documents instead: start the new relay on another port
//! over the same store, switch the proxy to it, SIGTERM the old one.

#[path = "support/process.rs"]
mod process;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{free_port, listening, relay_cmd, write_config, Proc};
use serde_json::{json, Value};

const OP: &str = "memoio/start-conversation";

/// Waits for `proc` to exit, at most `limit`; `None` if it still runs.
fn exit_within(proc: &mut Proc, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = proc.0.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_relay_on_the_same_address_fails_at_start() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let (_first, url) = listening(
        relay_cmd()
            .args(["--sandbox", "--listen", &listen])
            .env("RUST_LOG", "error"),
    );
    assert_eq!(url, format!("http://{listen}"));

    let mut second = Proc(
        relay_cmd()
            .args(["--sandbox", "--listen", &listen])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // A relay that started prints its URL; one that refused prints nothing and exits.
    let mut line = String::new();
    BufReader::new(second.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        !line.contains("listening"),
        "a second relay started on {listen}: {line}"
    );
    let status = exit_within(&mut second, Duration::from_secs(10)).expect("the second relay exits");
    let mut stderr = String::new();
    second
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("address in use") && stderr.contains(&listen),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

async fn post(http: &reqwest::Client, relay: &str, key: &str, body: &str) -> (u16, Value, bool) {
    let res = http
        .post(format!("{relay}/v1/{OP}"))
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let replayed = res.headers().contains_key("idempotent-replayed");
    (status, res.json().await.unwrap_or(Value::Null), replayed)
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// The README's restart: new relay on another port over the same data_dir, /healthz, switch,
/// SIGTERM the old one; a retry of a key the old relay sent is replayed by the new one.
#[tokio::test]
async fn drain_and_replace_keeps_every_key() {
    let http = reqwest::Client::new();
    // The vendor stand-in: its outbox counts deliveries across both relays.
    let (_vendor, vendor) = listening(
        relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "error"),
    );
    let caps = get_json(&http, &format!("{vendor}/v1/capabilities")).await;
    let root = caps["chaynsUserApi"]
        .as_str()
        .unwrap()
        .trim_end_matches("/chayns-user")
        .to_owned();
    let data = std::env::temp_dir().join(format!("hail-deploy-{}", free_port()));
    let config = write_config(
        &format!("deploy-{}.toml", free_port()),
        &format!(
            "store = \"embedded\"\n[vendors.memoio]\nbase_url = \"{root}/memoio\"\n\
             [rate_limit]\nper_minute = 0\n"
        ),
    );
    let relay = |listen: &str| {
        let mut cmd = relay_cmd();
        cmd.args(["--sandbox", "--listen", listen, "--config"])
            .arg(&config)
            .env("HAIL_RELAY_DATA_DIR", &data)
            .env("RUST_LOG", "error");
        listening(&mut cmd)
    };
    let (mut old, old_url) = relay("127.0.0.1:0");
    let mark = format!("deploy-{}", std::process::id());
    let body =
        json!({"receiver": "anna@example.com", "message": format!("Hello {mark}"), "channel": "sales"})
            .to_string();
    let (status, first, _) = post(&http, &old_url, &mark, &body).await;
    assert_eq!(status, 200, "{first}");

    // 1. The new relay, on another port, over the same store; ready when /healthz says so.
    let (_new, new_url) = relay("127.0.0.1:0");
    let health = http.get(format!("{new_url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // 2. (The proxy switches to new_url.) 3. SIGTERM the old one: it drains and exits 0.
    let pid = old.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = exit_within(&mut old, Duration::from_secs(30)).expect("the old relay exits");
    assert!(status.success(), "{status}");

    let (status, again, replayed) = post(&http, &new_url, &mark, &body).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first);
    let outbox = get_json(&http, &format!("{vendor}/v1/sandbox/outbox")).await;
    let delivered = outbox["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["body"].as_str().unwrap_or("").contains(&mark))
        .count();
    assert_eq!(delivered, 1);
}
