"""Catalog push, discounts: the catalog's coupons and promotion codes at Stripe.

Stripe coupons and promotion codes cannot change their terms once created (only a coupon's
name and a code's `active` flag). So a coupon is pushed under an id that carries a hash of
its terms, ``plangate_<coupon id>_<hash>``: changing `percent_off` or `duration` creates a
new Stripe coupon, as a changed amount creates a new price, and customers who redeemed the
old one keep its discount. A promotion code is found again by its code and plangate's
metadata; when its terms or its coupon change, the old code is deactivated and the same code
is created again on the new terms (Stripe allows one active code per code string). Coupons
and codes the catalog no longer declares are deleted and deactivated; Stripe keeps the
discounts already applied. Objects without plangate's metadata are never touched.

Pushing twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe

from plangate.domain.catalog import Catalog, Coupon, PromotionCode

Progress = Callable[[str], None]

META_COUPON_ID = "plangate_coupon_id"
META_PROMOTION_CODE_ID = "plangate_promotion_code_id"
STRIPE_COUPON_PREFIX = "plangate_"


def _terms(coupon: Coupon) -> dict[str, Any]:
    body = coupon.to_dict()
    body.pop("name", None)  # the one field Stripe lets us change
    return body


def stripe_coupon_id(coupon: Coupon) -> str:
    """The Stripe coupon selling these terms: a stable id per terms, so a push finds it."""
    digest = hashlib.sha256(json.dumps(_terms(coupon), sort_keys=True).encode()).hexdigest()
    return f"{STRIPE_COUPON_PREFIX}{coupon.id}_{digest[:8]}"


def coupon_params(coupon: Coupon) -> dict[str, Any]:
    params: dict[str, Any] = {
        "id": stripe_coupon_id(coupon),
        "name": coupon.name[:40],  # Stripe's limit for a coupon's name
        "duration": coupon.duration,
        "metadata": {META_COUPON_ID: coupon.id},
    }
    if coupon.percent_off is not None:
        params["percent_off"] = coupon.percent_off
    else:
        params["amount_off"] = coupon.amount_off_minor
        params["currency"] = coupon.currency
    for key, value in (
        ("duration_in_months", coupon.duration_in_months),
        ("max_redemptions", coupon.max_redemptions),
        ("redeem_by", coupon.redeem_by_unix),
    ):
        if value is not None:
            params[key] = value
    return params


def _code_terms(promo: PromotionCode, coupon_sid: str) -> dict[str, Any]:
    """What a Stripe promotion code must hold to be this catalog code (all immutable)."""
    return {
        "coupon": coupon_sid,
        "max_redemptions": promo.max_redemptions,
        "expires_at": promo.expires_at_unix,
        "first_time_transaction": promo.first_time_transaction,
        "minimum_amount": promo.minimum_amount_minor,
        "minimum_amount_currency": promo.minimum_amount_currency,
    }


def _existing_terms(code: dict[str, Any]) -> dict[str, Any]:
    rules = code.get("restrictions") or {}
    return {
        "coupon": (code.get("promotion") or {}).get("coupon"),
        "max_redemptions": code.get("max_redemptions"),
        "expires_at": code.get("expires_at"),
        "first_time_transaction": bool(rules.get("first_time_transaction")),
        "minimum_amount": rules.get("minimum_amount"),
        "minimum_amount_currency": rules.get("minimum_amount_currency"),
    }


def code_params(promo: PromotionCode, coupon_sid: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "code": promo.code,
        "promotion": {"type": "coupon", "coupon": coupon_sid},
        "active": promo.active,
        "metadata": {META_PROMOTION_CODE_ID: promo.id},
    }
    if promo.max_redemptions is not None:
        params["max_redemptions"] = promo.max_redemptions
    if promo.expires_at_unix is not None:
        params["expires_at"] = promo.expires_at_unix
    restrictions: dict[str, Any] = {}
    if promo.first_time_transaction:
        restrictions["first_time_transaction"] = True
    if promo.minimum_amount_minor is not None:
        restrictions["minimum_amount"] = promo.minimum_amount_minor
        restrictions["minimum_amount_currency"] = promo.minimum_amount_currency
    if restrictions:
        params["restrictions"] = restrictions
    return params


@dataclass
class DiscountPush:
    client: stripe.StripeClient
    say: Progress
    coupons_created: list[str] = field(default_factory=list)
    coupons_updated: list[str] = field(default_factory=list)
    coupons_deleted: list[str] = field(default_factory=list)
    codes_created: list[str] = field(default_factory=list)
    codes_updated: list[str] = field(default_factory=list)
    codes_deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def run(self, catalog: Catalog) -> None:
        """Coupons first (codes need them), then codes, then what the catalog dropped."""
        wanted = {coupon.id: stripe_coupon_id(coupon) for coupon in catalog.coupons.values()}
        for coupon in catalog.coupons.values():
            self.coupon(coupon)
        for promo in catalog.promotion_codes.values():
            self.code(promo, wanted[promo.coupon])
        self.deactivate_dropped_codes(set(catalog.promotion_codes))
        self.delete_dropped_coupons(set(wanted.values()))

    def coupon(self, coupon: Coupon) -> None:
        sid = stripe_coupon_id(coupon)
        try:
            existing = self.client.v1.coupons.retrieve(sid).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            self.client.v1.coupons.create(coupon_params(coupon))  # type: ignore[arg-type]
            self.coupons_created.append(coupon.id)
            self.say(f"coupon {coupon.id}: created ({sid}, {coupon.describe()})")
            return
        name = coupon.name[:40]
        if existing.get("name") != name:
            self.client.v1.coupons.update(sid, {"name": name})
            self.coupons_updated.append(coupon.id)
            self.say(f"coupon {coupon.id}: renamed")
        else:
            self.unchanged += 1

    def _codes_named(self, code: str) -> list[dict[str, Any]]:
        page = self.client.v1.promotion_codes.list({"code": code, "limit": 100})
        return [c.to_dict() for c in page.auto_paging_iter()]

    def code(self, promo: PromotionCode, coupon_sid: str) -> None:
        want = _code_terms(promo, coupon_sid)
        ours = [
            c
            for c in self._codes_named(promo.code)
            if (c.get("metadata") or {}).get(META_PROMOTION_CODE_ID) == promo.id
        ]
        match = next((c for c in ours if _existing_terms(c) == want), None)
        for other in ours:
            if other is not match and other.get("active"):
                self.client.v1.promotion_codes.update(str(other["id"]), {"active": False})
                self.codes_deactivated.append(str(other["id"]))
                self.say(f"promotion code {promo.code}: old terms deactivated")
        if match is None:
            self.client.v1.promotion_codes.create(code_params(promo, coupon_sid))  # type: ignore[arg-type]
            self.codes_created.append(promo.id)
            self.say(f"promotion code {promo.code}: created for coupon {promo.coupon}")
        elif bool(match.get("active")) != promo.active:
            self.client.v1.promotion_codes.update(str(match["id"]), {"active": promo.active})
            self.codes_updated.append(promo.id)
            state = "activated" if promo.active else "deactivated"
            self.say(f"promotion code {promo.code}: {state}")
        else:
            self.unchanged += 1

    def deactivate_dropped_codes(self, kept: set[str]) -> None:
        page = self.client.v1.promotion_codes.list({"active": True, "limit": 100})
        for code in [c.to_dict() for c in page.auto_paging_iter()]:
            pid = (code.get("metadata") or {}).get(META_PROMOTION_CODE_ID)
            if pid and pid not in kept:
                self.client.v1.promotion_codes.update(str(code["id"]), {"active": False})
                self.codes_deactivated.append(str(code["id"]))
                self.say(f"promotion code {code['code']}: deactivated (no longer declared)")

    def delete_dropped_coupons(self, kept: set[str]) -> None:
        page = self.client.v1.coupons.list({"limit": 100})
        for coupon in [c.to_dict() for c in page.auto_paging_iter()]:
            sid = str(coupon["id"])
            owned = (coupon.get("metadata") or {}).get(META_COUPON_ID)
            if not owned or not sid.startswith(STRIPE_COUPON_PREFIX) or sid in kept:
                continue
            self.client.v1.coupons.delete(sid)
            self.coupons_deleted.append(sid)
            self.say(f"coupon {sid}: deleted (terms changed or no longer declared)")
