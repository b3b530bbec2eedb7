/**
 * The cached offline check: `await offline.has(...)` once the customer's token is verified,
 * against a baseline of the least an async check costs (an async function answering from a
 * Set), in alternating rounds; the medians are reported. Goal: under 2 µs per check.
 *
 *   cd clients/typescript && npm run bench -- --rounds 7 --checks 1000000
 *
 * The token is signed here with a fresh Ed25519 key and served, with its JWKS, by an
 * in-process `fetch`: the network is used once per customer, never on the measured path.
 */
import { parseArgs } from "node:util";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { OfflineEntitlements, Plangate } from "../src/index.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "7" }, checks: { type: "string", default: "1000000" } },
});
const rounds = Number(values.rounds);
const checks = Number(values.checks);
const issuer = "http://plangate.bench";

const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", use: "sig", alg: "EdDSA" }] };
const token = await new SignJWT({
  sub: "user/u1",
  customer_type: "user",
  customer_id: "u1",
  plans: ["pro"],
  features: ["analytics", "export"],
})
  .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
  .setIssuer(issuer)
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(privateKey);

const served: typeof fetch = async (input) => {
  const body = String(input).includes("jwks.json")
    ? jwks
    : { token, expires_at: new Date(Date.now() + 3_600_000).toISOString(), customer_type: "user", customer_id: "u1" };
  return new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
};
const offline = new OfflineEntitlements(new Plangate({ apiKey: "sk_bench", baseUrl: issuer, fetch: served }));
if (!(await offline.has("user", "u1", { feature: "export" }))) throw new Error("the token does not grant export");

const features = new Set(["analytics", "export"]);
async function baselineHas(feature: string): Promise<boolean> {
  return features.has(feature);
}

async function time(check: () => Promise<boolean>): Promise<number> {
  let allowed = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < checks; i++) if (await check()) allowed++;
  const elapsed = Number(process.hrtime.bigint() - start);
  if (allowed !== checks) throw new Error("a check answered no");
  return elapsed / checks;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cached: number[] = [];
const baseline: number[] = [];
await time(() => offline.has("user", "u1", { feature: "export" })); // warm-up
await time(() => baselineHas("export"));
for (let round = 0; round < rounds; round++) {
  cached.push(await time(() => offline.has("user", "u1", { feature: "export" })));
  baseline.push(await time(() => baselineHas("export")));
}
// For scale: a first verification (Ed25519 signature and claims), the cache cleared each time.
const verifications = Math.max(1, Math.floor(checks / 500));
const verifyStart = process.hrtime.bigint();
for (let i = 0; i < verifications; i++) {
  offline.verifier.clear();
  await offline.verifier.verify(token);
}
const firstVerifyNs = Number(process.hrtime.bigint() - verifyStart) / verifications;

const result = {
  node: process.version,
  rounds,
  checks_per_round: checks,
  cached_has_ns: Math.round(median(cached)),
  baseline_ns: Math.round(median(baseline)),
  ratio: Number((median(cached) / median(baseline)).toFixed(2)),
  goal_met: median(cached) < 2000,
  first_verification_ns: Math.round(firstVerifyNs),
};
console.log(JSON.stringify(result));
