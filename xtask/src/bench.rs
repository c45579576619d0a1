//! `cargo xtask bench [--seconds N] [--rounds N] [--relay-only] [--before BINARY]`: every
//! figure side by side in one run, as ratios (these machines are shared and noisy). Prints a
//! Markdown table, writes `target/bench/report.json`.
//!
//! `--relay-only` skips the wasm build, its size and the SDK in Chromium. `--before BINARY` runs
//! another `hail-relay` build (say, main's, saved before a change) as two more targets in the
//! same interleaved rounds, so that a change is measured against what it replaces in one run.

mod relay;

pub use relay::{install_tools, start_relay};

use std::io::Write;

use serde_json::{json, Value};

use crate::run::{cargo, cmd, output, root, status};

/// The command line of `cargo xtask bench`.
struct Options {
    seconds: u64,
    rounds: usize,
    relay_only: bool,
    before: Option<std::path::PathBuf>,
}

fn options(args: &[String]) -> Result<Options, String> {
    const USAGE: &str =
        "usage: cargo xtask bench [--seconds N] [--rounds N] [--relay-only] [--before BINARY]";
    let mut o = Options {
        seconds: 10,
        rounds: 3,
        relay_only: false,
        before: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| USAGE.to_owned());
        match arg.as_str() {
            "--seconds" => o.seconds = value()?.parse().map_err(|_| USAGE.to_owned())?,
            "--rounds" => o.rounds = value()?.parse().map_err(|_| USAGE.to_owned())?,
            "--relay-only" => o.relay_only = true,
            "--before" => o.before = Some(std::path::PathBuf::from(value()?)),
            _ => return Err(USAGE.to_owned()),
        }
    }
    if o.rounds == 0 {
        return Err(USAGE.to_owned());
    }
    Ok(o)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let seconds = o.seconds;
    relay::install_tools()?;
    if !o.relay_only {
        crate::setup::run()?;
        crate::pkg::run()?;
        crate::pkg::copy_web_build(&root().join("www/pkg"))?;
    }
    status(cargo().args(["build", "--quiet", "--release", "--package", "hail-relay"]))?;

    let mut report = json!({ "machine": machine(), "seconds": seconds });
    let mut table =
        String::from("| measure | value | compared with | ratio |\n|---|---|---|---|\n");

    if !o.relay_only {
        // Size of each entry's browser build (the module its entry points load).
        let mut sizes = Vec::new();
        for (entry, _) in crate::pkg::ENTRIES {
            let dir = root().join("pkg").join(entry).join(crate::pkg::WEB);
            let (raw, gz, br) = sizes_with_brotli(&dir)?;
            let name = if entry.is_empty() {
                "hail-sdk".to_owned()
            } else {
                format!("hail-sdk/{entry}")
            };
            // Issue 18's targets: 45 KB for all vendors, 30 KB for one.
            let target = if entry.is_empty() { 45_000.0 } else { 30_000.0 };
            table.push_str(&format!("| size `{name}` wasm + glue | {raw} B raw, {gz} B gzip, {br} B brotli | {} KB gzip target | {:.2}× |\n", target / 1000.0, gz as f64 / target));
            sizes.push(json!({ "entry": name, "raw": raw, "gzip": gz, "brotli": br }));
        }
        report["size"] = json!(sizes);
    }

    // The relay against nginx and the vendor directly, and cold start.
    let r = relay::compare(seconds, o.rounds, o.before.as_deref())?;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let get = |k: &str, f: &str| r[k][f].as_f64().unwrap_or(0.0);
    // The headline: each store beside nginx, requests/s, p99 and CPU per request.
    table.push_str(&format!(
        "| nginx proxy_pass | {:.0} req/s, p50 / p99 {:.2} / {:.2} ms, {:.0} µs CPU per request, peak RSS {:.1} MB | | |\n",
        get("nginx", "rps"),
        get("nginx", "p50_ms"),
        get("nginx", "p99_ms"),
        get("nginx", "cpu_us_per_request"),
        get("nginx", "peak_rss_mb")
    ));
    for (k, store) in [
        ("relay", "memory store"),
        ("relay_embedded", "embedded (SQLite) store, the default"),
        (
            "relay_redis",
            "Redis store (local redis-server, its CPU counted)",
        ),
    ] {
        table.push_str(&format!(
            "| relay (validate, policy, idempotency, forward), {store} | {:.0} req/s, p50 / p99 {:.2} / {:.2} ms, {:.0} µs CPU per request, peak RSS {:.1} MB | nginx | {:.2}× req/s, {:.2}× p99, {:.2}× CPU |\n",
            get(k, "rps"),
            get(k, "p50_ms"),
            get(k, "p99_ms"),
            get(k, "cpu_us_per_request"),
            get(k, "peak_rss_mb"),
            ratio(get(k, "rps"), get("nginx", "rps")),
            ratio(get(k, "p99_ms"), get("nginx", "p99_ms")),
            ratio(get(k, "cpu_us_per_request"), get("nginx", "cpu_us_per_request"))
        ));
    }
    table.push_str(&format!(
        "| simulated vendor directly | {:.0} requests/s, p99 {:.2} ms | relay | {:.2}× rps |\n",
        get("direct", "rps"),
        get("direct", "p99_ms"),
        ratio(get("relay", "rps"), get("direct", "rps"))
    ));
    if o.before.is_some() {
        table.push_str(&format!("| `--before` relay requests/s, memory store | {:.0} | nginx proxy_pass {:.0} | {:.2}× (this build {:.2}× the before) |\n", get("relay_before", "rps"), get("nginx", "rps"), ratio(get("relay_before", "rps"), get("nginx", "rps")), ratio(get("relay", "rps"), get("relay_before", "rps"))));
        table.push_str(&format!("| `--before` relay requests/s, embedded store | {:.0} | nginx proxy_pass {:.0} | {:.2}× (this build {:.2}× the before) |\n", get("relay_embedded_before", "rps"), get("nginx", "rps"), ratio(get("relay_embedded_before", "rps"), get("nginx", "rps")), ratio(get("relay_embedded", "rps"), get("relay_embedded_before", "rps"))));
        table.push_str(&format!(
            "| `--before` p50 / p99, CPU per request | {:.2} / {:.2} ms, {:.0} µs (embedded {:.2} / {:.2} ms, {:.0} µs) | nginx {:.2} / {:.2} ms | {:.2}× p99 |\n",
            get("relay_before", "p50_ms"),
            get("relay_before", "p99_ms"),
            get("relay_before", "cpu_us_per_request"),
            get("relay_embedded_before", "p50_ms"),
            get("relay_embedded_before", "p99_ms"),
            get("relay_embedded_before", "cpu_us_per_request"),
            get("nginx", "p50_ms"),
            get("nginx", "p99_ms"),
            ratio(get("relay_before", "p99_ms"), get("nginx", "p99_ms"))
        ));
    }
    for k in [
        "direct",
        "nginx",
        "relay",
        "relay_embedded",
        "relay_redis",
        "relay_before",
        "relay_embedded_before",
    ] {
        if get(k, "non_2xx") > 0.0 {
            table.push_str(&format!(
                "| **warning**: {k} answered non-2xx | {:.0} responses | | |\n",
                get(k, "non_2xx")
            ));
        }
    }
    table.push_str(&format!(
        "| relay cold start (spawn → accepting connections) | {:.0} ms | | |\n",
        get("cold_start", "ms")
    ));
    report["relay"] = r;
    replies(&mut report, &mut table)?;

    if !o.relay_only {
        sdk(&mut report, &mut table)?;
    }

    println!("\n{table}");
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("report.json"), text).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("report.md"), &table).map_err(|e| e.to_string())?;
    println!("wrote target/bench/report.json and target/bench/report.md");
    Ok(())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "cpu": cpu, "cores": cores, "kernel": output(cmd("uname").arg("-r")).unwrap_or_default().trim() })
}

fn sizes_with_brotli(dir: &std::path::Path) -> Result<(u64, u64, u64), String> {
    let (raw, gz) = crate::pkg::sizes(dir)?;
    let mut br = 0;
    for name in ["hail_bg.wasm", "hail.js", "hail_bg.js"] {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            continue;
        };
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
            w.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        br += out.len() as u64;
    }
    Ok((raw, gz, br))
}

/// Replies: webhook to page with 1,000 streams open, beside the webhook's own round trip, and
/// memory per open stream.
fn replies(report: &mut Value, table: &mut String) -> Result<(), String> {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let r = relay::replies_cost()?;
    let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
    table.push_str(&format!(
        "| reply, webhook to page, p50 / p99, {:.0} streams open | {:.2} / {:.2} ms ({:.0} of {:.0} arrived) | the webhook's own round trip {:.2} / {:.2} ms | {:.2}× / {:.2}× |\n",
        f("streams"), f("page_p50_ms"), f("page_p99_ms"), f("replies") - f("missed"), f("replies"),
        f("webhook_p50_ms"), f("webhook_p99_ms"),
        ratio(f("page_p50_ms"), f("webhook_p50_ms")), ratio(f("page_p99_ms"), f("webhook_p99_ms"))
    ));
    table.push_str(&format!(
        "| memory per open reply stream | {:.1} KB (relay RSS {:.1} → {:.1} MB) | | |\n",
        f("kb_per_stream"),
        f("rss_before_mb"),
        f("rss_after_mb")
    ));
    report["replies"] = r;
    Ok(())
}

/// The SDK in Chromium against hand-written fetch, against a sandbox relay (release build).
fn sdk(report: &mut Value, table: &mut String) -> Result<(), String> {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let sdk = relay::sdk_cost()?;
    let s = |f: &str| sdk[f].as_f64().unwrap_or(0.0);
    table.push_str(&format!("| SDK send, median / p99 | {:.2} / {:.2} ms | fetch {:.2} / {:.2} ms | {:.2}× / {:.2}× |\n", s("sdk_median_ms"), s("sdk_p99_ms"), s("fetch_median_ms"), s("fetch_p99_ms"), ratio(s("sdk_median_ms"), s("fetch_median_ms")), ratio(s("sdk_p99_ms"), s("fetch_p99_ms"))));
    table.push_str(&format!(
        "| validate() calls per second | {:.0} | | |\n",
        s("validate_per_s")
    ));
    table.push_str(&format!(
        "| wasm compile + instantiate in Chromium | {:.1} + {:.1} ms | | |\n",
        s("wasm_compile_ms"),
        s("wasm_init_ms")
    ));
    report["sdk"] = sdk;
    Ok(())
}
