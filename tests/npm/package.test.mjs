// The packed npm package (`cargo xtask pkg`) as a user gets it: installed from the tarball into an
// empty folder, imported with `import` and with `require` in Node (no window), calling the sandbox
// relay; its TypeScript types checked with `tsc --strict`.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, copyFileSync, readdirSync, existsSync } from "node:fs";
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

test("misuse is a HailError: a call before init() (web entry), a method after free()", () => {
  // `hail-sdk/web` maps to the Node build in Node; its browser file is imported by path here.
  const out = run("misuse.mjs", `
    import { createRelayClient as early } from "./node_modules/hail-sdk/web/index.js";
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

test("the browser entries load without Uint8Array.fromBase64 and without the .wasm file's fetch", () => {
  // As in browsers before 2025 (and Node before 25): the embedded bytes must decode anyway.
  // In Node the entry's fetch of its file: URL fails, so index.js takes the embedded bytes too.
  const out = run("no-frombase64.mjs", `
    delete Uint8Array.fromBase64;
    const embedded = await import("./node_modules/hail-sdk/web/embedded.js");
    const index = await import("./node_modules/hail-sdk/index.js");
    console.log(JSON.stringify({ embedded: embedded.validate("memoio/start-conversation", {}).length,
      index: index.validate("memoio/start-conversation", {}).length, same: embedded.validate === index.validate }));`);
  assert.deepEqual(out, { embedded: 3, index: 3, same: true });
});

test("the Node build needs no TextDecoder/TextEncoder globals (Jest's jsdom environment has none)", () => {
  const out = run("no-globals.cjs", `
    delete globalThis.TextDecoder;
    delete globalThis.TextEncoder;
    const { validate } = require("hail-sdk");
    console.log(JSON.stringify({ violations: validate("memoio/start-conversation", { receiver: "é@x" }).length }));`);
  assert.deepEqual(out, { violations: 3 });
});

test("import and require share one module instance; init and initSync have nothing left to do", () => {
  const out = run("shared.mjs", `
    import { createRequire } from "node:module";
    import * as esm from "hail-sdk";
    import init, { initSync } from "hail-sdk";
    const cjs = createRequire(import.meta.url)("hail-sdk");
    await init();
    initSync();
    console.log(JSON.stringify({ same: esm.createRelayClient === cjs.createRelayClient,
      names: Object.keys(esm).filter((n) => n !== "default").sort(), cjsNames: Object.keys(cjs).sort(),
      cjsDefault: "default" in cjs }));`);
  assert.equal(out.same, true);
  assert.deepEqual(out.names, out.cjsNames);
  assert.equal(out.cjsDefault, false, "no default export in CommonJS: its types declare none");
});

/** Every conditional object of `exports` that leads to a file, as [path, object]. */
function leaves(value, path = []) {
  if (typeof value !== "object") return [];
  const here = typeof value.default === "string" ? [[path.join(" > "), value]] : [];
  return [...here, ...Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))];
}

test("every export names its types first, .d.cts for require, and each file exists", () => {
  const dir = join(app, "node_modules/hail-sdk");
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.equal(pkg.name, "hail-sdk");
  const found = leaves(pkg.exports).filter(([path]) => path !== "./package.json");
  assert.ok(found.length >= 7, JSON.stringify(found));
  for (const [path, leaf] of found) {
    // A condition that leads to JS by itself (a string) must not come before "types".
    const keys = Object.keys(leaf).filter((k) => typeof leaf[k] === "string");
    assert.equal(keys[0], "types", path);
    assert.equal(leaf.types.endsWith(".d.cts"), path.endsWith("require"), path);
    for (const file of [leaf.types, leaf.default]) assert.ok(existsSync(join(dir, file)), `${path}: ${file}`);
  }
  for (const file of pkg.sideEffects) assert.ok(existsSync(join(dir, file)), file);
});

test("the types: usage compiles, wrong usage does not, no `any` in the public API", () => {
  for (const f of ["usage.ts", "wrong.ts", "tsconfig.json"]) copyFileSync(join(root, "tests/types", f), join(app, f));
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(app, "tsconfig.json")], { cwd: app, stdio: "inherit" });
  for (const file of ["index.d.ts", "index.d.cts"]) {
    const dts = readFileSync(join(app, "node_modules/hail-sdk", file), "utf8");
    const publicPart = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(publicPart, /\bany\b/, file);
    assert.doesNotMatch(publicPart, /InitOutput|__wbg|Symbol\.dispose/, file);
  }
  const files = readdirSync(join(app, "node_modules/hail-sdk"));
  assert.ok(files.includes("index.js") && files.includes("README.md") && files.includes("LICENSE"), files.join());
});

test("the types hold with the oldest supported TypeScript (5.0) too", async () => {
  const { app: prepared } = await import("../e2e/support.mjs");
  const dir = prepared("types-oldest", "types/oldest");
  for (const f of ["usage.ts", "wrong.ts", "tsconfig.json"]) copyFileSync(join(root, "tests/types", f), join(dir, f));
  const tsc = join(dir, "node_modules/.bin/tsc");
  assert.match(execFileSync(tsc, ["--version"], { encoding: "utf8" }), /^Version 5\.0\./);
  execFileSync(tsc, ["-p", join(dir, "tsconfig.json")], { cwd: dir, stdio: "inherit" });
  const node16 = join(dir, "node16");
  mkdirSync(node16, { recursive: true });
  for (const f of ["tsconfig.json", "consumer.cts", "consumer.mts"]) copyFileSync(join(root, "tests/types/node16", f), join(node16, f));
  execFileSync(tsc, ["-p", join(node16, "tsconfig.json"), "--noEmit"], { cwd: node16, stdio: "inherit" });
});

test("every exported declaration, member, option and field has JSDoc", async () => {
  const { default: ts } = await import(join(root, "node_modules/typescript/lib/typescript.js"));
  const vendorFiles = ["memoio", "chayns", "livedesk", "mluvii"].flatMap((v) => [`${v}/index.d.ts`, `${v}/index.d.cts`]);
  for (const file of ["index.d.ts", "index.d.cts", ...vendorFiles]) {
    const path = join(app, "node_modules/hail-sdk", file);
    const src = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
    const text = (d) => (typeof d.comment === "string" ? d.comment : (d.comment ?? []).map((c) => c.text).join(""));
    const documented = (node) => (node.jsDoc ?? []).some((d) => text(d).trim().length > 0);
    const nameOf = (n) => (n.name ? n.name.getText(src) : ts.SyntaxKind[n.kind]);
    const missing = [];
    const members = (owner, list) => {
      for (const m of list) {
        if (!(ts.isPropertySignature(m) || ts.isMethodSignature(m) || ts.isMethodDeclaration(m) ||
          ts.isPropertyDeclaration(m) || ts.isGetAccessor(m) || ts.isConstructorDeclaration(m))) continue;
        if (!documented(m)) missing.push(`${owner}.${nameOf(m)}`);
        if (m.type && ts.isTypeLiteralNode(m.type)) members(`${owner}.${nameOf(m)}`, m.type.members);
      }
    };
    let declarations = 0;
    for (const s of src.statements) {
      if (!s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      if (!(ts.isInterfaceDeclaration(s) || ts.isClassDeclaration(s) || ts.isFunctionDeclaration(s) || ts.isTypeAliasDeclaration(s))) continue;
      declarations++;
      if (!documented(s)) missing.push(nameOf(s));
      if (ts.isInterfaceDeclaration(s) || ts.isClassDeclaration(s)) members(nameOf(s), s.members);
      if (ts.isTypeAliasDeclaration(s) && ts.isTypeLiteralNode(s.type)) members(nameOf(s), s.type.members);
    }
    assert.ok(declarations > (file.includes("/") ? 20 : 40), `${file}: ${declarations} declarations`);
    assert.deepEqual(missing, [], `${file}: without JSDoc`);
  }
});

test("a node16 project: a .cts and a .mts consumer type-check under strict settings, and run", async () => {
  const dir = join(app, "node16");
  mkdirSync(dir, { recursive: true });
  for (const f of ["tsconfig.json", "consumer.cts", "consumer.mts"]) copyFileSync(join(root, "tests/types/node16", f), join(dir, f));
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.json")], { cwd: dir, stdio: "inherit" });
  const mark = `node16-${Date.now()}`;
  const env = { ...process.env, HAIL_RELAY_URL: relay, HAIL_MARK: mark };
  const cjs = JSON.parse(execFileSync(process.execPath, [join(dir, "out/consumer.cjs")], { cwd: dir, env }).toString());
  assert.deepEqual(cjs, { status: 200, code: "invalid_field", violations: 3 });
  const esm = JSON.parse(execFileSync(process.execPath, [join(dir, "out/consumer.mjs")], { cwd: dir, env }).toString());
  assert.deepEqual(esm, { status: 200 });
  assert.equal((await outboxWith(`cts+${mark}`)).length, 1);
  assert.equal((await outboxWith(`mts+${mark}`)).length, 1);
});

test("@arethetypeswrong/cli finds no problem in any resolution mode", () => {
  // node10 included: `hail-sdk/web` resolves to the folder there, which has its own types.
  execFileSync(join(root, "node_modules/.bin/attw"), [tarball, "--format", "table-flipped"], { stdio: "inherit" });
});

test("the namespaces have one method per relay operation, typed, that works detached", async () => {
  const { operations } = await (await fetch(`${relay}/v1/capabilities`)).json();
  const mark = `ns-${Date.now()}`;
  const out = run("namespaces.mjs", `
    import { createRelayClient } from "hail-sdk";
    const hail = createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL });
    const methods = {};
    for (const vendor of ["memoio", "chayns", "livedesk", "mluvii"]) {
      methods[vendor] = Object.keys(hail[vendor]).filter((k) => typeof hail[vendor][k] === "function").sort();
    }
    const { startConversation } = hail.memoio; // no \`this\`
    const r = await startConversation({ receiver: "anna@example.com", message: "${mark}", channel: "sales" });
    console.log(JSON.stringify({ methods, status: r.upstreamStatus, same: hail.memoio === hail.memoio }));`);
  assert.equal(out.status, 200);
  assert.equal(out.same, true);
  assert.equal((await outboxWith(mark)).length, 1);
  // Each relay operation is a method of its vendor's namespace, and there is nothing else.
  const listed = Object.entries(out.methods).flatMap(([vendor, names]) => names.map((n) => `${vendor}.${n}`)).sort();
  assert.equal(listed.length, operations.length);
  const dts = readFileSync(join(app, "node_modules/hail-sdk/index.d.ts"), "utf8");
  for (const name of listed) {
    const [vendor, method] = name.split(".");
    assert.ok(operations.some((o) => o.id.startsWith(`${vendor}/`)), name);
    // The d.ts declares the same method on the vendor's interface.
    const api = dts.match(new RegExp(`readonly ${vendor}: (\\w+);`))?.[1];
    assert.ok(api, `the type of hail.${vendor}`);
    const block = dts.match(new RegExp(`export interface ${api} \\{([\\s\\S]*?)\\n\\}`))[1];
    // Its result says what it brings: a reply stream (it opens a conversation), nothing more, or
    // that the vendor has no replies at all.
    const result = ["memoio", "chayns"].includes(vendor) ? "NoRepliesResult"
      : ["livedesk.startConversation", "livedesk.createConversation"].includes(name) ? "ConversationResult" : "CallResult";
    assert.match(block, new RegExp(`\\n    ${method}\\(input: \\w+, options\\?: CallOptions\\): Promise<${result}<`), name);
  }
});

test("the TypeScript operation map lists exactly the relay's operations", async () => {
  // `Operations` in the d.ts is generated from the Rust catalog: check it against the relay.
  const dts = readFileSync(join(app, "node_modules/hail-sdk/index.d.ts"), "utf8");
  const block = dts.match(/export interface Operations \{([\s\S]*?)\n\}/)[1];
  const typed = [...block.matchAll(/"([a-z-]+\/[a-z-]+)"/g)].map((m) => m[1]).sort();
  const { operations } = await (await fetch(`${relay}/v1/capabilities`)).json();
  assert.deepEqual(typed, operations.map((o) => o.id).sort());
});

// Each vendor's entry (`hail-sdk/memoio`, …): its own wasm with that vendor only, the same API.
const VENDORS = {
  memoio: { method: "startConversation", id: "memoio/start-conversation",
    input: (mark) => ({ receiver: "anna@example.com", message: mark, channel: "sales" }) },
  chayns: { method: "intercom", id: "chayns/intercom", input: (mark) => ({ message: mark, userIds: [1234] }) },
  livedesk: { method: "createContact", id: "livedesk/create-contact", input: (mark) => ({ inboxId: 407, name: mark }) },
  mluvii: { method: "sendWhatsAppTemplates", id: "mluvii/whatsapp-send-templates",
    // The sandbox's simulated mluvii knows this subscription.
    input: (mark) => ({ subscriptionId: "6f9619ff-8b86-d011-b42d-00c04fc964ff", formId: 1, language: "cs",
      recipients: [{ contactId: "+420123456789", fieldValues: [mark] }] }) },
};

const vendorScript = (vendor, mark) => {
  const { method, id, input } = VENDORS[vendor];
  const others = Object.entries(VENDORS).filter(([v]) => v !== vendor).map(([, o]) => o.id);
  return `
  const hail = sdk.createRelayClient({ relayUrl: process.env.HAIL_RELAY_URL });
  const r = await hail.${vendor}.${method}(${JSON.stringify(input(mark))});
  const byId = await hail.call(${JSON.stringify(id)}, ${JSON.stringify(input(`${mark}-call`))});
  const refused = {};
  for (const other of ${JSON.stringify(others)}) {
    try { sdk.validate(other, {}); refused[other] = "accepted"; } catch (e) { refused[other] = e.code; }
  }
  let called;
  try { await hail.call(${JSON.stringify(others[0])}, {}); } catch (e) { called = e.code; }
  const ok = (s) => s >= 200 && s < 300;
  console.log(JSON.stringify({ sent: ok(r.upstreamStatus), byId: ok(byId.upstreamStatus), refused, called,
    own: sdk.validate(${JSON.stringify(id)}, ${JSON.stringify(input("ok"))}).length,
    namespaces: ["memoio", "chayns", "livedesk", "mluvii"].filter((n) => n in hail),
    api: ["createRelayClient", "validate", "isHailError", "init", "initSync", "createChaynsUserClient", "fromChaynsApi", "fromChaynsEnv"]
      .filter((n) => typeof sdk[n] === "function") }));`;
};

for (const vendor of Object.keys(VENDORS)) {
  test(`hail-sdk/${vendor}: import and require reach the relay; only ${vendor}'s operations exist`, async () => {
    const others = Object.keys(VENDORS).filter((v) => v !== vendor);
    const api = ["createRelayClient", "validate", "isHailError", "init", "initSync"];
    if (vendor === "chayns") api.push("createChaynsUserClient", "fromChaynsApi", "fromChaynsEnv");
    for (const [file, head, wrap] of [
      [`${vendor}.mjs`, `import * as sdk from "hail-sdk/${vendor}";\n`, (s) => s],
      [`${vendor}.cjs`, `const sdk = require("hail-sdk/${vendor}");\n`, (s) => `(async () => {${s}})();`],
    ]) {
      const mark = `${vendor}-${file.split(".")[1]}-${Date.now()}`;
      const out = run(file, head + wrap(vendorScript(vendor, mark)));
      assert.deepEqual(out, {
        sent: true, byId: true, called: "unknown_operation", own: 0, namespaces: [vendor], api,
        refused: Object.fromEntries(others.map((v) => [VENDORS[v].id, "unknown_operation"])),
      }, file);
      assert.equal((await outboxWith(mark)).length, 2, `${file}: the namespace's and call's sends`);
    }
  });
}

test("each vendor entry's types: its operations only, the same API shape, in ESM and CommonJS", async () => {
  copyFileSync(join(root, "tests/types/vendors.ts"), join(app, "vendors.ts"));
  writeFileSync(join(app, "tsconfig.vendors.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "ESNext", moduleResolution: "bundler",
      lib: ["ES2022", "DOM"], types: [], skipLibCheck: false },
    files: ["vendors.ts"],
  }));
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(app, "tsconfig.vendors.json")], { cwd: app, stdio: "inherit" });
  const { operations } = await (await fetch(`${relay}/v1/capabilities`)).json();
  for (const vendor of Object.keys(VENDORS)) {
    for (const file of ["index.d.ts", "index.d.cts"]) {
      const dts = readFileSync(join(app, "node_modules/hail-sdk", vendor, file), "utf8");
      const block = dts.match(/export interface Operations \{([\s\S]*?)\n\}/)[1];
      const typed = [...block.matchAll(/"([a-z-]+\/[a-z-]+)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(typed, operations.map((o) => o.id).filter((id) => id.startsWith(`${vendor}/`)).sort(), `${vendor}/${file}`);
      const others = Object.keys(VENDORS).filter((v) => v !== vendor);
      for (const other of others) assert.doesNotMatch(dts, new RegExp(`readonly ${other}: `), `${vendor}/${file}: ${other}`);
    }
  }
});
