// Timers of a call. `arm`: the timeout and the caller's abort signal of one request, as one signal
// of Hail's own: fetch is then only ever aborted with an `Error` (gloo-net panics on any other
// reason). Kept in JS because the same in Rust (two closures, shared state, timer and listener
// bindings) cost the module more than this file.
export function arm(signal, ms) {
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

// Resolves after `ms` milliseconds (the wait between retries).
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
