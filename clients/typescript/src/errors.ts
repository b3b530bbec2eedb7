/**
 * Typed errors for plangate's error body `{"error": {"type", "code", "message", "param"}}`.
 *
 * The class follows the HTTP status (what kind of failure); `code` is the stable, documented
 * reason (`product_not_found`, `insufficient_quantity`...) to branch on.
 */

export interface ErrorFields {
  code: string;
  type: string;
  status?: number | undefined;
  param?: string | null | undefined;
  requestId?: string | null | undefined;
  body?: unknown;
}

export class PlangateError extends Error {
  readonly code: string;
  readonly type: string;
  readonly status: number | undefined;
  readonly param: string | null;
  /** plangate's `X-Request-Id` for this request: quote it when reporting a failure. */
  readonly requestId: string | null;
  readonly body: unknown;

  constructor(message: string, fields: ErrorFields) {
    super(message);
    this.name = new.target.name;
    this.code = fields.code;
    this.type = fields.type;
    this.status = fields.status;
    this.param = fields.param ?? null;
    this.requestId = fields.requestId ?? null;
    this.body = fields.body;
  }
}

/** 400, 404 or 422: the request cannot succeed as sent; do not retry it unchanged. */
export class InvalidRequestError extends PlangateError {}
/** 404: the customer, product, item or route does not exist. */
export class NotFoundError extends InvalidRequestError {}
/** 401: the secret key or token is missing, unknown, expired or revoked. */
export class AuthenticationError extends PlangateError {}
/** 403: the caller is known but may not do this (e.g. a server-only call from a browser). */
export class PermissionDeniedError extends PlangateError {}
/** 409: the request conflicts with the current state; nothing was changed. */
export class ConflictError extends PlangateError {}
/** 409 `insufficient_quantity`: the balance is too low and nothing was consumed. */
export class InsufficientQuantityError extends ConflictError {}
/** 409 `idempotency_key_reused`: this key was already used with another request. */
export class IdempotencyKeyReusedError extends ConflictError {}
/** 429: too many requests; the client has already retried with backoff. */
export class RateLimitError extends PlangateError {}
/** 5xx, or a 2xx whose body is not what the API document says. */
export class APIError extends PlangateError {}
/** plangate could not be reached, or did not answer in time, after the client's retries. */
export class APIConnectionError extends PlangateError {}
/** An entitlement token that is malformed, expired, signed by an unknown key, or not plangate's. */
export class InvalidTokenError extends AuthenticationError {}
/** A webhook whose signature, timestamp or headers do not verify. */
export class WebhookVerificationError extends PlangateError {}

const CONFLICTS: Record<string, typeof ConflictError> = {
  insufficient_quantity: InsufficientQuantityError,
  idempotency_key_reused: IdempotencyKeyReusedError,
};

function classFor(status: number, code: string): typeof PlangateError {
  if (status === 404) return NotFoundError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 409) return CONFLICTS[code] ?? ConflictError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return APIError;
  return InvalidRequestError;
}

function defaultType(status: number): string {
  if (status >= 500) return "api_error";
  return (
    { 401: "authentication_error", 403: "permission_error", 409: "conflict_error", 429: "rate_limit_error" }[
      status
    ] ?? "invalid_request_error"
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The error for a failed response; tolerates bodies that are not plangate's (proxies). */
export function errorFromResponse(
  status: number,
  body: unknown,
  text: string,
  requestId: string | null,
): PlangateError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const code = typeof error.code === "string" && error.code ? error.code : `http_${status}`;
  const message =
    typeof error.message === "string" && error.message
      ? error.message
      : text.trim().slice(0, 500) || `HTTP ${status}`;
  const Class = classFor(status, code);
  return new Class(message, {
    code,
    type: typeof error.type === "string" ? error.type : defaultType(status),
    status,
    param: typeof error.param === "string" ? error.param : null,
    requestId: requestId ?? (typeof error.request_id === "string" ? error.request_id : null),
    body: body ?? text,
  });
}
