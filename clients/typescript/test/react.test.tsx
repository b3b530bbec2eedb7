import { waitFor } from "./dom.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { flushSync } from "react-dom";
import { createRoot } from "react-dom/client";
import { Plangate } from "../src/index.js";
import {
  CheckoutButton,
  PlangateProvider,
  Protect,
  useEntitlements,
  useItem,
  useProducts,
} from "../src/react.js";
import { baseUrl, payOnHostedPage, serverClient, uniqueId, waitUntilFulfilled } from "./server.js";

function Credits() {
  const { quantity, isLoading } = useItem("credits");
  return <p id="credits">{isLoading ? "…" : quantity}</p>;
}

function Owned() {
  const { data } = useProducts();
  return <p id="owned">{data === undefined ? "…" : data.map((p) => p.product_id).join(",") || "nothing"}</p>;
}

let refreshAll: (() => void) | undefined;
function Plan() {
  const { has, refresh } = useEntitlements();
  refreshAll = refresh;
  return <p id="plan">{has({ plan: "pro" }) ? "pro" : "not pro"}</p>;
}

const text = (id: string) => document.getElementById(id)?.textContent ?? null;

test("React: hooks read the signed-in customer; Protect opens after a checkout bought Pro", async () => {
  const server = serverClient();
  const userId = uniqueId("gil");
  const { token } = await server.createCustomerSession({ user_id: userId });
  const browser = new Plangate({ apiKey: token, baseUrl });
  const checkouts: { url: string; id: string }[] = [];

  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  // Rendered synchronously: the first paint, before any answer from plangate, is checked.
  flushSync(() =>
    root.render(
    <PlangateProvider client={browser} customerId={userId}>
      <Protect feature="export" fallback={<p id="upsell">Upgrade to export</p>} loading={<p id="loading">…</p>}>
        <p id="export">Export</p>
      </Protect>
      <Credits />
      <Owned />
      <Plan />
      <CheckoutButton
        id="buy"
        productId="pro"
        successUrl={`${baseUrl}/thanks`}
        onCheckout={(url, session) => checkouts.push({ url, id: session.id })}
      >
        Buy Pro
      </CheckoutButton>
    </PlangateProvider>,
    ),
  );
  assert.ok(document.getElementById("loading"), "Protect shows its loading state first");

  await waitFor(() => document.getElementById("upsell"), "the fallback of a free customer");
  assert.equal(document.getElementById("export"), null);
  await waitFor(() => (text("credits") === "100" ? true : null), "the free credits");
  const ownedBefore = await waitFor(() => (text("owned") === "…" ? null : text("owned")), "the products");
  assert.ok(!ownedBefore.split(",").includes("pro"));
  assert.equal(text("plan"), "not pro");

  document.getElementById("buy")!.dispatchEvent(new window.MouseEvent("click", { bubbles: true }));
  const checkout = await waitFor(() => checkouts[0], "the checkout URL");
  await payOnHostedPage(checkout.url);
  assert.equal((await waitUntilFulfilled(server, checkout.id)).fulfilled, true);

  refreshAll?.();
  await waitFor(() => document.getElementById("export"), "the protected content after buying Pro");
  assert.equal(document.getElementById("upsell"), null);
  await waitFor(() => (text("plan") === "pro" ? true : null), "the plan");
  await waitFor(() => (text("owned")?.split(",").includes("pro") ? true : null), "Pro among the products");
  await waitFor(() => (Number(text("credits")) >= 5000 ? true : null), "Pro's credits");
  root.unmount();
});
