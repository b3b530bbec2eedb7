import assert from "node:assert/strict";
import { test } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { EntitlementVerifier, InvalidTokenError, OfflineEntitlements, Plangate, type JWKS } from "../src/index.js";
import { baseUrl, controlUrl, serverClient, uniqueId } from "./server.js";

async function rotateSigningKey(): Promise<string> {
  const response = await fetch(`${controlUrl}/rotate-signing-key`, { method: "POST" });
  assert.equal(response.status, 200);
  return ((await response.json()) as { kid: string }).kid;
}

function countingJwks(counter: { fetches: number }): typeof fetch {
  return async (input, init) => {
    if (String(input).endsWith("/.well-known/jwks.json")) counter.fetches += 1;
    return fetch(input, init);
  };
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string };
  return header.kid;
}

test("offline has() answers from a verified token, and follows a key rotation", async () => {
  const plangate = serverClient();
  const id = uniqueId("dee");
  const dee = plangate.customer("user", id);
  await dee.grant({ product_id: "pro" });

  const counter = { fetches: 0 };
  const verifier = new EntitlementVerifier({
    jwks: `${baseUrl}/.well-known/jwks.json`,
    issuer: baseUrl,
    refreshIntervalMs: 0,
    fetch: countingJwks(counter),
  });
  const offline = new OfflineEntitlements(plangate, { verifier });
  assert.equal(await offline.has("user", id, { feature: "export" }), true);
  assert.equal(await offline.has("user", id, { feature: "sso" }), false);
  assert.equal(await offline.has("user", id, { plan: "pro" }), true);
  assert.equal(counter.fetches, 1);

  const before = (await dee.entitlementToken()).token;
  const newKid = await rotateSigningKey();
  const after = (await dee.entitlementToken()).token;
  assert.equal(kidOf(after), newKid);
  assert.notEqual(kidOf(before), newKid);

  // A token signed by the new key: the verifier has not seen its kid and refetches the JWKS.
  const rotated = await verifier.verify(after);
  assert.deepEqual([...rotated.features].sort(), ["analytics", "export"]);
  assert.equal(counter.fetches, 2);
  // The previous key stays published for a token lifetime: tokens signed just before verify.
  verifier.clear();
  assert.equal((await verifier.verify(before)).customerId, id);
  assert.equal(counter.fetches, 2);

  // Invalidate after a change: the next check reads a new token.
  await dee.cancel("pro", { immediately: true });
  assert.equal(await offline.has("user", id, { feature: "export" }), true, "still the cached token");
  offline.invalidate("user", id);
  assert.equal(await offline.has("user", id, { feature: "export" }), false);
});

test("a browser's offline has() uses its own customer-session token", async () => {
  const plangate = serverClient();
  const id = uniqueId("eve");
  await plangate.customer("user", id).grant({ product_id: "pro" });
  const { token } = await plangate.createCustomerSession({ user_id: id });
  const browser = new Plangate({ apiKey: token, baseUrl });
  const offline = new OfflineEntitlements(browser);
  assert.equal(await offline.has("user", id, { feature: "export" }), true);
});

test("tokens not signed by plangate are refused with a code; unknown kids refetch once per cool-down", async () => {
  const plangate = serverClient();
  const real = (await plangate.customer("user", uniqueId("fay")).entitlementToken()).token;
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const claims = { sub: "user/mallory", customer_type: "user", customer_id: "mallory", plans: ["pro"], features: ["sso"] };
  const forge = (kid: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid })
      .setIssuer(baseUrl)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);

  let fetches = 0;
  const verifier = new EntitlementVerifier({
    jwks: async () => {
      fetches += 1;
      return plangate.jwks();
    },
    issuer: baseUrl,
    refreshIntervalMs: 60_000,
  });
  assert.equal((await verifier.verify(real)).plans.has("free"), true);
  assert.equal(fetches, 1);
  for (const kid of ["made-up-1", "made-up-2", "made-up-3"]) {
    await assert.rejects(verifier.verify(await forge(kid)), (error: unknown) => {
      assert.ok(error instanceof InvalidTokenError);
      assert.equal(error.code, "token_key_unknown");
      return true;
    });
  }
  assert.equal(fetches, 1, "within the cool-down, unknown kids do not refetch the JWKS");

  // The real kid with a forged signature; a real token from another issuer; an expired one.
  await assert.rejects(verifier.verify(await forge(kidOf(real))), { code: "token_signature_invalid" });
  const elsewhere = new EntitlementVerifier({ jwks: await plangate.jwks(), issuer: "https://elsewhere.example" });
  await assert.rejects(elsewhere.verify(real), { code: "token_issuer_invalid" });
  const later = new EntitlementVerifier({
    jwks: await plangate.jwks(),
    issuer: baseUrl,
    clock: () => Date.now() / 1000 + 3600,
  });
  await assert.rejects(later.verify(real), { code: "token_expired" });
  await assert.rejects(verifier.verify("not.a.jwt"), { code: "token_malformed" });
});

test("a JWKS of another key type is ignored", async () => {
  const { publicKey } = await generateKeyPair("ES256");
  const jwks: JWKS = { keys: [{ ...(await exportJWK(publicKey)), kid: "ec" }] };
  const verifier = new EntitlementVerifier({ jwks, issuer: baseUrl });
  const { privateKey } = await generateKeyPair("ES256");
  const token = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "ec" }).sign(privateKey);
  await assert.rejects(verifier.verify(token), { code: "token_algorithm_invalid" });
});
