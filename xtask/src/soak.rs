//! `cargo xtask soak [--seconds N]`: a bounded load of valid and invalid requests against the
//! sandbox relay on loopback (wrk), reporting status counts and the relay's memory at start and
//! end. Fails on an unexpected status or memory growth beyond [`RSS_GROWTH_MAX_MB`].

use std::process::Command;

use crate::run::{cargo, root, status};

/// Allowed growth of the relay's resident memory over a soak, in MB. The idempotency cache is
/// bounded (`idempotency.max_entries`, 100 000 by default) at about 1 KB per stored outcome
/// (key, answer, cache bookkeeping): about 100 MB when full, plus headroom. Past that bound
/// memory must level off however long the soak runs.
pub const RSS_GROWTH_MAX_MB: f64 = 128.0;
/// Statuses the mix may produce: success, invalid input, key reuse, in flight, rate limited.
const EXPECTED: [u16; 5] = [200, 400, 409, 422, 429];

const SCRIPT: &str = r#"
local bodies = {
  '{"receiver":"anna@example.com","message":"soak","channel":"sales"}',
  '{"receiver":"anna@","message":"soak","channel":"sales"}',
  '{"receiver":"anna@example.com","message":"","channel":"sales","tags":["a,b"]}',
  '{"receiver":',
  '[1,2,3]',
  '{"receiver":"anna@example.com","message":"soak","channel":"sales","x":1}',
}
local threads = {}
local n = 0
-- `id` is a global that setup() gives each thread.
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
function init() counts = {} end
function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  -- Every tenth request reuses a key, so replays and reuse are part of the mix.
  local key = (n % 10 == 0) and ("soak-" .. id .. "-reused") or ("soak-" .. id .. "-" .. n .. "-" .. math.random(1000000000))
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }, body)
end
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done()
  local total = {}
  for _, t in ipairs(threads) do
    for s, c in pairs(t:get("counts")) do total[s] = (total[s] or 0) + c end
  end
  for s, c in pairs(total) do io.write(string.format("status %d %d\n", s, c)) end
end
"#;

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = crate::run::seconds_arg(args, 60, "soak")?;
    crate::bench::install_tools()?;
    status(cargo().args(["build", "--quiet", "--release", "--package", "hail-relay"]))?;
    // No rate limit: every request takes the whole path (parse, validate, idempotency, vendor).
    let (relay, url, _) =
        crate::bench::start_relay(false, &[("HAIL_RELAY_RATE_LIMIT__PER_MINUTE", "0")])?;
    let pid = relay.pid();
    let script = root().join("target/bench/soak.lua");
    std::fs::create_dir_all(root().join("target/bench")).map_err(|e| e.to_string())?;
    std::fs::write(&script, SCRIPT).map_err(|e| e.to_string())?;
    let start_mb = crate::run::memory_mb(pid, "VmRSS");
    println!("soak: {seconds} s of valid and invalid requests against {url} (relay RSS {start_mb:.1} MB)");
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", "16", "-d", &format!("{seconds}s"), "-s"])
        .arg(&script)
        .arg(format!("{url}/v1/memoio/start-conversation"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let end_mb = crate::run::memory_mb(pid, "VmRSS");
    drop(relay);
    let mut unexpected = Vec::new();
    let mut total = 0u64;
    for line in text.lines().filter_map(|l| l.strip_prefix("status ")) {
        let mut parts = line.split_whitespace();
        let (Some(s), Some(c)) = (
            parts.next().and_then(|s| s.parse::<u16>().ok()),
            parts.next().and_then(|c| c.parse::<u64>().ok()),
        ) else {
            continue;
        };
        println!("  HTTP {s}: {c}");
        total += c;
        if !EXPECTED.contains(&s) {
            unexpected.push(format!("{c} × HTTP {s}"));
        }
    }
    println!("  {total} requests; relay RSS {start_mb:.1} MB → {end_mb:.1} MB (bound: +{RSS_GROWTH_MAX_MB} MB)");
    if total == 0 {
        return Err("no request completed".into());
    }
    if !unexpected.is_empty() {
        return Err(format!("unexpected statuses: {}", unexpected.join(", ")));
    }
    if end_mb - start_mb > RSS_GROWTH_MAX_MB {
        return Err(format!("memory grew by {:.1} MB", end_mb - start_mb));
    }
    Ok(())
}
