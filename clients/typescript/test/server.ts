/** The plangate server the tests run against, started by tests/clients/test_typescript.py. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Plangate, type ClientOptions, type Schemas } from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/clients/test_typescript.py`);
  return value;
}

export const baseUrl = required("PLANGATE_URL");
export const secretKey = required("PLANGATE_SECRET_KEY");
export const controlUrl = required("PLANGATE_TEST_CONTROL_URL");

export function serverClient(options: Partial<ClientOptions> = {}): Plangate {
  return new Plangate({ apiKey: secretKey, baseUrl, backoffMs: 10, ...options });
}

let counter = 0;
/** A customer id no other test uses. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Date.now().toString(36)}`;
}

/** A `fetch` that records each request's method, URL and headers before sending it. */
export function recordingFetch(
  seen: { method: string; url: string; headers: Headers }[],
  before?: (attempt: number, url: string) => Response | undefined,
  after?: (attempt: number, response: Response) => void,
): typeof fetch {
  return async (input, init) => {
    const url = String(input);
    seen.push({ method: init?.method ?? "GET", url, headers: new Headers(init?.headers) });
    const injected = before?.(seen.length, url);
    if (injected) return injected;
    const response = await fetch(input, init);
    after?.(seen.length, response);
    return response;
  };
}

/** Submits the sandbox's hosted checkout page as a customer would; returns the redirect. */
export async function payOnHostedPage(url: string, card = "4242424242424242"): Promise<string> {
  const form = new URLSearchParams({
    email: "cleo@example.com",
    name: "Cleo",
    card_number: card,
    card_expiry: "12 / 34",
    card_cvc: "123",
    three_d_secure: "complete",
  });
  const response = await fetch(url, { method: "POST", body: form, redirect: "manual" });
  assert.equal(response.status, 303, await response.text());
  return response.headers.get("location") ?? "";
}

/** Polls a checkout session as a success page does, until plangate has synced the payment. */
export async function waitUntilFulfilled(plangate: Plangate, sessionId: string): Promise<Schemas["CheckoutSessionOut"]> {
  const deadline = Date.now() + 30_000;
  let state = await plangate.getCheckoutSession(sessionId);
  while (!state.fulfilled && Date.now() < deadline) {
    await sleep(100);
    state = await plangate.getCheckoutSession(sessionId);
  }
  return state;
}
