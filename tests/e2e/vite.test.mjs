// hail-sdk in a Vite 7 app: the packed tarball installed into a fresh app, built with
// `vite build`, served statically, loaded in headless Chromium, sending one message.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, copyFileSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, extname } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;
const relay = process.env.HAIL_RELAY_URL;
const tarball = process.env.HAIL_TARBALL;
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
let server;
let browser;

after(async () => {
  await browser?.close();
  server?.close();
});

test("a Vite app built from the tarball sends a message", async () => {
  assert.ok(relay && tarball, "run through `cargo xtask test` (HAIL_RELAY_URL, HAIL_TARBALL)");
  const app = mkdtempSync(join(tmpdir(), "hail-vite-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "vite-app", private: true, type: "module" }));
  for (const f of ["index.html", "main.js"]) copyFileSync(join(root, "tests/vite-app", f), join(app, f));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: app, stdio: "inherit" });
  execFileSync(join(root, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: app, stdio: "inherit" });
  const dist = join(app, "dist");
  server = createServer((req, res) => {
    const path = join(dist, new URL(req.url, "http://x").pathname.replace(/\/$/, "/index.html"));
    if (!path.startsWith(dist) || !existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(readFileSync(path));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  const mark = `vite-${Date.now()}`;
  await page.goto(`${url}/?relay=${encodeURIComponent(relay)}&mark=${mark}`);
  await page.waitForFunction(() => document.querySelector("#result").textContent !== "pending", null, { timeout: 20000 });
  assert.equal(await page.textContent("#result"), "sent 200");
  const { entries } = await (await fetch(`${relay}/v1/sandbox/outbox`)).json();
  assert.equal(entries.filter((e) => e.body.includes(`vite+${mark}`)).length, 1);
  assert.deepEqual(problems, []);
});
