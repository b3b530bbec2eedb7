"""The hosted billing portal: switch plan, cancel at period end (or undo), update the card,
see invoices; each only as far as the session's configuration allows, on the page and again
when the form is posted."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import invoices, subscriptions_api
from . import subscriptions as subs
from .pages import amount_label, base_url, card_fields, error_box, page, price_label
from .payments import attach_payment_method, new_card_method
from .periods import format_day
from .portal_configurations import KIND, allowed_prices, default_configuration, refuse_price
from .wire import Obj, StripeError

if TYPE_CHECKING:
    from .core import Sandbox

_LIVE = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


def _product_name(sb: Sandbox, price: Obj) -> str:
    product = sb.store.get("product", price["product"]) or {}
    return str(product.get("name") or price["product"])


def _configuration(sb: Sandbox, session: Obj) -> Obj:
    # A session stored before configurations existed names one that is not there: the
    # default then stands in, as it would have at creation.
    return sb.store.get(KIND, session["configuration"]) or default_configuration(sb)


def _hidden(name: str, value: str) -> str:
    return f"<input type='hidden' name='{escape(name)}' value='{escape(value)}'>"


def _renewal(sub: Obj) -> str:
    _, end = subs.period_of(sub)
    if sub["cancel_at_period_end"]:
        return f"Cancels on {format_day(end)}"
    if sub["status"] == "trialing" and sub.get("trial_end"):
        return f"Trial ends on {format_day(int(sub['trial_end']))}"
    return f"Renews on {format_day(end)}"


def _subscription_block(sb: Sandbox, cfg: Obj, sub: Obj, action: str) -> str:
    price = sub["items"]["data"][0]["price"]
    sub_field = _hidden("subscription", sub["id"])
    toggle = ""
    if sub["cancel_at_period_end"]:
        toggle = "<button name='action' value='renew' data-testid='renew'>Don't cancel</button>"
    elif cfg["features"]["subscription_cancel"]["enabled"]:
        toggle = "<button name='action' value='cancel' data-testid='cancel'>Cancel plan</button>"
    toggle_form = (f"<form method='post' action='{escape(action)}'>{sub_field}{toggle}</form>"
                   if toggle else "")
    options = "".join(
        f"<option value='{escape(p['id'])}'>{escape(_product_name(sb, p))} · "
        f"{escape(price_label(p))}</option>" for p in allowed_prices(sb, cfg, sub))
    switch = (f"<form method='post' action='{escape(action)}'>{sub_field}"
              f"<label for='price-{sub['id']}'>Switch plan</label>"
              f"<select id='price-{sub['id']}' name='price' data-testid='price-select'>"
              f"{options}</select><button name='action' value='switch' "
              f"data-testid='switch'>Update plan</button></form>") if options else ""
    return (
        f"<section data-testid='subscription' data-id='{escape(sub['id'])}'>"
        f"<h2>{escape(_product_name(sb, price))}</h2><p>{escape(price_label(price))} · "
        f"<span data-testid='sub-status'>{escape(sub['status'])}</span></p>"
        f"<p data-testid='renewal'>{escape(_renewal(sub))}</p>{toggle_form}{switch}</section>")


def _confirm_block(sb: Sandbox, session: Obj, action: str) -> str:
    """A `subscription_update_confirm` flow: the one change the app proposed, to confirm."""
    flow = session.get("flow") or {}
    confirm = flow.get("subscription_update_confirm")
    if flow.get("type") != "subscription_update_confirm" or not confirm:
        return ""
    price = sb.store.get("price", confirm["items"][0]["price"])
    sub = sb.store.get("subscription", confirm["subscription"]) or {}
    current = (sub.get("items") or {}).get("data") or [{}]
    if price is None or current[0].get("price", {}).get("id") == price["id"]:
        return ""  # confirmed already
    return (f"<section data-testid='confirm-update'><h2>Confirm your new plan</h2>"
            f"<p>{escape(_product_name(sb, price))} · {escape(price_label(price))}</p>"
            f"<form method='post' action='{escape(action)}'>"
            f"{_hidden('subscription', confirm['subscription'])}{_hidden('price', price['id'])}"
            f"<button name='action' value='switch' data-testid='confirm'>Confirm</button>"
            f"</form></section>")


def _invoice_history(sb: Sandbox, customer: Obj) -> str:
    rows = "".join(
        f"<li>{escape(inv['number'] or inv['id'])} · "
        f"{escape(amount_label(inv['total'], inv['currency']))} · {escape(inv['status'])}"
        + (f" · <a href='{escape(inv['hosted_invoice_url'])}'>View</a>"
           if inv["hosted_invoice_url"] else "") + "</li>"
        for inv in sb.store.all("invoice")
        if inv["customer"] == customer["id"] and inv["status"] != "draft")
    return (f"<h2>Invoices</h2><ul data-testid='invoices'>{rows}</ul>" if rows
            else "<h2>Invoices</h2><p>No invoices yet.</p>")


def portal_html(sb: Sandbox, session: Obj, action: str, message: str | None = None,
                notice: str | None = None, status: int = 200) -> HTMLResponse:
    customer = sb.get("customer", session["customer"])
    cfg = _configuration(sb, session)
    features = cfg["features"]
    subs_live = [s for s in sb.store.all("subscription")
                 if s["customer"] == customer["id"] and s["status"] in _LIVE]
    blocks = "".join(_subscription_block(sb, cfg, s, action) for s in subs_live) or \
        "<p>No active subscriptions.</p>"
    pm_id = customer["invoice_settings"]["default_payment_method"] or next(
        (s["default_payment_method"] for s in subs_live if s["default_payment_method"]), None)
    pm = sb.store.get("payment_method", pm_id) if pm_id else None
    card = (f"<p data-testid='card'>{escape(pm['card']['brand'])} ···· "
            f"{escape(pm['card']['last4'])}</p>") if pm else "<p>No card on file.</p>"
    card_form = (f"<form method='post' action='{escape(action)}'>{card_fields()}"
                 f"<button name='action' value='update_card' data-testid='update-card'>"
                 f"Update card</button></form>"
                 if features["payment_method_update"]["enabled"] else "")
    history = (_invoice_history(sb, customer)
               if features["invoice_history"]["enabled"] else "")
    back = (f"<p><a href='{escape(session['return_url'])}' data-testid='return'>Return</a>"
            f"</p>") if session["return_url"] else ""
    note = f"<p data-testid='notice'>{escape(notice)}</p>" if notice else ""
    return page("Billing", (
        f"<p>{escape(customer.get('email') or '')}</p>{note}{error_box(message)}"
        f"{_confirm_block(sb, session, action)}{blocks}"
        f"<h2>Payment method</h2>{card}{card_form}{history}{back}"), status)


def _refused(message: str) -> StripeError:
    return StripeError(400, "invalid_request_error", message)


def _act(sb: Sandbox, session: Obj, form: dict[str, str]) -> str:
    customer = sb.get("customer", session["customer"])
    cfg = _configuration(sb, session)
    features = cfg["features"]
    action = form.get("action")
    sub = sb.store.get("subscription", form.get("subscription", ""))
    if action in ("cancel", "renew", "switch"):
        if sub is None or sub["customer"] != customer["id"] or sub["status"] not in _LIVE:
            raise _refused("No such subscription.")
        if action == "switch":
            price_id = form.get("price") or ""
            if price_id not in {p["id"] for p in allowed_prices(sb, cfg, sub)}:
                raise refuse_price(price_id, "price")
            subscriptions_api.update(sb, sub, {
                "items": [{"id": sub["items"]["data"][0]["id"], "price": price_id}],
                "proration_behavior": features["subscription_update"]["proration_behavior"]})
            return "Plan updated."
        if action == "cancel":
            cancel = features["subscription_cancel"]
            if not cancel["enabled"]:
                raise _refused("This portal does not allow cancelling a subscription.")
            if cancel["mode"] == "immediately":
                subs.cancel_subscription(sb, sub, "cancellation_requested")
                return "Your plan is canceled."
        subscriptions_api.update(sb, sub, {
            "cancel_at_period_end": "true" if action == "cancel" else "false"})
        return "Your plan will be canceled." if action == "cancel" else "Your plan renews."
    if action == "update_card":
        if not features["payment_method_update"]["enabled"]:
            raise _refused("This portal does not allow updating the payment method.")
        return _update_card(sb, customer, form)
    raise _refused("Unknown action.")


def _update_card(sb: Sandbox, customer: Obj, form: dict[str, str]) -> str:
    pm = new_card_method(sb, form.get("card_number") or "", clock_of=customer)
    attach_payment_method(sb, pm["id"], customer, on_session_authenticated=True)
    before = sb.snapshot(customer)
    customer["invoice_settings"]["default_payment_method"] = pm["id"]
    sb.store.put(customer)
    sb.emit("customer.updated", customer, before)
    for s in sb.store.all("subscription"):
        if s["customer"] == customer["id"] and s["status"] in _LIVE:
            s_before = sb.snapshot(s)
            s["default_payment_method"] = pm["id"]
            sb.store.put(s)
            sb.emit("customer.subscription.updated", s, s_before)
    # Stripe's portal pays what is overdue once the card is updated.
    for inv in sb.store.all("invoice"):
        if inv["customer"] == customer["id"] and inv["status"] == "open" \
                and invoices.subscription_of(inv):
            invoices.attempt_payment(sb, inv, off_session=False, authenticated=True)
    return "Card updated."


def portal_routes(sb: Sandbox) -> list[BaseRoute]:
    def action_url(request: Request, bps_id: str) -> str:
        return base_url(request) + f"/billing_portal/{bps_id}"

    async def show(request: Request) -> Response:
        bps_id = request.path_params["id"]
        with sb.unit():
            session = sb.store.get("billing_portal.session", bps_id)
            if session is None:
                return page("Billing", "<p>No such portal session.</p>", 404)
            try:
                return portal_html(sb, session, action_url(request, bps_id))
            except StripeError as err:  # e.g. the customer was deleted since
                return page("Billing", error_box(err.message), err.status)

    async def submit(request: Request) -> Response:
        bps_id = request.path_params["id"]
        form = {k: str(v) for k, v in (await request.form()).items()}
        wants_json = "application/json" in request.headers.get("accept", "")
        return await run_in_threadpool(_submit, bps_id, form, action_url(request, bps_id),
                                       wants_json)

    def _submit(bps_id: str, form: dict[str, str], action: str, wants_json: bool) -> Response:
        with sb.unit():
            session = sb.store.get("billing_portal.session", bps_id)
            if session is None:
                return page("Billing", "<p>No such portal session.</p>", 404)
            try:
                try:
                    notice = _act(sb, session, form)
                except StripeError as err:
                    # A refusal changes nothing; a script asking for JSON gets Stripe's body.
                    if wants_json:
                        return JSONResponse(err.body(), err.status)
                    return portal_html(sb, session, action, err.message, status=err.status)
                return portal_html(sb, session, action, notice=notice)
            except StripeError as err:  # e.g. the customer was deleted since
                return page("Billing", error_box(err.message), err.status)

    return [Route("/billing_portal/{id}", show, methods=["GET"]),
            Route("/billing_portal/{id}", submit, methods=["POST"])]
