/*
 * <plangate-pricing-table line="plan" base-url="https://billing.example.com">
 *
 * A dependency-free custom element that shows a plangate product line's plans. It reads the
 * public price list (GET {base-url}/v1/pricing/{line}; the page's origin must be in
 * PLANGATE_CORS_ORIGINS) and renders it in its Shadow DOM.
 *
 * Attributes:
 *   line            the product line (required)
 *   base-url        where plangate is reached (default: this page's origin)
 *   interval        the billing period shown first ("month", "year", ...)
 *   currency        the currency shown first ("usd", ...)
 *   customer-token  a client token (customer session) of the signed-in customer: the buttons
 *                   then start a checkout with it (POST /v1/checkout-sessions)
 *   customer-id     the customer the token buys for (the user's id, or a team's)
 *   sign-in-url     without a token, where the buttons send the visitor (with return_url)
 *   success-url, cancel-url   passed to the checkout (allowed origins only)
 *   theme           "light" (the default), "dark", or "auto" (follows the visitor's system)
 *
 * Events (bubbling, composed): "plangate-loaded" (detail: the price list) and
 * "plangate-select" (detail: {line, product_id, price_id, currency, interval}), which a
 * handler may cancel with preventDefault() to take over what the button does.
 *
 * Theming: CSS custom properties on the element or any ancestor: --plangate-accent,
 * --plangate-on-accent, --plangate-font, --plangate-bg, --plangate-text, --plangate-muted,
 * --plangate-border; and ::part(plan), ::part(button), ::part(toggle).
 *
 * Loaded as a classic script (<script src=".../static/pricing-table.js" defer>), so it needs
 * no CORS itself. Data is only ever set as text, never parsed as HTML.
 */
(() => {
  "use strict";
  if (customElements.get("plangate-pricing-table")) return;

  const CSS = `
:host { display: block; font-family: var(--plangate-font, system-ui, sans-serif); line-height: 1.5;
  color: var(--plangate-text, #1d2330);
  --pt-accent: var(--plangate-accent, #4f46e5); --pt-on-accent: var(--plangate-on-accent, #fff);
  --pt-card: var(--plangate-bg, #fff); --pt-muted: var(--plangate-muted, #4a5263);
  --pt-border: var(--plangate-border, #d8dce4); --pt-good: #0f6b3a; }
:host([theme="dark"]) { color: var(--plangate-text, #eef0f4); --pt-card: var(--plangate-bg, #1b2029);
  --pt-muted: var(--plangate-muted, #b5bccb); --pt-border: var(--plangate-border, #353c4a);
  --pt-good: #6ee7a8; }
@media (prefers-color-scheme: dark) {
  :host([theme="auto"]) { color: var(--plangate-text, #eef0f4); --pt-card: var(--plangate-bg, #1b2029);
    --pt-muted: var(--plangate-muted, #b5bccb); --pt-border: var(--plangate-border, #353c4a);
    --pt-good: #6ee7a8; }
}
* { box-sizing: border-box; }
.choices { display: flex; flex-wrap: wrap; justify-content: center; gap: 1rem; margin: 0 0 1.25rem; }
.toggle { display: inline-flex; gap: 4px; padding: 4px; border: 1px solid var(--pt-border);
  border-radius: 999px; background: var(--pt-card); }
.toggle button { border: 0; background: transparent; color: inherit; font: inherit;
  font-weight: 500; padding: .4rem 1rem; border-radius: 999px; cursor: pointer; }
.toggle button[aria-pressed="true"] { background: var(--pt-accent); color: var(--pt-on-accent); }
button:focus-visible { outline: 3px solid var(--pt-accent); outline-offset: 2px; }
ul.plans { list-style: none; margin: 0; padding: 0; display: grid; gap: 1.25rem;
  grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); }
article { height: 100%; display: flex; flex-direction: column; background: var(--pt-card);
  border: 1px solid var(--pt-border); border-radius: 12px; padding: 1.5rem; }
h3 { margin: 0; font-size: 1.2rem; }
.description, .per, .trial, .note { color: var(--pt-muted); }
.description { margin: .5rem 0 0; }
.price { margin: 1rem 0 0; }
.amount { font-size: 2rem; font-weight: 700; }
.saving { margin: .25rem 0 0; color: var(--pt-good); font-weight: 600; }
.trial { margin: .25rem 0 0; }
ul.includes { margin: 1rem 0; padding-left: 1.2rem; flex: 1; }
.buy { display: block; width: 100%; padding: .7rem 1rem; border: 0; border-radius: 8px;
  font: inherit; font-weight: 600; background: var(--pt-accent); color: var(--pt-on-accent);
  cursor: pointer; }
.buy[disabled] { opacity: .6; cursor: progress; }
.status { text-align: center; color: var(--pt-muted); }
.error { color: #a11a1a; text-align: center; }
`;
  const LABELS = { day: "Daily", week: "Weekly", month: "Monthly", year: "Yearly", once: "One-time" };
  const label = (i) => LABELS[i] || `Every ${i}`;
  const per = (i) => (i === "once" ? "once" : i.includes(" ") ? `every ${i}` : `per ${i}`);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function randomKey() {
    // crypto.randomUUID exists in secure contexts only; getRandomValues everywhere.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  let sheet = null;
  function styleInto(root) {
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      try {
        if (sheet === null) {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(CSS);
        }
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* an older engine: a <style> element below */ }
    }
    root.append(el("style", {}, CSS));
  }

  class PlangatePricingTable extends HTMLElement {
    static get observedAttributes() {
      return ["line", "base-url", "interval", "currency"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      styleInto(this.shadowRoot);
      this._body = el("div", { part: "table" });
      this._live = el("p", { class: "error", role: "alert" });
      this.shadowRoot.append(this._body, this._live);
      this._data = null;
      this._interval = null;
      this._currency = null;
      this._request = null;
    }

    connectedCallback() { this._load(); }

    disconnectedCallback() { if (this._request) this._request.abort(); }

    attributeChangedCallback(name, before, after) {
      if (!this.isConnected || before === after) return;
      if (name === "line" || name === "base-url") { this._load(); return; }
      if (name === "interval") this._interval = after;
      if (name === "currency") this._currency = after;
      this._render();
    }

    get _base() {
      return (this.getAttribute("base-url") || window.location.origin).replace(/\/+$/, "");
    }

    _status(text, cls) {
      this._body.replaceChildren(el("p", { class: cls || "status" }, text));
    }

    async _load() {
      const line = this.getAttribute("line");
      if (!line) { this._status("This pricing table names no product line.", "error"); return; }
      if (this._request) this._request.abort();
      const request = new AbortController();
      this._request = request;
      this._status("Loading prices\u2026");
      let answer;
      try {
        answer = await fetch(`${this._base}/v1/pricing/${encodeURIComponent(line)}`, {
          signal: request.signal, headers: { Accept: "application/json" }, credentials: "omit",
        });
      } catch (error) {
        if (error.name !== "AbortError") this._status("The prices could not be loaded.", "error");
        return;
      }
      if (!answer.ok) {
        this._status(answer.status === 404 ? "There is no such pricing table."
          : "The prices could not be loaded.", "error");
        return;
      }
      const data = await answer.json();
      if (request !== this._request) return;
      this._data = data;
      const wanted = this.getAttribute("interval");
      this._interval = data.intervals.includes(wanted) ? wanted
        : data.intervals.includes("month") ? "month" : (data.intervals[0] || null);
      const currency = (this.getAttribute("currency") || "").toLowerCase();
      this._currency = data.currencies.includes(currency) ? currency : data.default_currency;
      this._render();
      this.dispatchEvent(new CustomEvent("plangate-loaded",
        { detail: data, bubbles: true, composed: true }));
    }

    _toggle(name, options, current, text, choose) {
      const group = el("div", { class: "toggle", role: "group", "aria-label": name, part: "toggle" });
      for (const option of options) {
        const button = el("button", { type: "button", "aria-pressed": String(option === current) },
          text(option));
        button.addEventListener("click", () => { choose(option); this._render(); });
        group.append(button);
      }
      return group;
    }

    _render() {
      const data = this._data;
      if (!data) return;
      const interval = this._interval;
      const currency = this._currency;
      const choices = el("div", { class: "choices" });
      if (data.intervals.length > 1) {
        choices.append(this._toggle("Billing period", data.intervals, interval, label,
          (value) => { this._interval = value; }));
      }
      if (data.currencies.length > 1) {
        choices.append(this._toggle("Currency", data.currencies, currency,
          (value) => value.toUpperCase(), (value) => { this._currency = value; }));
      }
      const list = el("ul", { class: "plans" });
      for (const plan of data.plans) {
        const price = plan.prices.find((p) => p.interval === interval);
        if (!price && !plan.default) continue;
        list.append(this._plan(data, plan, price, currency));
      }
      this._body.replaceChildren(choices, list);
    }

    _plan(data, plan, price, currency) {
      const amount = price ? price.amounts.find((a) => a.currency === currency) : null;
      const saving = price ? price.savings.find((s) => s.currency === currency) : null;
      const includes = el("ul", { class: "includes" },
        ...plan.features.map((f) => el("li", {}, f.name)),
        ...plan.items.map((i) => el("li", {}, i.text)));
      let priceLine;
      if (amount) {
        priceLine = el("p", { class: "price" }, el("span", { class: "amount" }, amount.display), " ",
          el("span", { class: "per" }, per(price.interval)));
      } else if (plan.default) {
        priceLine = el("p", { class: "price" }, el("span", { class: "amount" }, "Free"));
      } else {
        priceLine = el("p", { class: "price per" }, `Not offered in ${currency.toUpperCase()}`);
      }
      let action = null;
      if (amount && !plan.default) {
        action = el("button", { type: "button", class: "buy", part: "button" },
          price.trial_days ? "Start free trial" : `Choose ${plan.name}`);
        action.addEventListener("click", () => this._choose(data, plan, price, currency, action));
      }
      const id = `plan-${plan.id}`;
      return el("li", { "data-plan": plan.id },
        el("article", { "aria-labelledby": id, part: "plan" },
          el("h3", { id }, plan.name),
          plan.description ? el("p", { class: "description" }, plan.description) : null,
          priceLine,
          saving ? el("p", { class: "saving" },
            `Save ${saving.display} (${saving.percent}%) a year`) : null,
          price && price.trial_days ? el("p", { class: "trial" },
            `${price.trial_days}-day free trial`) : null,
          includes,
          action));
    }

    async _choose(data, plan, price, currency, button) {
      const detail = { line: data.line_id, product_id: plan.id, price_id: price.id, currency,
        interval: price.interval };
      const event = new CustomEvent("plangate-select",
        { detail, bubbles: true, composed: true, cancelable: true });
      if (!this.dispatchEvent(event)) return;
      this._live.textContent = "";
      const token = this.getAttribute("customer-token");
      if (!token) {
        const signIn = this.getAttribute("sign-in-url");
        if (signIn) {
          const url = new URL(signIn, window.location.href);
          url.searchParams.set("return_url", window.location.href);
          window.location.assign(url.toString());
        }
        return;
      }
      const body = { customer_type: data.customer_type,
        customer_id: this.getAttribute("customer-id") || "", product_id: plan.id,
        price_id: price.id, currency };
      for (const name of ["success-url", "cancel-url"]) {
        const value = this.getAttribute(name);
        if (value) body[name.replace("-", "_")] = value;
      }
      button.disabled = true;
      try {
        const answer = await fetch(`${this._base}/v1/checkout-sessions`, {
          method: "POST", credentials: "omit",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`,
            "Idempotency-Key": `pricing-table-${randomKey()}` },
          body: JSON.stringify(body),
        });
        const result = await answer.json();
        if (answer.ok && result.url) { window.location.assign(result.url); return; }
        this._live.textContent = (result.error && result.error.message)
          || "The checkout could not be started.";
      } catch (error) {
        this._live.textContent = "The checkout could not be started.";
      }
      button.disabled = false;
    }
  }

  customElements.define("plangate-pricing-table", PlangatePricingTable);
})();
