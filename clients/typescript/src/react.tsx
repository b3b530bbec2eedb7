/**
 * React bindings: a provider holding a client and the signed-in customer, hooks reading its
 * entitlements, items and products, `<Protect>` to gate a subtree and `<CheckoutButton>` to
 * start a purchase. In a browser, give the provider a client made with a customer-session
 * token; every hook reads through it, and `refresh()` re-reads after a change.
 * `<PricingTable>` lives in pricing-table.tsx and is exported from here too.
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ButtonHTMLAttributes,
  type ReactNode,
} from "react";
import type { Customer, CustomerType, Plangate, Schemas } from "./client.js";
import type { EntitlementTarget } from "./entitlements.js";

interface PlangateContextValue {
  client: Plangate;
  customer: Customer;
  /** Bumped by `refresh()`: every hook of this provider reads again. */
  version: number;
  refresh: () => void;
}

const PlangateContext = createContext<PlangateContextValue | null>(null);

export interface PlangateProviderProps {
  client: Plangate;
  customerId: string;
  customerType?: CustomerType;
  children?: ReactNode;
}

export function PlangateProvider({ client, customerId, customerType = "user", children }: PlangateProviderProps) {
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const value = useMemo(
    () => ({ client, customer: client.customer(customerType, customerId), version, refresh }),
    [client, customerType, customerId, version, refresh],
  );
  return <PlangateContext.Provider value={value}>{children}</PlangateContext.Provider>;
}

/** The provider's client and customer, or `null` outside a provider. */
export function useOptionalPlangate(): PlangateContextValue | null {
  return useContext(PlangateContext);
}

export function usePlangate(): PlangateContextValue {
  const value = useContext(PlangateContext);
  if (value === null) throw new Error("usePlangate() needs a <PlangateProvider> above it");
  return value;
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  isLoading: boolean;
  /** Reads again, here and in every hook under the same provider. */
  refresh: () => void;
}

function useResource<T>(read: (customer: Customer) => Promise<T>, key: string): Resource<T> {
  const { customer, version, refresh } = usePlangate();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; isLoading: boolean }>({
    data: undefined,
    error: undefined,
    isLoading: true,
  });
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, isLoading: true }));
    read(customer).then(
      (data) => current && setState({ data, error: undefined, isLoading: false }),
      (error: unknown) => current && setState({ data: undefined, error, isLoading: false }),
    );
    return () => {
      current = false;
    };
    // `read` is a fresh closure on each render; `key` names what it reads.
  }, [customer, version, key]);
  return { ...state, refresh };
}

export interface EntitlementsResource extends Resource<Schemas["EntitlementsOut"]> {
  /** `undefined` while loading or after an error. */
  has: (target: EntitlementTarget) => boolean | undefined;
}

export function useEntitlements(): EntitlementsResource {
  const resource = useResource((customer) => customer.entitlements(), "entitlements");
  const { data } = resource;
  const has = useCallback(
    (target: EntitlementTarget) =>
      data === undefined
        ? undefined
        : "feature" in target
          ? data.features.includes(target.feature)
          : data.plans.includes(target.plan),
    [data],
  );
  return { ...resource, has };
}

export interface ItemResource extends Resource<Schemas["ItemOut"]> {
  quantity: number | undefined;
}

/** One item's balance, e.g. `useItem("credits").quantity`. */
export function useItem(itemId: string): ItemResource {
  const resource = useResource((customer) => customer.item(itemId), `item:${itemId}`);
  return { ...resource, quantity: resource.data?.quantity };
}

/** The products the customer holds. */
export function useProducts(): Resource<Schemas["OwnedProduct"][]> {
  return useResource(async (customer) => (await customer.products()).data, "products");
}

export type ProtectProps = EntitlementTarget & {
  children?: ReactNode;
  /** Shown when the customer lacks the feature or plan (and after an error). */
  fallback?: ReactNode;
  /** Shown while the entitlements load (default: nothing). */
  loading?: ReactNode;
};

/** Renders `children` only for a customer with the feature or plan. A convenience for the
 * interface: enforce on the server too. */
export function Protect({ children, fallback = null, loading = null, ...target }: ProtectProps) {
  const { has, isLoading, data } = useEntitlements();
  if (isLoading && data === undefined) return <>{loading}</>;
  return <>{has(target as EntitlementTarget) ? children : fallback}</>;
}

export interface CheckoutButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, "onClick" | "onError"> {
  productId: string;
  priceId?: string;
  currency?: string;
  quantity?: number;
  successUrl?: string;
  cancelUrl?: string;
  /** Where the checkout's URL goes (default: the browser navigates to it). */
  onCheckout?: (url: string, session: Schemas["CheckoutSessionCreated"]) => void;
  /** A failed start (default: logged to the console). */
  onError?: (error: unknown) => void;
}

/** Starts a Stripe Checkout for the provider's customer and sends the browser to it. */
export function CheckoutButton({
  productId,
  priceId,
  currency,
  quantity,
  successUrl,
  cancelUrl,
  onCheckout,
  onError,
  children,
  disabled,
  ...button
}: CheckoutButtonProps) {
  const { customer } = usePlangate();
  const [pending, setPending] = useState(false);
  const start = async () => {
    setPending(true);
    try {
      const session = await customer.checkout({
        product_id: productId,
        price_id: priceId ?? null,
        currency: currency ?? null,
        ...(quantity !== undefined ? { quantity } : {}),
        success_url: successUrl ?? null,
        cancel_url: cancelUrl ?? null,
      });
      if (onCheckout) onCheckout(session.url, session);
      else window.location.assign(session.url);
    } catch (error) {
      (onError ?? console.error)(error);
    } finally {
      setPending(false);
    }
  };
  return (
    <button type="button" {...button} disabled={disabled || pending} onClick={() => void start()}>
      {children ?? "Buy"}
    </button>
  );
}

export { PRICING_TABLE_CSS, PricingTable, type PricingTableProps } from "./pricing-table.js";
