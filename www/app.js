// The demo page: the SDK's `web` build against the sandbox relay that serves this page.
import init, { createRelayClient, validate, isHailError } from "./pkg/hail.js";

await init();
const relayUrl = location.origin;
const hail = createRelayClient({ relayUrl });

const form = document.querySelector("#memoio-start");
const operation = form.dataset.operation;
const resultEl = document.querySelector("#result");
const outboxEl = document.querySelector("#outbox");

function readForm() {
  const input = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    const value = el.value;
    if (el.dataset.list !== undefined) {
      const items = value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (items.length) input[el.name] = items;
    } else if (value !== "" || el.required) {
      input[el.name] = value;
    }
  }
  return input;
}

function showErrors(violations) {
  for (const p of form.querySelectorAll("[data-error-for]")) p.textContent = "";
  for (const el of form.elements) el.removeAttribute?.("aria-invalid");
  for (const v of violations) {
    const name = v.field.replace(/\[.*$/, "");
    const p = form.querySelector(`[data-error-for="${name}"]`);
    if (p && !p.textContent) p.textContent = v.message;
    form.elements[name]?.setAttribute("aria-invalid", "true");
  }
}

form.addEventListener("input", () => showErrors(validate(operation, readForm())));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = readForm();
  const violations = validate(operation, input);
  showErrors(violations);
  if (violations.length) {
    resultEl.textContent = `Not sent: ${violations.length} field(s) invalid.`;
    resultEl.className = "failure";
    return;
  }
  resultEl.textContent = "Sending…";
  resultEl.className = "";
  try {
    const r = await hail.call(operation, input);
    resultEl.textContent = `Sent ✓\nrequest id: ${r.requestId}\nreplayed: ${r.replayed}\nupstream status: ${r.upstreamStatus}\n\n${JSON.stringify(r.data, null, 2)}`;
    resultEl.className = "success";
  } catch (e) {
    resultEl.textContent = isHailError(e)
      ? `Failed: ${e.code}${e.field ? ` (${e.field})` : ""}\n${e.message}`
      : `Failed: ${e}`;
    resultEl.className = "failure";
  }
  await refreshOutbox();
});

async function refreshOutbox() {
  const res = await fetch(`${relayUrl}/v1/sandbox/outbox`);
  const { entries } = await res.json();
  outboxEl.replaceChildren(
    ...entries.map((e) => {
      const li = document.createElement("li");
      li.className = "entry";
      const head = document.createElement("strong");
      head.textContent = `${e.vendor} · ${e.method} ${e.url} → ${e.status}`;
      const pre = document.createElement("pre");
      pre.textContent = `${e.headers.map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${e.body}`;
      li.append(head, pre);
      return li;
    }),
  );
}

document.querySelector("#clear-outbox").addEventListener("click", async () => {
  await fetch(`${relayUrl}/v1/sandbox/outbox`, { method: "DELETE" });
  await refreshOutbox();
});

await refreshOutbox();
document.body.dataset.ready = "true";
