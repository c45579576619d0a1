// hail-sdk in a page without a bundler (an import map pointing at the installed package) and in
// an esbuild bundle, both under a strict Content-Security-Policy: scripts only from the origin,
// WebAssembly through 'wasm-unsafe-eval' (never 'unsafe-eval'), the import map by its hash.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, npm, outboxWith, relay, required, root, serve, tarball, watched } from "./support.mjs";

const IMPORT_MAP = `{ "imports": { "hail-sdk": "/node_modules/hail-sdk/index.js" } }`;
const MAIN = `import { createRelayClient, isHailError } from "hail-sdk";
const params = new URLSearchParams(location.search);
const out = document.querySelector("#result");
try {
  const hail = createRelayClient({ relayUrl: params.get("relay") });
  const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: "plain " + params.get("mark"), channel: "sales" });
  out.textContent = "sent " + r.upstreamStatus;
} catch (e) {
  out.textContent = isHailError(e) ? "failed " + e.code : "failed " + e;
}
`;
// A chayns tapp's page: the chayns entry alone, its own (smaller) module.
const CHAYNS_IMPORT_MAP = `{ "imports": { "hail-sdk/chayns": "/node_modules/hail-sdk/chayns/index.js" } }`;
const CHAYNS_MAIN = `import { createRelayClient, validate, isHailError } from "hail-sdk/chayns";
const params = new URLSearchParams(location.search);
const out = document.querySelector("#result");
try {
  const hail = createRelayClient({ relayUrl: params.get("relay") });
  let other;
  try { validate("memoio/start-conversation", {}); other = "accepted"; } catch (e) { other = e.code; }
  const r = await hail.chayns.intercom({ message: "plain " + params.get("mark"), userIds: [1234] });
  out.textContent = "sent " + r.upstreamStatus + ", memoio " + typeof hail.memoio + ", " + other;
} catch (e) {
  out.textContent = isHailError(e) ? "failed " + e.code : "failed " + e;
}
`;
const page = (head, script) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hail-sdk</title>
<link rel="icon" href="data:,">${head}</head><body><p id="result">pending</p><script type="module" src="${script}"></script></body></html>`;

let dir;
let servers = [];
let browser;

before(async () => {
  required();
  dir = mkdtempSync(join(tmpdir(), "hail-plain-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "plain", private: true }));
  npm(["install", tarball], dir);
  writeFileSync(join(dir, "main.js"), MAIN);
  writeFileSync(join(dir, "index.html"), page(`<script type="importmap">${IMPORT_MAP}</script>`, "/main.js"));
  writeFileSync(join(dir, "bundled.html"), page("", "/dist/app.js"));
  writeFileSync(join(dir, "chayns.js"), CHAYNS_MAIN);
  writeFileSync(join(dir, "chayns.html"), page(`<script type="importmap">${CHAYNS_IMPORT_MAP}</script>`, "/chayns.js"));
  const esbuild = (args) => execFileSync(join(root, "node_modules/.bin/esbuild"), ["main.js", "--bundle", "--format=esm", "--log-level=warning", ...args], { cwd: dir, stdio: "inherit" });
  esbuild(["--outfile=dist/app.js"]);
  // With code splitting and the .wasm copied next to the bundle, as the README says.
  esbuild(["--splitting", "--outdir=split", "--entry-names=app"]);
  copyFileSync(join(dir, "node_modules/hail-sdk/web/hail_bg.wasm"), join(dir, "split/hail_bg.wasm"));
  writeFileSync(join(dir, "split.html"), page("", "/split/app.js"));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

/** Serves the app under `csp`, opens `path`; resolves to the result text and the problems. */
async function open(csp, path) {
  const { origin, server } = await serve(dir, { "content-security-policy": csp });
  servers.push(server);
  const { page, problems } = await watched(browser);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  const mark = `plain-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await page.goto(`${origin}${path}?relay=${encodeURIComponent(relay)}&mark=${mark}`);
  // Until the page shows a result or an error stops its script.
  let result = "pending";
  for (let i = 0; i < 200 && result === "pending" && !problems.some((p) => p.startsWith("Error")); i++) {
    await new Promise((r) => setTimeout(r, 100));
    result = await page.textContent("#result");
  }
  await page.close();
  return { result, problems, mark, fetched };
}

const sha = (text) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
const hash = `${sha(IMPORT_MAP)} ${sha(CHAYNS_IMPORT_MAP)}`;
const policy = (wasm) => `default-src 'none'; script-src 'self' ${wasm} ${hash}; connect-src 'self' ${relay}; img-src data:`;

test("an import map and no bundler, under script-src 'self' 'wasm-unsafe-eval'", async () => {
  const { result, problems, mark } = await open(policy("'wasm-unsafe-eval'"), "/index.html");
  assert.equal(result, "sent 200", problems.join("\n"));
  assert.deepEqual(problems, []);
  assert.equal((await outboxWith(`plain+${mark}`)).length, 1);
});

test("a vendor entry (hail-sdk/chayns) without a bundler sends through the relay, with its own module only", async () => {
  const { result, problems, mark, fetched } = await open(policy("'wasm-unsafe-eval'"), "/chayns.html");
  // The simulated chayns answers 201 Created, as chayns does.
  assert.equal(result, "sent 201, memoio undefined, unknown_operation", problems.join("\n"));
  assert.deepEqual(problems, []);
  assert.ok(fetched.includes("/node_modules/hail-sdk/chayns/web/hail_bg.wasm"), fetched.join());
  assert.deepEqual(fetched.filter((p) => p.startsWith("/node_modules/hail-sdk/web/")), [], "the all-vendors module is not loaded");
  assert.equal((await outboxWith(`plain ${mark}`)).length, 1, "chayns gets JSON");
});

test("without 'wasm-unsafe-eval' the import fails with an error that names it", async () => {
  const { result, problems } = await open(policy(""), "/index.html");
  assert.equal(result, "pending");
  assert.ok(problems.some((p) => p.includes("hail-sdk") && p.includes("'wasm-unsafe-eval'")), problems.join("\n"));
});

test("an esbuild bundle (no .wasm asset copied) loads the embedded module", async () => {
  const { result, problems, mark } = await open(policy("'wasm-unsafe-eval'"), "/bundled.html");
  assert.equal(result, "sent 200", problems.join("\n"));
  // esbuild leaves `new URL("hail_bg.wasm", import.meta.url)` alone: that one fetch fails, and
  // the embedded bytes (inlined by esbuild) are used.
  assert.ok(problems.some((p) => p.startsWith("404 ") && p.endsWith("/dist/hail_bg.wasm")), problems.join("\n"));
  assert.deepEqual(problems.filter((p) => !p.includes("/dist/hail_bg.wasm") && !p.includes("404 (Not Found)")), []);
  assert.equal((await outboxWith(`plain+${mark}`)).length, 1);
});

test("an esbuild bundle with --splitting and the .wasm copied beside it never fetches the embedded bytes", async () => {
  const { result, problems, mark, fetched } = await open(policy("'wasm-unsafe-eval'"), "/split.html");
  assert.equal(result, "sent 200", problems.join("\n"));
  assert.deepEqual(problems, []);
  const chunks = readdirSync(join(dir, "split")).filter((f) => f.endsWith(".js") && f !== "app.js");
  assert.ok(chunks.length >= 1, "esbuild split the embedded bytes into a chunk");
  assert.ok(fetched.includes("/split/hail_bg.wasm"), fetched.join());
  assert.deepEqual(fetched.filter((p) => chunks.some((c) => p.endsWith(`/${c}`))), [], "no embedded-bytes chunk fetched");
  assert.equal((await outboxWith(`plain+${mark}`)).length, 1);
});
