"""Which subscriptions may grant their product (services/stripe_sync/conflicts.py)."""

from __future__ import annotations

import pytest

from plangate.domain.catalog import parse_catalog
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.stripe_sync.conflicts import DUPLICATE, refusal_for
from plangate.store.models import Ownership
from tests.e2e.conflict_harness import CATALOG

PRODUCTS = parse_catalog(CATALOG).products
ADA = CustomerRef("user", "ada")


def held(product_id: str, subscription_id: str | None, status: str = "active") -> Ownership:
    product = PRODUCTS[product_id]
    return Ownership(
        product_id=product_id,
        line_id=product.line,
        stripe_subscription_id=subscription_id,
        status=status,
        ended_at=None,
    )


def reason(product_id: str, owned: list[Ownership], sold: frozenset[str] = frozenset()) -> str:
    refusal = refusal_for(ADA, PRODUCTS[product_id], "sub_new", owned, sold)
    return refusal.reason if refusal else "granted"


@pytest.mark.parametrize("status", ["active", "trialing", "past_due"])
def test_a_granting_subscription_holds_its_line(status: str) -> None:
    refusal = refusal_for(
        ADA, PRODUCTS["max"], "sub_new", [held("pro", "sub_old", status)], frozenset()
    )
    assert refusal is not None and refusal.reason == DUPLICATE
    assert refusal.kept_subscription_id == "sub_old"


@pytest.mark.parametrize("status", ["unpaid", "paused", "incomplete"])
def test_a_subscription_that_grants_nothing_does_not_hold_its_line(status: str) -> None:
    assert reason("pro", [held("pro", "sub_old", status)]) == "granted"


def test_grants_defaults_and_the_subscription_itself_do_not_conflict() -> None:
    assert reason("pro", [held("free", None), held("pro", "sub_new")]) == "granted"
    assert reason("pro", [held("vip", None)]) == "granted"  # a grant is replaced as always


def test_products_the_customer_may_not_own() -> None:
    assert reason("team", []) == "customer_type_mismatch"
    assert reason("boost", []) == "add_on_without_base"
    assert reason("boost", [held("pro", "sub_new")]) == "add_on_without_base"
    assert reason("boost", [held("pro", "sub_old")]) == "granted"
    assert reason("boost", [held("pro", "sub_old", "unpaid")]) == "add_on_without_base"
    assert reason("vip", []) == "server_only_product"
    assert reason("vip", [], frozenset({"vip"})) == "granted"


def test_an_add_on_bought_twice_is_a_duplicate() -> None:
    base = held("pro", "sub_base")
    assert reason("boost", [base, held("boost", "sub_old")]) == DUPLICATE
    assert reason("boost", [base, held("boost", "sub_old", "unpaid")]) == "granted"
