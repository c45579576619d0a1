// Replies under load, run by `cargo xtask bench` against a sandbox relay (release build):
// HAIL_BENCH_STREAMS conversations are started, each one's reply stream opened (SSE over
// fetch, as hail-sdk reads it) and kept open; then agents answer (POST /v1/sandbox/replies: the
// simulated LiveDesk delivers a signed webhook) one at a time, each to a random stream, and the
// time from the answer to its event on that stream is measured, side by side with the webhook's
// own round trip (the vendor's POST until the relay acknowledged it). The relay's RSS before
// and after opening the streams gives the memory per open stream. Prints one JSON object.
import { readFileSync } from "node:fs";

const relay = process.env.HAIL_RELAY_URL;
const pid = Number(process.env.HAIL_RELAY_PID);
const streams = Number(process.env.HAIL_BENCH_STREAMS ?? 1000);
const replies = Number(process.env.HAIL_BENCH_REPLIES ?? 300);

const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
const post = async (path, body, headers = {}) => {
  const r = await fetch(`${relay}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};

// Conversations, a few at a time.
const open = [];
for (let i = 0; i < streams; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(streams, i + 50); j++) {
    batch.push(post("/v1/livedesk/start-conversation",
      { inboxId: 407, contact: { name: `Bench ${j}`, email: `bench-${j}-${process.pid}@example.com` }, content: "Hello" },
      { "idempotency-key": `bench-${process.pid}-${j}` }));
  }
  for (const r of await Promise.all(batch)) open.push({ conversation: r.data.conversation.id, access: r.replies });
}

const before = rssKb();
const waiting = new Map(); // text -> resolve
let received = 0;
async function read(s, ready) {
  const response = await fetch(`${relay}${s.access.url}`, {
    headers: { authorization: `Bearer ${s.access.token}`, accept: "text/event-stream" },
  });
  if (response.status !== 200) throw new Error(`stream: ${response.status}`);
  ready();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (!data) continue;
      const event = JSON.parse(data.slice(6));
      received++;
      waiting.get(event.text)?.(performance.now());
    }
  }
}
await Promise.all(open.map((s) => new Promise((ready, fail) => read(s, ready).catch(fail))));
// Let the relay settle what opening allocated.
await new Promise((r) => setTimeout(r, 1000));
const after = rssKb();

const page = [];
const webhook = [];
for (let i = 0; i < replies; i++) {
  const s = open[Math.floor(Math.random() * open.length)];
  const text = `bench reply ${i}`;
  const arrived = new Promise((resolve) => waiting.set(text, resolve));
  const t0 = performance.now();
  await post("/v1/sandbox/replies", { vendor: "livedesk", conversationId: s.conversation, content: text });
  const acked = performance.now();
  const at = await Promise.race([arrived, new Promise((r) => setTimeout(() => r(NaN), 10_000))]);
  waiting.delete(text);
  page.push(at - t0);
  webhook.push(acked - t0);
}
const q = (v, p) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
console.log(JSON.stringify({
  streams: open.length,
  replies,
  missed: page.filter((x) => !Number.isFinite(x)).length,
  received,
  page_p50_ms: q(page, 0.5),
  page_p99_ms: q(page, 0.99),
  webhook_p50_ms: q(webhook, 0.5),
  webhook_p99_ms: q(webhook, 0.99),
  rss_before_mb: before / 1024,
  rss_after_mb: after / 1024,
  kb_per_stream: (after - before) / open.length,
}));
process.exit(0);
