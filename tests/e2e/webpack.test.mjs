// hail-sdk in a webpack 5 app with no webpack config (`webpack --mode production`), from the
// packed tarball: the build must not warn, the page must send exactly once and log no error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { app, launch, outboxWith, relay, required, serve, watched } from "./support.mjs";

let dir;
let browser;
let server;

before(async () => {
  required();
  dir = app("webpack", "webpack-app");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test("a webpack 5 app without config builds without warnings and sends a message", async () => {
  const output = execFileSync(join(dir, "node_modules/.bin/webpack"), ["--mode", "production"], {
    cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
  });
  assert.match(output, /compiled successfully/, output);
  assert.doesNotMatch(output, /warning/i, output);
  const served = await serve(dir);
  server = served.server;
  const { page, problems } = await watched(browser);
  const mark = `webpack-${Date.now()}`;
  await page.goto(`${served.origin}/index.html?relay=${encodeURIComponent(relay)}&mark=${mark}`);
  await page.waitForFunction(() => document.querySelector("#result").textContent !== "pending", null, { timeout: 20000 });
  assert.equal(await page.textContent("#result"), "sent 200");
  assert.deepEqual(problems, []);
  assert.equal((await outboxWith(`webpack+${mark}`)).length, 1);
});
