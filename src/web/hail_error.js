// The one error class of hail-sdk. Kept in JS so that it is a real `Error` subclass (stack
// trace, `instanceof Error`, the standard `cause`), created by the Rust side through
// `newHailError`.
export class HailError extends Error {
  constructor(message, code, retryable, field, status, requestId, cause, violations) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HailError";
    this.code = code;
    this.retryable = retryable;
    if (field !== undefined) this.field = field;
    if (status !== undefined) this.status = status;
    if (requestId !== undefined) this.requestId = requestId;
    if (violations !== undefined) this.violations = violations;
  }
}

export function newHailError(message, code, retryable, field, status, requestId, cause, violations) {
  return new HailError(message, code, retryable, field, status, requestId, cause, violations);
}

export function isHailErrorInstance(value) {
  return value instanceof HailError;
}
