// The official Node SDK (npm `stripe`) through the sandbox's main flows. Run by
// tests/sandbox/test_node_sdk.py with SANDBOX_URL set; prints one JSON line per check and
// exits non-zero at the first failure.
import assert from 'node:assert/strict';
import http from 'node:http';
import Stripe from 'stripe';

const base = new URL(process.env.SANDBOX_URL);
const stripe = new Stripe('sk_test_node', {
  host: base.hostname,
  port: Number(base.port),
  protocol: base.protocol.replace(':', ''),
  maxNetworkRetries: 0,
  telemetry: false,
});

const checks = [];
async function check(name, fn) {
  await fn();
  checks.push(name);
  console.log(JSON.stringify({check: name}));
}

// A webhook endpoint: records raw bodies and their signatures.
const received = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    received.push({body: Buffer.concat(chunks).toString('utf8'),
      signature: req.headers['stripe-signature']});
    res.writeHead(200).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));

async function delivered(type) {
  for (let i = 0; i < 200; i++) {
    const found = received.find((r) => JSON.parse(r.body).type === type);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${type} delivered`);
}

try {
  const endpoint = await stripe.webhookEndpoints.create({
    url: `http://127.0.0.1:${receiver.address().port}/webhooks`, enabled_events: ['*']});
  const customer = await stripe.customers.create({email: 'node@example.com', name: 'Node'});
  const product = await stripe.products.create({name: 'Node Pro'});
  const price = await stripe.prices.create({product: product.id, currency: 'usd',
    unit_amount: 1500, recurring: {interval: 'month'}});

  await check('checkout', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription', customer: customer.id,
      line_items: [{price: price.id, quantity: 1}],
      success_url: 'https://app.test/ok?cs={CHECKOUT_SESSION_ID}'});
    // The sandbox's test helper: the hosted page's form, posted as a browser would.
    const paid = await fetch(session.url, {method: 'POST', redirect: 'manual',
      body: new URLSearchParams({email: 'node@example.com', name: 'Node',
        card_number: '4242 4242 4242 4242', card_expiry: '12 / 34', card_cvc: '123',
        three_d_secure: 'complete'})});
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), `https://app.test/ok?cs=${session.id}`);
    const done = await stripe.checkout.sessions.retrieve(session.id, {expand: ['subscription']});
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.subscription.status, 'active');
  });

  await check('webhook signature', async () => {
    const {body, signature} = await delivered('checkout.session.completed');
    const event = stripe.webhooks.constructEvent(body, signature, endpoint.secret);
    assert.equal(event.type, 'checkout.session.completed');
    assert.equal(event.data.object.customer, customer.id);
    assert.throws(() => stripe.webhooks.constructEvent(body.replace('complete', 'COMPLETE'),
      signature, endpoint.secret), Stripe.errors.StripeSignatureVerificationError);
  });

  await check('test clock renewal', async () => {
    const start = Math.floor(Date.now() / 1000);
    const clock = await stripe.testHelpers.testClocks.create({frozen_time: start});
    const onClock = await stripe.customers.create({test_clock: clock.id,
      payment_method: 'pm_card_visa',
      invoice_settings: {default_payment_method: 'pm_card_visa'}});
    const sub = await stripe.subscriptions.create({customer: onClock.id,
      items: [{price: price.id}]});
    const end = sub.items.data[0].current_period_end;
    // A renewal invoice stays draft for an hour, then is finalized and charged.
    const advanced = await stripe.testHelpers.testClocks.advance(clock.id,
      {frozen_time: end + 2 * 3600});
    assert.equal(advanced.status, 'ready');
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    assert.equal(renewed.status, 'active');
    assert.equal(renewed.items.data[0].current_period_start, end);
    const invoices = await stripe.invoices.list({customer: onClock.id});
    assert.deepEqual(invoices.data.map((i) => [i.billing_reason, i.status]),
      [['subscription_cycle', 'paid'], ['subscription_create', 'paid']]);
  });

  await check('refund', async () => {
    const pi = await stripe.paymentIntents.create({amount: 2500, currency: 'usd',
      customer: customer.id, payment_method: 'pm_card_visa', confirm: true});
    assert.equal(pi.status, 'succeeded');
    const refund = await stripe.refunds.create({payment_intent: pi.id, amount: 1000});
    assert.equal(refund.status, 'succeeded');
    const charge = await stripe.charges.retrieve(pi.latest_charge);
    assert.equal(charge.amount_refunded, 1000);
    await delivered('charge.refunded');
  });

  await check('auto-pagination', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push((await stripe.customers.create({email: `page${i}@example.com`})).id);
    }
    const seen = [];
    for await (const c of stripe.customers.list({limit: 2})) seen.push(c.id);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(made.every((id) => seen.includes(id)));
    const all = await stripe.customers.list({limit: 3}).autoPagingToArray({limit: 100});
    assert.deepEqual(all.map((c) => c.id), seen);
  });

  await check('card declined', async () => {
    await assert.rejects(stripe.paymentIntents.create({amount: 900, currency: 'usd',
      payment_method: 'pm_card_chargeDeclined', confirm: true}), (err) => {
      assert.ok(err instanceof Stripe.errors.StripeCardError);
      assert.equal(err.code, 'card_declined');
      assert.equal(err.decline_code, 'generic_decline');
      assert.equal(err.statusCode, 402);
      return true;
    });
  });

  await check('preview and entitlements', async () => {
    const feature = await stripe.entitlements.features.create({name: 'Reports',
      lookup_key: 'reports'});
    await stripe.products.createFeature(product.id, {entitlement_feature: feature.id});
    const buyer = await stripe.customers.create({payment_method: 'pm_card_visa',
      invoice_settings: {default_payment_method: 'pm_card_visa'}});
    const preview = await stripe.invoices.createPreview({customer: buyer.id,
      subscription_details: {items: [{price: price.id, quantity: 2}]}});
    assert.equal(preview.amount_due, 3000);
    const sub = await stripe.subscriptions.create({customer: buyer.id,
      items: [{price: price.id, quantity: 2}]});
    const first = await stripe.invoices.retrieve(sub.latest_invoice);
    assert.equal(first.amount_paid, preview.amount_due);
    const active = await stripe.entitlements.activeEntitlements.list({customer: buyer.id});
    assert.deepEqual(active.data.map((e) => e.lookup_key), ['reports']);
  });

  console.log(JSON.stringify({ok: checks}));
} finally {
  receiver.close();
}
