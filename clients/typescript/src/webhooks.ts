/**
 * Verifying plangate's outbound webhooks, signed the Standard Webhooks way: headers
 * `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature` (space-separated
 * `v1,<base64>` entries, several during a secret rotation); the signed content is
 * `{id}.{timestamp}.{raw body}`, HMAC-SHA256 keyed with the bytes of the `whsec_` secret.
 *
 * Web Crypto only, so it runs in Node, edge runtimes and route handlers alike. Verify the raw
 * body as received: JSON re-serialized by a framework no longer matches its signature.
 */
import type { Clock } from "./entitlements.js";
import { WebhookVerificationError } from "./errors.js";

const PREFIX = "whsec_";
const encoder = new TextEncoder();

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from the clock, either way (default 300 s). */
  toleranceSeconds?: number;
  clock?: Clock;
}

export interface VerifiedWebhook<T> {
  id: string;
  timestamp: number;
  payload: T;
}

function failure(code: string, message: string): WebhookVerificationError {
  return new WebhookVerificationError(message, { code, type: "invalid_request_error", status: 400 });
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

type Bytes = Uint8Array<ArrayBuffer>;

function base64ToBytes(text: string): Bytes {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function bytesToBase64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  let raw: Bytes;
  try {
    raw = base64ToBytes(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
  } catch {
    throw failure("webhook_secret_invalid", "the webhook secret is not whsec_ followed by base64");
  }
  if (raw.length === 0) throw failure("webhook_secret_invalid", "the webhook secret is empty");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

function signedContent(id: string, timestamp: number | string, payload: string | Uint8Array): Bytes {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  return content;
}

/** The `webhook-signature` value for a message: what plangate sends (useful in tests). */
export async function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  payload: string | Uint8Array,
): Promise<string> {
  const key = await hmacKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, signedContent(id, timestamp, payload));
  return `v1,${bytesToBase64(mac)}`;
}

/**
 * Verifies a webhook and returns its parsed payload, or throws `WebhookVerificationError`
 * with a `code`: `webhook_headers_missing`, `webhook_timestamp_invalid`,
 * `webhook_timestamp_out_of_range`, `webhook_signature_invalid`, `webhook_secret_invalid`,
 * `webhook_payload_invalid`.
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  options: VerifyOptions = {},
): Promise<VerifiedWebhook<T>> {
  const id = header(headers, "webhook-id");
  const stamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !stamp || !signatures) {
    throw failure("webhook_headers_missing", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  if (!/^\d{1,12}$/.test(stamp)) throw failure("webhook_timestamp_invalid", "webhook-timestamp is not a number");
  const timestamp = Number(stamp);
  const now = (options.clock ?? (() => Date.now() / 1000))();
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) {
    throw failure("webhook_timestamp_out_of_range", "webhook-timestamp is too far from the current time");
  }
  const key = await hmacKey(secret, "verify");
  const content = signedContent(id, stamp, payload);
  for (const entry of signatures.split(" ")) {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || !signature) continue;
    let mac: Bytes;
    try {
      mac = base64ToBytes(signature);
    } catch {
      continue;
    }
    // Web Crypto's verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, mac, content)) {
      const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
      try {
        return { id, timestamp, payload: JSON.parse(text) as T };
      } catch {
        throw failure("webhook_payload_invalid", "the webhook body is not JSON");
      }
    }
  }
  throw failure("webhook_signature_invalid", "no webhook-signature matches the payload");
}
