// The demo page: the SDK's web build against the sandbox relay that serves this page.
import init, { createRelayClient, createChaynsUserClient, validate, isHailError } from "./pkg/hail.js";
import { VENDORS as HANDMADE, readInput, withEveryOperation } from "./forms.js";
import { openChat } from "./chat.js";

const relayUrl = location.origin;
const outboxEl = document.querySelector("#outbox");

// Each vendor tab keeps its own result and attempts; the visible tab's carry the ids #result
// and #attempts.
const views = new Map();
function view(vendorId) {
  if (!views.has(vendorId)) {
    const result = Object.assign(document.createElement("div"), { className: "result", hidden: true });
    result.setAttribute("aria-live", "polite");
    result.innerHTML = '<p class="muted">Nothing sent from this tab yet.</p>';
    const attempts = Object.assign(document.createElement("ol"), { className: "attempts", hidden: true });
    document.querySelector("#results").append(result);
    document.querySelector("#attempt-lists").append(attempts);
    views.set(vendorId, { result, attempts });
  }
  return views.get(vendorId);
}
function showView(vendorId) {
  for (const [id, v] of views) {
    const on = id === vendorId;
    v.result.hidden = v.attempts.hidden = !on;
    v.result.id = on ? "result" : "";
    v.attempts.id = on ? "attempts" : "";
  }
}

// The SDK reports every attempt (retries included) through onAttempt: no need to watch fetch.
let attemptsEl = null;
function logAttempt(e) {
  if (!attemptsEl) return;
  const li = document.createElement("li");
  const outcome = e.status ? `→ ${e.status}` : "→ no answer";
  li.textContent = `#${e.attempt} ${e.operation} ${outcome}${e.code ? ` ${e.code}` : ""}`
    + `${e.retrying ? " (retrying)" : ""} · ${Math.round(e.durationMs)} ms`;
  li.title = e.idempotencyKey ? `Idempotency-Key ${e.idempotencyKey}` : `request id ${e.requestId}`;
  attemptsEl.append(li);
}

await init();
const hail = createRelayClient({ relayUrl, retries: 2, onAttempt: logAttempt });
const caps = await hail.capabilities();
const me = caps.chaynsUserApi
  ? createChaynsUserClient({
    accessToken: async () => "sandbox-user-token", userId: 1234567, locationId: 77890, baseUrl: caps.chaynsUserApi,
    onAttempt: logAttempt,
  })
  : null;

// Every operation the relay offers has a form: the handmade ones, and a JSON one for the rest.
const openapi = await (await fetch(`${relayUrl}/v1/openapi.json`)).json();
const VENDORS = withEveryOperation(HANDMADE, openapi);

let lastSend = null;

// ---------- forms ----------
const tabs = document.querySelector("#vendor-tabs");
const panels = document.querySelector("#vendor-panels");
for (const [i, vendor] of VENDORS.entries()) {
  const tab = document.createElement("button");
  Object.assign(tab, { type: "button", id: `tab-${vendor.id}`, textContent: vendor.name });
  tab.setAttribute("role", "tab");
  tab.setAttribute("aria-controls", `panel-${vendor.id}`);
  tab.setAttribute("aria-selected", String(i === 0));
  tab.tabIndex = i === 0 ? 0 : -1;
  tabs.append(tab);

  const panel = document.createElement("div");
  Object.assign(panel, { id: `panel-${vendor.id}`, hidden: i !== 0 });
  panel.setAttribute("role", "tabpanel");
  panel.setAttribute("aria-labelledby", tab.id);
  const picker = document.createElement("label");
  picker.className = "picker";
  picker.textContent = "Operation";
  const select = document.createElement("select");
  select.name = "operation";
  select.id = `op-${vendor.id}`;
  for (const op of vendor.operations) select.append(new Option(op.title, op.id));
  picker.htmlFor = select.id;
  panel.append(picker, select);
  const forms = vendor.operations.map((op, j) => {
    const form = buildForm(vendor, op);
    form.hidden = j !== 0;
    panel.append(form);
    return form;
  });
  select.addEventListener("change", () => forms.forEach((f, j) => (f.hidden = vendor.operations[j].id !== select.value)));
  panels.append(panel);
  view(vendor.id);
}
showView(VENDORS[0].id);

tabs.addEventListener("click", (e) => e.target.closest("[role=tab]") && selectTab(e.target.closest("[role=tab]")));
tabs.addEventListener("keydown", (e) => {
  const all = [...tabs.children];
  const i = all.indexOf(document.activeElement);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[e.key];
  if (next === undefined || i < 0) return;
  e.preventDefault();
  const target = all[(next + all.length) % all.length];
  selectTab(target);
  target.focus();
});

function selectTab(tab) {
  for (const t of tabs.children) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
  }
  showView(tab.id.replace(/^tab-/, ""));
}

function buildForm(vendor, op) {
  const form = document.createElement("form");
  form.noValidate = true;
  form.dataset.operation = op.id;
  form.className = "op-form";
  const slug = op.id.replace(/[^a-z0-9]+/gi, "-");
  for (const f of op.fields) {
    const id = `${slug}-${f.name.replace(/\W/g, "-")}`;
    const wrap = document.createElement("div");
    wrap.className = `field field-${f.kind}`;
    const error = document.createElement("p");
    Object.assign(error, { className: "error", id: `${id}-error` });
    error.dataset.errorFor = f.name;
    error.setAttribute("aria-live", "polite");
    if (f.kind === "choices") {
      const fs = document.createElement("fieldset");
      fs.innerHTML = `<legend>${f.label}</legend>`;
      for (const c of f.choices) {
        const l = document.createElement("label");
        l.className = "chip";
        l.innerHTML = `<input type="checkbox" name="${f.name}" value="${c}"> ${c}`;
        fs.append(l);
      }
      wrap.append(fs, error);
      form.append(wrap);
      continue;
    }
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = f.label;
    if (f.required) label.insertAdjacentHTML("beforeend", ' <span aria-hidden="true" class="req">*</span>');
    let input;
    if (["textarea", "list", "recipients", "json"].includes(f.kind)) {
      input = document.createElement("textarea");
      input.rows = { textarea: 3, json: 8 }[f.kind] ?? 2;
      if (f.kind === "json") input.dataset.json = "";
    } else {
      input = document.createElement("input");
      input.type = { email: "email", number: "number", bool: "checkbox" }[f.kind] ?? "text";
      if (f.kind === "number") input.inputMode = "numeric";
    }
    Object.assign(input, { id, name: f.name, autocomplete: "off" });
    if (f.value !== undefined) input.value = f.value;
    if (f.required) input.required = true;
    input.setAttribute("aria-describedby", error.id);
    if (f.kind === "bool") {
      label.prepend(input, " ");
      label.classList.add("check");
      wrap.append(label, error);
    } else {
      wrap.append(label);
      if (f.hint) {
        const hint = document.createElement("small");
        hint.className = "hint";
        hint.textContent = f.hint;
        wrap.append(hint);
      }
      wrap.append(input, error);
    }
    form.append(wrap);
  }
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.innerHTML = `<button type="submit">Send</button>
    <button type="button" class="secondary again" disabled>Send again with the same key</button>`;
  form.append(actions);
  if (!op.direct) form.addEventListener("input", () => showErrors(form, validate(op.id, readInput(form, op.fields))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(vendor, op, form, null);
  });
  actions.querySelector(".again").addEventListener("click", () => lastSend && send(lastSend.vendor, lastSend.op, lastSend.form, lastSend));
  return form;
}

function showErrors(form, violations) {
  for (const p of form.querySelectorAll("[data-error-for]")) p.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const v of violations) {
    const names = [v.field, v.field.replace(/\[.*$/, ""), v.field.split(/[.[]/)[0]];
    // A JSON form has one error line (`data-error-for=""`) for every field.
    const name = names.find((n) => form.querySelector(`[data-error-for="${n}"]`))
      ?? (form.querySelector('[data-error-for=""]') ? "" : undefined);
    if (name === undefined) continue;
    const p = form.querySelector(`[data-error-for="${name}"]`);
    if (!p.textContent) p.textContent = name === "" ? `${v.field}: ${v.message}` : v.message;
    form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", "true");
  }
}

// ---------- sending ----------
async function queueFault(vendor) {
  const choice = document.querySelector('input[name="fault"]:checked').value;
  if (!choice) return;
  const fault = { "503": { kind: "status", status: 503 }, timeout: { kind: "timeout", delayMs: 3000, afterAccept: true }, drop: { kind: "drop" } }[choice];
  await fetch(`${relayUrl}/v1/sandbox/faults`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vendor, ...fault }),
  });
  document.querySelector('input[name="fault"][value=""]').checked = true;
}

async function send(vendor, op, form, again) {
  const { result: resultEl, attempts } = view(vendor.id);
  attemptsEl = attempts;
  attemptsEl.replaceChildren();
  const input = again ? again.input : readInput(form, op.fields);
  if (!op.direct) {
    const violations = validate(op.id, input);
    showErrors(form, violations);
    if (violations.length) {
      showFailure(resultEl, { code: "invalid_field", message: `${violations.length} field(s) need attention; nothing was sent.`, violations });
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
  }
  const key = again ? again.key : crypto.randomUUID();
  // One send at a time: a double click must not become two sends with two keys.
  const buttons = [...document.querySelectorAll("form button")];
  for (const b of buttons) b.disabled = true;
  let offerAgain = false;
  try {
    await queueFault(op.direct ? "chayns-user" : vendor.id);
    // A new send in this tab ends the previous conversation's reply stream.
    view(vendor.id).chat?.close();
    resultEl.innerHTML = '<p class="muted">Sending…</p>';
    resultEl.className = "result";
    const r = await (op.direct ? sendDirect(op, input) : hail.call(op.id, input, { idempotencyKey: key }));
    showSuccess(resultEl, r, vendor, op, op.direct ? null : key);
    // A send that opened a conversation (LiveDesk) gets its replies: the result becomes a chat.
    if (typeof r.replies === "function") {
      view(vendor.id).chat = openChat(resultEl, r, {
        relayUrl, isHailError, firstMessage: input.content,
        conversationId: r.data?.conversation?.id ?? r.data?.id,
      });
    }
    offerAgain = !op.direct;
  } catch (e) {
    if (isHailError(e) && e.field) showErrors(form, e.violations ?? [{ field: e.field, message: e.message }]);
    showFailure(resultEl, e, op.direct ? null : key);
    offerAgain = !op.direct && isHailError(e) && (e.possiblySent || e.retryable);
  } finally {
    for (const b of buttons) b.disabled = b.classList.contains("again");
  }
  if (offerAgain) {
    lastSend = { vendor, op, form, input, key };
    for (const b of document.querySelectorAll(".again")) {
      b.disabled = b.closest("form") !== form;
      b.textContent = resultEl.dataset.outcome === "unknown" ? "Check again (same key)" : "Send again with the same key";
    }
  }
  if (resultEl.dataset.outcome === "unknown" && !op.direct) offerCheck(resultEl, { vendor, op, form, input, key });
  else resultEl.scrollIntoView({ block: "nearest" });
  await refreshOutbox();
}

function sendDirect(op, input) {
  if (!me) throw new Error("the chayns user client needs the sandbox");
  const message = { text: input.text };
  if (op.direct === "page") return me.sendMessageToPage(message);
  if (op.direct === "user") return me.sendMessageToUser(input.userId, message);
  return me.sendMessageToGroup(input.groupId, message);
}

/**
 * The "Check again" of an unknown outcome, beside the outcome, in view and focused: the form's
 * own button is far above on a phone, and below the fold on a desktop after a long form.
 */
function offerCheck(resultEl, again) {
  const check = Object.assign(document.createElement("button"), {
    type: "button", className: "check-again", textContent: "Check again (same key)",
  });
  check.addEventListener("click", () => {
    check.disabled = true;
    send(again.vendor, again.op, again.form, again);
  });
  resultEl.querySelector(".explain").after(check);
  check.scrollIntoView({ block: "center" });
  check.focus({ preventScroll: true });
}

function showSuccess(resultEl, r, vendor, op, key) {
  resultEl.className = "result success";
  resultEl.innerHTML = "";
  const dl = document.createElement("dl");
  const rows = [["Operation", op.id], ["Request id", r.requestId]];
  if (key) rows.push(["Idempotency key", key]);
  rows.push(["Replayed", String(r.replayed)]);
  if (r.reconciled) rows.push(["Reconciled", "true"]);
  rows.push(["Upstream status", String(r.upstreamStatus)]);
  for (const [k, v] of rows) dl.insertAdjacentHTML("beforeend", `<dt>${k}</dt><dd></dd>`), (dl.lastElementChild.textContent = v);
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(r.data, null, 2);
  resultEl.dataset.outcome = "sent";
  const parts = [Object.assign(document.createElement("p"), { className: "verdict", textContent: "Sent ✓" })];
  // A reconciled answer is replayed too, but it is no plain replay: the earlier send's outcome
  // was unknown until the relay found it at the vendor.
  if (r.reconciled) {
    const note = Object.assign(document.createElement("p"), { className: "reconciled" });
    note.append(
      Object.assign(document.createElement("span"), { className: "tag", textContent: "Reconciled" }),
      ` The earlier send with this key had an unknown outcome; the relay found it at ${vendor.name}: `
        + "this is that send's result, delivered once, not a new send.",
    );
    parts.push(note);
  }
  resultEl.append(...parts, dl, pre);
}

function showFailure(resultEl, e, key) {
  resultEl.className = "result failure";
  resultEl.innerHTML = "";
  const dl = document.createElement("dl");
  const rows = [["Code", e.code ?? "error"], ["Message", e.message ?? String(e)]];
  if (e.field) rows.push(["Field", e.field]);
  if (e.violations?.length > 1) rows.push(["Violations", e.violations.map((v) => `${v.field}: ${v.message}`).join("\n")]);
  if (e.requestId) rows.push(["Request id", e.requestId]);
  if (key) rows.push(["Idempotency key", key]);
  if (e.retryable !== undefined) rows.push(["Retryable", String(e.retryable)]);
  if (e.cause !== undefined) rows.push(["Cause", String(e.cause?.message ?? e.cause)]);
  for (const [k, v] of rows) dl.insertAdjacentHTML("beforeend", `<dt>${k}</dt><dd></dd>`), (dl.lastElementChild.textContent = v);
  // Three outcomes, never blurred: sent, not sent, and unknown. The SDK says which with
  // `possiblySent`: the relay's outcome_unknown, and an SDK-side timeout, a dropped connection or
  // a gateway's 502/503/504 after the request had left (the relay may be sending it).
  const unknown = e.possiblySent === true || e.code === "outcome_unknown";
  resultEl.dataset.outcome = unknown ? "unknown" : "not-sent";
  if (unknown) resultEl.className = "result unknown";
  const verdict = Object.assign(document.createElement("p"), { className: "verdict", textContent: unknown ? "Outcome unknown ?" : "Not sent ✗" });
  const parts = [verdict];
  if (unknown) {
    parts.push(Object.assign(document.createElement("p"), {
      className: "explain",
      textContent: (e.code === "outcome_unknown" ? "" : "No answer came from the relay, but the request had left. ")
        + "The vendor may or may not have received this message. Hail will never send it twice with this key. " +
        "Check again with the same key: where the vendor can be asked (LiveDesk), the relay looks it up and answers with what happened; " +
        "elsewhere (MEMOIO, chayns, mluvii) the answer stays unknown — check with the vendor before sending it anew.",
    }));
  }
  resultEl.append(...parts, dl);
}

// ---------- outbox ----------
const OUTBOX_SHOWN = 30;

async function refreshOutbox() {
  const { entries } = await (await fetch(`${relayUrl}/v1/sandbox/outbox`)).json();
  const empty = document.querySelector("#outbox-empty");
  empty.hidden = entries.length > 0 && entries.length <= OUTBOX_SHOWN;
  empty.textContent = entries.length > OUTBOX_SHOWN
    ? `Showing the newest ${OUTBOX_SHOWN} of ${entries.length} requests.`
    : "The simulated vendors have received nothing yet.";
  outboxEl.replaceChildren(
    ...entries.slice(0, OUTBOX_SHOWN).map((e) => {
      const li = document.createElement("li");
      li.className = "entry";
      const head = document.createElement("p");
      head.className = "entry-head";
      head.innerHTML = '<span class="vendor"></span> <code class="method"></code> <code class="url"></code> <span class="status"></span>';
      head.querySelector(".vendor").textContent = e.vendor;
      head.querySelector(".method").textContent = e.method;
      head.querySelector(".url").textContent = e.url;
      head.querySelector(".status").textContent = `→ ${e.status}`;
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
setInterval(() => document.visibilityState === "visible" && refreshOutbox().catch(() => {}), 3000);
document.body.dataset.ready = "true";
