"""Fixtures for the outbox: the real app whose webhook endpoints may reach 127.0.0.1, a real
receiver, and a delivery worker on the same clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock, SystemClock
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.events.receiver import Receiver


@pytest.fixture
def clock() -> FrozenClock:
    # Near the real time: the official verifier checks webhook-timestamp against its clock.
    now = SystemClock().now().replace(microsecond=0)
    return FrozenClock(now)


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        database_url=db.url.render_as_string(hide_password=False),
        gateway="test",
        webhook_allowed_networks=["127.0.0.0/8"],
    )


@pytest.fixture
def app_client(
    db: Database, clock: FrozenClock, secret_key: str, settings: Settings,
    example_catalog_text: str,
) -> Iterator[TestClient]:
    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, headers={"Authorization": f"Bearer {secret_key}"}) as client:
        assert client.put("/v1/catalog", content=example_catalog_text).status_code == 200
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def deliveries(db: Database, settings: Settings, clock: FrozenClock) -> Iterator[DeliveryWorker]:
    worker = DeliveryWorker(db, settings, clock)
    yield worker
    worker.close()
