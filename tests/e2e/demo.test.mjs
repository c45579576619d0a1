// The demo page in headless Chromium (Playwright + Debian's Chromium) against the sandbox relay
// that `cargo xtask test` started with `--www www`: what a newcomer does, by clicking.
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

async function openDemo(viewport = { width: 1280, height: 900 }) {
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

/** Picks a vendor tab and operation, fills `values` ({field name: text}), sends; returns the result panel. */
async function send(page, vendor, operation, values) {
  await page.click(`#tab-${vendor}`);
  await page.selectOption(`#op-${vendor}`, operation);
  const form = page.locator(`form[data-operation="${operation}"]`);
  for (const [name, value] of Object.entries(values)) await form.locator(`[name="${name}"]`).fill(value);
  await page.evaluate(() => (document.querySelector("#result").dataset.seen = "no"));
  await form.locator("button[type=submit]").click();
  await page.waitForFunction(() => /Sent|Not sent|Outcome unknown/.test(document.querySelector("#result .verdict")?.textContent ?? "")
    && document.querySelector("#result").dataset.seen !== "yes");
  return page.locator("#result");
}

test("every vendor's happy path by clicking, each delivery in the outbox", async () => {
  const { page, problems } = await openDemo();
  const mark = `e2e-${Date.now()}`;
  const cases = [
    ["memoio", "memoio/start-conversation", { message: `memoio ${mark}` }, "memoio", `memoio+${mark}`],
    ["chayns", "chayns/intercom", { message: `intercom ${mark}` }, "chayns", `intercom ${mark}`],
    ["chayns", "chayns-user/page", { text: `page ${mark}` }, "chayns-user", `page ${mark}`],
    ["livedesk", "livedesk/start-conversation", { content: `livedesk ${mark}` }, "livedesk", `livedesk ${mark}`],
    ["mluvii", "mluvii/whatsapp-send-templates", { recipients: `+420123456789 | mluvii ${mark}` }, "mluvii", `mluvii ${mark}`],
  ];
  for (const [tab, op, values, vendor, needle] of cases) {
    const result = await send(page, tab, op, values);
    assert.match(await result.textContent(), /Sent ✓/, op);
    const entries = await outboxWith(needle);
    assert.equal(entries.length, 1, op);
    assert.equal(entries[0].vendor, vendor);
    assert.ok(entries[0].headers.some(([k, v]) => k === "authorization" && v === "<redacted>"), op);
  }
  await page.waitForSelector(`#outbox li:has-text("${mark}")`);
  await page.screenshot({ path: `${shots}/demo-desktop.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test("an operation without a handmade form gets a JSON form from its declared example", async () => {
  // Drop LiveDesk's handmade forms, as for an operation nobody wrote one for: the page must list
  // every LiveDesk operation of the relay's OpenAPI document anyway, filled with its example.
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.route("**/forms.js", async (route) => {
    const body = await (await route.fetch()).text();
    assert.match(body, /export const VENDORS =/);
    await route.fulfill({
      contentType: "text/javascript",
      body: body.replace("export const VENDORS =", "const HANDMADE =")
        + "\nexport const VENDORS = HANDMADE.filter((v) => v.id !== \"livedesk\");\n",
    });
  });
  await page.goto(`${relay}/`);
  await page.waitForSelector("body[data-ready=true]");
  const openapi = await (await fetch(`${relay}/v1/openapi.json`)).json();
  const ids = Object.values(openapi.paths).map((p) => p.post?.operationId).filter((id) => id?.startsWith("livedesk/"));
  assert.equal(ids.length, 4);
  for (const id of ids) assert.equal(await page.locator(`form[data-operation="${id}"] textarea[data-json]`).count(), 1, id);

  const mark = `json-${Date.now()}`;
  await page.click("#tab-livedesk");
  await page.selectOption("#op-livedesk", "livedesk/send-message");
  const form = page.locator('form[data-operation="livedesk/send-message"]');
  const example = JSON.parse(await form.locator("textarea[data-json]").inputValue());
  // A broken input is refused before the network, the violation shown at the form.
  await form.locator("textarea[data-json]").fill(JSON.stringify({ ...example, conversationId: -1 }));
  await page.waitForFunction(() => document.querySelector('form[data-operation="livedesk/send-message"] [data-error-for=""]').textContent.startsWith("conversationId"));
  await form.locator("textarea[data-json]").fill(JSON.stringify({ ...example, content: mark }));
  await form.locator("button[type=submit]").click();
  await page.waitForFunction(() => /Sent ✓/.test(document.querySelector("#result .verdict")?.textContent ?? ""));
  assert.equal((await outboxWith(mark)).length, 1);
  assert.deepEqual(problems, []);
  await page.close();
});

test("an invalid e-mail shows the error at the field and sends nothing", async () => {
  const { page, problems } = await openDemo({ width: 390, height: 844 });
  const mark = `e2e-bad-${Date.now()}`;
  const form = page.locator('form[data-operation="memoio/start-conversation"]');
  await form.locator('[name="message"]').fill(`Hello ${mark}`);
  await form.locator('[name="receiver"]').fill("anna@");
  await page.waitForSelector("[data-error-for=receiver]:has-text('e-mail')");
  await form.locator("button[type=submit]").click();
  await page.waitForSelector("#result.failure");
  assert.equal(await form.locator('[name="receiver"]').getAttribute("aria-invalid"), "true");
  assert.match(await page.textContent("#result"), /invalid_field/);
  assert.deepEqual(await outboxWith(mark), []);
  await page.screenshot({ path: `${shots}/demo-phone.png`, fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "fits 390 px");
  assert.deepEqual(problems, []);
});

test("each vendor tab keeps its own result, with the idempotency key of the send", async () => {
  const { page, problems } = await openDemo({ width: 390, height: 844 });
  const mark = `e2e-tabs-${Date.now()}`;
  const memoio = await send(page, "memoio", "memoio/start-conversation", { message: `tabs ${mark}` });
  const text = await memoio.textContent();
  assert.match(text, /Sent ✓/);
  assert.match(text, /Idempotency key\s*[0-9a-f-]{36}/);
  const attempts = await page.locator("#attempts li").allTextContents();
  assert.equal(attempts.length, 1);
  assert.match(attempts[0], /#1 memoio\/start-conversation → 200/);
  await page.click("#tab-livedesk");
  assert.match(await page.textContent("#result"), /Nothing sent from this tab yet/);
  assert.equal(await page.locator("#attempts li").count(), 0);
  const chayns = await send(page, "chayns", "chayns-user/page", { text: `tabs ${mark}` });
  assert.match(await chayns.textContent(), /Request id\s*[0-9a-f-]{36}/);
  await page.click("#tab-memoio");
  assert.match(await page.textContent("#result"), /Sent ✓[\s\S]*memoio\/start-conversation/);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "fits 390 px");
  await page.screenshot({ path: `${shots}/demo-phone-sent.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test("send again with the same key is replayed, not delivered twice", async () => {
  const { page, problems } = await openDemo();
  const mark = `e2e-replay-${Date.now()}`;
  const result = await send(page, "livedesk", "livedesk/send-message", { content: `replay ${mark}` });
  assert.match(await result.textContent(), /Replayed\s*false/);
  await page.locator('form[data-operation="livedesk/send-message"] .again').click();
  await page.waitForFunction(() => /Replayed\s*true/.test(document.querySelector("#result").textContent));
  assert.equal((await outboxWith(`replay ${mark}`)).length, 1);
  assert.deepEqual(problems, []);
});

test("a vendor 503 is retried by the SDK and delivered exactly once", async () => {
  const { page, problems } = await openDemo();
  const mark = `e2e-503-${Date.now()}`;
  await page.check('input[name=fault][value="503"]');
  const result = await send(page, "memoio", "memoio/start-conversation", { message: `retry ${mark}` });
  assert.match(await result.textContent(), /Sent ✓/);
  const attempts = await page.locator("#attempts li").allTextContents();
  assert.equal(attempts.length, 2, attempts.join(" | "));
  assert.match(attempts[0], /→ 502/);
  assert.match(attempts[1], /→ 200/);
  assert.equal((await outboxWith(`retry+${mark}`)).length, 1);
  // The toggle is for one call only.
  assert.equal(await page.isChecked('input[name=fault][value=""]'), true);
  // Chromium itself logs each failed HTTP status; nothing else may be logged.
  assert.deepEqual(problems.filter((p) => !/Failed to load resource: .* 502/.test(p)), []);
});

test("a dropped connection after the vendor accepted is an unknown outcome, checked again with the same key, delivered once", async () => {
  const { page, problems } = await openDemo();
  const mark = `e2e-drop-${Date.now()}`;
  await page.check('input[name=fault][value="drop"]');
  const result = await send(page, "memoio", "memoio/start-conversation", { message: `drop ${mark}` });
  assert.match(await result.locator(".verdict").textContent(), /Outcome unknown/);
  assert.match(await result.textContent(), /outcome_unknown/);
  assert.doesNotMatch(await result.textContent(), /Not sent/);
  assert.equal((await page.locator("#attempts li").allTextContents()).length, 1, "not retried: it may have been sent");
  const again = page.locator('form[data-operation="memoio/start-conversation"] .again');
  assert.equal(await again.textContent(), "Check again (same key)");
  await page.evaluate(() => (document.querySelector("#result").innerHTML = ""));
  await again.click();
  await page.waitForFunction(() => /Outcome unknown/.test(document.querySelector("#result .verdict")?.textContent ?? ""));
  assert.match(await page.locator("#result").textContent(), /memoio offers no way to look up/);
  assert.equal((await outboxWith(`drop+${mark}`)).length, 1);
  assert.deepEqual(problems.filter((p) => !/Failed to load resource: .* 502/.test(p)), []);
});

test("a double click on Send sends once", async () => {
  const { page } = await openDemo();
  const mark = `e2e-dbl-${Date.now()}`;
  await page.click("#tab-memoio");
  await page.selectOption("#op-memoio", "memoio/start-conversation");
  const form = page.locator('form[data-operation="memoio/start-conversation"]');
  await form.locator('[name="message"]').fill(`dbl ${mark}`);
  await form.locator("button[type=submit]").dblclick();
  await page.waitForFunction(() => /Sent/.test(document.querySelector("#result .verdict")?.textContent ?? ""));
  await page.waitForTimeout(300);
  assert.equal((await outboxWith(`dbl+${mark}`)).length, 1);
});

// ---------- issue 25: the demo at 390 px, unknown outcomes, reconciled sends, a missing SDK ----------

const PHONE = { width: 390, height: 844 };

/** Queues a fault for the next matching vendor call, as a test would (`POST /v1/sandbox/faults`). */
async function fault(body) {
  const res = await fetch(`${relay}/v1/sandbox/faults`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 202, await res.text());
}

/** Whether `locator`'s whole box lies inside the page's viewport (as it is scrolled now). */
async function inViewport(page, locator) {
  const box = await locator.boundingBox();
  const { width, height } = page.viewportSize();
  return Boolean(box) && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;
}

test("at 390 px every vendor tab is whole on screen and opens its panel", async () => {
  const { page, problems } = await openDemo(PHONE);
  const tabs = page.locator("#vendor-tabs [role=tab]");
  // The vendors, and nothing else (the sandbox's own endpoints in the OpenAPI document are no vendor).
  assert.deepEqual(await tabs.evaluateAll((ts) => ts.map((t) => t.id)), ["tab-memoio", "tab-chayns", "tab-livedesk", "tab-mluvii"]);
  const layout = await page.evaluate(() => {
    const strip = document.querySelector("#vendor-tabs");
    const box = strip.getBoundingClientRect();
    const cut = [...strip.children].filter((t) => {
      const r = t.getBoundingClientRect();
      return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.right > window.innerWidth;
    });
    return { scrolls: strip.scrollWidth > strip.clientWidth, cut: cut.map((t) => t.textContent) };
  });
  // The strip wraps: no tab hides behind an edge that gives no sign of it.
  assert.deepEqual(layout, { scrolls: false, cut: [] });
  // A plain tap where the last tab is drawn (no scrolling on the test's part) opens its panel.
  for (const tab of await tabs.all()) {
    const box = await tab.boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const panel = page.locator(`#${await tab.getAttribute("aria-controls")}`);
    assert.equal(await tab.getAttribute("aria-selected"), "true");
    assert.ok(await panel.isVisible(), await tab.textContent());
  }
  await page.screenshot({ path: `${shots}/demo-phone-tabs.png` });
  assert.deepEqual(problems, []);
});

for (const [name, viewport, injected] of [
  ["390 px, a timeout after the vendor received it", PHONE, { kind: "timeout", delayMs: 3000, afterAccept: true }],
  ["1280 px, a dropped connection", { width: 1280, height: 900 }, { kind: "drop" }],
]) {
  test(`after an unknown outcome "Check again" is at the outcome, focused and in view (${name})`, async () => {
    const { page, problems } = await openDemo(viewport);
    const mark = `e2e-again-${viewport.width}-${Date.now()}`;
    await fault({ vendor: "memoio", ...injected });
    const result = await send(page, "memoio", "memoio/start-conversation", { message: `again ${mark}` });
    assert.match(await result.locator(".verdict").textContent(), /Outcome unknown/);
    const again = result.getByRole("button", { name: /Check again/ });
    await again.waitFor();
    assert.ok(await inViewport(page, again), "Check again is in the viewport");
    assert.ok(await again.evaluate((b) => b === document.activeElement), "Check again has the focus");
    await page.screenshot({ path: `${shots}/demo-unknown-${viewport.width}.png` });
    await page.evaluate(() => (document.querySelector("#result .verdict").textContent = ""));
    await again.click();
    await page.waitForFunction(() => /Outcome unknown/.test(document.querySelector("#result .verdict")?.textContent ?? ""));
    assert.match(await page.locator("#result").textContent(), /memoio offers no way to look up/);
    assert.equal((await outboxWith(`again+${mark}`)).length, 1);
    assert.deepEqual(problems.filter((p) => !/Failed to load resource: .* 502/.test(p)), []);
  });
}

test("a LiveDesk send found again at the vendor is shown as reconciled, not as a plain replay", async () => {
  const { page, problems } = await openDemo(PHONE);
  const mark = `e2e-rec-${Date.now()}`;
  // Longer than the sandbox relay's vendor timeout (2 s): LiveDesk creates the contact, its
  // answer comes too late, the send's outcome is unknown until the relay looks it up.
  await fault({ vendor: "livedesk", kind: "timeout", delayMs: 3000, afterAccept: true });
  const result = await send(page, "livedesk", "livedesk/create-contact", { name: mark, email: `${mark}@example.com` });
  assert.match(await result.locator(".verdict").textContent(), /Outcome unknown/);
  await page.locator('form[data-operation="livedesk/create-contact"] .again').click();
  await page.waitForFunction(() => /Sent/.test(document.querySelector("#result .verdict")?.textContent ?? ""));
  const label = result.locator(".reconciled");
  assert.ok(await label.isVisible(), "a reconciled label");
  assert.match(await label.textContent(), /Reconciled/);
  assert.match(await result.textContent(), /found it at LiveDesk/);
  assert.equal((await outboxWith(mark)).filter((e) => e.method === "POST").length, 1, "created once");
  await label.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/demo-reconciled.png` });
  assert.deepEqual(problems.filter((p) => !/Failed to load resource: .* 502/.test(p)), []);
});

test("served without www/pkg, the page says that the SDK did not load and how to build it", async () => {
  const page = await browser.newPage({ viewport: PHONE });
  await page.route("**/pkg/**", (route) => route.fulfill({ status: 404, contentType: "text/plain", body: "not found" }));
  await page.goto(`${relay}/`);
  const banner = page.getByRole("alert").filter({ hasText: "cargo xtask demo" });
  await banner.waitFor({ timeout: 10_000 });
  assert.match(await banner.textContent(), /SDK did not load/);
  assert.ok(await inViewport(page, banner), "the banner is on the first screen");
  await page.screenshot({ path: `${shots}/demo-no-pkg.png` });
  await page.close();
});

test("a LiveDesk conversation becomes a chat: the agent's reply appears, the visitor's answer reaches LiveDesk as incoming", async () => {
  const { page, problems } = await openDemo();
  const mark = `chat-${Date.now()}`;
  const result = await send(page, "livedesk", "livedesk/start-conversation", { content: `hello ${mark}` });
  assert.match(await result.textContent(), /Sent ✓/);
  await page.waitForSelector("#result .chat");
  const data = JSON.parse(await page.locator("#result pre").first().textContent());
  const conversationId = data.conversation.id;
  // An agent answers in (simulated) LiveDesk: a signed webhook to the relay, then the stream.
  const answered = await fetch(`${relay}/v1/sandbox/replies`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ vendor: "livedesk", conversationId, content: `agent says hi ${mark}` }),
  });
  assert.equal(answered.status, 200);
  await page.waitForSelector(`#result .chat-line.agent:has-text("agent says hi ${mark}")`, { timeout: 10_000 });
  // A private note never shows.
  await fetch(`${relay}/v1/sandbox/replies`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ vendor: "livedesk", conversationId, content: `note ${mark}`, private: true }),
  });
  // The visitor answers.
  await page.fill("#result .chat-answer input", `thanks ${mark}`);
  await page.click("#result .chat-answer button");
  await page.waitForSelector(`#result .chat-line.visitor:has-text("thanks ${mark}")`);
  const entries = (await outboxWith(`thanks ${mark}`)).filter((e) => e.method === "POST");
  assert.equal(entries.length, 1);
  assert.equal(JSON.parse(entries[0].body).message_type, "incoming");
  assert.ok(entries[0].url.endsWith(`/conversations/${conversationId}/messages`), entries[0].url);
  // The agent answers again from the page's own simulated-agent box.
  await page.fill("#result .chat-agent input", `second ${mark}`);
  await page.click("#result .chat-agent button");
  await page.waitForSelector(`#result .chat-line.agent:has-text("second ${mark}")`, { timeout: 10_000 });
  assert.equal(await page.locator(`#result .chat-line:has-text("note ${mark}")`).count(), 0);
  assert.equal(await page.locator(`#result .chat-line.agent`).count(), 2, "each reply once");
  await page.screenshot({ path: `${shots}/demo-chat.png`, fullPage: true });
  assert.deepEqual(problems, []);
});
