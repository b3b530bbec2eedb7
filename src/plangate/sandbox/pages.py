"""Hosted pages: checkout, invoice, 3DS authentication (and the portal, in `portal_page`).

Plain HTML forms, no JavaScript: a person, Playwright, or `pay_checkout_session` can use
them. Every element a test needs has a `data-testid`.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import checkout, checkout_tax, invoices
from .charges import confirm_payment_intent
from .payments import new_card_method
from .periods import DAY, format_day
from .tiers import due_now, is_metered
from .wire import Obj, StripeError

if TYPE_CHECKING:
    from .core import Sandbox

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;margin:0;padding:2rem}
main{max-width:30rem;margin:auto;background:#fff;border-radius:8px;padding:2rem;
box-shadow:0 2px 8px #0001}
label{display:block;margin:.8rem 0 .2rem;font-size:.9rem;color:#333}
input,select{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}
button{margin-top:1rem;width:100%;padding:.7rem;background:#635bff;color:#fff;border:0;
border-radius:4px;font-size:1rem;cursor:pointer}
.error{color:#c00;background:#fee;padding:.6rem;border-radius:4px}
.muted{color:#666;font-size:.85rem} td{padding:.2rem .5rem}
"""


_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
# Stripe's zero-decimal currencies that a catalog is likely to use; amounts are whole units.
_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
                           "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})


def amount_label(amount: int, currency: str) -> str:
    """An amount as a shopper reads it: "$19.99", "€18.99", "JPY 2500"."""
    currency = currency.lower()
    sign = "-" if amount < 0 else ""
    if currency in _ZERO_DECIMAL:
        number = f"{abs(amount)}"
    else:
        number = f"{abs(amount) // 100}.{abs(amount) % 100:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency.upper()} {number}"


def price_label(price: Obj, quantity: int = 1) -> str:
    """What a price charges, with its interval: "$19.99 / month", "$50.00 / 3 months"."""
    if is_metered(price) or price.get("billing_scheme") == "tiered":
        return "Billed by usage" if is_metered(price) else "Tiered"
    amount = amount_label(int(price["unit_amount"]) * quantity, price["currency"])
    recurring = price.get("recurring")
    if not recurring:
        return amount
    count = int(recurring.get("interval_count") or 1)
    interval = str(recurring["interval"])
    return f"{amount} / {interval}" if count == 1 else f"{amount} / {count} {interval}s"


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main><p class='muted'>Plangate sandbox · test "
        f"mode</p><h1>{escape(title)}</h1>{body}</main></body></html>", status)


def error_box(message: str | None) -> str:
    return f"<p class='error' data-testid='error'>{escape(message)}</p>" if message else ""


def card_fields() -> str:
    return (
        "<label for='card_number'>Card number</label>"
        "<input id='card_number' name='card_number' data-testid='card-number' "
        "placeholder='4242 4242 4242 4242' autocomplete='off'>"
        "<label for='card_expiry'>Expiry (MM / YY)</label>"
        "<input id='card_expiry' name='card_expiry' data-testid='card-expiry' "
        "placeholder='12 / 34'>"
        "<label for='card_cvc'>CVC</label>"
        "<input id='card_cvc' name='card_cvc' data-testid='card-cvc' placeholder='123'>"
    )


def challenge(action: str, fields: dict[str, str]) -> HTMLResponse:
    """Stripe's test 3DS page: the customer completes or fails the authentication."""
    hidden = "".join(f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
                     for k, v in fields.items() if k != "three_d_secure")
    return page("Authenticate your payment", (
        "<p>Your bank asks you to confirm this payment (3D Secure test page).</p>"
        f"<form method='post' action='{escape(action)}'>{hidden}"
        "<button name='three_d_secure' value='complete' data-testid='3ds-complete'>"
        "Complete authentication</button>"
        "<button name='three_d_secure' value='fail' data-testid='3ds-fail' "
        "style='background:#888'>Fail authentication</button></form>"))


# --- checkout ------------------------------------------------------------------------------------


def checkout_page(sb: Sandbox, cs: Obj, action: str, message: str | None = None,
                  status: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    """The checkout form; after a decline it is shown again with what the customer typed
    (except the card)."""
    values = values or {}
    if cs["status"] != "open":
        return page("Checkout", f"<p data-testid='closed'>This Checkout Session is "
                    f"{escape(cs['status'])}.</p>", 410 if cs["status"] == "expired" else 200)
    items = checkout._items_of(sb, cs)["data"]
    rows = "".join(
        f"<tr><td>{escape(li['description'] or '')} × {li['quantity']}</td>"
        f"<td data-testid='line-price'>{escape(price_label(li['price'], li['quantity']))}"
        f"</td></tr>" for li in items)
    trial = cs["_subscription_data"].get("trial_period_days")
    summary = f"<table data-testid='line-items'>{rows}</table>"
    if trial:
        summary += f"<p data-testid='trial'>{escape(_trial_terms(sb, cs, items, trial))}</p>"
    tax = (cs["total_details"] or {}).get("amount_tax") or 0
    if tax:
        summary += (f"<p>Tax: <b data-testid='tax'>{amount_label(tax, cs['currency'] or '')}"
                    "</b></p>")
    discount = (cs["total_details"] or {}).get("amount_discount") or 0
    if discount:
        summary += (f"<p>Discount: <b data-testid='discount'>−"
                    f"{amount_label(discount, cs['currency'] or '')}</b></p>")
    if cs["amount_total"] is not None:
        summary += f"<p>Total due today: <b data-testid='total'>" \
                   f"{amount_label(cs['amount_total'], cs['currency'] or '')}</b></p>"
    email = "" if cs["customer"] or cs["customer_email"] else (
        "<label for='email'>Email</label><input id='email' name='email' type='email' "
        f"data-testid='email' value='{escape(values.get('email', ''))}'>")
    card = checkout_tax.page_fields(sb, cs, values)
    card += card_fields() if checkout.needs_card(sb, cs) else ""
    if cs["allow_promotion_codes"]:
        card += ("<label for='promotion_code'>Promotion code</label><input id='promotion_code' "
                 "name='promotion_code' data-testid='promotion-code' "
                 f"value='{escape(values.get('promotion_code', ''))}'>")
    verb = {"payment": "Pay", "subscription": "Start trial" if trial else "Subscribe",
            "setup": "Save card"}[cs["mode"]]
    cancel = (f"<p><a href='{escape(cs['cancel_url'])}' data-testid='cancel'>Cancel and "
              f"return</a></p>") if cs["cancel_url"] else ""
    return page("Checkout", (
        f"{summary}{error_box(message)}<form method='post' action='{escape(action)}'>"
        f"{email}<label for='name'>Name on card</label><input id='name' name='name' "
        f"data-testid='name' value='{escape(values.get('name', ''))}'>{card}"
        f"<button type='submit' data-testid='submit'>{verb}</button>"
        f"</form>{cancel}"), status)


def _trial_terms(sb: Sandbox, cs: Obj, items: list[Obj], days: int) -> str:
    """"Free for 14 days, then $19.99 / month starting 29 Jan 2026": the first charge is the
    recurring items' total, on the day the trial started now would end."""
    recurring = [li for li in items if li["price"].get("recurring")]
    if not recurring:
        return f"Free for {days} days"
    first = dict(recurring[0]["price"])
    first.update(billing_scheme="per_unit", recurring=dict(first["recurring"],
                                                          usage_type="licensed"))
    first["unit_amount"] = sum(due_now(li["price"], int(li["quantity"])) for li in recurring)
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    starts = sb.now(customer) + days * DAY
    return f"Free for {days} days, then {price_label(first)} starting {format_day(starts)}"


def base_url(request: Request) -> str:
    """This app's own base: scheme, host and `root_path`, which includes the mount prefix
    (Starlette's `request.base_url` stops at the outermost app's root)."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def _url(request: Request, path: str) -> str:
    return base_url(request) + path


def page_routes(sb: Sandbox) -> list[BaseRoute]:
    async def show_checkout(request: Request) -> Response:
        cs_id = request.path_params["id"]
        with sb.unit():
            cs = sb.store.get("checkout.session", cs_id)
            if cs is None:
                return page("Checkout", "<p>No such Checkout Session.</p>", 404)
            return checkout_page(sb, cs, _url(request, f"/checkout/{cs_id}"))

    async def submit_checkout(request: Request) -> Response:
        cs_id = request.path_params["id"]
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await run_in_threadpool(_submit_checkout, cs_id, form,
                                       _url(request, f"/checkout/{cs_id}"))

    def _submit_checkout(cs_id: str, form: dict[str, str], action: str) -> Response:
        with sb.unit():
            cs = sb.store.get("checkout.session", cs_id)
            if cs is None:
                return page("Checkout", "<p>No such Checkout Session.</p>", 404)
            try:
                target = checkout.complete(sb, cs, checkout.Submission(
                    form.get("email") or None, form.get("name") or None,
                    form.get("card_number"), form.get("three_d_secure"),
                    form.get("promotion_code") or None, form))
            except checkout.NeedsAuthentication:
                return challenge(action, form)
            except StripeError as err:
                return checkout_page(sb, cs, action, err.message, 402, form)
            return RedirectResponse(target, 303)

    async def show_invoice(request: Request) -> Response:
        with sb.unit():
            inv = sb.store.get("invoice", request.path_params["id"])
            if inv is None or inv["status"] == "draft":
                return page("Invoice", "<p>No such invoice.</p>", 404)
            return invoice_page(inv, _url(request, f"/invoice/{inv['id']}"))

    async def pay_invoice(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        action = _url(request, f"/invoice/{request.path_params['id']}")
        return await run_in_threadpool(_pay_invoice, request.path_params["id"], form, action)

    def _pay_invoice(in_id: str, form: dict[str, str], action: str) -> Response:
        with sb.unit():
            inv = sb.store.get("invoice", in_id)
            if inv is None or inv["status"] not in ("open", "uncollectible"):
                return page("Invoice", "<p>This invoice cannot be paid.</p>", 400)
            try:
                pm = new_card_method(sb, form.get("card_number") or "", clock_of=inv)
                _, err = invoices.attempt_payment(
                    sb, inv, off_session=False, payment_method=pm["id"],
                    authenticated=form.get("three_d_secure") == "complete")
            except StripeError as exc:
                err = exc
            if inv["status"] == "open" and err is None:
                return challenge(action, form)
            return invoice_page(inv, action, err.message if err else None)

    async def authenticate(request: Request) -> Response:
        intent_id = request.path_params["id"]
        if request.method == "GET":
            return challenge(_url(request, f"/authenticate/{intent_id}"), {})
        form = await request.form()
        return await run_in_threadpool(_authenticate, intent_id,
                                       str(form.get("three_d_secure")))

    def _authenticate(intent_id: str, outcome: str) -> Response:
        from .payments import confirm_setup_intent

        with sb.unit():
            if intent_id.startswith("seti_"):
                seti = sb.get("setup_intent", intent_id)
                if outcome == "complete":
                    confirm_setup_intent(sb, seti, authenticated=True)
                if seti.get("_return_url"):  # back to the page that confirmed it (Stripe.js)
                    return RedirectResponse(_returning(seti), 303)
                return page("Authentication", f"<p data-testid='result'>{seti['status']}</p>")
            pi = sb.get("payment_intent", intent_id)
            if outcome == "complete":
                confirm_payment_intent(sb, pi, off_session=False, authenticated=True)
            else:
                pi["status"] = "requires_payment_method"
                pi["next_action"] = None
                sb.store.put(pi)
                sb.emit("payment_intent.payment_failed", pi)
            back = pi.get("_return_url")
            if back:
                return RedirectResponse(f"{back}?payment_intent={pi['id']}", 303)
            return page("Authentication", f"<p data-testid='result'>{pi['status']}</p>")

    from .portal_page import portal_routes

    return [
        Route("/checkout/{id}", show_checkout, methods=["GET"]),
        Route("/checkout/{id}", submit_checkout, methods=["POST"]),
        Route("/invoice/{id}", show_invoice, methods=["GET"]),
        Route("/invoice/{id}", pay_invoice, methods=["POST"]),
        Route("/authenticate/{id}", authenticate, methods=["GET", "POST"]),
        *portal_routes(sb),
    ]


def _returning(seti: Obj) -> str:
    """The SetupIntent's `return_url` with what Stripe adds to it."""
    outcome = "succeeded" if seti["status"] == "succeeded" else "failed"
    query = urlencode({"setup_intent": seti["id"],
                       "setup_intent_client_secret": seti["client_secret"],
                       "redirect_status": outcome})
    back = str(seti["_return_url"])
    return f"{back}{'&' if '?' in back else '?'}{query}"


def invoice_page(inv: Obj, action: str, message: str | None = None) -> HTMLResponse:
    rows = "".join(f"<tr><td>{escape(li['description'] or '')}</td>"
                   f"<td>{amount_label(li['amount'], li['currency'])}</td></tr>"
                   for li in inv["lines"]["data"])
    body = (f"<p>Invoice <b>{escape(inv['number'] or '')}</b> · status "
            f"<b data-testid='status'>{escape(inv['status'])}</b></p><table>{rows}</table>"
            f"<p>Amount due: <b>{amount_label(inv['amount_remaining'], inv['currency'])}</b></p>")
    if inv["status"] in ("open", "uncollectible"):
        body += (f"{error_box(message)}<form method='post' action='{escape(action)}'>"
                 f"{card_fields()}<button data-testid='submit'>Pay</button></form>")
    return page("Invoice", body)
