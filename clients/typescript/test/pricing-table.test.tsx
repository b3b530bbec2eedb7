import { waitFor } from "./dom.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { flushSync } from "react-dom";
import { createRoot, type Root } from "react-dom/client";
import type { ReactNode } from "react";
import { Plangate, type Schemas } from "../src/index.js";
import { PRICING_TABLE_CSS, PlangateProvider, PricingTable, usePlangate } from "../src/react.js";
import { baseUrl, controlUrl, payOnHostedPage, serverClient, uniqueId, waitUntilFulfilled } from "./server.js";

function mount(node: ReactNode): { root: Root; container: HTMLElement } {
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  flushSync(() => root.render(node));
  return { root, container };
}

const plan = (container: HTMLElement, id: string) => container.querySelector<HTMLElement>(`li[data-plan="${id}"]`);
const pressed = (container: HTMLElement) =>
  [...container.querySelectorAll('.toggle button[aria-pressed="true"]')].map((b) => b.textContent);
const click = (element: Element | null | undefined) => {
  assert.ok(element, "nothing to click");
  element.dispatchEvent(new window.MouseEvent("click", { bubbles: true }));
};
const button = (container: HTMLElement, text: string) =>
  [...container.querySelectorAll("button")].find((b) => b.textContent === text && !b.disabled) ?? null;

test("PricingTable: the public price list, a monthly/yearly toggle, sign-in links without a customer", async () => {
  const expected: Schemas["PricingOut"] = await serverClient().getPricing("plan");
  const pro = expected.plans.find((p) => p.id === "pro")!;
  const inDefault = <T extends { currency: string }>(list: T[]) => list.find((a) => a.currency === expected.default_currency)!;
  const proMonthly = pro.prices.find((p) => p.interval === "month")!;
  const proYearly = pro.prices.find((p) => p.interval === "year")!;
  // The route is public: a client without a customer reads it with any key.
  const anonymous = new Plangate({ apiKey: "public", baseUrl });
  const { root, container } = mount(<PricingTable client={anonymous} line="plan" signInUrl="/sign-in" />);
  assert.match(container.textContent ?? "", /Loading prices/);

  await waitFor(() => plan(container, "pro"), "the plans");
  assert.deepEqual(pressed(container), ["Monthly", "USD"]);
  assert.equal(plan(container, "pro")!.querySelector(".amount")!.textContent, inDefault(proMonthly.amounts).display);
  assert.equal(plan(container, "free")!.querySelector(".amount")!.textContent, "Free");
  assert.equal(plan(container, "enterprise"), null, "Enterprise is server-only: never listed");
  assert.equal(container.querySelector(".current"), null, "no customer, no current plan");
  assert.equal(plan(container, "pro")!.querySelector("a.buy")!.getAttribute("href"), "/sign-in");
  assert.equal(plan(container, "pro")!.querySelector("a.buy")!.textContent, "Sign in to choose Pro");
  const items = pro.items.map((i) => i.text);
  for (const text of items) assert.ok(plan(container, "pro")!.textContent!.includes(text), text);

  click(button(container, "Yearly"));
  await waitFor(() => (pressed(container)[0] === "Yearly" ? true : null), "the yearly prices");
  assert.deepEqual(pressed(container), ["Yearly", "USD"]);
  assert.equal(plan(container, "pro")!.querySelector(".amount")!.textContent, inDefault(proYearly.amounts).display);
  const saving = inDefault(proYearly.savings);
  assert.equal(plan(container, "pro")!.querySelector(".saving")!.textContent, `Save ${saving.display} (${saving.percent}%) a year`);
  // Themed by the hosted page's custom properties.
  assert.match(container.querySelector("style")!.textContent!, /var\(--pg-accent, #4f46e5\)/);
  root.unmount();

  const missing = mount(<PricingTable client={anonymous} line="no-such-line" unstyled />);
  await waitFor(() => missing.container.querySelector('[role="alert"]'), "the missing line's error");
  assert.equal(missing.container.textContent, "There is no such pricing table.");
  assert.equal(missing.container.querySelector("style"), null);
  assert.ok(PRICING_TABLE_CSS.includes("--pg-on-accent"));
  missing.root.unmount();
});

let refreshAll: (() => void) | undefined;
function Refresher() {
  refreshAll = usePlangate().refresh;
  return null;
}

/** A second plan on sale in the example's line, so that a Pro customer has one to switch to. */
async function addStudioPlan(server: Plangate): Promise<void> {
  const { catalog } = await server.getCatalog();
  const products = catalog["products"] as Record<string, unknown>;
  if ("studio" in products) return;
  products["studio"] = {
    name: "Studio",
    customer_type: "user",
    line: "plan",
    features: ["analytics", "export"],
    prices: { monthly: { amounts: { usd: "49.00", eur: "45.00" }, interval: "month" } },
  };
  await server.applyCatalog(catalog);
  // Stripe gets its price as an operator's `plangate catalog push` would give it.
  const pushed = await fetch(`${controlUrl}/push-catalog`, { method: "POST" });
  assert.equal(pushed.status, 200);
}

test("PricingTable: marks the customer's plan, buys Pro through checkout, then switches to Studio", async () => {
  const server = serverClient();
  await addStudioPlan(server);
  const userId = uniqueId("hal");
  const { token } = await server.createCustomerSession({ user_id: userId });
  const browser = new Plangate({ apiKey: token, baseUrl });
  const checkouts: { url: string; id: string }[] = [];
  const switches: Schemas["PlanChangeOut"][] = [];
  const { root, container } = mount(
    <PlangateProvider client={browser} customerId={userId}>
      <Refresher />
      <PricingTable
        line="plan"
        theme="dark"
        successUrl={`${baseUrl}/thanks`}
        onCheckout={(url, session) => checkouts.push({ url, id: session.id })}
        onSwitch={(change) => switches.push(change)}
      />
    </PlangateProvider>,
  );

  await waitFor(() => (plan(container, "free")?.classList.contains("current") ? true : null), "Free as the current plan");
  assert.equal(plan(container, "free")!.querySelector(".badge")!.textContent, "Current plan");
  assert.equal(container.querySelector(".plangate-pricing")!.getAttribute("data-theme"), "dark");
  click(await waitFor(() => button(container, "Start free trial"), "Pro's trial button"));
  const checkout = await waitFor(() => checkouts[0], "the checkout URL");
  await payOnHostedPage(checkout.url);
  assert.equal((await waitUntilFulfilled(server, checkout.id)).fulfilled, true);

  refreshAll?.();
  await waitFor(() => (plan(container, "pro")?.classList.contains("current") ? true : null), "Pro as the current plan");
  assert.equal(plan(container, "free")!.classList.contains("current"), false);
  assert.equal(plan(container, "pro")!.querySelector(".owned")!.textContent, "You are on this plan.");

  click(await waitFor(() => button(container, "Switch to Studio"), "the switch to Studio"));
  const change = await waitFor(() => switches[0], "the switch");
  assert.equal(change.from_product_id, "pro");
  assert.equal(change.to_product_id, "studio");
  assert.equal(change.change, "upgrade");
  // The switch lands when plangate has synced Stripe's events: re-read as a page would poll.
  const polling = setInterval(() => refreshAll?.(), 250);
  try {
    await waitFor(() => (plan(container, "studio")?.classList.contains("current") ? true : null), "Studio as the current plan");
  } finally {
    clearInterval(polling);
  }
  assert.equal(plan(container, "pro")!.classList.contains("current"), false);
  assert.equal(checkouts.length, 1, "a switch starts no checkout");
  root.unmount();
});
