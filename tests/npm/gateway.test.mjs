// The packed npm package behind a gateway (a reverse proxy such as nginx or a cloud load
// balancer) that answers 504 with an HTML page although it passed the send on to the relay, as a
// proxy whose read timeout ran out does. The SDK must treat that as "possibly sent": retry with
// the same idempotency key, and the relay delivers once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const relay = process.env.HAIL_RELAY_URL;
const tarball = process.env.HAIL_TARBALL;
let app;
let gateway;
let gatewayUrl;
// How many sends the gateway should still answer with its own 504, and every key it saw.
let failNext = 0;
const keys = [];

before(async () => {
  assert.ok(relay && tarball, "run through `cargo xtask test` (HAIL_RELAY_URL, HAIL_TARBALL)");
  app = mkdtempSync(join(tmpdir(), "hail-gateway-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball], { cwd: app, stdio: "inherit" });
  gateway = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const headers = {};
    for (const name of ["content-type", "idempotency-key", "authorization"]) {
      if (req.headers[name]) headers[name] = req.headers[name];
    }
    // The request always reaches the relay, which sends it.
    const upstream = await fetch(relay + req.url, { method: req.method, headers, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
    const text = await upstream.text();
    if (req.headers["idempotency-key"]) keys.push(req.headers["idempotency-key"]);
    if (req.method === "POST" && failNext > 0) {
      failNext -= 1;
      res.writeHead(504, { "content-type": "text/html" });
      res.end("<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>");
      return;
    }
    const out = { "content-type": upstream.headers.get("content-type") ?? "application/json" };
    for (const name of ["idempotent-replayed", "x-request-id"]) {
      const value = upstream.headers.get(name);
      if (value !== null) out[name] = value;
    }
    res.writeHead(upstream.status, out);
    res.end(text);
  });
  await new Promise((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  gatewayUrl = `http://127.0.0.1:${gateway.address().port}`;
});

after(() => gateway?.close());

// Runs `source` as an ES module in the app, with the gateway as its relay; its JSON output.
async function run(source) {
  writeFileSync(join(app, "send.mjs"), source);
  const { stdout } = await promisify(execFile)(process.execPath, ["send.mjs"], { cwd: app, env: { ...process.env, HAIL_RELAY_URL: gatewayUrl } });
  return JSON.parse(stdout);
}

async function delivered(mark) {
  const { entries } = await (await fetch(`${relay}/v1/sandbox/outbox`)).json();
  return entries.filter((e) => e.body.includes(mark)).length;
}

const send = (mark, retries) => `
  import { createRelayClient } from "hail-sdk";
  const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL, retries: ${retries} });
  try {
    const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: "${mark}", channel: "sales" });
    console.log(JSON.stringify({ ok: true, replayed: r.replayed }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, code: e.code, status: e.status, retryable: e.retryable,
      possiblySent: e.possiblySent, key: e.idempotencyKey, message: e.message }));
  }`;

test("a gateway's 504 after the relay sent is retried with the same key: one delivery, replayed", async () => {
  const mark = `gateway-${Date.now()}`;
  failNext = 1;
  keys.length = 0;
  const out = await run(send(mark, 2));
  assert.deepEqual(out, { ok: true, replayed: true });
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], "one idempotency key for both attempts");
  assert.equal(await delivered(mark), 1);
});

test("when the retries run out, a gateway's 504 is reported as possibly sent, with the key", async () => {
  const mark = `gateway-out-${Date.now()}`;
  failNext = 1;
  keys.length = 0;
  const out = await run(send(mark, 0));
  assert.equal(out.ok, false);
  assert.equal(out.code, "network_error");
  assert.equal(out.status, 504);
  assert.equal(out.possiblySent, true);
  assert.equal(out.key, keys[0]);
  assert.match(out.message, /gateway/);
  assert.ok(out.message.includes(keys[0]), out.message);
  // It was sent: calling again with the error's key is what makes that safe.
  assert.equal(await delivered(mark), 1);
});
