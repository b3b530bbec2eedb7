"use client";
import { Plangate } from "@plangate/client";
import { CheckoutButton, PlangateProvider, PricingTable, Protect, useItem } from "@plangate/client/react";
import { useMemo } from "react";

function Credits() {
  const { quantity, isLoading } = useItem("credits");
  return (
    <p>
      Credits: <strong data-testid="credits">{isLoading ? "…" : quantity}</strong>
    </p>
  );
}

/** The browser's side: every call goes through `/billing` (app/billing, passed on to plangate) with the
 * signed-in user's customer-session token, which can act on this user only. */
export function Billing({ token, userId, successUrl }: { token: string; userId: string; successUrl: string }) {
  const client = useMemo(() => new Plangate({ apiKey: token, baseUrl: "/billing" }), [token]);
  return (
    <PlangateProvider client={client} customerId={userId}>
      <section className="card" aria-label="Your plan">
        <Credits />
        <Protect plan="pro" fallback={<CheckoutButton productId="pro" successUrl={successUrl}>Buy Pro</CheckoutButton>}>
          <p>
            You are on Pro: <a href="/reports">open the reports</a>.
          </p>
        </Protect>
      </section>
      <PricingTable line="plan" successUrl={successUrl} />
    </PlangateProvider>
  );
}
