//! The relay under `wrk` (Debian) beside nginx `proxy_pass` (Debian) and the simulated vendor
//! itself, all in one run; the SDK in Chromium beside hand-written fetch.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::run::{cmd, output, root, status};

/// Debian's wrk, nginx and redis-server, installed when missing (as root).
pub fn install_tools() -> Result<(), String> {
    let have = |p: &str| output(cmd("sh").args(["-c", &format!("command -v {p}")])).is_some();
    if have("wrk") && have("nginx") && have("redis-server") {
        return Ok(());
    }
    let _ = status(cmd("apt-get").args(["update", "-qq"]));
    status(
        cmd("apt-get")
            .args(["install", "-y", "-qq", "wrk", "nginx", "redis-server"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map_err(|e| format!("{e}: install Debian's wrk, nginx and redis-server (`sudo apt-get install wrk nginx redis-server`)"))
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

/// The release relay `cargo build --release` made: under `CARGO_TARGET_DIR` when it is set.
fn release_relay() -> std::path::PathBuf {
    crate::run::target_dir().join("release/hail-relay")
}

/// The release relay in sandbox mode; its URL.
pub fn start_relay(www: bool, env: &[(&str, &str)]) -> Result<(Proc, String, Duration), String> {
    let started = Instant::now();
    let mut c = Command::new(release_relay());
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
const JSON_BODY: &str = r#"{"receiver":"anna@example.com","message":"bench","channel":"sales"}"#;
/// The sandbox's MEMOIO key (`hail_relay::sandbox::MEMOIO_SECRET_KEY`), which the simulated
/// vendor checks.
const SANDBOX_MEMOIO_KEY: &str = "sandbox-memoio-secret";

/// One wrk script for every target: a fresh `Idempotency-Key` per request (a per-run nonce,
/// the thread, a counter and a seeded random number), so that no run replays another's keys and
/// every target pays the same script cost.
fn lua(body: &str, content_type: &str, authorization: Option<&str>, nonce: u64) -> String {
    let auth = authorization.map_or(String::new(), |a| {
        format!(", [\"Authorization\"] = \"{a}\"")
    });
    format!(
        r#"local body = '{body}'
local threads = 0
-- `id` is a global that setup() gives each thread: keys must differ across threads too.
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) math.randomseed({nonce} + id); n = 0 end
function request()
  n = n + 1
  return wrk.format("POST", nil, {{ ["Content-Type"] = "{content_type}", ["Idempotency-Key"] = "bench-{nonce}-" .. id .. "-" .. n .. "-" .. math.random(1000000000){auth} }}, body)
end
"#
    )
}

/// CPU time (user + system) of `pids` so far, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    // Clock ticks per second: 100 on Linux/x86_64 (`getconf CLK_TCK`).
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command (which may contain spaces) start after the last ')'.
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .sum::<f64>()
        / 100.0
}

/// nginx's master and worker processes.
fn with_children(pid: u32) -> Vec<u32> {
    std::iter::once(pid)
        .chain(
            output(cmd("pgrep").args(["-P", &pid.to_string()]))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok()),
        )
        .collect()
}

/// The relay in production mode (`--config`) with `store` (the TOML value), calling the simulated vendor at `sim`
/// in another process, as a company runs it.
fn production_relay(
    binary: &Path,
    dir: &Path,
    name: &str,
    store: &str,
    sim: &str,
) -> Result<(Proc, String), String> {
    let data = dir.join(format!("{name}-data"));
    let _ = std::fs::remove_dir_all(&data);
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "store = {store}\ndata_dir = \"{}\"\n[rate_limit]\nper_minute = 0\n\
             [vendors.memoio]\nbase_url = \"{sim}/memoio\"\nsecret_key = {{ env = \"HAIL_BENCH_MEMOIO_KEY\" }}\n\
             [operations.\"memoio/start-conversation\"]\naccess = \"public\"\n",
            data.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut c = Command::new(binary);
    c.args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("RUST_LOG", "error")
        .env("HAIL_BENCH_MEMOIO_KEY", SANDBOX_MEMOIO_KEY)
        .stdout(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("hail-relay: {e}"))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("the {name} relay did not start"))?
        .to_owned();
    Ok((Proc(child), url))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// relay (memory and embedded store) vs nginx vs the simulated vendor, in `rounds` interleaved
/// rounds (so that a noisy moment hits all of them alike), medians reported; cold start. With
/// `before`, that build of the relay too, as `relay_before` and `relay_embedded_before`.
pub fn compare(seconds: u64, rounds: usize, before: Option<&Path>) -> Result<Value, String> {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(dir.join("nginx/logs")).map_err(|e| e.to_string())?;
    // The simulated vendor, in a process of its own for every target.
    let (vendor, url, cold) = start_relay(false, &[("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0")])?;
    let caps = output(cmd("curl").args(["-s", &format!("{url}/v1/capabilities")]))
        .ok_or("capabilities")?;
    let caps: Value = serde_json::from_str(&caps).map_err(|e| e.to_string())?;
    let sim = caps["chaynsUserApi"]
        .as_str()
        .ok_or("no sandbox")?
        .trim_end_matches("/chayns-user")
        .to_owned();
    let sim_addr = sim.trim_start_matches("http://").to_owned();

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
         proxy_set_header Authorization \"{SANDBOX_MEMOIO_KEY}\";\n    }}\n  }}\n}}\n",
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
    let this = release_relay();
    let (memory, memory_url) = production_relay(&this, &dir, "relay-memory", "\"memory\"", &sim)?;
    let (embedded, embedded_url) =
        production_relay(&this, &dir, "relay-embedded", "\"embedded\"", &sim)?;
    // Redis as the README asks for it in production: persistence on (every second), no eviction.
    let redis_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let redis_dir = dir.join("redis");
    let _ = std::fs::remove_dir_all(&redis_dir);
    std::fs::create_dir_all(&redis_dir).map_err(|e| e.to_string())?;
    let redis = Proc(
        Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "everysec"])
            .args(["--maxmemory-policy", "noeviction", "--dir"])
            .arg(&redis_dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?,
    );
    let waited = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_err() {
        if waited.elapsed() > Duration::from_secs(10) {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (relay_redis, redis_url) = production_relay(
        &this,
        &dir,
        "relay-redis",
        &format!("{{ redis = \"redis://127.0.0.1:{redis_port}\" }}"),
        &sim,
    )?;
    let before = match before {
        Some(binary) => Some((
            production_relay(binary, &dir, "before-memory", "\"memory\"", &sim)?,
            production_relay(binary, &dir, "before-embedded", "\"embedded\"", &sim)?,
        )),
        None => None,
    };
    std::thread::sleep(Duration::from_millis(500));

    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64 % 1_000_000_000);
    let form = "application/x-www-form-urlencoded";
    // (name, URL, script, processes measured)
    let mut targets: Vec<(&str, String, String, Vec<u32>)> = vec![
        (
            "direct",
            format!("{sim}/memoio/api/start-conversation"),
            lua(FORM, form, Some(SANDBOX_MEMOIO_KEY), nonce),
            vec![],
        ),
        (
            "nginx",
            format!("http://127.0.0.1:{nginx_port}/"),
            lua(FORM, form, None, nonce + 1),
            with_children(nginx.pid()),
        ),
        (
            "relay",
            format!("{memory_url}/v1/memoio/start-conversation"),
            lua(JSON_BODY, "application/json", None, nonce + 2),
            vec![memory.pid()],
        ),
        (
            "relay_embedded",
            format!("{embedded_url}/v1/memoio/start-conversation"),
            lua(JSON_BODY, "application/json", None, nonce + 3),
            vec![embedded.pid()],
        ),
        (
            "relay_redis",
            format!("{redis_url}/v1/memoio/start-conversation"),
            lua(JSON_BODY, "application/json", None, nonce + 4),
            vec![relay_redis.pid(), redis.pid()],
        ),
    ];
    if let Some(((memory, memory_url), (embedded, embedded_url))) = &before {
        targets.push((
            "relay_before",
            format!("{memory_url}/v1/memoio/start-conversation"),
            lua(JSON_BODY, "application/json", None, nonce + 5),
            vec![memory.pid()],
        ));
        targets.push((
            "relay_embedded_before",
            format!("{embedded_url}/v1/memoio/start-conversation"),
            lua(JSON_BODY, "application/json", None, nonce + 6),
            vec![embedded.pid()],
        ));
    }
    println!(
        "wrk, {seconds} s each, {rounds} interleaved rounds: the simulated vendor directly, nginx proxy_pass, the relay (memory, embedded, Redis store){}",
        if before.is_some() { ", the --before relay (memory, embedded store)" } else { "" }
    );
    let mut runs: Vec<Vec<Value>> = vec![Vec::new(); targets.len()];
    for round in 0..rounds {
        for (i, (name, url, script, pids)) in targets.iter().enumerate() {
            let path = dir.join(format!("{name}-{round}.lua"));
            std::fs::write(
                &path,
                script.replace(
                    &format!("bench-{}", nonce + i as u64),
                    &format!("bench-{}-{round}", nonce + i as u64),
                ),
            )
            .map_err(|e| e.to_string())?;
            let (cpu0, vendor0) = (cpu_seconds(pids), cpu_seconds(&[vendor.pid()]));
            let mut run = wrk(url, &path, seconds)?;
            let requests = run["rps"].as_f64().unwrap_or(0.0) * seconds as f64;
            let per_request = |cpu: f64| {
                if requests > 0.0 {
                    cpu * 1e6 / requests
                } else {
                    0.0
                }
            };
            run["cpu_us_per_request"] = json!(per_request(cpu_seconds(pids) - cpu0));
            run["vendor_cpu_us_per_request"] =
                json!(per_request(cpu_seconds(&[vendor.pid()]) - vendor0));
            runs[i].push(run);
        }
    }
    let mut out = json!({ "cold_start": { "ms": cold.as_secs_f64() * 1000.0 }, "rounds": rounds });
    for ((name, _, _, pids), rounds) in targets.iter().zip(runs) {
        let field = |f: &str| {
            median(
                rounds
                    .iter()
                    .map(|r| r[f].as_f64().unwrap_or(0.0))
                    .collect(),
            )
        };
        let non_2xx: f64 = rounds
            .iter()
            .map(|r| r["non_2xx"].as_f64().unwrap_or(0.0))
            .sum();
        let rss: f64 = pids
            .iter()
            .map(|p| crate::run::memory_mb(*p, "VmHWM"))
            .sum();
        out[*name] = json!({
            "rps": field("rps"), "p50_ms": field("p50_ms"), "p99_ms": field("p99_ms"),
            "non_2xx": non_2xx, "cpu_us_per_request": field("cpu_us_per_request"),
            "vendor_cpu_us_per_request": field("vendor_cpu_us_per_request"),
            "peak_rss_mb": rss, "rounds": rounds,
        });
    }
    drop((memory, embedded, relay_redis, redis, before, nginx, vendor));
    Ok(out)
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

/// Replies under load (tests/bench/replies.mjs): 1,000 open reply streams on a sandbox relay,
/// webhook to page latency beside the webhook's own round trip, memory per open stream.
pub fn replies_cost() -> Result<Value, String> {
    let (relay, url, _) = start_relay(
        false,
        &[
            ("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0"),
            ("HAIL_RELAY_REPLIES__MAX_OPEN_PER_ADDRESS", "5000"),
            ("HAIL_RELAY_HTTP__MAX_CONNECTIONS", "5000"),
            ("HAIL_RELAY_HTTP__MAX_CONNECTIONS_PER_ADDRESS", "5000"),
        ],
    )?;
    let out = output(
        cmd("node")
            .arg("tests/bench/replies.mjs")
            .env("HAIL_RELAY_URL", &url)
            .env("HAIL_RELAY_PID", relay.pid().to_string())
            .env("HAIL_BENCH_STREAMS", "1000"),
    )
    .ok_or("tests/bench/replies.mjs failed")?;
    serde_json::from_str(out.trim().lines().last().unwrap_or(""))
        .map_err(|e| format!("replies bench output: {e}"))
}
