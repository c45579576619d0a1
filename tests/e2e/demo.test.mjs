// The demo page in headless Chromium (Playwright + Debian's Chromium) against the sandbox relay
// that `cargo xtask test` started with `--www www`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const relay = process.env.HAIL_RELAY_URL;
const shots = new URL("../../target/e2e/", import.meta.url).pathname;
let browser;

before(async () => {
  assert.ok(relay, "HAIL_RELAY_URL is not set: run `cargo xtask test`");
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(() => browser?.close());

async function openDemo(viewport) {
  const page = await browser.newPage({ viewport });
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${relay}/`);
  await page.waitForSelector("body[data-ready=true]");
  return { page, problems };
}

async function outboxWith(needle) {
  const { entries } = await (await fetch(`${relay}/v1/sandbox/outbox`)).json();
  return entries.filter((e) => e.body.includes(needle));
}

test("a MEMOIO conversation sent from the demo page reaches the sandbox outbox", async () => {
  const { page, problems } = await openDemo({ width: 1280, height: 900 });
  const mark = `e2e-${Date.now()}`;
  await page.fill("#message", `Hello ${mark}`);
  await page.click("#send");
  await page.waitForSelector("#result.success");
  assert.match(await page.textContent("#result"), /upstream status: 200/);
  await page.waitForSelector(`#outbox li:has-text("${mark}")`);
  const entries = await outboxWith(mark);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].vendor, "memoio");
  assert.ok(entries[0].headers.some(([k, v]) => k === "authorization" && v === "<redacted>"));
  await page.screenshot({ path: `${shots}/demo-desktop.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test("an invalid e-mail shows the error at the field and sends nothing", async () => {
  const { page, problems } = await openDemo({ width: 390, height: 844 });
  const mark = `e2e-bad-${Date.now()}`;
  await page.fill("#message", `Hello ${mark}`);
  await page.fill("#receiver", "anna@");
  await page.waitForSelector("#receiver-error:has-text('e-mail')");
  await page.click("#send");
  await page.waitForSelector("#result.failure");
  assert.equal(await page.getAttribute("#receiver", "aria-invalid"), "true");
  assert.deepEqual(await outboxWith(mark), []);
  await page.screenshot({ path: `${shots}/demo-phone.png`, fullPage: true });
  assert.deepEqual(problems, []);
});
