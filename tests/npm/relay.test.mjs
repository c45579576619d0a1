// The relay's npm packages (`cargo xtask pkg-relay`) as a frontend developer gets them: the
// launcher and the platform tarball installed into an empty folder, `npx hail-relay --sandbox`
// started there, a send from Node through the packed hail-sdk, then SIGTERM to npx, which must
// stop the relay binary too (no orphan left listening). And the launcher's message on a platform
// without a prebuilt binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const tarballs = process.env.HAIL_RELAY_TARBALLS?.split(delimiter).filter(Boolean);
const sdk = process.env.HAIL_TARBALL;
let app;
/** The `npx hail-relay` process (its own process group, killed whole in `after`). */
let npx;

function npm(args) {
  execFileSync("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
    stdio: "inherit",
  });
}

before(() => {
  assert.ok(tarballs?.length && sdk, "run through `cargo xtask test` (HAIL_RELAY_TARBALLS, HAIL_TARBALL)");
  app = mkdtempSync(join(tmpdir(), "hail-relay-npm-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  // As one install, so the launcher's optional dependency is the platform tarball, not a registry
  // download; the SDK after it, as a user adds it.
  npm(["install", "--save-dev", ...tarballs]);
  npm(["install", sdk]);
});

after(() => {
  // Whatever a failed test left running: the whole group, launcher and binary.
  if (npx?.pid) {
    try {
      process.kill(-npx.pid, "SIGKILL");
    } catch {}
  }
  if (app) rmSync(app, { recursive: true, force: true });
});

/**
 * This environment without `HAIL_RELAY_…` variables: the relay reads every one as a configuration
 * key and refuses to start on one it does not know (this test's own HAIL_RELAY_TARBALLS, the
 * HAIL_RELAY_URL of `cargo xtask test`).
 */
function relayEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("HAIL_RELAY_")));
}

/**
 * Starts `npx hail-relay …args` in `app`; resolves to the URL of its first stdout line
 * (`hail-relay (sandbox) listening on http://…`), rejects on exit or after 60 s without one.
 */
function start(args) {
  // `--no`: never ask the registry for a package of that name; the installed bin or nothing.
  // (`--`: after `--no`, npm would take the relay's own flags for its own.)
  npx = spawn("npx", ["--no", "--", "hail-relay", ...args], {
    cwd: app,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...relayEnv(), RUST_LOG: "warn" },
  });
  let stderr = "";
  npx.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`no start line in 60 s; stdout ${stdout} stderr ${stderr}`)), 60_000);
    npx.stdout.on("data", (d) => {
      stdout += d;
      const url = stdout.match(/listening on (http:\/\/\S+)/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    npx.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`npx hail-relay exited (${code ?? signal}) before listening; stderr ${stderr}`));
    });
  });
}

/** Whether anything answers `url`'s /healthz. */
async function answers(url) {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

test("npx hail-relay --sandbox runs the packed binary; hail-sdk sends through it; SIGTERM stops it", async () => {
  const installed = JSON.parse(readFileSync(join(app, "node_modules/hail-relay/package.json"), "utf8"));
  const platforms = Object.keys(installed.optionalDependencies);
  assert.deepEqual(platforms, ["hail-relay-linux-x64"]);
  for (const p of platforms) assert.equal(installed.optionalDependencies[p], installed.version, "exactly the launcher's version");

  const url = await start(["--sandbox", "--listen", "127.0.0.1:0"]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);

  // The first send as the launcher's README shows it, pointed at this relay.
  const readme = readFileSync(join(app, "node_modules/hail-relay/README.md"), "utf8");
  const block = readme.match(/```js\n([\s\S]*?)```/)?.[1];
  assert.ok(block?.includes("http://127.0.0.1:8787"), "the README's first send, to the sandbox's default address");
  writeFileSync(join(app, "send.mjs"), block.replaceAll("http://127.0.0.1:8787", url));
  const out = execFileSync(process.execPath, ["send.mjs"], { cwd: app, encoding: "utf8" });
  assert.match(out, /^200 \S+\n$/, "the README's first send prints the vendor's status and the request id");
  const { entries } = await (await fetch(`${url}/v1/sandbox/outbox`)).json();
  const sent = entries.filter((e) => /Hello(\+|%20| )from(\+|%20| )Hail/.test(e.body));
  assert.equal(sent.length, 1, `the simulated vendor got the message once: ${JSON.stringify(entries)}`);

  // SIGTERM to npx only (not its group): npm passes it on to the launcher, the launcher to the
  // binary, which drains and exits; then nothing may answer on the port.
  const exited = new Promise((resolve) => npx.on("exit", (code, signal) => resolve({ code, signal })));
  process.kill(npx.pid, "SIGTERM");
  let timer;
  const status = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r("still running"), 20_000)))]);
  clearTimeout(timer);
  assert.notEqual(status, "still running", "npx exits on SIGTERM");
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = !(await answers(url));
    if (!gone) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(gone, `the relay binary still answers at ${url} after npx exited: an orphan`);
});

test("on a platform without a prebuilt binary the launcher says what to do", () => {
  // The launcher as npm installed it, with `process.platform`/`process.arch` of a machine it has
  // no package for.
  const preload = join(app, "elsewhere.cjs");
  writeFileSync(
    preload,
    `Object.defineProperty(process, "platform", { value: "freebsd" });
     Object.defineProperty(process, "arch", { value: "riscv64" });`,
  );
  const launcher = join(app, "node_modules/hail-relay/bin/hail-relay.js");
  let failure;
  try {
    execFileSync(process.execPath, ["--require", preload, launcher, "--sandbox"], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    failure = e;
  }
  assert.ok(failure, "the launcher exits non-zero");
  assert.equal(failure.status, 1);
  const message = failure.stderr;
  assert.match(message, /no prebuilt binary for freebsd-riscv64/);
  assert.match(message, /linux-x64/, "lists the platforms that have one");
  assert.match(message, /cargo install --locked --path relay/);
  assert.match(message, /cargo run --release -p hail-relay -- --sandbox/);
});
