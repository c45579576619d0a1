//! The relay under `wrk` (Debian) beside nginx `proxy_pass` (Debian) and the simulated vendor
//! itself, all in one run; the SDK in Chromium beside hand-written fetch.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::run::{cmd, output, root, status};

/// Debian's wrk and nginx, installed when missing (as root).
pub fn install_tools() -> Result<(), String> {
    let have = |p: &str| output(cmd("sh").args(["-c", &format!("command -v {p}")])).is_some();
    if have("wrk") && have("nginx") {
        return Ok(());
    }
    let _ = status(cmd("apt-get").args(["update", "-qq"]));
    status(
        cmd("apt-get")
            .args(["install", "-y", "-qq", "wrk", "nginx"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map_err(|e| format!("{e}: install Debian's wrk and nginx (`sudo apt-get install wrk nginx`)"))
}

/// A child process, killed when dropped.
pub struct Proc(Child);

impl Proc {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The release relay in sandbox mode; its URL.
pub fn start_relay(www: bool, env: &[(&str, &str)]) -> Result<(Proc, String, Duration), String> {
    let started = Instant::now();
    let mut c = Command::new(root().join("target/release/hail-relay"));
    c.args(["--sandbox", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdout(Stdio::piped());
    if www {
        c.args(["--www", "www"]).current_dir(root());
    }
    let mut child = c.spawn().map_err(|e| format!("hail-relay: {e}"))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or("the relay did not start")?
        .to_owned();
    // Ready means answering.
    let addr = url.trim_start_matches("http://").to_owned();
    while std::net::TcpStream::connect(&addr).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("the relay did not answer".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((Proc(child), url, started.elapsed()))
}

/// Runs wrk and reads requests/s and p50/p99 latency.
fn wrk(url: &str, script: &Path, seconds: u64) -> Result<Value, String> {
    let out = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            "32",
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    let latency = |p: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .map(|v| v.trim())
            .map_or(0.0, |v| {
                let (n, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
                let n: f64 = n.parse().unwrap_or(0.0);
                match unit {
                    "us" => n / 1000.0,
                    "s" => n * 1000.0,
                    _ => n,
                }
            })
    };
    let non_2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok(
        json!({ "rps": rps, "p50_ms": latency("50%"), "p99_ms": latency("99%"), "non_2xx": non_2xx }),
    )
}

const FORM: &str = "receiver=anna%40example.com&message=bench&channel=sales";

/// relay vs nginx vs the simulated vendor; cold start.
pub fn compare(seconds: u64) -> Result<Value, String> {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(dir.join("nginx/logs")).map_err(|e| e.to_string())?;
    let (relay, url, cold) = start_relay(false, &[("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0")])?;
    let caps = output(cmd("curl").args(["-s", &format!("{url}/v1/capabilities")]))
        .ok_or("capabilities")?;
    let caps: Value = serde_json::from_str(&caps).map_err(|e| e.to_string())?;
    let sim = caps["chaynsUserApi"]
        .as_str()
        .ok_or("no sandbox")?
        .trim_end_matches("/chayns-user")
        .to_owned();
    let sim_addr = sim.trim_start_matches("http://").to_owned();

    let direct_lua = dir.join("direct.lua");
    std::fs::write(&direct_lua, format!(
        "wrk.method = \"POST\"\nwrk.body = \"{FORM}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nwrk.headers[\"Authorization\"] = \"sandbox-memoio-secret\"\n"
    )).map_err(|e| e.to_string())?;
    let nginx_lua = dir.join("nginx.lua");
    std::fs::write(&nginx_lua, format!(
        "wrk.method = \"POST\"\nwrk.body = \"{FORM}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n"
    )).map_err(|e| e.to_string())?;
    let relay_lua = dir.join("relay.lua");
    std::fs::write(&relay_lua, r#"
local body = '{"receiver":"anna@example.com","message":"bench","channel":"sales"}'
local n = 0
local threads = 0
-- `id` is a global that setup() gives each thread: keys must differ across threads too.
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function request()
  n = n + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. id .. "-" .. n .. "-" .. math.random(1000000000) }, body)
end
"#).map_err(|e| e.to_string())?;

    let nginx_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let conf = dir.join("nginx/nginx.conf");
    std::fs::write(&conf, format!(
        "worker_processes 2;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
         upstream sim {{ server {sim_addr}; keepalive 64; }}\n  server {{\n    listen 127.0.0.1:{nginx_port};\n    location / {{\n\
         proxy_pass http://sim/memoio/api/start-conversation;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n\
         proxy_set_header Authorization \"sandbox-memoio-secret\";\n    }}\n  }}\n}}\n",
        p = dir.join("nginx").display()
    )).map_err(|e| e.to_string())?;
    let nginx = Proc(
        Command::new("nginx")
            .arg("-p")
            .arg(dir.join("nginx"))
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .spawn()
            .map_err(|e| format!("nginx: {e}"))?,
    );
    std::thread::sleep(Duration::from_millis(500));

    println!("wrk, {seconds} s each: the simulated vendor directly, nginx proxy_pass, the relay");
    let direct = wrk(
        &format!("{sim}/memoio/api/start-conversation"),
        &direct_lua,
        seconds,
    )?;
    let mut through_nginx = wrk(
        &format!("http://127.0.0.1:{nginx_port}/"),
        &nginx_lua,
        seconds,
    )?;
    let nginx_rss: f64 = std::iter::once(nginx.0.id())
        .chain(
            output(cmd("pgrep").args(["-P", &nginx.0.id().to_string()]))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok()),
        )
        .map(|pid| crate::run::memory_mb(pid, "VmHWM"))
        .sum();
    through_nginx["peak_rss_mb"] = json!(nginx_rss);
    let mut through_relay = wrk(
        &format!("{url}/v1/memoio/start-conversation"),
        &relay_lua,
        seconds,
    )?;
    through_relay["peak_rss_mb"] = json!(crate::run::memory_mb(relay.0.id(), "VmHWM"));
    drop(relay);
    // The same relay with the durable embedded store (the production default; the sandbox
    // defaults to memory), on a fresh database file.
    let data = dir.join("embedded-store");
    let _ = std::fs::remove_dir_all(&data);
    let data = data.to_string_lossy().into_owned();
    let (embedded, embedded_url, _) = start_relay(
        false,
        &[
            ("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0"),
            ("HAIL_RELAY_STORE", "embedded"),
            ("HAIL_RELAY_DATA_DIR", &data),
        ],
    )?;
    let mut through_embedded = wrk(
        &format!("{embedded_url}/v1/memoio/start-conversation"),
        &relay_lua,
        seconds,
    )?;
    through_embedded["peak_rss_mb"] = json!(crate::run::memory_mb(embedded.0.id(), "VmHWM"));
    drop(embedded);
    drop(nginx);
    Ok(
        json!({ "direct": direct, "nginx": through_nginx, "relay": through_relay, "relay_embedded": through_embedded, "cold_start": { "ms": cold.as_secs_f64() * 1000.0 } }),
    )
}

/// The SDK against fetch in headless Chromium (tests/bench/sdk.mjs).
pub fn sdk_cost() -> Result<Value, String> {
    let (_relay, url, _) = start_relay(true, &[("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0")])?;
    let out = output(
        cmd("node")
            .arg("tests/bench/sdk.mjs")
            .env("HAIL_RELAY_URL", &url)
            .env("CHROMIUM", crate::setup::CHROMIUM),
    )
    .ok_or("tests/bench/sdk.mjs failed")?;
    serde_json::from_str(out.trim().lines().last().unwrap_or(""))
        .map_err(|e| format!("sdk bench output: {e}"))
}
