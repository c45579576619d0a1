// Shared by the real-app tests: a prepared app folder under target/apps/ (its npm installs kept
// between runs), the packed tarball installed into it, a static server, headless Chromium.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, extname } from "node:path";
import { chromium } from "playwright-core";

export const root = new URL("../../", import.meta.url).pathname;
export const relay = process.env.HAIL_RELAY_URL;
export const tarball = process.env.HAIL_TARBALL;

/** Fails early when not run by `cargo xtask test`. */
export function required() {
  assert.ok(relay && tarball, "run through `cargo xtask test` (HAIL_RELAY_URL, HAIL_TARBALL)");
}

export function npm(args, cwd) {
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, stdio: "inherit" });
}

/**
 * `target/apps/<name>` with the files of `tests/<template>` copied in, its dependencies installed
 * (again only when its package.json changed), then the packed tarball installed over them.
 */
export function app(name, template) {
  const dir = join(root, "target/apps", name);
  mkdirSync(dir, { recursive: true });
  const manifest = readFileSync(join(root, "tests", template, "package.json"), "utf8");
  const stamp = join(dir, ".installed-package.json");
  cpSync(join(root, "tests", template), dir, { recursive: true });
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== manifest) {
    npm(["install"], dir);
    writeFileSync(stamp, manifest);
  }
  npm(["install", "--no-save", tarball], dir);
  return dir;
}

const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/** Serves `dir` on loopback with `headers` on every answer; resolves to its origin and server. */
export async function serve(dir, headers = {}) {
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/\/$/, "/index.html"));
    if (!path.startsWith(dir) || !existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream", ...headers }).end(readFileSync(path));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, server };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A new page whose errors, failed requests and CSP reports are collected in `problems`. */
export async function watched(browser) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("requestfailed", (r) => problems.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
  return { page, problems };
}

/** The sandbox outbox entries whose body contains `needle`. */
export async function outboxWith(needle) {
  const { entries } = await (await fetch(`${relay}/v1/sandbox/outbox`)).json();
  return entries.filter((e) => e.body.includes(needle));
}
