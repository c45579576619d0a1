//! The `hail-relay` binary as an operator runs it: `--check-config`, refusal of inline secrets,
//! graceful shutdown that lets an in-flight request finish, and a canary scan of responses and
//! logs for the secrets it holds.

#[path = "support/process.rs"]
mod process;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use process::{listening, relay_cmd, write_config, Proc};
use serde_json::json;

#[test]
fn check_config_prints_the_policy_table_without_secrets() {
    let path = write_config(
        "ok.toml",
        "[vendors.memoio]\nsecret_key = { env = \"HAIL_TEST_MEMOIO_KEY\" }\n\
         [operations.\"memoio/start-conversation\"]\naccess = \"public\"\npin = { channel = \"sales\" }\n",
    );
    let out = relay_cmd()
        .args(["--check-config", "--config"])
        .arg(&path)
        .env("HAIL_TEST_MEMOIO_KEY", "canary-memoio-key-4711")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("memoio/start-conversation"))
        .unwrap();
    assert!(
        line.contains("public")
            && line.contains("configured")
            && line.contains("channel=\"sales\""),
        "{line}"
    );
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("chayns/intercom") && l.contains("disabled")));
    assert!(!stdout.contains("canary-memoio-key-4711"));
    // The production default: the durable embedded store, under the data folder.
    assert!(
        stdout.contains("idempotency store: embedded, ") && stdout.contains("idempotency.sqlite3"),
        "{stdout}"
    );
}

#[test]
fn bad_configurations_are_refused_with_a_reason() {
    let cases = [
        ("[vendors.memoio]\nsecret_key = { value = \"inline\" }\n", "inline secrets are refused"),
        ("[vendors.memoio]\nsecret_key = \"inline\"\n[operations.\"memoio/start-conversation\"]\naccess = \"public\"\n", "not inline"),
        ("[vendors.memoio]\nsecret_key = { env = \"HAIL_TEST_UNSET_VAR\" }\n", "HAIL_TEST_UNSET_VAR is not set"),
        ("[operations.\"memoio/nope\"]\naccess = \"public\"\n", "no such operation"),
        ("[operations.\"memoio/start-conversation\"]\naccess = \"public\"\n", "has no credentials"),
        ("[operations.\"memoio/start-conversation\"]\naccess = \"jwt\"\n", "credentials"),
        ("[vendors.memoio]\nsecret_key = { env = \"HAIL_TEST_K\" }\n[operations.\"memoio/start-conversation\"]\naccess = \"public\"\npin = { chanel = \"x\" }\n", "pin.chanel: not a field"),
        ("listen = 5\n", "listen"),
    ];
    for (i, (text, reason)) in cases.into_iter().enumerate() {
        let path = write_config(&format!("bad{i}.toml"), text);
        let out = relay_cmd()
            .args(["--check-config", "--config"])
            .arg(&path)
            .env("HAIL_TEST_K", "k")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(reason), "{text}: {stderr}");
    }
}

/// A setting that parses but is wrong is refused with its key path first, as the operator
/// writes it in `relay.toml`, so the refusal says what to change.
#[test]
fn wrong_settings_are_refused_naming_the_setting() {
    // A file where the store's folder should be.
    let not_a_folder = write_config("not-a-folder", "");
    let missing = not_a_folder.with_file_name("no-such-secret");
    let cases = [
        (
            "store = { redis = \"not a url\" }\n".to_owned(),
            "store.redis: ".to_owned(),
        ),
        (
            format!("data_dir = {:?}\n", not_a_folder.join("data")),
            format!(
                "data_dir: cannot open store at {}",
                not_a_folder.join("data").display()
            ),
        ),
        (
            format!("[vendors.memoio]\nsecret_key = {{ file = {missing:?} }}\n"),
            format!(
                "vendors.memoio.secret_key: cannot read {}",
                missing.display()
            ),
        ),
        (
            "[operations.\"memoio/start-conversation\"]\naccess = \"public\"\n".to_owned(),
            "operations.\"memoio/start-conversation\".access: ".to_owned(),
        ),
    ];
    for (i, (text, reason)) in cases.into_iter().enumerate() {
        let path = write_config(&format!("wrong{i}.toml"), &text);
        let mut cmd = relay_cmd();
        if text.starts_with("data_dir") {
            // The environment's override would win over the file's setting.
            cmd.env_remove("HAIL_RELAY_DATA_DIR");
        }
        let out = cmd
            .args(["--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("hail-relay: {reason}")),
            "{text}: {stderr}"
        );
    }
    // An address already taken names `listen`.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = relay_cmd()
        .args(["--sandbox", "--listen", &addr])
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hail-relay: listen: cannot listen on {addr}: address in use"
        )),
        "{stderr}"
    );
}

/// `HAIL_RELAY_URL` (where pages and tests find a relay) and `HAIL_RELAY_BINARY` (the npm
/// launcher's) are set where relays start; they are not settings, and a relay starts with them.
#[test]
fn variables_that_are_not_settings_do_not_stop_a_relay() {
    let out = relay_cmd()
        .args(["--check-config", "--sandbox"])
        .env("HAIL_RELAY_URL", "http://127.0.0.1:8787")
        .env("HAIL_RELAY_BINARY", "/usr/local/bin/hail-relay")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // A misspelt setting is still refused.
    let out = relay_cmd()
        .args(["--check-config", "--sandbox"])
        .env("HAIL_RELAY_LISTN", "127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

struct Running {
    proc: Proc,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
    let (mut proc, url) = listening(
        relay_cmd()
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .env("RUST_LOG", "trace")
            .stderr(Stdio::piped()),
    );
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stderr = proc.0.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        sink.lock().unwrap().push_str(&buf);
    });
    Running { proc, url, log }
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let relay = start(&["--sandbox"], &[]);
    let http = reqwest::Client::new();
    // The vendor acts, then answers after 800 ms (the sandbox's vendor timeout is 2 s).
    let queued = http
        .post(format!("{}/v1/sandbox/faults", relay.url))
        .json(&json!({"vendor": "memoio", "kind": "timeout", "delayMs": 800, "afterAccept": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    let request = http
        .post(format!("{}/v1/memoio/start-conversation", relay.url))
        .header("idempotency-key", "shutdown")
        .body(r#"{"receiver":"a@b.co","message":"m","channel":"c"}"#)
        .send();
    let pid = relay.proc.0.id().to_string();
    let term = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    };
    let (response, ()) = tokio::join!(request, term);
    let response = response.expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let mut relay = relay;
    let status = tokio::task::spawn_blocking(move || {
        let s = relay.proc.0.wait();
        (s, relay)
    })
    .await
    .unwrap();
    assert!(status.0.unwrap().success(), "exits cleanly after SIGTERM");
}

#[tokio::test]
async fn canary_secrets_appear_in_no_response_and_no_log_line() {
    use hail_relay::sandbox::{
        CHAYNS_TAPP_SECRET, CHAYNS_USERS, LIVEDESK_API_KEY, LIVEDESK_API_SECRET, MEMOIO_SECRET_KEY,
        MLUVII_CLIENT_SECRET,
    };
    let jwt_secret = "canary-jwt-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    let config = write_config(
        "canary.toml",
        "[jwt]\nalgorithm = \"HS256\"\nsecret = { env = \"HAIL_CANARY_JWT\" }\naudience = \"a\"\nissuer = \"i\"\n\
             [operations.\"chayns/intercom\"]\naccess = \"chayns\"\n[operations.\"memoio/start-conversation\"]\naccess = \"public\"\n\
             [operations.\"memoio/start-direct-conversation\"]\naccess = \"jwt\"\n\
             [operations.\"livedesk/start-conversation\"]\naccess = \"public\"\n[operations.\"mluvii/whatsapp-subscriptions\"]\naccess = \"public\"\n",
    );
    let relay = start(
        &["--sandbox", "--config", config.to_str().unwrap()],
        &[("HAIL_CANARY_JWT", jwt_secret)],
    );
    let http = reqwest::Client::new();
    let user = CHAYNS_USERS[0].0;
    let calls = [
        (
            "memoio/start-conversation",
            json!({"receiver": "a@b.co", "message": "m", "channel": "c"}),
            None,
        ),
        (
            "memoio/start-conversation",
            json!({"receiver": "bad"}),
            None,
        ),
        (
            "memoio/start-direct-conversation",
            json!({"sender": "a@b.co", "receiver": "c@d.co", "message": "m"}),
            Some(format!("Bearer {jwt_secret}")),
        ),
        (
            "chayns/intercom",
            json!({"message": "m", "asCaller": true}),
            Some(format!("Bearer {user}")),
        ),
        (
            "chayns/intercom",
            json!({"message": "m", "userIds": [1]}),
            Some("Bearer wrong".to_owned()),
        ),
        (
            "livedesk/start-conversation",
            json!({"inboxId": 1, "contact": {}, "content": "m"}),
            None,
        ),
        ("mluvii/whatsapp-subscriptions", json!({}), None),
    ];
    let mut seen = String::new();
    for (i, (op, body, auth)) in calls.into_iter().enumerate() {
        let mut req = http
            .post(format!("{}/v1/{op}", relay.url))
            .header("idempotency-key", format!("canary-{i}"))
            .json(&body);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        for (name, value) in res.headers() {
            seen.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        seen.push_str(&res.text().await.unwrap());
    }
    for path in [
        "/v1/capabilities",
        "/metrics",
        "/healthz",
        "/v1/sandbox/outbox",
    ] {
        seen.push_str(
            &http
                .get(format!("{}{path}", relay.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    let pid = relay.proc.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = relay.log.lock().unwrap().clone();
    assert!(
        log.lines().count() > 5,
        "the relay logged at trace level: {log}"
    );
    for canary in [
        MEMOIO_SECRET_KEY,
        CHAYNS_TAPP_SECRET,
        LIVEDESK_API_KEY,
        LIVEDESK_API_SECRET,
        MLUVII_CLIENT_SECRET,
        jwt_secret,
        user,
    ] {
        assert!(!seen.contains(canary), "{canary} leaked into a response");
        assert!(!log.contains(canary), "{canary} leaked into the log");
    }
    assert!(
        !log.contains("sbx-mluvii-token"),
        "an issued token leaked into the log"
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../relay.example.toml");
    let out = relay_cmd()
        .args(["--check-config", "--config", example])
        .env("HAIL_JWT_SECRET", "an-example-secret-of-at-least-32-bytes!")
        .env("MEMOIO_SECRET_KEY", "m")
        .env("CHAYNS_TAPP_SECRET", "c")
        .env("LIVEDESK_API_KEY", "k")
        .env("LIVEDESK_API_SECRET", "s")
        .env("MLUVII_CLIENT_SECRET", "x")
        .env(
            "LIVEDESK_HOOK_SECRET",
            "an-example-hook-secret-of-32-characters",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("memoio/start-conversation"), "{stdout}");
    // The URL to paste into LiveDesk, its secret named, never shown.
    assert!(
        stdout.contains(
            "livedesk: https://relay.example.com/v1/hooks/livedesk/<replies.livedesk.hook_secret>"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("an-example-hook-secret"), "{stdout}");
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("chayns/intercom") && l.contains("chayns")));
}
