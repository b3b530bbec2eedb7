import assert from "node:assert/strict";
import { test } from "node:test";
import { baseUrl, payOnHostedPage, serverClient, uniqueId, waitUntilFulfilled } from "./server.js";

test("a checkout paid in the sandbox grants Pro once Stripe's webhooks are synced", async () => {
  const plangate = serverClient();
  const cleo = plangate.customer("user", uniqueId("cleo"));
  const session = await cleo.checkout({
    product_id: "pro",
    price_id: "monthly",
    success_url: `${baseUrl}/thanks?session_id={CHECKOUT_SESSION_ID}`,
  });
  assert.match(session.url, /^http/);
  const open = await plangate.getCheckoutSession(session.id);
  assert.equal(open.status, "open");
  assert.equal(open.fulfilled, false);
  assert.equal(await cleo.has({ feature: "export" }), false);

  const redirect = await payOnHostedPage(session.url);
  assert.ok(redirect.startsWith(`${baseUrl}/thanks`), redirect);

  // The success page polls: the redirect grants nothing, the sync does.
  const state = await waitUntilFulfilled(plangate, session.id);
  assert.equal(state.status, "complete");
  assert.equal(state.fulfilled, true);
  assert.equal(await cleo.has({ feature: "export" }), true);
  const pro = (await cleo.products()).data.find((p) => p.product_id === "pro");
  assert.equal(pro?.type, "subscription");
  assert.equal(pro?.status, "trialing", "Pro starts with its 14-day trial");
  assert.equal(pro?.grants_access, true);
  assert.ok(pro?.trial_end);

  const billing = await cleo.billing();
  assert.equal(billing.has_payment_customer, true);
  assert.equal(billing.default_payment_method?.last4, "4242");
  const invoices = [];
  for await (const invoice of cleo.allInvoices(1)) invoices.push(invoice);
  assert.equal(invoices.length, 1);
  // The trial's invoice. Money: integer minor units and the decimal string, never a float.
  assert.equal(invoices[0]?.amount_paid, 0);
  assert.equal(invoices[0]?.amount_paid_decimal, "0.00");
  assert.equal(invoices[0]?.currency, "usd");

  const cancelled = await cleo.cancel("pro");
  assert.equal(cancelled.cancellation?.cancel_at_period_end, true);
});
