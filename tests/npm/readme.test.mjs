// Every code block of the package README, as shipped in the tarball, is real: TypeScript blocks
// type-check under the Vite template's tsconfig (strict, noUnusedLocals) against the installed
// package and the real chayns-api types; blocks marked `ts run` then run in Node against the
// sandbox relay; the HTML block's import map points at a file the package has, and its module
// script type-checks too.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { app, relay, required, root } from "../e2e/support.mjs";

let dir;
let blocks;

/** The fenced blocks of `markdown`: { info, code, line }. */
function fenced(markdown) {
  const out = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(.*)$/);
    if (!open) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]);
    out.push({ info: open[1].trim(), code: body.join("\n") + "\n", line: start + 1 });
  }
  return out;
}

before(() => {
  required();
  dir = app("readme", "readme-app");
  blocks = fenced(readFileSync(join(dir, "node_modules/hail-sdk/README.md"), "utf8"));
  rmSync(join(dir, "blocks"), { recursive: true, force: true });
  mkdirSync(join(dir, "blocks"));
});

test("every block is of a kind this test checks", () => {
  const kinds = new Set(blocks.map((b) => b.info));
  for (const kind of kinds) assert.ok(["ts", "ts run", "html", "sh", ""].includes(kind), `README block kind ${kind}`);
  assert.ok(blocks.filter((b) => b.info.startsWith("ts")).length >= 8, "the README's TypeScript blocks");
  // The unchecked kinds: `npm install` (with the development relay) and the CSP header line.
  for (const b of blocks.filter((b) => b.info === "sh" || b.info === "")) {
    assert.match(b.code, /^(npm install hail-sdk|Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval')/, `line ${b.line}`);
  }
});

test("the first screen says where the relay comes from, and nothing of this repository's tooling", () => {
  const readme = readFileSync(join(dir, "node_modules/hail-sdk/README.md"), "utf8");
  const firstScreen = readme.slice(0, readme.indexOf("\n## "));
  assert.match(firstScreen, /npx hail-relay --sandbox/);
  assert.match(firstScreen, /http\.allowed_origins/);
  assert.match(firstScreen, /403 origin_not_allowed/);
  // `cargo xtask` is this repository's command, meaningless to someone who installed the package.
  assert.doesNotMatch(readme, /cargo xtask/);
});

test("the TypeScript blocks and the HTML block's script type-check", () => {
  for (const b of blocks) {
    if (b.info.startsWith("ts")) writeFileSync(join(dir, "blocks", `readme-line-${b.line}.ts`), b.code);
    if (b.info === "html") {
      const script = b.code.match(/<script type="module">([\s\S]*?)<\/script>/);
      assert.ok(script, `line ${b.line}: a module script`);
      writeFileSync(join(dir, "blocks", `readme-line-${b.line}-script.ts`), script[1]);
    }
  }
  try {
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: dir, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    assert.fail(`README blocks do not type-check (file names carry the README line):\n${e.stdout}${e.stderr}`);
  }
});

test("the import map points at the package's browser entry", () => {
  const pkg = JSON.parse(readFileSync(join(dir, "node_modules/hail-sdk/package.json"), "utf8"));
  const html = blocks.find((b) => b.info === "html");
  assert.ok(html);
  const map = JSON.parse(html.code.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1]);
  const url = new URL(map.imports["hail-sdk"]);
  const [, range, file] = url.pathname.match(/^\/npm\/hail-sdk@([^/]+)\/(.+)$/);
  assert.ok(pkg.version.startsWith(`${range}.`) || pkg.version === range, `${range} vs ${pkg.version}`);
  assert.equal(`./${file}`, pkg.exports["."].default);
  assert.ok(existsSync(join(dir, "node_modules/hail-sdk", file)));
});

test("the `ts run` blocks run in Node against the sandbox relay", () => {
  const runnable = blocks.filter((b) => b.info === "ts run");
  assert.ok(runnable.length >= 4);
  for (const b of runnable) {
    const ts = join(dir, "blocks", `run-${b.line}.ts`);
    const js = join(dir, "blocks", `run-${b.line}.mjs`);
    writeFileSync(ts, b.code.replaceAll("https://relay.example.com", relay));
    execFileSync(join(root, "node_modules/.bin/esbuild"), [ts, `--outfile=${js}`, "--format=esm", "--log-level=warning"]);
    try {
      execFileSync(process.execPath, [js], { cwd: dir, encoding: "utf8", stdio: "pipe", timeout: 60_000 });
    } catch (e) {
      assert.fail(`README line ${b.line} failed to run:\n${e.stdout}${e.stderr}`);
    }
  }
});
