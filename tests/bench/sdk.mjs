// SDK cost in headless Chromium, side by side in one page: N sends through the SDK vs N
// hand-written fetch calls of the same relay endpoint; validate() calls per second; wasm
// instantiate time. Prints one JSON object. Run by `cargo xtask bench`.
import { chromium } from "playwright-core";

const relay = process.env.HAIL_RELAY_URL;
const n = Number(process.env.HAIL_BENCH_N ?? 300);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
// A plain same-origin document (not the demo page, whose own fetches would add noise).
await page.goto(`${relay}/style.css`);
const result = await page.evaluate(async (n) => {
  const bytes = await (await fetch("/pkg/hail_bg.wasm")).arrayBuffer();
  const t0 = performance.now();
  await WebAssembly.compile(bytes);
  const compileMs = performance.now() - t0;
  const m = await import("/pkg/hail.js");
  const t1 = performance.now();
  await m.default();
  const initMs = performance.now() - t1;
  const hail = m.createRelayClient({ relayUrl: location.origin, retries: 0 });
  const input = { receiver: "anna@example.com", message: "bench", channel: "sales" };
  const url = `${location.origin}/v1/memoio/start-conversation`;
  const sdk = [];
  const raw = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < n; i++) {
    let s = performance.now();
    await hail.memoio.startConversation(input);
    sdk.push(performance.now() - s);
    s = performance.now();
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
      body: JSON.stringify(input),
    });
    await r.json();
    raw.push(performance.now() - s);
  }
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const v0 = performance.now();
  let calls = 0;
  while (performance.now() - v0 < 1000) {
    m.validate("memoio/start-conversation", input);
    calls++;
  }
  return {
    n,
    sdk_median_ms: q(sdk, 0.5), fetch_median_ms: q(raw, 0.5),
    sdk_p99_ms: q(sdk, 0.99), fetch_p99_ms: q(raw, 0.99),
    validate_per_s: calls / ((performance.now() - v0) / 1000),
    wasm_compile_ms: compileMs, wasm_init_ms: initMs,
  };
}, n);
await browser.close();
console.log(JSON.stringify(result));
