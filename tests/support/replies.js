// The reply stream tests (tests/support/replies.rs runs each in Chromium and in Node): against
// the sandbox relay (`relay`, its URL), and against a scripted `fetch` for what a relay cannot be
// made to do on cue (split chunks, odd line ends, a dropped connection, each refusal).
// Each throws on a failed check.

const realFetch = globalThis.fetch.bind(globalThis);
/** The relay URL of the clients made for the scripted `fetch`. */
export const FAKE = "http://fake.invalid";
let script;

// Replaces `fetch` for requests to FAKE with `handler(url, init)`; every other request (the
// sandbox's) goes out as before. Installed once and left in place: a test that fails half-way
// leaves nothing that could break the next one.
function scripted(handler) {
  if (!globalThis.fetch.hailScripted) {
    const f = (input, init) =>
      String(input).startsWith(FAKE) && script ? script(String(input), init ?? {}) : realFetch(input, init);
    f.hailScripted = true;
    globalThis.fetch = f;
  }
  script = handler;
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

function equal(actual, expected, what) {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mark = (name) => `${name}-${Math.random().toString(36).slice(2)}`;

// The next result of `iterator`, or "timeout" after `ms`.
async function next(iterator, ms = 10_000) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([iterator.next(), late]);
  } finally {
    clearTimeout(timer);
  }
}

// What `promise` rejected with (fails when it resolved).
async function rejection(promise, what) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error(`${what} did not reject`);
}

function hailError(e, code, what) {
  check(e instanceof Error && e.name === "HailError", `${what}: not a HailError: ${e?.stack ?? e}`);
  equal(e.code, code, `${what}: code (${e.message})`);
}

// ---- against the sandbox relay -------------------------------------------------------------

// A LiveDesk conversation started through the SDK, for a visitor no other test uses.
async function start(hail, name) {
  const m = mark(name);
  const started = await hail.livedesk.startConversation({
    inboxId: 407,
    contact: { identifier: m, name: "Visitor" },
    content: `Hello ${m}`,
  });
  check(started.repliesAccess, `no repliesAccess in the result: ${JSON.stringify(started)}`);
  check(typeof started.replies === "function", "no replies() on the result");
  return { started, m, conversation: started.data.conversation.id };
}

// The simulated LiveDesk agent answers in `conversation` (answered once the webhook is in).
async function agent(relay, conversation, content, isPrivate = false) {
  const response = await realFetch(`${relay}/v1/sandbox/replies`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ vendor: "livedesk", conversationId: String(conversation), content, private: isPrivate }),
  });
  const text = await response.text();
  equal(response.status, 200, `POST /v1/sandbox/replies (${text})`);
}

// The sandbox outbox entries whose body contains `needle`.
async function outbox(relay, needle) {
  const response = await realFetch(`${relay}/v1/sandbox/outbox`);
  const { entries } = await response.json();
  return entries.filter((e) => typeof e.body === "string" && e.body.includes(needle));
}

export async function anAgentsReplyArrives(hail, relay) {
  const { started, m, conversation } = await start(hail, "reply");
  const access = started.repliesAccess;
  equal(Object.keys(access), ["url", "token", "expiresAt"], "repliesAccess is plain JSON");
  check(/^\/v1\/replies\/[^/?#]+$/.test(access.url), `url: ${access.url}`);
  check(access.token.length >= 16, "a token");
  check(Date.parse(access.expiresAt) > Date.now(), `expiresAt in the future: ${access.expiresAt}`);
  const stream = started.replies();
  equal(stream.lastEventId, 0, "lastEventId before any event");
  const it = stream[Symbol.asyncIterator]();
  const first = next(it);
  await agent(relay, conversation, `Agent ${m}`);
  const got = await first;
  check(got !== "timeout", "no reply within 10 s");
  equal(got.done, false, "done");
  const e = got.value;
  equal(Object.keys(e), ["seq", "kind", "author", "text", "at", "vendorMessageId"], "the event's fields");
  equal([e.kind, e.author, e.text], ["message", "agent", `Agent ${m}`], "the event");
  check(Number.isSafeInteger(e.seq) && e.seq >= 1, `seq: ${e.seq}`);
  check(e.vendorMessageId !== "" && !Number.isNaN(Date.parse(e.at)), `ids and time: ${JSON.stringify(e)}`);
  equal(stream.lastEventId, e.seq, "lastEventId after it");
  stream.close();
  equal(await next(it, 2000), { value: undefined, done: true }, "the iteration after close()");
  equal(stream.closed, true, "closed");
}

export async function privateNotesNeverArrive(hail, relay) {
  const { started, m, conversation } = await start(hail, "private");
  const stream = started.replies();
  const seen = [];
  const stop = stream.onReply((e) => seen.push(e));
  await agent(relay, conversation, `Private ${m}`, true);
  await agent(relay, conversation, `Public ${m}`);
  for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(100);
  // Time for anything else to come that would.
  await sleep(1000);
  equal(seen.map((e) => e.text), [`Public ${m}`], "what arrived");
  stop();
  // Nobody listens: nothing more is received, and a later listener resumes where it stopped.
  await agent(relay, conversation, `Later ${m}`);
  await sleep(500);
  equal(seen.length, 1, "nothing after the listener stopped");
  const again = [];
  const stopAgain = stream.onReply((e) => again.push(e.text));
  for (let i = 0; i < 100 && again.length === 0; i++) await sleep(100);
  equal(again, [`Later ${m}`], "a new listener gets what came after lastEventId");
  stopAgain();
  stream.close();
}

export async function followUpsReachTheVendorAsTheVisitor(hail, relay) {
  const { started, m, conversation } = await start(hail, "follow");
  const stream = started.replies();
  const key = mark("key");
  const sent = await stream.send(`Follow-up ${m}`, { idempotencyKey: key });
  equal([sent.upstreamStatus, sent.replayed], [200, false], "the follow-up's result");
  check(sent.data.id !== undefined && sent.requestId, `data: ${JSON.stringify(sent.data)}`);
  const again = await stream.send(`Follow-up ${m}`, { idempotencyKey: key });
  equal([again.replayed, again.data.id], [true, sent.data.id], "the same key again: replayed");
  const entries = await outbox(relay, `Follow-up ${m}`);
  equal(entries.length, 1, "LiveDesk received it once");
  const [entry] = entries;
  equal([entry.vendor, entry.method], ["livedesk", "POST"], "the vendor call");
  check(entry.url.endsWith(`/api/v2/accounts/conversations/${conversation}/messages`), `url: ${entry.url}`);
  const body = JSON.parse(entry.body);
  check(body.message_type === "incoming" || body.message_type === 0, `message_type: ${entry.body}`);
  equal([body.content, body.private ?? false], [`Follow-up ${m}`, false], "content, public");
  // The visitor's own message is no reply.
  const it = stream[Symbol.asyncIterator]();
  equal(await next(it, 1500), "timeout", "the follow-up's echo on the stream");
  // Checked before the network, like every send.
  const empty = await rejection(stream.send("  "), "send of an empty text");
  hailError(empty, "invalid_field", "send('  ')");
  equal(empty.field, "text", "field");
  hailError(await rejection(stream.send("x", { retries: 1 }), "send with an unknown option"), "invalid_request", "unknown option");
  stream.close();
  // A closed stream still sends.
  const after = await stream.send(`After close ${m}`);
  equal(after.upstreamStatus, 200, "send after close()");
}

export async function resumingGetsOnlyLaterEvents(hail, relay) {
  const { started, m, conversation } = await start(hail, "resume");
  const stream = started.replies();
  const it = stream[Symbol.asyncIterator]();
  const a = next(it);
  await agent(relay, conversation, `One ${m}`);
  const one = await a;
  const b = next(it);
  await agent(relay, conversation, `Two ${m}`);
  const two = await b;
  check(one !== "timeout" && two !== "timeout", "both replies arrived");
  check(two.value.seq > one.value.seq, "in seq order");
  equal(stream.lastEventId, two.value.seq, "lastEventId");
  stream.close();
  // A reload: the access kept, the last event seen.
  const kept = JSON.parse(JSON.stringify(started.repliesAccess));
  const resumed = hail.replies(kept, { lastEventId: one.value.seq });
  const rit = resumed[Symbol.asyncIterator]();
  const got = await next(rit);
  equal([got.value?.seq, got.value?.text], [two.value.seq, `Two ${m}`], "the first event after resuming");
  equal(await next(rit, 1000), "timeout", "nothing else");
  resumed.close();
  const all = hail.replies(kept);
  const texts = [];
  for await (const e of all) {
    texts.push(e.text);
    if (texts.length === 2) break;
  }
  equal(texts, [`One ${m}`, `Two ${m}`], "from the start");
  equal(all.closed, false, "break ends the loop, not the stream");
  all.close();
}

export async function abortingTheSignalEndsTheIteration(hail, relay) {
  const { started } = await start(hail, "abort");
  const controller = new AbortController();
  const stream = started.replies({ signal: controller.signal });
  const received = [];
  const loop = (async () => {
    for await (const e of stream) received.push(e);
    return "ended";
  })();
  await sleep(500);
  controller.abort(new Error("the page went away"));
  const outcome = await Promise.race([loop, sleep(3000).then(() => "still iterating")]);
  equal([outcome, received.length, stream.closed], ["ended", 0, true], "after abort()");
  // A signal aborted before: nothing to iterate.
  const gone = started.replies({ signal: AbortSignal.abort() });
  equal(await next(gone[Symbol.asyncIterator](), 2000), { value: undefined, done: true }, "an aborted signal");
  void relay;
}

export async function aWrongTokenIsRefused(hail, relay) {
  const { started } = await start(hail, "refused");
  const access = { ...started.repliesAccess, token: "garbage-token" };
  const stream = hail.replies(access);
  const errors = [];
  stream.onReply(() => {}, (e) => errors.push(e));
  const e = await rejection((async () => {
    for await (const _ of stream) void _;
  })(), "iterating with a wrong token");
  hailError(e, "replies_refused", "a wrong token");
  equal(e.status, 403, "status");
  equal(stream.closed, true, "closed after a refusal");
  equal(errors.map((x) => x.code), ["replies_refused"], "onError");
  // A stream that does not exist.
  const unknown = hail.replies({ url: "/v1/replies/no-such-stream", token: "garbage-token", expiresAt: access.expiresAt });
  hailError(await rejection(next(unknown[Symbol.asyncIterator]()), "an unknown stream"), "replies_refused", "an unknown stream");
  // Its follow-up is refused too: with its key, and not sent.
  const sent = await rejection(stream.send("Hello?"), "send with a wrong token");
  hailError(sent, "replies_refused", "send with a wrong token");
  equal(sent.possiblySent, false, "possiblySent");
  check(typeof sent.idempotencyKey === "string", "idempotencyKey");
  void relay;
}

export function accessAndOptionsAreChecked(hail) {
  const threw = (f, what) => {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error(`${what} did not throw`);
  };
  const access = { url: "/v1/replies/abc", token: "t0ken", expiresAt: "2099-01-01T00:00:00Z" };
  for (const [bad, field] of [
    [{ ...access, url: "https://elsewhere.example/v1/replies/abc" }, "url"],
    [{ ...access, url: "/v1/livedesk/send-message" }, "url"],
    [{ ...access, url: "/v1/replies/abc?x=1" }, "url"],
    [{ ...access, url: "/v1/replies/" }, "url"],
    [{ ...access, token: "two words" }, "token"],
    [{ ...access, token: 7 }, "token"],
  ]) {
    const e = threw(() => hail.replies(bad), JSON.stringify(bad));
    hailError(e, "invalid_request", JSON.stringify(bad));
    equal(e.field, field, `field of ${JSON.stringify(bad)}`);
  }
  hailError(threw(() => hail.replies(null), "null"), "invalid_request", "null access");
  for (const options of [{ lastEventId: -1 }, { lastEventId: 1.5 }, { signal: {} }, { lastEventID: 2 }]) {
    hailError(threw(() => hail.replies(access, options), JSON.stringify(options)), "invalid_request", JSON.stringify(options));
  }
  const stream = hail.replies(access, { lastEventId: 7 });
  equal([stream.lastEventId, stream.closed], [7, false], "a stream before it connects");
  stream.close();
}

// ---- against a scripted fetch --------------------------------------------------------------

const ACCESS = { url: "/v1/replies/s1", token: "tok-1", expiresAt: "2099-01-01T00:00:00Z" };
const EVENT_TYPE = { "content-type": "text/event-stream" };

const event = (seq, extra = {}) =>
  JSON.stringify({ seq, kind: "message", author: "agent", text: `t${seq}`, at: "2026-01-01T00:00:00Z", vendorMessageId: `m${seq}`, ...extra });

// A `text/event-stream` answer of `text`, in chunks of `size` bytes; held open (until the
// request is aborted) when `hold`.
function sse(text, init, { hold = false, size = 0 } = {}) {
  const bytes = new TextEncoder().encode(text);
  const step = size || bytes.length || 1;
  let offset = 0;
  const body = new ReadableStream({
    start(controller) {
      init.signal?.addEventListener("abort", () => {
        try {
          controller.error(new DOMException("aborted", "AbortError"));
        } catch {
          // Already closed.
        }
      });
    },
    pull(controller) {
      if (offset < bytes.length) {
        controller.enqueue(bytes.slice(offset, (offset += step)));
      } else if (!hold) {
        controller.close();
      } else {
        return new Promise(() => {});
      }
    },
  });
  return new Response(body, { status: 200, headers: EVENT_TYPE });
}

function problem(status, code) {
  const body = JSON.stringify({ code, title: code, status, detail: `${code} (scripted)`, retryable: false, requestId: "req-1" });
  return new Response(body, { status, headers: { "content-type": "application/problem+json" } });
}

// Every line ending, comments, multi-line data, other event types, repeats, unknown kinds and
// unreadable data, split at every size down to single bytes (a multi-byte character included).
export async function serverSentEventsAreParsedAsTheStandardSays(fakeHail) {
  const text = [
    ": ping\r\n\r\n",
    `id: 1\r\ndata: ${event(1)}\r\n\r\n`,
    `event: typing\ndata: ${event(2)}\n\n`,
    `id: 3\ndata: {"seq":3,"kind":"status",\ndata: "author":"system","text":"resolved","at":"x","vendorMessageId":"v3"}\n\n`,
    `id: 1\ndata: ${event(1)}\n\n`,
    `data: ${event(4, { kind: "typing" })}\n\n`,
    `data:${event(5, { text: "Grüße 👋\nzweite Zeile" })}\r\r`,
    "data: not json\n\n",
    `retry: 1\nid: 6\ndata: ${event(6, { author: "bot", extra: true })}\n\n`,
  ].join("");
  for (const size of [0, 1, 2, 3, 5, 7]) {
    scripted((url, init) => sse(text, init, { hold: true, size }));
    const stream = fakeHail.replies(ACCESS);
    const got = [];
    for await (const e of stream) {
      got.push(e);
      if (e.seq === 6) break;
    }
    stream.close();
    equal(got.map((e) => e.seq), [1, 3, 5, 6], `seqs (chunks of ${size || "all"} bytes)`);
    equal([got[1].kind, got[1].author, got[1].text], ["status", "system", "resolved"], "multi-line data");
    equal(got[2].text, "Grüße 👋\nzweite Zeile", `text across chunks of ${size} bytes`);
    equal(Object.keys(got[3]), ["seq", "kind", "author", "text", "at", "vendorMessageId"], "only the event's fields");
    equal(stream.lastEventId, 6, "lastEventId");
  }
}

// A dropped connection is replaced with backoff, sending Last-Event-ID and the stream's token;
// a busy relay (503) is tried again; a repeated event is not delivered twice.
export async function droppedConnectionsResumeAfterTheLastEvent(fakeHail) {
  const requests = [];
  scripted((url, init) => {
    requests.push({ url, headers: init.headers, at: Date.now() });
    switch (requests.length) {
      case 1:
        return sse(`id: 1\ndata: ${event(1)}\n\n`, init);
      case 2:
        return problem(503, "upstream_unavailable");
      default:
        return sse(`id: 1\ndata: ${event(1)}\n\nid: 2\ndata: ${event(2)}\n\n`, init, { hold: true });
    }
  });
  const stream = fakeHail.replies(ACCESS);
  const got = [];
  for await (const e of stream) {
    got.push(e.seq);
    if (e.seq === 2) break;
  }
  equal(got, [1, 2], "each event once");
  equal(requests.length, 3, "requests");
  equal(requests[0].url, `${FAKE}/v1/replies/s1`, "url");
  equal(
    [requests[0].headers.authorization, requests[0].headers.accept, requests[0].headers["last-event-id"]],
    ["Bearer tok-1", "text/event-stream", undefined],
    "the first request's headers",
  );
  equal([requests[1].headers["last-event-id"], requests[2].headers["last-event-id"]], ["1", "1"], "Last-Event-ID");
  const waited = requests[1].at - requests[0].at;
  check(waited >= 200 && waited < 2000, `backoff before the reconnect: ${waited} ms`);
  await sleep(100);
  equal(requests.length, 3, "no request after break");
  stream.close();
}

// Refusals end the stream at once, typed, with no reconnect.
export async function refusalsEndTheStreamWithoutReconnecting(fakeHail) {
  for (const [status, code] of [
    [401, "unauthenticated"],
    [403, "replies_refused"],
    [410, "replies_expired"],
    [200, "invalid_response"],
  ]) {
    let requests = 0;
    scripted(() => {
      requests += 1;
      return status === 200 ? new Response("<html>", { status, headers: { "content-type": "text/html" } }) : problem(status, code);
    });
    const stream = fakeHail.replies(ACCESS);
    const heard = [];
    stream.onReply(() => {}, (e) => heard.push(e.code));
    const e = await rejection(next(stream[Symbol.asyncIterator](), 5000), `HTTP ${status}`);
    hailError(e, code, `HTTP ${status}`);
    equal(e.status, status, "status");
    if (status !== 200) equal(e.requestId, "req-1", "requestId");
    await sleep(800);
    equal([requests, stream.closed, heard], [1, true, [code]], `after HTTP ${status}`);
    // Later iterations learn it too.
    hailError(await rejection(next(stream[Symbol.asyncIterator](), 1000), "again"), code, "a later iteration");
  }
}

// The last listener leaving ends the connection; close() ends iterations without an error.
export async function theConnectionLivesWhileAnyoneListens(fakeHail) {
  const signals = [];
  scripted((url, init) => {
    signals.push(init.signal);
    return sse(`id: 1\ndata: ${event(1)}\n\n`, init, { hold: true });
  });
  const stream = fakeHail.replies(ACCESS);
  const seen = [];
  const stop = stream.onReply((e) => seen.push(e.seq));
  const it = stream[Symbol.asyncIterator]();
  equal((await next(it, 3000)).value?.seq, 1, "the iterator's event");
  equal(seen, [1], "the listener's event");
  equal(signals.length, 1, "one connection for both");
  stop();
  equal(signals[0].aborted, false, "still one listening");
  const pending = next(it, 3000);
  stream.close();
  equal(await pending, { value: undefined, done: true }, "a pending next() after close()");
  equal(signals[0].aborted, true, "the connection ended");
}
