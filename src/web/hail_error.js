// The one error class of hail-sdk. Kept in JS so that it is a real `Error` subclass (stack
// trace, `instanceof Error`, the standard `cause`), created by the Rust side through
// `newHailError`.
export class HailError extends Error {
  constructor(message, code, retryable, field, status, requestId, cause, violations, idempotencyKey, possiblySent) {
    // A send that may have been sent says how to learn its outcome without sending it twice
    // (the relay's own `outcome_unknown` already says what a call again can and cannot learn).
    if (possiblySent && idempotencyKey !== undefined && code !== "outcome_unknown") {
      message += `${/[.?)]$/.test(message) ? "" : "."} It may have been sent: call again with the same `
        + `idempotencyKey ("${idempotencyKey}") to learn the outcome; the relay never sends it twice`;
    }
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HailError";
    this.code = code;
    this.retryable = retryable;
    if (field !== undefined) this.field = field;
    if (status !== undefined) this.status = status;
    if (requestId !== undefined) this.requestId = requestId;
    if (violations !== undefined) this.violations = violations;
    // Only a sending call has a key; its errors say whether it may have been sent.
    if (idempotencyKey !== undefined) {
      this.idempotencyKey = idempotencyKey;
      this.possiblySent = possiblySent;
    }
  }
}

export function newHailError(message, code, retryable, field, status, requestId, cause, violations, idempotencyKey, possiblySent) {
  return new HailError(message, code, retryable, field, status, requestId, cause, violations, idempotencyKey, possiblySent);
}

// The caller's frames: an error made later, inside the SDK's async code, has none of them. The
// SDK's own frames come first, so V8's frame limit is raised for this one error to reach them.
export function callSite() {
  const limit = Error.stackTraceLimit;
  if (typeof limit === "number") Error.stackTraceLimit = limit + 20;
  const site = new Error("called from");
  if (typeof limit === "number") Error.stackTraceLimit = limit;
  return site;
}

// `error` with the frames of `site` (from `callSite()`) below its own.
export function withCallSite(error, site) {
  const frames = typeof site?.stack === "string" ? site.stack.split("\n").slice(1).join("\n") : "";
  if (frames) error.stack = `${error.stack}\n    --- called from ---\n${frames}`;
  return error;
}

export function isHailErrorInstance(value) {
  return value instanceof HailError;
}

// Before `init()` (web build) the glue's module handle is this object (patched in by
// `cargo xtask pkg`): any call throws a HailError that says what to do, not a TypeError.
export const notReady = new Proxy({}, {
  get() {
    throw new HailError("hail-sdk is not initialised yet: await init() from \"hail-sdk/web\" before the first call, "
      + "or import \"hail-sdk\", which initialises itself", "invalid_request", false);
  },
});

// What the Rust side throws through the glue (patched in by `cargo xtask pkg`). The one a caller
// can cause, a method called on an object after its free(), becomes a HailError.
export function rustThrew(message) {
  return message === "null pointer passed to rust"
    ? new HailError("this client was freed (free() was called on it): create a new one", "invalid_request", false)
    : new Error(message);
}
