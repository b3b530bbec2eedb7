"""The Stripe subscription a plan switch changes (its licensed item and its metered ones),
and a downgrade waiting for the period end in the subscription's schedule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plangate.domain.intervals import Interval
from plangate.errors import Conflict
from plangate.gateways.base import Gateway, StripeDict
from plangate.services.purchases.metered_switch import (
    is_metered,
    metered_item_changes,
    phase_items,
)

SWITCHABLE_STATUSES = frozenset({"active", "trialing"})

# Instead of writing, a preview collects the subscription updates the switch would make.
Writes = list[dict[str, Any]]


@dataclass(frozen=True)
class StripeSubscription:
    data: StripeDict
    item: StripeDict  # the licensed item: the plan's price
    price: StripeDict
    metered: tuple[StripeDict, ...]  # the metered items (usage billed in arrears)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def period_end(self) -> int:
        return int(self.item["current_period_end"])

    @property
    def interval(self) -> Interval:
        recurring = self.price.get("recurring") or {}
        return Interval(recurring["interval"], int(recurring.get("interval_count") or 1))


def stripe_subscription(gateway: Gateway, subscription_id: str) -> StripeSubscription:
    data = gateway.retrieve_subscription(subscription_id)
    if str(data.get("status")) not in SWITCHABLE_STATUSES:
        raise Conflict(
            "subscription_not_active",
            f"the subscription is {data.get('status')}; only an active or trialing one can "
            "switch (pay the open invoice first)",
            param="from_product_id",
        )
    items = (data.get("items") or {}).get("data") or []
    if not all(isinstance(item.get("price"), dict) for item in items):
        items = []
    licensed = [item for item in items if not is_metered(item["price"])]
    if len(licensed) != 1:
        raise Conflict(
            "subscription_not_switchable",
            "the subscription does not have exactly one licensed (not metered) item; change "
            "it in Stripe",
            param="from_product_id",
        )
    metered = tuple(item for item in items if is_metered(item["price"]))
    return StripeSubscription(data, licensed[0], licensed[0]["price"], metered)


def schedule_downgrade(
    gateway: Gateway,
    sub: StripeSubscription,
    schedule: Mapping[str, Any] | None,
    paid_price: str,
    new_price: str,
    metered_target: list[StripeDict],
    phase_metadata: dict[str, str],
    key: Callable[[str], str],
    preview: Writes | None,
) -> None:
    """The subscription's schedule (created from it unless one is attached) gets two phases:
    the paid-for price until the period end, then the new price; each phase carries every
    item, the metered ones too. A preview records the change the renewal will bill
    instead."""
    if preview is not None:
        preview.append(
            {
                "subscription": sub.id,
                "item": sub.item["id"],
                "items": [
                    {"id": sub.item["id"], "price": new_price},
                    *metered_item_changes(sub.metered, metered_target),
                ],
                "proration_behavior": "none",
            }
        )
        return
    if schedule is None:
        schedule = gateway.create_subscription_schedule(
            {"from_subscription": sub.id}, idempotency_key=key("switch-schedule")
        )
        start = int(schedule["phases"][0]["start_date"])
    else:
        start = int((schedule.get("current_phase") or {})["start_date"])
    quantity = int(sub.item.get("quantity") or 1)
    interval = sub.interval
    gateway.update_subscription_schedule(
        str(schedule["id"]),
        {
            "phases": [
                {
                    "items": [
                        {"price": paid_price, "quantity": quantity},
                        *phase_items(sub.metered),
                    ],
                    "start_date": start,
                    "end_date": sub.period_end,
                },
                {
                    "items": [
                        {"price": new_price, "quantity": quantity},
                        *({"price": str(price["id"])} for price in metered_target),
                    ],
                    "duration": {"interval": interval.unit, "interval_count": interval.count},
                    "metadata": phase_metadata,
                },
            ],
            "end_behavior": "release",
            "proration_behavior": "none",
        },
        idempotency_key=key("switch"),
    )
