"""Random sequences of grants, revokes, consumptions, changes with expiry, refills and clock
jumps through the real API, compared step by step with the reference model."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.domain.catalog import parse_catalog
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.ledger_model import Model

pytestmark = pytest.mark.slow

# Sequences per database; PLANGATE_PROPERTY_EXAMPLES=200 for a longer search.
EXAMPLES = int(os.environ.get("PLANGATE_PROPERTY_EXAMPLES", "30"))

CATALOG = """
[items.credits]
[lines.plan]
customer_type = "user"
[products.free]
customer_type = "user"
line = "plan"
default = true
items.credits = { quantity = 10, repeat = "month", expires = "when_repeated" }
[products.pro]
customer_type = "user"
line = "plan"
items.credits = { quantity = 100, repeat = "month", expires = "when_repeated" }
[products.daily]
customer_type = "user"
items.credits = { quantity = 5, repeat = "day", expires = "never" }
[products.pack]
customer_type = "user"
stackable = true
items.credits = { quantity = 50 }
[products.booster]
customer_type = "user"
add_on_to = ["pro"]
items.credits = { quantity = 20, repeat = "week", expires = "when_purchase_expires" }
"""

START = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
PRODUCTS = ["pro", "daily", "pack", "booster"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.sampled_from(PRODUCTS), st.integers(1, 3)),
        st.tuples(st.just("revoke"), st.sampled_from(PRODUCTS)),
        st.tuples(st.just("consume"), st.integers(1, 120)),
        st.tuples(st.just("add"), st.integers(1, 80), st.none() | st.integers(1, 60 * 24 * 45)),
        st.tuples(st.just("remove"), st.integers(1, 80), st.booleans()),
        st.tuples(st.just("wait"), st.integers(1, 60 * 24 * 3) | st.integers(1, 60 * 24 * 70)),
    ),
    min_size=1,
    max_size=25,
)


def test_balances_follow_the_reference_model(database_url: str) -> None:
    db = Database(database_url, pool_size=2)
    catalog = parse_catalog(CATALOG)
    run = [0]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps)
    def check(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
        run[0] += 1
        clock = FrozenClock(START)
        with db.write() as session:
            key = create_key(session, "prop", clock.now()).secret
        client = TestClient(
            create_app(Settings(database_url=database_url), db=db, clock=clock),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert client.put("/v1/catalog", content=CATALOG).status_code == 200
        customer = f"/v1/customers/user/p{run[0]}"
        model = Model(catalog, "user", clock.now(), "credits")
        model.refresh()

        def balance() -> int:
            response = client.get(customer + "/items/credits")
            assert response.status_code == 200, response.text
            return int(response.json()["quantity"])

        assert balance() == model.balance
        for step in sequence:
            kind = step[0]
            if kind == "grant":
                response = client.post(
                    customer + "/products",
                    json={"product_id": step[1], "quantity": step[2] if step[1] == "pack" else 1},
                )
                expected = model.grant(step[1], step[2] if step[1] == "pack" else 1)
                if expected is None:
                    assert response.status_code == 201, response.text
                else:
                    assert response.json()["error"]["code"] == expected
            elif kind == "revoke":
                response = client.delete(customer + f"/products/{step[1]}")
                expected = model.revoke(step[1])
                if expected is None:
                    assert response.status_code == 200, response.text
                else:
                    assert response.json()["error"]["code"] == expected
            elif kind == "consume":
                response = client.post(
                    customer + "/items/credits/consume", json={"quantity": step[1]}
                )
                ok = model.consume(step[1])
                assert response.status_code == (200 if ok else 409), response.text
            elif kind == "add":
                expires = None if step[2] is None else clock.now() + timedelta(minutes=step[2])
                body = {"delta": step[1]}
                if expires is not None:
                    body["expires_at"] = expires.isoformat()
                response = client.post(customer + "/items/credits/changes", json=body)
                assert response.status_code == 200, response.text
                model.add(step[1], expires)
            elif kind == "remove":
                response = client.post(
                    customer + "/items/credits/changes",
                    json={"delta": -step[1], "allow_negative": step[2]},
                )
                ok = model.remove(step[1], step[2])
                assert response.status_code == (200 if ok else 409), response.text
            else:
                clock.advance(timedelta(minutes=step[1]))
                model.advance(clock.now())
            assert balance() == model.balance, (step, model.lots, model.debt)

    try:
        check()
    finally:
        db.dispose()
