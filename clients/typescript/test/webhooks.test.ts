import assert from "node:assert/strict";
import { test } from "node:test";
import { WebhookVerificationError, signWebhook, verifyWebhook } from "../src/index.js";

// The Standard Webhooks specification's published test vector.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const atVector = { clock: () => VECTOR.timestamp + 10 };

function headers(id: string, timestamp: number | string, signature: string): Record<string, string> {
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
}

test("the specification's test vector signs and verifies", async () => {
  assert.equal(await signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
  const verified = await verifyWebhook<{ test: number }>(
    VECTOR.secret,
    VECTOR.body,
    headers(VECTOR.id, VECTOR.timestamp, VECTOR.signature),
    atVector,
  );
  assert.deepEqual(verified, { id: VECTOR.id, timestamp: VECTOR.timestamp, payload: { test: 2432232314 } });
  // One of several signatures (a secret rotation) is enough; bytes verify like strings.
  const rotated = `v1,bm90IHRoaXMgb25l ${VECTOR.signature}`;
  const bytes = new TextEncoder().encode(VECTOR.body);
  assert.ok(await verifyWebhook(VECTOR.secret, bytes, new Headers(headers(VECTOR.id, VECTOR.timestamp, rotated)), atVector));
});

test("a tampered, stale or unsigned webhook is refused with a code", async () => {
  const refuse = (body: string, h: Record<string, string>, code: string, options = atVector) =>
    assert.rejects(verifyWebhook(VECTOR.secret, body, h, options), (error: unknown) => {
      assert.ok(error instanceof WebhookVerificationError);
      assert.equal(error.code, code);
      return true;
    });
  const good = headers(VECTOR.id, VECTOR.timestamp, VECTOR.signature);
  await refuse('{"test": 2432232315}', good, "webhook_signature_invalid");
  await refuse(VECTOR.body, { ...good, "webhook-id": "msg_other" }, "webhook_signature_invalid");
  await refuse(VECTOR.body, { ...good, "webhook-signature": "v2,whatever" }, "webhook_signature_invalid");
  await refuse(VECTOR.body, good, "webhook_timestamp_out_of_range", { clock: () => VECTOR.timestamp + 301 });
  await refuse(VECTOR.body, good, "webhook_timestamp_out_of_range", { clock: () => VECTOR.timestamp - 301 });
  await refuse(VECTOR.body, { ...good, "webhook-timestamp": "soon" }, "webhook_timestamp_invalid");
  const { "webhook-signature": _, ...unsigned } = good;
  await refuse(VECTOR.body, unsigned, "webhook_headers_missing");
  await assert.rejects(
    verifyWebhook("whsec_!!!", VECTOR.body, good, atVector),
    { code: "webhook_secret_invalid" },
  );
});

test("a webhook signed by Python's standardwebhooks, as plangate sends them, verifies", async () => {
  const message = JSON.parse(process.env.PLANGATE_TEST_WEBHOOK ?? "null") as {
    secret: string;
    id: string;
    timestamp: string;
    body: string;
    signature: string;
  } | null;
  assert.ok(message, "PLANGATE_TEST_WEBHOOK is set by tests/clients/test_typescript.py");
  const verified = await verifyWebhook<{ type: string; data: { amount: string } }>(
    message.secret,
    message.body,
    headers(message.id, message.timestamp, message.signature),
  );
  assert.equal(verified.payload.type, "product.granted");
  assert.equal(verified.payload.data.amount, "19.99");
  assert.equal(await signWebhook(message.secret, message.id, Number(message.timestamp), message.body), message.signature);
});
