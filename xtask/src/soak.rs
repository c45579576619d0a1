//! `cargo xtask soak [--seconds N]`: a bounded load of valid and invalid requests against the
//! sandbox relay on loopback (wrk), reporting status counts and the relay's memory at start and
//! end, while a slow client (from another loopback address) keeps up to a thousand half-sent
//! requests open. Fails on an unexpected status, memory growth beyond [`RSS_GROWTH_MAX_MB`], or
//! more open files at the end than the connection limits allow.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::run::{cargo, root, status};

/// Allowed growth of the relay's resident memory over a soak, in MB. The idempotency cache is
/// bounded (`idempotency.max_entries`, 100 000 by default) at about 1 KB per stored outcome
/// (key, answer, cache bookkeeping): about 100 MB when full, plus headroom. Past that bound
/// memory must level off however long the soak runs.
pub const RSS_GROWTH_MAX_MB: f64 = 128.0;
/// Statuses the mix may produce: success, invalid input, key reuse, in flight, rate limited.
const EXPECTED: [u16; 5] = [200, 400, 409, 422, 429];
/// Half-sent requests the slow client tries to hold open at once.
const SLOW_HELD: usize = 1000;
/// Open files the relay may have at the end: the per-address connection limit (64) for the
/// slow client, wrk's 16 connections, and the relay's own (listener, vendor pool, store, stdio).
const OPEN_FILES_MAX: usize = 160;

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
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("relay address {url}: {e}"))?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let slow = std::thread::spawn(move || slow_client(addr, until));
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", "16", "-d", &format!("{seconds}s"), "-s"])
        .arg(&script)
        .arg(format!("{url}/v1/memoio/start-conversation"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let end_mb = crate::run::memory_mb(pid, "VmRSS");
    let open_files = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let slow = slow.join().map_err(|_| "the slow client failed")?;
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
    println!(
        "  slow client: {} half-sent requests opened, {} closed by the relay, at most {} open at once; relay open files at the end: {open_files} (bound: {OPEN_FILES_MAX})",
        slow.opened, slow.cut, slow.most_open
    );
    if open_files > OPEN_FILES_MAX {
        return Err(format!("the relay holds {open_files} open files"));
    }
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

/// What the slow client saw.
struct Slow {
    opened: u64,
    cut: u64,
    most_open: usize,
}

/// Opens half-sent requests (a request line and one header, never finished) from 127.0.0.2 up
/// to [`SLOW_HELD`] at a time until `until`, counting those the relay closes (over its
/// connection limits at once, the rest at its header read timeout).
fn slow_client(relay: SocketAddr, until: Instant) -> Slow {
    use socket2::{Domain, Socket, Type};
    let from: SocketAddr = SocketAddr::from(([127, 0, 0, 2], 0));
    let mut held: Vec<TcpStream> = Vec::new();
    let mut slow = Slow {
        opened: 0,
        cut: 0,
        most_open: 0,
    };
    while Instant::now() < until {
        // At most 20 new connections per 100 ms: an attack, not a port exhaustion test.
        for _ in 0..20 {
            if held.len() >= SLOW_HELD {
                break;
            }
            let Ok(socket) = Socket::new(Domain::IPV4, Type::STREAM, None) else {
                break;
            };
            if socket.bind(&from.into()).is_err()
                || socket
                    .connect_timeout(&relay.into(), Duration::from_secs(1))
                    .is_err()
            {
                break;
            }
            let mut stream: TcpStream = socket.into();
            if stream
                .write_all(b"POST /v1/memoio/start-conversation HTTP/1.1\r\nhost: soak\r\n")
                .is_ok()
                && stream.set_nonblocking(true).is_ok()
            {
                slow.opened += 1;
                held.push(stream);
            }
        }
        slow.most_open = slow.most_open.max(held.len());
        std::thread::sleep(Duration::from_millis(100));
        let before = held.len();
        held.retain_mut(|s| {
            let mut byte = [0u8; 1];
            matches!(s.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        });
        slow.cut += (before - held.len()) as u64;
    }
    slow
}
