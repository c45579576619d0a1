// hail-sdk in a Vite 7 app: the packed tarball installed into a fresh app, built with
// `vite build`, served statically, loaded in headless Chromium, sending one message.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, npm, outboxWith, relay, required, root, serve, tarball, watched } from "./support.mjs";

let server;
let browser;

after(async () => {
  await browser?.close();
  server?.close();
});

test("a Vite app built from the tarball sends a message", async () => {
  required();
  const app = mkdtempSync(join(tmpdir(), "hail-vite-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "vite-app", private: true, type: "module" }));
  for (const f of ["index.html", "main.js"]) copyFileSync(join(root, "tests/vite-app", f), join(app, f));
  npm(["install", tarball], app);
  execFileSync(join(root, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: app, stdio: "inherit" });
  const served = await serve(join(app, "dist"));
  server = served.server;
  browser = await launch();
  const { page, problems } = await watched(browser);
  const mark = `vite-${Date.now()}`;
  await page.goto(`${served.origin}/?relay=${encodeURIComponent(relay)}&mark=${mark}`);
  await page.waitForFunction(() => document.querySelector("#result").textContent !== "pending", null, { timeout: 20000 });
  assert.equal(await page.textContent("#result"), "sent 200");
  assert.equal((await outboxWith(`vite+${mark}`)).length, 1);
  assert.deepEqual(problems, []);
});
