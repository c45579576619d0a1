// The packed npm package (`cargo xtask pkg`) as a user gets it: installed from the tarball into an
// empty folder, imported with `import` and with `require` in Node (no window), calling the sandbox
// relay; its TypeScript types checked with `tsc --strict`.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;
const relay = process.env.HAIL_RELAY_URL;
const tarball = process.env.HAIL_TARBALL;
let app;

before(() => {
  assert.ok(relay && tarball, "run through `cargo xtask test` (HAIL_RELAY_URL, HAIL_TARBALL)");
  app = mkdtempSync(join(tmpdir(), "hail-npm-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: app, stdio: "inherit" });
});

function run(file, source) {
  writeFileSync(join(app, file), source);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: app, env: { ...process.env, HAIL_RELAY_URL: relay } }).toString());
}

const send = (mark) => `
  const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL });
  const r = await hail.memoio.startConversation({ receiver: "anna@example.com", message: "npm ${mark}", channel: "sales" });
  let error;
  try { await hail.memoio.startConversation({ receiver: "anna@", message: "m", channel: "c" }); } catch (e) { error = e; }
  console.log(JSON.stringify({ status: r.upstreamStatus, window: typeof window, code: error.code, field: error.field,
    hail: isHailError(error), isError: error instanceof Error, name: error.name }));`;

async function outboxWith(needle) {
  const { entries } = await (await fetch(`${relay}/v1/sandbox/outbox`)).json();
  return entries.filter((e) => e.body.includes(needle));
}

test("import works in Node without window and reaches the relay", async () => {
  const mark = `esm-${Date.now()}`;
  const out = run("esm.mjs", `import init, { createRelayClient, isHailError } from "hail-sdk";\nawait init();\n${send(mark)}`);
  assert.deepEqual(out, { status: 200, window: "undefined", code: "invalid_field", field: "receiver", hail: true, isError: true, name: "HailError" });
  assert.equal((await outboxWith(`npm+${mark}`)).length, 1);
});

test("require works in Node and reaches the relay", async () => {
  const mark = `cjs-${Date.now()}`;
  const out = run("cjs.cjs", `const { createRelayClient, isHailError } = require("hail-sdk");\n(async () => {${send(mark)}})();`);
  assert.equal(out.status, 200);
  assert.equal(out.code, "invalid_field");
  assert.equal(out.isError, true);
  assert.equal((await outboxWith(`npm+${mark}`)).length, 1);
});

test("misuse is a HailError: a call before init() (web build), a method after free()", () => {
  const out = run("misuse.mjs", `
    import { createRelayClient as early } from "hail-sdk/web";
    import { createRelayClient } from "hail-sdk";
    const seen = (f) => { try { f(); return { thrown: false }; } catch (e) {
      return { name: e.name, code: e.code, message: e.message, isError: e instanceof Error }; } };
    const beforeInit = seen(() => early({ relayUrl: process.env.HAIL_RELAY_URL }));
    const client = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL });
    client.free();
    const afterFree = seen(() => client.capabilities());
    console.log(JSON.stringify({ beforeInit, afterFree }));`);
  assert.equal(out.beforeInit.name, "HailError");
  assert.equal(out.beforeInit.code, "invalid_request");
  assert.match(out.beforeInit.message, /await init\(\)/);
  assert.equal(out.afterFree.name, "HailError");
  assert.equal(out.afterFree.code, "invalid_request");
  assert.match(out.afterFree.message, /freed/);
  assert.equal(out.afterFree.isError, true);
});

test("the package's exports put types first and name the instantiating glue as side effects", () => {
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/hail-sdk/package.json"), "utf8"));
  assert.equal(pkg.name, "hail-sdk");
  for (const entry of [".", "./web", "./bundler"]) {
    assert.equal(Object.keys(pkg.exports[entry])[0], "types", entry);
  }
  assert.deepEqual(Object.keys(pkg.exports["."].node), ["import", "require"]);
  assert.ok(pkg.sideEffects.includes("./auto.js"));
  assert.ok(pkg.files.includes("web/"));
});

test("the types: usage compiles, wrong usage does not, no `any` in the public API", () => {
  for (const f of ["usage.ts", "wrong.ts", "tsconfig.json"]) copyFileSync(join(root, "tests/types", f), join(app, f));
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(app, "tsconfig.json")], { cwd: app, stdio: "inherit" });
  for (const dir of ["web", "node", "bundler"]) {
    const dts = readFileSync(join(app, "node_modules/hail-sdk", dir, "hail.d.ts"), "utf8");
    // wasm-bindgen's own InitOutput (the raw module exports) is the only place `any` may appear.
    const publicPart = dts
      .replace(/export interface InitOutput \{[\s\S]*?\n\}/, "")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(publicPart, /\bany\b/, `${dir}/hail.d.ts`);
  }
  const files = readdirSync(join(app, "node_modules/hail-sdk"));
  assert.ok(files.includes("auto.js") && files.includes("README.md") && files.includes("LICENSE"), files.join());
});

test("the TypeScript operation map lists exactly the relay's operations", async () => {
  // `Operations` in the d.ts is written by hand beside the Rust catalog: keep them equal.
  const dts = readFileSync(join(app, "node_modules/hail-sdk/web/hail.d.ts"), "utf8");
  const block = dts.match(/export interface Operations \{([\s\S]*?)\n\}/)[1];
  const typed = [...block.matchAll(/"([a-z-]+\/[a-z-]+)"/g)].map((m) => m[1]).sort();
  const { operations } = await (await fetch(`${relay}/v1/capabilities`)).json();
  assert.deepEqual(typed, operations.map((o) => o.id).sort());
});
