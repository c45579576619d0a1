//! Relay processes for the crash and load tests: a sandbox relay as the vendor (its outbox
//! counts every delivery across crashes), relays under test over a chosen store, and a client
//! that retries like the SDK.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::process::{listening, relay_cmd, write_config, Proc};

/// The vendor stand-in: a sandbox relay whose simulated vendors the relay under test calls.
pub struct Vendor {
    _proc: Proc,
    pub url: String,
    pub root: String,
}

pub async fn vendor(http: &reqwest::Client) -> Vendor {
    let (proc, url) = listening(
        relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0"])
            // Every relay under test calls from loopback: one address, many connections.
            .env("HAIL_RELAY_HTTP__MAX_CONNECTIONS_PER_ADDRESS", "1024")
            .env("RUST_LOG", "error"),
    );
    let caps = get_json(http, &format!("{url}/v1/capabilities")).await;
    let root = caps["chaynsUserApi"]
        .as_str()
        .unwrap()
        .trim_end_matches("/chayns-user")
        .to_owned();
    Vendor {
        _proc: proc,
        url,
        root,
    }
}

pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

impl Vendor {
    pub async fn fault(&self, http: &reqwest::Client, fault: Value) {
        let res = http
            .post(format!("{}/v1/sandbox/faults", self.url))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
    }

    /// Successful deliveries whose body contains `needle`.
    pub async fn deliveries(&self, http: &reqwest::Client, needle: &str) -> usize {
        let outbox = get_json(http, &format!("{}/v1/sandbox/outbox", self.url)).await;
        outbox["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["method"] == "POST" && e["body"].as_str().unwrap_or("").contains(needle))
            .count()
    }

    pub async fn wait_for_delivery(&self, http: &reqwest::Client, needle: &str) {
        let started = Instant::now();
        while self.deliveries(http, needle).await == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no delivery of {needle}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[derive(Clone)]
pub enum Store {
    Embedded(PathBuf),
    Memory,
    Redis(u16),
}

impl Store {
    pub fn toml(&self) -> String {
        match self {
            Self::Embedded(dir) => {
                format!("store = \"embedded\"\ndata_dir = \"{}\"\n", dir.display())
            }
            Self::Memory => "store = \"memory\"\n".into(),
            Self::Redis(port) => {
                format!("store = {{ redis = \"redis://127.0.0.1:{port}\", timeout_ms = 300 }}\n")
            }
        }
    }
}

/// A relay under test, its log lines arriving on `log`.
pub struct Relay {
    pub proc: Proc,
    pub url: String,
    pub log: mpsc::Receiver<String>,
}

pub fn start(name: &str, store: &Store, vendor: &Vendor, failpoint: Option<&str>) -> Relay {
    start_with(name, store, vendor, failpoint, &[])
}

/// [`start`], with `env` overriding settings (`HAIL_RELAY_…`).
pub fn start_with(
    name: &str,
    store: &Store,
    vendor: &Vendor,
    failpoint: Option<&str>,
    env: &[(&str, &str)],
) -> Relay {
    let config = format!(
        "{}[rate_limit]\nper_minute = 0\n[http]\nrequest_timeout_ms = 1500\n[upstream]\ntimeout_ms = 1000\nretries = 0\n\
         [vendors.memoio]\nbase_url = \"{root}/memoio\"\n[vendors.livedesk]\nbase_url = \"{root}/livedesk\"\n",
        store.toml(),
        root = vendor.root
    );
    let path = write_config(&format!("crash-{name}.toml"), &config);
    let mut cmd = relay_cmd();
    cmd.args(["--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped());
    if let Some(point) = failpoint {
        cmd.env("FAILPOINTS", point);
    }
    if let Store::Embedded(dir) = store {
        // The environment wins over the file: each test keeps its own database.
        cmd.env("HAIL_RELAY_DATA_DIR", dir);
    }
    cmd.envs(env.iter().copied());
    let (mut proc, url) = listening(&mut cmd);
    let stderr = proc.0.stderr.take().unwrap();
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Relay { proc, url, log }
}

impl Relay {
    /// Blocks until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("the relay never logged {needle:?}"),
            }
        }
    }

    pub fn kill9(mut self) {
        let _ = self.proc.0.kill();
        let _ = self.proc.0.wait();
    }
}

pub async fn post(
    http: &reqwest::Client,
    relay: &str,
    op: &str,
    key: &str,
    body: &str,
) -> (u16, Value) {
    match http
        .post(format!("{relay}/v1/{op}"))
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// Retries like the SDK: the same key, again while the answer says so (in flight, network).
pub async fn retry(
    http: &reqwest::Client,
    relay: &str,
    op: &str,
    key: &str,
    body: &str,
) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = post(http, relay, op, key, body).await;
        let again = status == 0 || answer["retryable"] == true;
        if !again || Instant::now() > deadline {
            return (status, answer);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
