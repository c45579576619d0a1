// What each demo form shows: fields named as in the operation's request type (dotted names for
// nested objects), with sandbox-friendly defaults. These are only the nicer forms: an operation
// listed here by nobody still gets a form, a JSON editor filled with its declared example, from
// the relay's OpenAPI document (`withEveryOperation`), so a new operation needs no entry here.
const GUID = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

export const VENDORS = [
  {
    id: "memoio",
    name: "MEMOIO",
    operations: [
      {
        id: "memoio/start-conversation", title: "Start a conversation",
        fields: [
          { name: "receiver", label: "Receiver e-mail", kind: "email", required: true, value: "anna@example.com" },
          { name: "receiverName", label: "Receiver name", kind: "text", value: "Anna" },
          { name: "channel", label: "Channel", kind: "text", required: true, value: "sales" },
          { name: "message", label: "Message", kind: "textarea", required: true, value: "Hello from the Hail demo!" },
          { name: "tags", label: "Tags", kind: "list", hint: "one per line, no commas" },
          { name: "groupBy", label: "Continue an earlier conversation with the same", kind: "choices",
            choices: ["reference", "tags", "message", "sameDay", "sameWeek", "sameMonth"] },
        ],
      },
      {
        id: "memoio/start-direct-conversation", title: "Connect two people",
        fields: [
          { name: "sender", label: "Sender e-mail", kind: "email", required: true, value: "bob@shop.example" },
          { name: "receiver", label: "Receiver e-mail", kind: "email", required: true, value: "anna@example.com" },
          { name: "message", label: "Message", kind: "textarea", required: true, value: "Anna, meet Bob." },
          { name: "references", label: "References", kind: "list", hint: "one per line" },
        ],
      },
    ],
  },
  {
    id: "chayns",
    name: "chayns",
    operations: [
      {
        id: "chayns/intercom", title: "Intercom message (company Tapp)",
        fields: [
          { name: "message", label: "Message", kind: "textarea", required: true, value: "Hello from the Intercom" },
          { name: "userIds", label: "User ids", kind: "numbers", hint: "separated by spaces or commas", value: "1234567" },
          { name: "uacIds", label: "UAC group ids", kind: "numbers" },
          { name: "threadName", label: "Thread name", kind: "text" },
          { name: "useGroupChat", label: "One group chat for all receivers", kind: "bool" },
        ],
      },
      {
        id: "chayns-user/page", direct: "page", title: "As the chayns user: to the page",
        fields: [{ name: "text", label: "Text", kind: "textarea", required: true, value: "Hi, page!" }],
      },
      {
        id: "chayns-user/user", direct: "user", title: "As the chayns user: to a user",
        fields: [
          { name: "userId", label: "Receiver user id", kind: "number", required: true, value: "7654321" },
          { name: "text", label: "Text", kind: "textarea", required: true, value: "Hi, Ben!" },
        ],
      },
      {
        id: "chayns-user/group", direct: "group", title: "As the chayns user: to a UAC group",
        fields: [
          { name: "groupId", label: "UAC group id", kind: "number", required: true, value: "42" },
          { name: "text", label: "Text", kind: "textarea", required: true, value: "Hello, team!" },
        ],
      },
    ],
  },
  {
    id: "livedesk",
    name: "LiveDesk",
    operations: [
      {
        id: "livedesk/start-conversation", title: "Start a conversation (the contact, found or created → a conversation → the visitor's message)",
        fields: [
          { name: "inboxId", label: "Inbox id", kind: "number", required: true, value: "407" },
          { name: "contact.name", label: "Contact name", kind: "text", value: "Anna" },
          { name: "contact.email", label: "Contact e-mail", kind: "email", value: "anna@example.com" },
          { name: "contact.phoneNumber", label: "Contact phone", kind: "text", hint: "international format, e.g. +420123456789" },
          { name: "content", label: "The visitor's first message", kind: "textarea", required: true, value: "Where is my order?" },
        ],
      },
      {
        id: "livedesk/create-contact", title: "Create a contact",
        fields: [
          { name: "inboxId", label: "Inbox id", kind: "number", required: true, value: "407" },
          { name: "name", label: "Name", kind: "text", value: "Anna" },
          { name: "email", label: "E-mail", kind: "email", value: "anna@example.com" },
        ],
      },
      {
        id: "livedesk/send-message", title: "Send a message",
        fields: [
          { name: "conversationId", label: "Conversation id", kind: "number", required: true, value: "40" },
          { name: "content", label: "Message", kind: "textarea", required: true, value: "Still there?" },
          { name: "private", label: "Private note (agents only)", kind: "bool" },
        ],
      },
    ],
  },
  {
    id: "mluvii",
    name: "mluvii",
    operations: [
      {
        id: "mluvii/whatsapp-send-templates", title: "Send a WhatsApp template",
        fields: [
          { name: "subscriptionId", label: "Subscription (GUID)", kind: "text", required: true, value: GUID },
          { name: "formId", label: "Form id", kind: "number", required: true, value: "12" },
          { name: "language", label: "Language", kind: "text", required: true, value: "cs" },
          { name: "recipients", label: "Recipients", kind: "recipients", required: true,
            hint: "one per line: phone | value, value", value: "+420123456789 | Anna, 12:00" },
        ],
      },
      { id: "mluvii/whatsapp-subscriptions", title: "List WhatsApp subscriptions", fields: [] },
      {
        id: "mluvii/whatsapp-sent-templates", title: "List sent templates",
        fields: [
          { name: "subscriptionId", label: "Subscription (GUID)", kind: "text", required: true, value: GUID },
          { name: "limit", label: "Limit", kind: "number", value: "10" },
        ],
      },
    ],
  },
];

/**
 * `vendors` with every operation of the relay's OpenAPI document that has no form above: one JSON
 * field filled with the operation's example, in its vendor's tab (a new tab for a new vendor).
 */
export function withEveryOperation(vendors, openapi) {
  const result = vendors.map((v) => ({ ...v, operations: [...v.operations] }));
  const known = new Set(result.flatMap((v) => v.operations.map((op) => op.id)));
  for (const [path, item] of Object.entries(openapi.paths ?? {})) {
    // Only vendor operations (`POST /v1/{operationId}`): not the sandbox's own endpoints, the
    // reply streams or the webhook intakes the document lists too.
    if (path.startsWith("/v1/sandbox/")) continue;
    const op = item.post;
    if (!op?.operationId || path !== `/v1/${op.operationId}` || known.has(op.operationId)) continue;
    const vendorId = op.operationId.split("/")[0];
    let vendor = result.find((v) => v.id === vendorId);
    if (!vendor) result.push((vendor = { id: vendorId, name: vendorId, operations: [] }));
    const example = op.requestBody?.content?.["application/json"]?.example ?? {};
    vendor.operations.push({
      id: op.operationId,
      title: op.operationId.split("/")[1].replaceAll("-", " "),
      fields: [{ name: "", label: op.description ?? "Input", kind: "json", required: true, value: JSON.stringify(example, null, 2) }],
    });
  }
  return result;
}

/// Reads a form's fields into the operation's input object.
export function readInput(form, fields) {
  const input = {};
  const put = (path, value) => {
    const parts = path.split(".");
    let target = input;
    for (const p of parts.slice(0, -1)) target = target[p] ??= {};
    target[parts.at(-1)] = value;
  };
  for (const f of fields) {
    if (f.kind === "json") {
      // The whole input; text that is not JSON goes on as it is, for validate() to refuse.
      const text = form.querySelector("textarea[data-json]").value;
      try { return JSON.parse(text); } catch { return text; }
    }
    const el = form.elements[f.name];
    if (f.kind === "choices") {
      const picked = [...form.querySelectorAll(`[name="${f.name}"]:checked`)].map((c) => c.value);
      if (picked.length) put(f.name, picked);
      continue;
    }
    if (!el) continue;
    if (f.kind === "bool") {
      if (el.checked) put(f.name, true);
      continue;
    }
    const raw = el.value.trim();
    if (raw === "" && !f.required) continue;
    switch (f.kind) {
      case "number": put(f.name, raw === "" ? undefined : Number(raw)); break;
      case "numbers": put(f.name, raw.split(/[\s,]+/).filter(Boolean).map(Number)); break;
      case "list": put(f.name, raw.split("\n").map((s) => s.trim()).filter(Boolean)); break;
      case "recipients":
        put(f.name, raw.split("\n").map((s) => s.trim()).filter(Boolean).map((line) => {
          const [contactId, values = ""] = line.split("|");
          return { contactId: contactId.trim(), fieldValues: values.split(",").map((v) => v.trim()).filter(Boolean) };
        }));
        break;
      default: put(f.name, el.value);
    }
  }
  return input;
}
