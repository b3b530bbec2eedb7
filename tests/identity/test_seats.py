"""Team seats: the team's balance of the item `seats` bounds its members, whatever the
concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.errors import Conflict
from plangate.services.entitlements import teams
from plangate.store.db import Database
from tests.identity.conftest import bearer, database_state, expect_error

NO_SEATS_CATALOG = """
[features.export]
name = "Export"

[products.team_pro]
name = "Team Pro"
customer_type = "team"
features = ["export"]
"""


@pytest.fixture
def server(secret_key: str) -> dict[str, str]:
    return bearer(secret_key)


@pytest.fixture
def seated(app: TestClient, server: dict[str, str], example_catalog_text: str) -> TestClient:
    """The example catalog: every team holds `team_free` (3 seats) until it buys `team` (10)."""
    response = app.put("/v1/catalog", content=example_catalog_text,
                       headers={**server, "content-type": "application/toml"})
    assert response.status_code == 200, response.text
    return app


def add(app: TestClient, server: dict[str, str], team: str, user: str, role: str = "member"):  # type: ignore[no-untyped-def]
    return app.put(f"/v1/teams/{team}/members/{user}", json={"role": role}, headers=server)


def test_members_fill_the_seats_then_are_refused(
    seated: TestClient, server: dict[str, str], db: Database
) -> None:
    for user in ("u1", "u2", "u3"):
        assert add(seated, server, "t1", user).status_code == 201
    before = database_state(db)
    refused = add(seated, server, "t1", "u4")
    expect_error(refused, 409, "seat_limit_reached")
    assert refused.json()["error"]["seats"] == 3
    assert database_state(db) == before
    # A role change takes no seat.
    changed = add(seated, server, "t1", "u3", "admin")
    assert (changed.status_code, changed.json()["role"]) == (200, "admin")
    members = seated.get("/v1/teams/t1/members", headers=server).json()
    assert members["seats"] == {"limit": 3, "used": 3}


def test_removing_a_member_frees_its_seat_and_buying_seats_adds_room(
    seated: TestClient, server: dict[str, str]
) -> None:
    for user in ("u1", "u2", "u3"):
        add(seated, server, "t1", user)
    assert seated.delete("/v1/teams/t1/members/u2", headers=server).status_code == 204
    expect_error(seated.delete("/v1/teams/t1/members/u2", headers=server), 404,
                 "member_not_found")
    assert add(seated, server, "t1", "u4").status_code == 201
    expect_error(add(seated, server, "t1", "u5"), 409, "seat_limit_reached")

    granted = seated.post("/v1/customers/team/t1/products", json={"product_id": "team"},
                          headers=server)
    assert granted.status_code == 201, granted.text
    assert add(seated, server, "t1", "u5").status_code == 201
    assert seated.get("/v1/teams/t1/members", headers=server).json()["seats"] == {
        "limit": 10, "used": 4}


def test_a_catalog_without_seats_for_teams_leaves_teams_unlimited(
    app: TestClient, server: dict[str, str]
) -> None:
    app.put("/v1/catalog", content=NO_SEATS_CATALOG,
            headers={**server, "content-type": "application/toml"})
    for n in range(12):
        assert add(app, server, "t1", f"u{n}").status_code == 201
    assert app.get("/v1/teams/t1/members", headers=server).json()["seats"] == {
        "limit": None, "used": 12}


def test_concurrent_adds_at_the_last_seat_admit_exactly_one(
    seated: TestClient, server: dict[str, str], db: Database
) -> None:
    add(seated, server, "t1", "u1")
    add(seated, server, "t1", "u2")
    contenders = 8
    barrier = threading.Barrier(contenders)
    statuses: list[int] = []
    lock = threading.Lock()

    def contend(user: str) -> None:
        barrier.wait()
        status = add(seated, server, "t1", user).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=contend, args=(f"racer{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(statuses) == {201: 1, 409: contenders - 1}
    with db.read() as session:
        assert teams.count_members(session, "t1") == 3


def test_assert_seats_fit_refuses_a_downgrade_below_the_members(
    seated: TestClient, server: dict[str, str], db: Database, clock: FrozenClock
) -> None:
    for user in ("u1", "u2", "u3"):
        add(seated, server, "t1", user)
    with db.write() as session:
        teams.assert_seats_fit(session, "t1", 3)
        with pytest.raises(Conflict) as refused:
            teams.assert_seats_fit(session, "t1", 2)
    assert refused.value.code == "seats_below_members"
    assert refused.value.extra == {"seats": 2, "members": 3}
