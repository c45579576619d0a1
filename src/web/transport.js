// The JS half of transport.rs: fetch and the timers of a call. Kept in JS because the same in
// Rust (closures, shared state, the Request/Headers/Response bindings of web-sys and gloo-net)
// cost the module more than this file, and because here the platform's own errors survive as
// they are (the `cause` of a HailError).

// One HTTP exchange, body read, under a timeout and the caller's signal. Resolves to
// {status, text, header(name)}; rejects with [why, cause, reason, neverLeft]: why 0 the network
// (or fetch refused the request), 1 the timeout, 2 the caller's signal; for the network, the
// platform's words and whether they prove the request never left (see `failure`).
export async function exchange(method, url, headers, body, signal, ms) {
  const armed = arm(signal, ms);
  try {
    const response = await fetch(url, { method, headers, body, signal: armed.signal });
    const text = await response.text();
    return { status: response.status, text, header: (name) => response.headers.get(name) };
  } catch (e) {
    throw [armed.disarm(), e, ...failure(e)];
  } finally {
    armed.disarm();
  }
}

// A failed fetch's words: its message and, where the platform gives one, the reason under it
// (Node: `error.cause`, e.g. "connect ECONNREFUSED 127.0.0.1:8787"); and whether that reason
// proves the request never left: refused, no such host, or a port fetch never connects to. A
// browser never says, so there a request may always have left.
const NEVER_LEFT = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"];
function failure(e) {
  const under = e?.cause;
  const reason = `${e?.message ?? "no HTTP answer"}${typeof under?.message === "string" ? ` (${under.message})` : ""}`;
  // A TLS handshake that failed (a certificate, or https:// to a plain-HTTP relay) sent nothing.
  const code = typeof under?.code === "string" ? under.code : "";
  return [reason, NEVER_LEFT.includes(code) || /^ERR_(SSL|TLS)_|CERT/.test(code) || under?.message === "bad port"];
}

// `arm`: the timeout and the caller's abort signal of one request, as one signal of Hail's own.
function arm(signal, ms) {
  const controller = new AbortController();
  let why = 0;
  const cut = (reason) => () => {
    if (!why) why = reason;
    controller.abort(new Error("hail: request cut"));
  };
  const onAbort = cut(2);
  const timer = setTimeout(cut(1), ms);
  if (signal) signal.addEventListener("abort", onAbort);
  return {
    signal: controller.signal,
    // Stops the timer and the listener; tells what cut the request: 0 nothing, 1 the timeout,
    // 2 the caller's signal.
    disarm() {
      clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", onAbort);
      return why;
    },
  };
}

// Awaits `value` (a promise or not) under a timeout and the caller's signal, since a host's token
// function may never settle. Resolves, never rejects, to [0, value], [3, its rejection], or
// [1] / [2] when the timeout / the caller's signal cut it.
export function within(value, signal, ms) {
  const armed = arm(signal, ms);
  return new Promise((resolve) => {
    armed.signal.addEventListener("abort", () => resolve([armed.disarm()]));
    Promise.resolve(value).then(
      (v) => resolve([armed.disarm(), v]),
      (e) => resolve([armed.disarm() || 3, e]),
    );
  });
}

// Resolves after `ms` milliseconds (the wait between retries).
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
