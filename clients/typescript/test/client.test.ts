import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AuthenticationError,
  InsufficientQuantityError,
  NotFoundError,
  PermissionDeniedError,
  Plangate,
  APIConnectionError,
  IdempotencyKeyReusedError,
} from "../src/index.js";
import { baseUrl, recordingFetch, serverClient, uniqueId } from "./server.js";

test("typed calls: upsert, entitlements, check, grant and products", async () => {
  const plangate = serverClient();
  const ada = plangate.customer("user", uniqueId("ada"));
  const customer = await ada.upsert({ email: "ada@example.com", name: "Ada" });
  assert.equal(customer.email, "ada@example.com");

  const before = await ada.entitlements();
  assert.deepEqual(before.plans, ["free"]);
  assert.equal(before.items.credits?.quantity, 100);
  assert.equal(await ada.has({ feature: "export" }), false);

  const granted = await ada.grant({ product_id: "pro" });
  assert.equal(granted.product_id, "pro");
  assert.ok((await ada.products()).data.some((p) => p.product_id === "pro" && p.type === "grant"));
  const check = await ada.check({ feature: "export" });
  assert.equal(check.allowed, true);
  assert.equal(await ada.has({ plan: "pro" }), true);
  const credits = (await ada.entitlements()).items.credits?.quantity ?? 0;
  assert.ok(credits >= 5000, `Pro's 5000 credits, got ${credits}`);
  assert.equal(await ada.has({ item: "credits", quantity: credits }), true);
  assert.equal(await ada.has({ item: "credits", quantity: credits + 1 }), false);

  const catalog = await plangate.getCatalog();
  assert.ok(catalog.version);
});

test("an error carries its class, code, status and request id", async () => {
  const plangate = serverClient();
  const ada = plangate.customer("user", uniqueId("ada"));
  await assert.rejects(ada.grant({ product_id: "no_such_product" }), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, "product_not_found");
    assert.equal(error.status, 404);
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.requestId ?? "", /\S/);
    return true;
  });
  const stranger = new Plangate({ apiKey: "sk_not_a_key", baseUrl });
  await assert.rejects(stranger.customer("user", "x").entitlements(), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "secret_key_invalid");
    return true;
  });
});

test("consume takes credits atomically, and nothing when the balance is short", async () => {
  const ada = serverClient().customer("user", uniqueId("ada"));
  const after = await ada.consume("credits", 30);
  assert.equal(after.quantity, 70);
  await assert.rejects(ada.consume("credits", 71), (error: unknown) => {
    assert.ok(error instanceof InsufficientQuantityError);
    assert.equal(error.code, "insufficient_quantity");
    assert.equal(error.status, 409);
    return true;
  });
  assert.equal((await ada.item("credits")).quantity, 70);
  const added = await ada.changeItem("credits", { delta: 5, description: "goodwill" });
  assert.equal(added.quantity, 75);
});

test("a retry after a lost response reuses the Idempotency-Key: consumed once", async () => {
  const seen: { method: string; url: string; headers: Headers }[] = [];
  let lost = 0;
  const fetchLosingFirstAnswer = recordingFetch(seen, undefined, (attempt) => {
    if (attempt === 1) {
      lost += 1;
      throw new TypeError("fetch failed: connection reset after the request was sent");
    }
  });
  const id = uniqueId("ada");
  const ada = serverClient({ fetch: fetchLosingFirstAnswer }).customer("user", id);
  const result = await ada.consume("credits", 10);
  assert.equal(lost, 1);
  assert.equal(seen.length, 2);
  const keys = seen.map((s) => s.headers.get("idempotency-key"));
  assert.ok(keys[0]);
  assert.equal(keys[0], keys[1]);
  assert.equal(result.quantity, 90);
  assert.equal((await serverClient().customer("user", id).item("credits")).quantity, 90);

  // The same key with another body is refused, and changes nothing.
  await assert.rejects(
    serverClient().customer("user", id).consume("credits", 20, { idempotencyKey: keys[0]! }),
    IdempotencyKeyReusedError,
  );
  assert.equal((await serverClient().customer("user", id).item("credits")).quantity, 90);
});

test("429 and 5xx are retried, honouring Retry-After; 4xx are not", async () => {
  const seen: { method: string; url: string; headers: Headers }[] = [];
  const busyThenOk = recordingFetch(seen, (attempt) =>
    attempt === 1
      ? new Response('{"error": {"type": "rate_limit_error", "code": "rate_limited", "message": "slow down"}}', {
          status: 429,
          headers: { "Retry-After": "0" },
        })
      : attempt === 2
        ? new Response("bad gateway", { status: 502 })
        : undefined,
  );
  const id = uniqueId("ada");
  const result = await serverClient({ fetch: busyThenOk }).customer("user", id).consume("credits", 1);
  assert.equal(result.quantity, 99);
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen.map((s) => s.headers.get("idempotency-key"))).size, 1);

  const notFound: typeof seen = [];
  await assert.rejects(
    serverClient({ fetch: recordingFetch(notFound) }).customer("user", id).grant({ product_id: "nope" }),
    NotFoundError,
  );
  assert.equal(notFound.length, 1);
});

test("an unreachable server is an APIConnectionError after the retries", async () => {
  const seen: { method: string; url: string; headers: Headers }[] = [];
  const client = new Plangate({
    apiKey: "sk_x",
    baseUrl: "http://127.0.0.1:9",
    backoffMs: 1,
    maxRetries: 2,
    fetch: recordingFetch(seen),
  });
  await assert.rejects(client.customer("user", "u").entitlements(), (error: unknown) => {
    assert.ok(error instanceof APIConnectionError);
    assert.equal(error.code, "connection_error");
    return true;
  });
  assert.equal(seen.length, 3);
});

test("a browser client with a customer-session token acts on itself only", async () => {
  const plangate = serverClient();
  const userId = uniqueId("bea");
  const teamId = uniqueId("team");
  await plangate.customer("team", teamId).upsert({ name: "Bea's team" });
  const team = plangate.team(teamId);
  await team.setMember(userId, "admin");
  assert.deepEqual(
    (await team.members()).data.map((m) => [m.user_id, m.role]),
    [[userId, "admin"]],
  );
  const session = await plangate.createCustomerSession({ user_id: userId, teams: { [teamId]: "admin" } });
  assert.equal(session.user_id, userId);

  let calls = 0;
  const browser = new Plangate({
    apiKey: () => {
      calls += 1;
      return session.token;
    },
    baseUrl,
  });
  const own = await browser.customer("user", userId).entitlements();
  assert.equal(own.customer_id, userId);
  assert.equal(calls, 1);
  assert.equal((await browser.customer("team", teamId).entitlements()).customer_id, teamId);
  await assert.rejects(browser.customer("user", uniqueId("other")).entitlements(), PermissionDeniedError);
  await assert.rejects(browser.customer("user", userId).grant({ product_id: "pro" }), (error: unknown) => {
    assert.ok(error instanceof PermissionDeniedError);
    assert.equal(error.status, 403);
    assert.match(error.code, /\w+/);
    return true;
  });
  await team.removeMember(userId);
  assert.deepEqual((await team.members()).data, []);
});

test("a DELETE is not retried after a lost response: it may have acted", async () => {
  const id = uniqueId("ada");
  await serverClient().customer("user", id).grant({ product_id: "pro" });
  const seen: { method: string; url: string; headers: Headers }[] = [];
  const losingAnswers = recordingFetch(seen, undefined, () => {
    throw new TypeError("fetch failed: connection reset after the request was sent");
  });
  await assert.rejects(
    serverClient({ fetch: losingAnswers }).customer("user", id).cancel("pro"),
    APIConnectionError,
  );
  assert.deepEqual(seen.map((s) => s.method), ["DELETE"]);
  // It did act: the grant is gone.
  const products = (await serverClient().customer("user", id).products()).data;
  assert.ok(!products.some((p) => p.product_id === "pro"));
});
