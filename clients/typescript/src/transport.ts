/**
 * One HTTP request to plangate, typed by the API document (`schema.ts`), with retries.
 *
 * Retried: network failures, 429 and 5xx; never another 4xx, which would fail the same way.
 * Every POST carries one `Idempotency-Key` across all its attempts, so a retry after a lost
 * response replays the first answer instead of acting twice. A DELETE is not retried after a
 * network failure: the request may have reached plangate.
 */
import type { paths } from "./schema.js";
import { APIConnectionError, APIError, errorFromResponse } from "./errors.js";

export type Method = "get" | "put" | "post" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonContent<R> = R extends { content: { "application/json": infer T } } ? T : undefined;
type Responses<O> = O extends { responses: infer R } ? R : never;
/** The JSON body of an operation's success response (200, 201, or nothing for 204). */
export type Success<O> =
  | JsonContent<Responses<O>[200 & keyof Responses<O>]>
  | JsonContent<Responses<O>[201 & keyof Responses<O>]>
  | (204 extends keyof Responses<O> ? undefined : never);
export type RequestBody<O> = O extends { requestBody?: { content: { "application/json": infer B } } }
  ? B
  : never;
export type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
export type PathOf<O> = O extends { parameters: { path?: infer P } } ? NonNullable<P> : never;

export type ApiKey = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** A secret key (`sk_...`) on a server, or a customer-session token in a browser; a
   * function is called before each request (to refresh a short-lived token). */
  apiKey: ApiKey;
  /** Where plangate is served, e.g. `https://billing.example.com`. */
  baseUrl: string;
  /** Retries after a network failure, a 429 or a 5xx (default 2). */
  maxRetries?: number;
  /** First backoff in milliseconds, doubled each retry with jitter (default 250). */
  backoffMs?: number;
  /** Longest backoff in milliseconds, also the cap on `Retry-After` (default 8000). */
  maxBackoffMs?: number;
  /** Per-attempt timeout in milliseconds (default 10000). */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface CallOptions<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: RequestBody<O>;
  /** For a POST: the key that makes a repeat of this request take effect once (default: a
   * fresh one per call, shared by its retries). */
  idempotencyKey?: string;
  /** Body sent as is with this content type (the catalog's TOML). */
  raw?: { content: string; contentType: string };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Transport {
  readonly baseUrl: string;
  private readonly apiKey: ApiKey;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    if (!options.apiKey) throw new TypeError("apiKey is required: a secret key (sk_...) or a client token");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.maxRetries = options.maxRetries ?? 2;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async call<P extends keyof paths, M extends Method & keyof paths[P]>(
    method: M,
    template: P,
    options: CallOptions<Operation<P, M>> = {},
  ): Promise<Success<Operation<P, M>>> {
    const url = this.url(template as string, options.path as Record<string, string> | undefined, options.query);
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: string | undefined;
    if (options.raw) {
      body = options.raw.content;
      headers["Content-Type"] = options.raw.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["Content-Type"] = "application/json";
    }
    if (method === "post") headers["Idempotency-Key"] = options.idempotencyKey ?? crypto.randomUUID();
    return (await this.send(method.toUpperCase(), url, headers, body)) as Success<Operation<P, M>>;
  }

  private url(template: string, path: Record<string, string> | undefined, query: unknown): string {
    const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = path?.[name];
      if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) search.set(name, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${filled}${qs ? `?${qs}` : ""}`;
  }

  private async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const key = typeof this.apiKey === "function" ? await this.apiKey() : this.apiKey;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: { ...headers, Authorization: `Bearer ${key}` },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (cause) {
        if (attempt < this.maxRetries && method !== "DELETE") {
          await sleep(this.delay(attempt, null));
          continue;
        }
        throw new APIConnectionError(`could not reach plangate at ${url}: ${String(cause)}`, {
          code: "connection_error",
          type: "api_connection_error",
        });
      }
      const status = response.status;
      if ((status === 429 || status >= 500) && attempt < this.maxRetries) {
        await response.body?.cancel();
        await sleep(this.delay(attempt, response.headers.get("retry-after")));
        continue;
      }
      return read(response);
    }
  }

  private delay(attempt: number, retryAfter: string | null): number {
    if (retryAfter !== null) {
      const wanted = Number(retryAfter);
      if (Number.isFinite(wanted) && wanted >= 0) return Math.min(wanted * 1000, this.maxBackoffMs);
    }
    const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
    return base * (0.5 + Math.random() / 2);
  }
}

async function read(response: Response): Promise<unknown> {
  const requestId = response.headers.get("x-request-id");
  if (response.status === 204) return undefined;
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) {
    if (body === undefined) {
      throw new APIError(`plangate answered ${response.status} with a body that is not JSON`, {
        code: "response_invalid",
        type: "api_error",
        status: response.status,
        requestId,
        body: text,
      });
    }
    return body;
  }
  throw errorFromResponse(response.status, body, text, requestId);
}
