"""Catalog push for usage-based billing: the catalog's meters as Stripe meters (found again
by `event_name`, ``plangate_<meter id>``), and each metered price, per currency, as a
Stripe price with ``usage_type=metered`` on its meter, found by its lookup key
(``plangate-metered:<price>:<currency>``) and replaced like any price when its terms change
(Stripe prices are immutable). Meters the catalog no longer has are deactivated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from plangate.domain.catalog import Catalog, Meter, MeteredPrice, Product
from plangate.gateways.stripe_client import metered_lookup_key

META_METERED_PRICE_ID = "plangate_metered_price_id"
Tiers = list[tuple[int | None, int, int]]


def _tiers_of(price: dict[str, Any]) -> Tiers:
    return [(t.get("up_to"), int(t.get("unit_amount") or 0), int(t.get("flat_amount") or 0))
            for t in price.get("tiers") or []]


class MeterPush:
    def __init__(self, client: stripe.StripeClient, say: Callable[[str], None]) -> None:
        self.client = client
        self.say = say
        self.meter_ids: dict[str, str] = {}  # catalog meter id -> Stripe meter id
        self.meters_created: list[str] = []
        self.meters_updated: list[str] = []
        self.meters_deactivated: list[str] = []
        self.prices_created: list[str] = []
        self.prices_replaced: list[str] = []
        self.prices_reactivated: list[str] = []
        self.unchanged = 0

    def meters(self, catalog: Catalog) -> None:
        existing = {str(m.event_name): m.to_dict() for m in
                    self.client.v1.billing.meters.list({"limit": 100}).auto_paging_iter()}
        wanted = {meter.event_name: meter for meter in catalog.meters.values()}
        for event_name, meter in wanted.items():
            found = existing.get(event_name)
            if found is None:
                self._create(meter)
                continue
            self.meter_ids[meter.id] = str(found["id"])
            changed = False
            if found["status"] != "active":
                self.client.v1.billing.meters.reactivate(str(found["id"]))
                changed = True
            if found["display_name"] != meter.name:
                self.client.v1.billing.meters.update(str(found["id"]),
                                                     {"display_name": meter.name})
                changed = True
            if found["default_aggregation"]["formula"] != meter.aggregation:
                # A meter's aggregation is fixed at Stripe: a new meter takes the event name.
                self.client.v1.billing.meters.deactivate(str(found["id"]))
                self._create(meter)
                continue
            if changed:
                self.meters_updated.append(meter.id)
                self.say(f"meter {meter.id}: updated")
            else:
                self.unchanged += 1
        for event_name, found in existing.items():
            if event_name.startswith("plangate_") and event_name not in wanted \
                    and found["status"] == "active":
                self.client.v1.billing.meters.deactivate(str(found["id"]))
                self.meters_deactivated.append(event_name)
                self.say(f"meter {event_name}: deactivated (no longer in the catalog)")

    def _create(self, meter: Meter) -> None:
        created = self.client.v1.billing.meters.create({
            "display_name": meter.name, "event_name": meter.event_name,
            "default_aggregation": {"formula": meter.aggregation},
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "value_settings": {"event_payload_key": "value"}})
        self.meter_ids[meter.id] = created.id
        self.meters_created.append(meter.id)
        self.say(f"meter {meter.id}: created ({meter.event_name})")

    def prices(self, catalog: Catalog, product: Product, stripe_product: str) -> set[str]:
        """Brings the product's metered prices in line; returns the Stripe price ids in use."""
        in_use: set[str] = set()
        for metered in catalog.metered_prices_of(product.id):
            for currency in metered.currencies:
                in_use.add(self._price(metered, currency, stripe_product))
        return in_use

    def _params(self, metered: MeteredPrice, currency: str, stripe_product: str
                ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "product": stripe_product, "currency": currency,
            "lookup_key": metered_lookup_key(metered.id, currency), "transfer_lookup_key": True,
            "nickname": f"{metered.id} ({currency.upper()}, metered)",
            "recurring": {"interval": metered.interval.unit,
                          "interval_count": metered.interval.count,
                          "usage_type": "metered", "meter": self.meter_ids[metered.meter]},
            # Not the products' metadata keys: the subscription sync must not read this
            # price as the product's own.
            "metadata": {META_METERED_PRICE_ID: metered.id},
        }
        tiers = metered.stripe_tiers(currency)
        if tiers is None:
            params["unit_amount"] = metered.unit_amount(currency)
        else:
            params.update(billing_scheme="tiered", tiers_mode=metered.stripe_mode(), tiers=[
                {"up_to": "inf" if up is None else up, "unit_amount": unit,
                 "flat_amount": flat} for up, unit, flat in tiers])
        return params

    def _matches(self, price: dict[str, Any], params: dict[str, Any]) -> bool:
        rec = price.get("recurring") or {}
        want = params["recurring"]
        same = (str(price.get("product")) == params["product"]
                and price.get("currency") == params["currency"]
                and (rec.get("interval"), rec.get("interval_count"), rec.get("usage_type"),
                     rec.get("meter")) == (want["interval"], want["interval_count"],
                                           "metered", want["meter"]))
        if "tiers" in params:
            wanted_tiers = [(None if t["up_to"] == "inf" else t["up_to"], t["unit_amount"],
                             t["flat_amount"]) for t in params["tiers"]]
            return same and price.get("billing_scheme") == "tiered" \
                and price.get("tiers_mode") == params["tiers_mode"] \
                and _tiers_of(price) == wanted_tiers
        return same and price.get("billing_scheme") == "per_unit" \
            and price.get("unit_amount") == params["unit_amount"]

    def _price(self, metered: MeteredPrice, currency: str, stripe_product: str) -> str:
        params = self._params(metered, currency, stripe_product)
        key = params["lookup_key"]
        page = self.client.v1.prices.list({"lookup_keys": [key], "expand": ["data.tiers"]})
        existing = next((p.to_dict() for p in page.data), None)
        if existing is not None and self._matches(existing, params):
            if not existing.get("active"):
                self.client.v1.prices.update(str(existing["id"]), {"active": True})
                self.prices_reactivated.append(key)
            else:
                self.unchanged += 1
            return str(existing["id"])
        created = self.client.v1.prices.create(params)  # type: ignore[arg-type]
        if existing is None:
            self.prices_created.append(key)
            self.say(f"price {key}: created (metered)")
        else:
            self.client.v1.prices.update(str(existing["id"]), {"active": False})
            self.prices_replaced.append(key)
            self.say(f"price {key}: replaced; old price deactivated")
        return created.id
