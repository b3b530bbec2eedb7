"""An urgent event (a checkout completed) that arrives while a worker handles a long batch of
renewal events is handled during that batch, not after it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from plangate.clock import FrozenClock
from plangate.gateways.stripe_gateway import StripeGateway
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.stripe_sync import worker as worker_module
from plangate.services.stripe_sync.sync import SyncContext
from plangate.services.stripe_sync.webhooks import store_event
from plangate.services.stripe_sync.worker import Claimed, Worker
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import free_port

NOW = datetime(2026, 1, 15, tzinfo=UTC)


def _event(event_id: str, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": type_, "created": int(NOW.timestamp()),
            "data": {"object": obj}}


def test_an_urgent_event_that_arrives_during_a_batch_is_handled_within_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing answers at the API base: the checkout's sync fails at once, which records its
    # attempt (what is checked here is when it was handled, not how).
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="stripe", stripe_api_key="sk_test_urgent",
                        stripe_api_base=f"http://127.0.0.1:{free_port()}",
                        stripe_max_retries=0, reconcile_interval_seconds=0)
    worker = Worker(SyncContext(db, StripeGateway.from_settings(settings), CatalogCache(),
                                FrozenClock(NOW)), settings)
    monkeypatch.setattr(worker_module, "URGENT_CHECK_SECONDS", 0.0)
    with db.write() as session:
        for n in range(5):  # events about objects plangate keeps nothing of: no Stripe call
            store_event(session, _event(f"evt_p{n}", "product.updated",
                                        {"id": f"prod_{n}", "object": "product"}), NOW)
    claim = worker.claim

    def claim_then_a_checkout_arrives(limit: int | None = None, *,
                                      urgent_only: bool = False) -> list[Claimed]:
        claimed = claim(limit, urgent_only=urgent_only)
        if not urgent_only:
            with db.write() as session:
                store_event(session, _event("evt_checkout", "checkout.session.completed",
                                            {"id": "cs_1", "object": "checkout.session"}),
                            datetime.now(UTC))
        return claimed

    monkeypatch.setattr(worker, "claim", claim_then_a_checkout_arrives)
    assert worker.run_once() == 5  # the batch: the checkout was not in it
    with db.read() as session:
        rows = dict(session.execute(select(StripeEvent.id, StripeEvent.attempts)).all())
    assert rows.pop("evt_checkout") == 1  # handled during the batch
    assert set(rows.values()) == {1}
