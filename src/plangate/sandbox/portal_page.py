"""The hosted billing portal: cancel at period end (or undo), switch price, update card."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from . import invoices, subscriptions_api
from .pages import base_url, card_fields, error_box, money, page
from .payments import attach_payment_method, new_card_method
from .periods import format_day
from .subscriptions import period_of
from .wire import Obj, StripeError

if TYPE_CHECKING:
    from .core import Sandbox

_LIVE = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


def _product_name(sb: Sandbox, price: Obj) -> str:
    product = sb.store.get("product", price["product"]) or {}
    return str(product.get("name") or price["product"])


def _subscription_block(sb: Sandbox, sub: Obj, action: str) -> str:
    item = sub["items"]["data"][0]
    price = item["price"]
    _, end = period_of(sub)
    name = _product_name(sb, price)
    interval = (price["recurring"] or {}).get("interval", "")
    state = (f"Cancels on {format_day(end)}" if sub["cancel_at_period_end"]
             else f"Renews on {format_day(end)}")
    toggle = ("renew", "Don't cancel", "renew") if sub["cancel_at_period_end"] else (
        "cancel", "Cancel plan", "cancel")
    options = "".join(
        f"<option value='{p['id']}'>{escape(_product_name(sb, p))} · "
        f"{money(p['unit_amount'], p['currency'])} / {escape(p['recurring']['interval'])}"
        f"</option>"
        for p in sb.store.all("price")
        if p["active"] and p["type"] == "recurring" and p["currency"] == price["currency"]
        and p["id"] != price["id"])
    switch = (f"<form method='post' action='{escape(action)}'>"
              f"<input type='hidden' name='subscription' value='{sub['id']}'>"
              f"<label for='price-{sub['id']}'>Switch plan</label>"
              f"<select id='price-{sub['id']}' name='price' data-testid='price-select'>"
              f"{options}</select><button name='action' value='switch' "
              f"data-testid='switch'>Update plan</button></form>") if options else ""
    return (
        f"<section data-testid='subscription' data-id='{sub['id']}'>"
        f"<h2>{escape(name)}</h2><p>{money(price['unit_amount'], price['currency'])} / "
        f"{escape(interval)} · <span data-testid='sub-status'>{escape(sub['status'])}</span>"
        f"</p><p data-testid='renewal'>{state}</p>"
        f"<form method='post' action='{escape(action)}'>"
        f"<input type='hidden' name='subscription' value='{sub['id']}'>"
        f"<button name='action' value='{toggle[0]}' data-testid='{toggle[2]}'>{toggle[1]}"
        f"</button></form>{switch}</section>")


def portal_html(sb: Sandbox, session: Obj, action: str, message: str | None = None,
                notice: str | None = None) -> HTMLResponse:
    customer = sb.get("customer", session["customer"])
    subs = [s for s in sb.store.all("subscription")
            if s["customer"] == customer["id"] and s["status"] in _LIVE]
    blocks = "".join(_subscription_block(sb, s, action) for s in subs) or \
        "<p>No active subscriptions.</p>"
    pm_id = customer["invoice_settings"]["default_payment_method"] or next(
        (s["default_payment_method"] for s in subs if s["default_payment_method"]), None)
    pm = sb.store.get("payment_method", pm_id) if pm_id else None
    card = (f"<p data-testid='card'>{escape(pm['card']['brand'])} ···· "
            f"{escape(pm['card']['last4'])}</p>") if pm else "<p>No card on file.</p>"
    back = (f"<p><a href='{escape(session['return_url'])}' data-testid='return'>Return</a>"
            f"</p>") if session["return_url"] else ""
    note = f"<p data-testid='notice'>{escape(notice)}</p>" if notice else ""
    return page("Billing", (
        f"<p>{escape(customer.get('email') or '')}</p>{note}{error_box(message)}{blocks}"
        f"<h2>Payment method</h2>{card}<form method='post' action='{escape(action)}'>"
        f"{card_fields()}<button name='action' value='update_card' "
        f"data-testid='update-card'>Update card</button></form>{back}"))


def _act(sb: Sandbox, session: Obj, form: dict[str, str]) -> str:
    customer = sb.get("customer", session["customer"])
    action = form.get("action")
    sub = sb.store.get("subscription", form.get("subscription", ""))
    if action in ("cancel", "renew", "switch"):
        if sub is None or sub["customer"] != customer["id"]:
            raise StripeError(400, "invalid_request_error", "No such subscription.")
        if action == "switch":
            subscriptions_api.update(sb, sub, {
                "items": [{"id": sub["items"]["data"][0]["id"], "price": form.get("price")}],
                "proration_behavior": "create_prorations"})
            return "Plan updated."
        subscriptions_api.update(sb, sub, {
            "cancel_at_period_end": "true" if action == "cancel" else "false"})
        return "Your plan will be canceled." if action == "cancel" else "Your plan renews."
    if action == "update_card":
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
    raise StripeError(400, "invalid_request_error", "Unknown action.")


def portal_routes(sb: Sandbox) -> list[BaseRoute]:
    def action_url(request: Request, bps_id: str) -> str:
        return base_url(request) + f"/billing_portal/{bps_id}"

    async def show(request: Request) -> Response:
        bps_id = request.path_params["id"]
        with sb.unit():
            session = sb.store.get("billing_portal.session", bps_id)
            if session is None:
                return page("Billing", "<p>No such portal session.</p>", 404)
            return portal_html(sb, session, action_url(request, bps_id))

    async def submit(request: Request) -> Response:
        bps_id = request.path_params["id"]
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await run_in_threadpool(_submit, bps_id, form, action_url(request, bps_id))

    def _submit(bps_id: str, form: dict[str, str], action: str) -> Response:
        with sb.unit():
            session = sb.store.get("billing_portal.session", bps_id)
            if session is None:
                return page("Billing", "<p>No such portal session.</p>", 404)
            try:
                notice = _act(sb, session, form)
            except StripeError as err:
                return portal_html(sb, session, action, err.message)
            return portal_html(sb, session, action, notice=notice)

    return [Route("/billing_portal/{id}", show, methods=["GET"]),
            Route("/billing_portal/{id}", submit, methods=["POST"])]
