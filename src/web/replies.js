// The JS half of replies.rs: a reply stream, read as server-sent events over `fetch` with
// `response.body.getReader()`, which browsers and Node ≥ 20 both have. Not `EventSource`: it
// cannot send the stream's token as a header (the relay would have to take it in the URL, where
// logs keep it), cannot be told a `Last-Event-ID` after a reload, and Node has none.

// Backoff before a reconnect: doubled after each failure, jittered to 50-100%.
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
// The relay sends a heartbeat every ~15 s: a connection silent for longer than this is dead (a
// proxy or a NAT dropped it without a word) and is replaced.
const SILENCE_MS = 45_000;
// A connection up this long was no failure: the next reconnect starts over at the first backoff.
const HEALTHY_MS = 30_000;
// Most characters of one event (its lines together): a stream that sends more is cut.
const EVENT_MAX = 1 << 20;
// What a `ReplyEvent` may be (the TypeScript type's unions): anything else is skipped, so that a
// newer relay's events cannot break an older page's `switch`.
const KINDS = ["message", "status"];
const AUTHORS = ["agent", "bot", "system"];

// A stream of the replies at `url` (absolute), read with `token`, after event `lastEventId`.
// `rust` is the Rust side: `rust(body, options)` sends a follow-up (a promise of its result);
// `rust(status, [body, requestId])` rejects with the HailError of an answer that ends the stream.
export function openStream(url, token, lastEventId, signal, rust) {
  let last = lastEventId;
  // Final: closed, aborted, or ended by `failure`.
  let done = false;
  let failure;
  // Who gets the events: `{event(e), error(e), end()}` per listener and per iterator.
  const subscribers = new Set();
  let running = false;
  // The open connection's controller, and the wake-up of a wait between two of them.
  let connection;
  let wake;
  // `Retry-After` of the last answer that asked for a later try, in milliseconds.
  let retryAfter;

  // Ends the stream for good: each iteration and listener told once, of `error` if there is one.
  function finish(error) {
    if (done) return;
    done = true;
    failure = error;
    stop();
    signal?.removeEventListener("abort", close);
    const all = [...subscribers];
    subscribers.clear();
    for (const s of all) {
      if (error === undefined) s.end();
      else s.error(error);
    }
  }

  function close() {
    finish(undefined);
  }

  // Stops the connection (or the wait for the next one): when nobody listens, or at the end.
  function stop() {
    connection?.abort();
    wake?.();
  }

  function subscribe(s) {
    if (done) {
      // Told at once, but never before `subscribe` returned.
      queueMicrotask(() => (failure ? s.error(failure) : s.end()));
      return;
    }
    subscribers.add(s);
    if (!running) run();
  }

  function unsubscribe(s) {
    if (subscribers.delete(s) && subscribers.size === 0) stop();
  }

  function emit(event) {
    for (const s of subscribers) s.event(event);
  }

  // Connects, reads, and reconnects while anyone listens and the stream is not done.
  async function run() {
    running = true;
    let failures = 0;
    let delay = 0;
    while (!done && subscribers.size) {
      if (delay) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (done || !subscribers.size) break;
      }
      const started = Date.now();
      const ended = await connect();
      if (ended !== undefined) {
        finish(ended);
        break;
      }
      failures = Date.now() - started >= HEALTHY_MS ? 1 : failures + 1;
      delay = Math.min(BACKOFF_FIRST_MS * 2 ** (failures - 1), BACKOFF_MAX_MS) * (0.5 + Math.random() / 2);
      if (typeof retryAfter === "number") delay = Math.max(delay, retryAfter);
      retryAfter = undefined;
    }
    running = false;
  }

  // One connection: resolves when it ends, to `undefined` (reconnect, unless done) or to the
  // HailError that ends the stream.
  async function connect() {
    const controller = new AbortController();
    connection = controller;
    let timer;
    const alive = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    alive();
    try {
      const headers = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
      if (last > 0) headers["last-event-id"] = String(last);
      const response = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
      const status = response.status;
      const type = response.headers.get("content-type") ?? "";
      if (status !== 200 || !/^text\/event-stream/i.test(type)) {
        const text = await response.text().catch(() => "");
        // The relay (or a proxy in front of it) is busy or down: later. Any other answer, a
        // refused or expired token above all, stays what it is.
        if (status >= 500 || status === 429 || status === 408) {
          const seconds = Number(response.headers.get("retry-after"));
          if (seconds > 0) retryAfter = Math.min(seconds * 1000, BACKOFF_MAX_MS);
          return undefined;
        }
        return await rust(status, [text, response.headers.get("x-request-id") ?? undefined]).catch((e) => e);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = events(deliver);
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        alive();
        if (!parser(decoder.decode(value, { stream: true }))) break;
      }
      controller.abort();
    } catch {
      // A network failure, the silence timeout, or `stop()`: the loop decides what is next.
    } finally {
      clearTimeout(timer);
      if (connection === controller) connection = undefined;
    }
    return undefined;
  }

  // One event's `data`: a ReplyEvent after the last one, or nothing.
  function deliver(data, id) {
    let e;
    try {
      e = JSON.parse(data);
    } catch {
      e = undefined;
    }
    const seq = e?.seq;
    // An unreadable event still moves the resume point past its `id:`, so that no reconnect
    // asks for it again.
    if (!Number.isSafeInteger(seq)) {
      if (/^\d{1,15}$/.test(id) && Number(id) > last) last = Number(id);
      return;
    }
    if (seq <= last) return;
    last = seq;
    if (!KINDS.includes(e.kind) || !AUTHORS.includes(e.author) || typeof e.text !== "string") return;
    emit({
      seq,
      kind: e.kind,
      author: e.author,
      text: e.text,
      at: typeof e.at === "string" ? e.at : "",
      vendorMessageId: typeof e.vendorMessageId === "string" ? e.vendorMessageId : "",
    });
  }

  if (signal?.aborted) done = true;
  else signal?.addEventListener("abort", close);

  return {
    get lastEventId() {
      return last;
    },
    get closed() {
      return done;
    },
    onReply(listener, onError) {
      if (typeof listener !== "function") throw new TypeError("onReply(listener): listener must be a function");
      const s = {
        // An exception in the page's listener is the page's, reported as the platform reports an
        // event listener's; the stream goes on.
        event(e) {
          try {
            listener(e);
          } catch (thrown) {
            queueMicrotask(() => {
              throw thrown;
            });
          }
        },
        error(err) {
          if (typeof onError === "function") onError(err);
        },
        end() {},
      };
      subscribe(s);
      return () => unsubscribe(s);
    },
    send(text, options) {
      // The body, or nothing for Rust to refuse as `invalid_field` (never a number: see `rust`).
      return rust(typeof text === "string" && text.trim() ? JSON.stringify({ content: text }) : undefined, options);
    },
    close,
    [Symbol.asyncIterator]() {
      const queue = [];
      let waiting;
      let ended = false;
      let error;
      const settle = () => {
        if (!waiting) return;
        const { resolve, reject } = waiting;
        if (queue.length) resolve({ value: queue.shift(), done: false });
        else if (error !== undefined) {
          reject(error);
          error = undefined;
        } else if (ended) resolve({ value: undefined, done: true });
        else return;
        waiting = undefined;
      };
      const s = {
        event(e) {
          queue.push(e);
          settle();
        },
        error(err) {
          error = err;
          ended = true;
          settle();
        },
        end() {
          ended = true;
          settle();
        },
      };
      subscribe(s);
      return {
        next() {
          return new Promise((resolve, reject) => {
            waiting = { resolve, reject };
            settle();
          });
        },
        // `break` out of `for await`: this iterator stops; the stream goes on for the others.
        return() {
          unsubscribe(s);
          ended = true;
          queue.length = 0;
          error = undefined;
          settle();
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

// A parser of `text/event-stream` (the WHATWG rules): `feed(chunk)` calls `dispatch(data, id)`
// for each complete event of the default type; returns `false` when an event grew too large.
// Lines end with CRLF, LF or CR; a CR at the end of a chunk may be the first half of a CRLF.
function events(dispatch) {
  let pending = "";
  let skipLF = false;
  let data = [];
  let size = 0;
  let type = "";
  let id = "";
  const line = (l) => {
    if (l === "") {
      const d = data;
      const t = type;
      data = [];
      size = 0;
      type = "";
      if (d.length && (t === "" || t === "message")) dispatch(d.join("\n"), id);
      return;
    }
    // A comment: the relay's heartbeat (`: ping`).
    if (l[0] === ":") return;
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? "" : l.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "data") {
      data.push(value);
      size += value.length + 1;
    } else if (field === "event") type = value;
    else if (field === "id" && !value.includes("\0")) id = value;
    // `retry:` is ignored: the SDK keeps its own backoff.
  };
  return (chunk) => {
    const text = pending + chunk;
    let start = skipLF && text[0] === "\n" ? 1 : 0;
    skipLF = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c !== "\n" && c !== "\r") continue;
      line(text.slice(start, i));
      if (c === "\r") {
        if (i + 1 === text.length) skipLF = true;
        else if (text[i + 1] === "\n") i++;
      }
      start = i + 1;
    }
    pending = text.slice(start);
    return pending.length + size <= EVENT_MAX;
  };
}
