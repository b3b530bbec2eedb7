"""A plan switch on the stripe gateway: Stripe writes only; plangate's ownerships follow when
the sync processes the webhooks.

A downgrade waits for the period end in a Stripe subscription schedule, as Stripe recommends:
the current phase keeps the paid-for price until the period end, the next one has the new
price (its metadata names plangate's product and price, which Stripe copies onto the
subscription when the phase starts). Nothing is charged or credited; the renewal bills the
new price. Switching back releases the schedule. A downgrade that also changes the billing
interval cannot wait (Stripe restarts the cycle on an interval change), so it takes effect
now, with the unused time credited.

Subscriptions downgraded before schedules carry the older form (the item's price changed at
once, the metadata keeping the paid-for product, ``gateways.stripe_client.held_until_renewal``):
a switch first puts their paid-for price back, then goes on as for any subscription.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from plangate.domain.catalog import Catalog, Price, Product
from plangate.errors import Conflict, InvalidRequest
from plangate.gateways.base import Gateway, GatewayError, StripeDict
from plangate.gateways.stripe_client import (
    META_PENDING_FROM,
    META_PENDING_PRICE_ID,
    META_PENDING_PRODUCT_ID,
    META_PRICE_ID,
    META_PRODUCT_ID,
    held_until_renewal,
    lookup_key,
    schedule_of,
    scheduled_change,
)
from plangate.services.commerce.invoices import invoice_summary
from plangate.services.commerce.metered_items import metered_stripe_prices
from plangate.services.commerce.payment_errors import (
    PaymentRequired,
    from_gateway,
    gateway_idempotency_key,
)
from plangate.services.entitlements import ownership
from plangate.services.purchases.metered_switch import metered_item_changes
from plangate.services.purchases.rules import (
    Change,
    Deps,
    Switch,
    SwitchRequest,
    at,
    check_seats,
    compare_prices,
    plan_change_body,
    target_price,
    validate_switch,
)
from plangate.services.purchases.stripe_subscription import (
    Writes,
    schedule_downgrade,
    stripe_subscription,
)

# Metadata on a subscription downgraded in the older form: the Stripe price paid for, so that
# switching back restores it exactly (a re-pushed catalog may have moved its lookup key).
META_PAID_STRIPE_PRICE = "paid_stripe_price"


def _has_payment_method(gateway: Gateway, subscription: StripeDict) -> bool:
    if subscription.get("default_payment_method"):
        return True
    customer = gateway.retrieve_customer(_object_id(subscription.get("customer")))
    settings = customer.get("invoice_settings") or {}
    return bool(settings.get("default_payment_method") or customer.get("default_source"))


def _object_id(value: Any) -> str:
    return str(value.get("id") if isinstance(value, dict) else value)


def _resolve_stripe_price(gateway: Gateway, product: Product, price: Price, currency: str) -> str:
    if currency not in price.amounts:
        raise InvalidRequest(
            "currency_not_offered",
            f"price {price.id!r} of {product.id!r} is not offered in {currency.upper()}, the "
            "subscription's currency",
            param="price_id",
        )
    key = lookup_key(product.id, price.id, currency)
    found = gateway.find_price(key)
    if found is None:
        raise Conflict(
            "price_not_pushed",
            f"Stripe has no active price with lookup key {key!r}: run `plangate catalog push`",
            param="price_id",
        )
    return str(found["id"])


def _clear_pending() -> dict[str, str]:
    # An empty value unsets a metadata key at Stripe.
    return {
        META_PENDING_PRODUCT_ID: "",
        META_PENDING_PRICE_ID: "",
        META_PENDING_FROM: "",
        META_PAID_STRIPE_PRICE: "",
    }


def switch_on_stripe(
    deps: Deps, request: SwitchRequest, now: datetime, preview: Writes | None = None
) -> dict[str, Any]:
    """The switch on the stripe gateway: Stripe writes only (see the module docstring). With
    ``preview``, nothing is written: the updates are appended to it instead."""
    ref = request.ref
    with deps.db.read() as session:
        catalog = deps.catalogs.active(session)
        switch = validate_switch(catalog, ownership.live_ownerships(session, ref), request)
    subscription_id = switch.current.stripe_subscription_id
    if subscription_id is None:
        raise Conflict(
            "switch_requires_subscription",
            f"{request.from_product_id!r} was not bought through Stripe",
            param="from_product_id",
        )
    try:
        return _switch_on_stripe(deps, request, catalog, switch, subscription_id, now, preview)
    except GatewayError as exc:
        raise from_gateway(exc) from exc


def _switch_on_stripe(
    deps: Deps,
    request: SwitchRequest,
    catalog: Catalog,
    switch: Switch,
    subscription_id: str,
    now: datetime,
    preview: Writes | None,
) -> dict[str, Any]:
    gateway = deps.gateway
    sub = stripe_subscription(gateway, subscription_id)
    metadata = sub.data.get("metadata") or {}
    legacy = held_until_renewal(sub.data) is not None  # a downgrade in the older form
    paid_price = str(metadata.get(META_PAID_STRIPE_PRICE) or "") if legacy else ""
    current_stripe_price = paid_price or str(sub.price["id"])
    schedule = schedule_of(sub.data)
    waiting = scheduled_change(sub.data)

    def key(action: str) -> str:
        return gateway_idempotency_key(request.idempotency_scope, action)

    def write(params: dict[str, Any], action: str) -> StripeDict:
        if preview is not None:
            preview.append({"subscription": sub.id, "item": sub.item["id"], **params})
            return {}
        return gateway.update_subscription(sub.id, params, idempotency_key=key(action))

    def drop_waiting() -> None:
        """The waiting downgrade is dropped: the schedule released (the subscription keeps
        the paid-for price), or the older form's paid-for price put back."""
        if schedule is not None:
            if preview is None:
                gateway.release_subscription_schedule(
                    str(schedule["id"]), idempotency_key=key("switch-release")
                )
        elif legacy:
            write(
                {
                    "items": [{"id": sub.item["id"], "price": paid_price}],
                    "proration_behavior": "none",
                    "metadata": _clear_pending(),
                },
                "switch-revert",
            )

    # Choosing a plan means staying: a switch takes back a cancellation at the period end.
    staying: dict[str, Any] = (
        {"cancel_at_period_end": False} if sub.data.get("cancel_at_period_end") else {}
    )

    def body(
        change: Change,
        price_id: str | None,
        effective: Literal["now", "period_end"],
        when: datetime | None,
    ) -> dict[str, Any]:
        return plan_change_body(
            request,
            change,
            price_id=price_id,
            effective=effective,
            effective_at=when,
            subscription_id=sub.id,
        )

    if switch.target.default:
        if schedule is not None:
            drop_waiting()
        write({"cancel_at_period_end": True}, "switch-cancel")
        return body("downgrade", None, "period_end", at(sub.period_end))
    if not _has_payment_method(gateway, sub.data):
        raise PaymentRequired(
            "payment_method_required",
            "save a card first (POST .../setup-intents, then .../payment-methods/default)",
        )
    currency = str(sub.price.get("currency") or sub.data.get("currency")).lower()
    price = target_price(switch.target, request.price_id, sub.interval)
    stripe_price = _resolve_stripe_price(gateway, switch.target, price, currency)
    if waiting is not None and (waiting["to_product_id"], waiting["price_id"]) == (
        switch.target.id,
        price.id,
    ):
        # This very downgrade is already waiting for the period end.
        return body("downgrade", price.id, "period_end", at(int(waiting["effective_at"])))
    if stripe_price == current_stripe_price:
        if waiting is None:
            raise Conflict(
                "already_owned",
                f"{request.ref} already pays {price.id!r} of {switch.target.id!r}",
                param="to_product_id",
            )
        # Back to what is paid for: the waiting downgrade is dropped, nothing is billed.
        drop_waiting()
        if staying:
            write(staying, "switch-stay")
        return body("cancel_scheduled_change", price.id, "now", now)
    with deps.db.write() as session:
        check_seats(
            session,
            catalog,
            request.ref,
            switch.source,
            switch.target,
            int(sub.item.get("quantity") or 1),
            now,
        )
    assert price.interval is not None
    unit = int(sub.price.get("unit_amount") or 0)
    if legacy:
        unit = _paid_unit_amount(gateway, paid_price, unit)
    new_unit = price.minor_amount(currency)
    metered_target = metered_stripe_prices(gateway, catalog, switch.target, price, currency)
    change = compare_prices(unit, sub.interval, new_unit, price.interval)
    if change == "downgrade" and price.interval == sub.interval:
        if legacy:
            drop_waiting()
        if staying:
            write(staying, "switch-stay")
        phase_metadata = {META_PRODUCT_ID: switch.target.id, META_PRICE_ID: price.id}
        schedule_downgrade(
            gateway,
            sub,
            None if legacy else schedule,
            current_stripe_price,
            stripe_price,
            metered_target,
            phase_metadata,
            key,
            preview,
        )
        return body(change, price.id, "period_end", at(sub.period_end))
    # Prorations count from the item's price: whatever waits is dropped first.
    drop_waiting()
    before_invoice = _object_id(sub.data.get("latest_invoice"))
    updated = write(
        {
            "items": [
                {"id": sub.item["id"], "price": stripe_price},
                *metered_item_changes(sub.metered, metered_target),
            ],
            "proration_behavior": "always_invoice",
            # Real Stripe refuses the change (402) when the prorated invoice can't be paid,
            # rather than leaving the subscription past_due on the new price.
            "payment_behavior": "error_if_incomplete",
            "metadata": {
                META_PRODUCT_ID: switch.target.id,
                META_PRICE_ID: price.id,
                **_clear_pending(),
            },
            **staying,
        },
        "switch",
    )
    invoice = updated.get("latest_invoice")
    new_invoice = isinstance(invoice, dict) and invoice.get("id") != before_invoice
    return plan_change_body(
        request,
        change,
        price_id=price.id,
        effective="now",
        effective_at=now,
        subscription_id=sub.id,
        invoice=invoice_summary(invoice) if new_invoice else None,
    )


def _paid_unit_amount(gateway: Gateway, stripe_price_id: str, fallback: int) -> int:
    amount = gateway.retrieve_price(stripe_price_id).get("unit_amount")
    return int(amount) if amount is not None else fallback
