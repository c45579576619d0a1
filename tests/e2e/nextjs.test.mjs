// hail-sdk in a Next.js 16 app (App Router) from the packed tarball, built once with Turbopack
// and once with webpack, with no configuration for it (no serverExternalPackages): a server
// component that validates, a route handler that sends, and a client component that sends from
// headless Chromium. Every send must reach the sandbox exactly once; the build must not warn
// about the package; the page must log no error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { app, launch, outboxWith, relay, required, watched } from "./support.mjs";

let dir;
let browser;

before(async () => {
  required();
  dir = app("next", "next-app");
  browser = await launch();
});
after(() => browser?.close());

/** `next <mode>` (start or dev) on a free port; resolves to its origin and a stop function. */
async function start(mode = "start") {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(join(dir, "node_modules/.bin/next"), [mode, "-p", String(port), "-H", "127.0.0.1"], {
    cwd: dir, env: { ...process.env, HAIL_RELAY_URL: relay, NEXT_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stopping it stops the server processes it starts
  });
  const stop = (signal) => { try { process.kill(-server.pid, signal); } catch { /* already gone */ } };
  let log = "";
  server.stdout.on("data", (d) => (log += d));
  server.stderr.on("data", (d) => (log += d));
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error(`next ${mode} exited: ${log}`);
    try {
      await fetch(origin);
      return { origin, log: () => log, stop: () => stop("SIGTERM") };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  stop("SIGKILL");
  throw new Error(`next ${mode} did not answer: ${log}`);
}

for (const bundler of ["turbopack", "webpack"]) {
  test(`Next.js built with ${bundler}: server component, route handler, client component`, async () => {
    const config = readFileSync(join(dir, "next.config.mjs"), "utf8").replace(/\/\/.*$/gm, "").trim();
    assert.equal(config, "export default {};");
    // Every build starts from nothing, as on a fresh clone: a cache left by an earlier run must
    // not change what the build prints.
    rmSync(join(dir, ".next"), { recursive: true, force: true });
    const output = execFileSync(join(dir, "node_modules/.bin/next"), ["build", `--${bundler}`], {
      cwd: dir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
    });
    assert.match(output, new RegExp(`\\(${bundler}\\)`, "i"), output);
    // Next's own notice that there is no cache yet is about the app's CI setup, not the package.
    const warnings = output.split("\n").filter((l) => /warn|⚠|hail-sdk/i.test(l) && !/No build cache found/.test(l));
    assert.deepEqual(warnings, [], output);

    await exercise(await start(), bundler);
  });
}

test("next dev (Turbopack) serves the same pages", async () => {
  await exercise(await start("dev"), "dev");
});

/** The server component, the route handler and the client component of a running app. */
async function exercise(next, label) {
  try {
    const mark = `${label}-${Date.now()}`;
    // The server component ran validate() in Node.
    const html = await (await fetch(`${next.origin}/?mark=${mark}`)).text();
    assert.match(html, /id="server">server receiver</);
    // The route handler sent from Node.
    const routed = await fetch(`${next.origin}/api/send`, { method: "POST", body: JSON.stringify({ mark }) });
    assert.deepEqual(await routed.json(), { status: 200 });
    assert.equal((await outboxWith(`next+route+${mark}`)).length, 1);
    // The client component sends from the browser.
    const { page, problems } = await watched(browser);
    await page.goto(`${next.origin}/?mark=${mark}`);
    await page.waitForSelector("#client[data-hydrated=true]");
    await page.click("#send");
    await page.waitForFunction(() => !["ready", "sending"].includes(document.querySelector("#client").textContent), null, { timeout: 20000 });
    assert.equal(await page.textContent("#client"), "sent 200");
    assert.equal((await outboxWith(`next+client+${mark}`)).length, 1);
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    next.stop();
  }
  assert.doesNotMatch(next.log(), /error/i, next.log());
}
