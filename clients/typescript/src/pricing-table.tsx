/**
 * `<PricingTable line="plan" />`: a product line's plans as the hosted pricing page shows them,
 * read from the public price list (`GET /v1/pricing/{line}`). Under a `<PlangateProvider>` it
 * marks the customer's current plan, and its buttons start a checkout (a first purchase) or
 * switch plans (a customer who already pays for one of the line). Styled with the hosted
 * page's CSS custom properties (`--pg-accent`, `--pg-on-accent`, `--pg-font`, `--pg-card`,
 * `--pg-text`, `--pg-muted`, `--pg-border`, `--pg-good`, `--pg-bad`).
 */
import { useEffect, useState, type ReactNode } from "react";
import type { Plangate, Schemas } from "./client.js";
import { useOptionalPlangate } from "./react.js";

type Pricing = Schemas["PricingOut"];
type PricingPlan = Schemas["PricingPlan"];
type PricingPrice = Schemas["PricingPrice"];

/** The table's stylesheet, for apps whose CSP refuses inline styles (pass `unstyled` and serve
 * this text from a file). */
export const PRICING_TABLE_CSS = `
.plangate-pricing { font-family: var(--pg-font, system-ui, sans-serif); line-height: 1.5;
  color: var(--pg-text, #1d2330); --pgt-accent: var(--pg-accent, #4f46e5);
  --pgt-on-accent: var(--pg-on-accent, #ffffff); --pgt-card: var(--pg-card, #ffffff);
  --pgt-muted: var(--pg-muted, #4a5263); --pgt-border: var(--pg-border, #d8dce4);
  --pgt-good: var(--pg-good, #0f6b3a); --pgt-bad: var(--pg-bad, #a11a1a); }
.plangate-pricing[data-theme="dark"] { color: var(--pg-text, #eef0f4); --pgt-card: var(--pg-card, #1b2029);
  --pgt-muted: var(--pg-muted, #b5bccb); --pgt-border: var(--pg-border, #353c4a);
  --pgt-good: var(--pg-good, #6ee7a8); --pgt-bad: var(--pg-bad, #ffb4b4); }
.plangate-pricing * { box-sizing: border-box; }
.plangate-pricing .choices { display: flex; flex-wrap: wrap; justify-content: center; gap: 1rem; margin: 0 0 1.25rem; }
.plangate-pricing .toggle { display: inline-flex; gap: 4px; padding: 4px; border: 1px solid var(--pgt-border);
  border-radius: 999px; background: var(--pgt-card); }
.plangate-pricing .toggle button { border: 0; background: transparent; color: inherit; font: inherit;
  font-weight: 500; padding: .4rem 1rem; border-radius: 999px; cursor: pointer; }
.plangate-pricing .toggle button[aria-pressed="true"] { background: var(--pgt-accent); color: var(--pgt-on-accent); }
.plangate-pricing button:focus-visible, .plangate-pricing a:focus-visible { outline: 3px solid var(--pgt-accent); outline-offset: 2px; }
.plangate-pricing ul.plans { list-style: none; margin: 0; padding: 0; display: grid; gap: 1.25rem;
  grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); }
.plangate-pricing article { height: 100%; display: flex; flex-direction: column; background: var(--pgt-card);
  border: 1px solid var(--pgt-border); border-radius: 12px; padding: 1.5rem; }
.plangate-pricing .current article { border: 2px solid var(--pgt-accent); }
.plangate-pricing h3 { margin: 0; font-size: 1.25rem; }
.plangate-pricing .badge { align-self: flex-start; margin: .5rem 0 0; padding: .1rem .6rem; border-radius: 999px;
  background: var(--pgt-accent); color: var(--pgt-on-accent); font-size: .85rem; font-weight: 600; }
.plangate-pricing .description, .plangate-pricing .per, .plangate-pricing .trial, .plangate-pricing .owned { color: var(--pgt-muted); }
.plangate-pricing .description { margin: .5rem 0 0; }
.plangate-pricing .price { margin: 1rem 0 0; }
.plangate-pricing .amount { font-size: 2rem; font-weight: 700; }
.plangate-pricing .saving { margin: .25rem 0 0; color: var(--pgt-good); font-weight: 600; }
.plangate-pricing .trial { margin: .25rem 0 0; }
.plangate-pricing ul.includes { margin: 1rem 0; padding-left: 1.2rem; flex: 1; }
.plangate-pricing .buy { display: block; width: 100%; padding: .7rem 1rem; border: 0; border-radius: 8px;
  font: inherit; font-weight: 600; text-align: center; text-decoration: none;
  background: var(--pgt-accent); color: var(--pgt-on-accent); cursor: pointer; }
.plangate-pricing .buy[disabled] { opacity: .6; cursor: progress; }
.plangate-pricing .status { text-align: center; color: var(--pgt-muted); }
.plangate-pricing .error { text-align: center; color: var(--pgt-bad); }
`;

const LABELS: Record<string, string> = { day: "Daily", week: "Weekly", month: "Monthly", year: "Yearly", once: "One-time" };
const label = (interval: string) => LABELS[interval] ?? `Every ${interval}`;
const per = (interval: string) =>
  interval === "once" ? "once" : interval.includes(" ") ? `every ${interval}` : `per ${interval}`;

export interface PricingTableProps {
  /** The product line, e.g. `"plan"`. */
  line: string;
  /** Default: the provider's client. Outside a provider the table only shows prices. */
  client?: Plangate;
  /** The billing period shown first (default: `month` when offered). */
  interval?: string;
  /** The currency shown first (default: the line's). */
  currency?: string;
  successUrl?: string;
  cancelUrl?: string;
  /** Without a signed-in customer, where "Sign in to choose" leads. */
  signInUrl?: string;
  /** Where a checkout's URL goes (default: the browser navigates to it). */
  onCheckout?: (url: string, session: Schemas["CheckoutSessionCreated"]) => void;
  /** After a switch between plans of the line (the provider's hooks are refreshed first). */
  onSwitch?: (change: Schemas["PlanChangeOut"]) => void;
  /** A failed checkout or switch (default: shown under the table). */
  onError?: (error: unknown) => void;
  theme?: "light" | "dark";
  /** Leaves out the built-in `<style>`: serve `PRICING_TABLE_CSS` yourself. */
  unstyled?: boolean;
}

function usePricing(client: Plangate, line: string): { data?: Pricing; failed?: string } {
  const [state, setState] = useState<{ data?: Pricing; failed?: string }>({});
  useEffect(() => {
    let current = true;
    setState({});
    client.getPricing(line).then(
      (data) => current && setState({ data }),
      (error: { status?: number }) =>
        current && setState({ failed: error.status === 404 ? "There is no such pricing table." : "The prices could not be loaded." }),
    );
    return () => {
      current = false;
    };
  }, [client, line]);
  return state;
}

export function PricingTable(props: PricingTableProps) {
  const context = useOptionalPlangate();
  const client = props.client ?? context?.client;
  if (!client) throw new Error("<PricingTable> needs a client: a `client` prop or a <PlangateProvider> above it");
  const { data, failed } = usePricing(client, props.line);
  // The customer's products, when the provider's customer is the line's kind of customer.
  const customer = context && data && context.customer.customerType === data.customer_type ? context.customer : null;
  const [owned, setOwned] = useState<Schemas["OwnedProduct"][] | null>(null);
  useEffect(() => {
    let current = true;
    setOwned(null);
    customer?.products().then(
      (list) => current && setOwned(list.data),
      () => current && setOwned([]),
    );
    return () => {
      current = false;
    };
  }, [customer?.customerType, customer?.customerId, context?.version]);
  const [interval, chooseInterval] = useState<string | undefined>(props.interval);
  const [currency, chooseCurrency] = useState<string | undefined>(props.currency?.toLowerCase());
  const [pending, setPending] = useState<string | null>(null);
  const [problem, setProblem] = useState("");

  const style = props.unstyled ? null : <style>{PRICING_TABLE_CSS}</style>;
  const wrap = (children: ReactNode) => (
    <div className="plangate-pricing" data-theme={props.theme ?? "light"} data-line={props.line}>
      {style}
      {children}
    </div>
  );
  if (failed) return wrap(<p className="error" role="alert">{failed}</p>);
  if (!data) return wrap(<p className="status">Loading prices…</p>);

  const shownInterval =
    interval && data.intervals.includes(interval) ? interval : data.intervals.includes("month") ? "month" : data.intervals[0];
  const shownCurrency = currency && data.currencies.includes(currency) ? currency : data.default_currency;
  const inLine = (owned ?? []).filter((p) => p.line === data.line_id);
  const currentIds = new Set(inLine.map((p) => p.product_id));
  // A customer paying for a plan of the line switches; anyone else buys.
  const paying = inLine.find((p) => p.type === "subscription");

  const choose = async (plan: PricingPlan, price: PricingPrice) => {
    if (!customer) return;
    setPending(plan.id);
    setProblem("");
    try {
      if (paying) {
        const change = await customer.switch({ from_product_id: paying.product_id, to_product_id: plan.id, price_id: price.id });
        context?.refresh();
        props.onSwitch?.(change);
      } else {
        const session = await customer.checkout({
          product_id: plan.id,
          price_id: price.id,
          currency: shownCurrency,
          success_url: props.successUrl ?? null,
          cancel_url: props.cancelUrl ?? null,
        });
        if (props.onCheckout) props.onCheckout(session.url, session);
        else window.location.assign(session.url);
      }
    } catch (error) {
      if (props.onError) props.onError(error);
      else setProblem(error instanceof Error ? error.message : "The plan could not be changed.");
    } finally {
      setPending(null);
    }
  };

  const action = (plan: PricingPlan, price: PricingPrice | undefined, offered: boolean) => {
    if (plan.default || !price || !offered) return null;
    if (currentIds.has(plan.id)) return <p className="owned">You are on this plan.</p>;
    if (!customer) {
      if (!props.signInUrl) return <p className="owned">Sign in to choose a plan.</p>;
      return (
        <a className="buy" href={props.signInUrl}>
          Sign in to choose {plan.name}
        </a>
      );
    }
    const text = paying ? `Switch to ${plan.name}` : price.trial_days ? "Start free trial" : `Choose ${plan.name}`;
    return (
      <button type="button" className="buy" disabled={owned === null || pending !== null} onClick={() => void choose(plan, price)}>
        {text}
      </button>
    );
  };

  const toggle = (name: string, options: string[], current: string | undefined, text: (o: string) => string, set: (o: string) => void) =>
    options.length > 1 ? (
      <div className="toggle" role="group" aria-label={name}>
        {options.map((option) => (
          <button key={option} type="button" aria-pressed={option === current} onClick={() => set(option)}>
            {text(option)}
          </button>
        ))}
      </div>
    ) : null;

  return wrap(
    <>
      <div className="choices">
        {toggle("Billing period", data.intervals, shownInterval, label, chooseInterval)}
        {toggle("Currency", data.currencies, shownCurrency, (c) => c.toUpperCase(), chooseCurrency)}
      </div>
      <ul className="plans">
        {data.plans.map((plan) => {
          const price = plan.prices.find((p) => p.interval === shownInterval);
          if (!price && !plan.default) return null;
          const amount = price?.amounts.find((a) => a.currency === shownCurrency);
          const saving = price?.savings.find((s) => s.currency === shownCurrency);
          const isCurrent = currentIds.has(plan.id);
          return (
            <li key={plan.id} className={isCurrent ? "plan current" : "plan"} data-plan={plan.id}>
              <article aria-labelledby={`plangate-plan-${plan.id}`}>
                <h3 id={`plangate-plan-${plan.id}`}>{plan.name}</h3>
                {isCurrent ? <p className="badge">Current plan</p> : null}
                {plan.description ? <p className="description">{plan.description}</p> : null}
                <p className="price">
                  {amount && price ? (
                    <>
                      <span className="amount">{amount.display}</span> <span className="per">{per(price.interval)}</span>
                    </>
                  ) : plan.default ? (
                    <span className="amount">Free</span>
                  ) : (
                    <span className="per">Not offered in {shownCurrency.toUpperCase()}</span>
                  )}
                </p>
                {saving ? (
                  <p className="saving">
                    Save {saving.display} ({saving.percent}%) a year
                  </p>
                ) : null}
                {price?.trial_days ? <p className="trial">{price.trial_days}-day free trial</p> : null}
                <ul className="includes">
                  {plan.features.map((f) => (
                    <li key={`f:${f.id}`}>{f.name}</li>
                  ))}
                  {plan.items.map((i) => (
                    <li key={`i:${i.id}`}>{i.text}</li>
                  ))}
                </ul>
                {action(plan, price, amount !== undefined)}
              </article>
            </li>
          );
        })}
      </ul>
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
    </>,
  );
}
