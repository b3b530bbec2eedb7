"""When a batch reuses what it fetched: only while its own sync was the last one of the object
(the lock row's ``syncs`` moved by exactly one), and never after a failed sync."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plangate.services.stripe_sync.batch import BatchFetches
from plangate.store.models import StripeObjectSync

NOW = datetime(2026, 1, 15, tzinfo=UTC)


class Stripe:
    """Answers with a new version of the object at every fetch."""

    def __init__(self) -> None:
        self.fetches = 0

    def retrieve(self, object_id: str) -> dict[str, Any]:
        self.fetches += 1
        return {"id": object_id, "object": "subscription", "version": self.fetches}


def _locked(syncs: int) -> StripeObjectSync:
    """The lock row as a sync sees it once its lock counted it."""
    return StripeObjectSync(object_id="sub_1", synced_at=NOW, syncs=syncs)


def test_an_object_is_reused_only_while_no_other_sync_of_it_came_between() -> None:
    stripe, batch = Stripe(), BatchFetches()
    assert batch.fetch(_locked(1), stripe.retrieve)["version"] == 1
    assert batch.fetch(_locked(2), stripe.retrieve)["version"] == 1  # ours was the last
    assert stripe.fetches == 1 and batch.calls_saved == 1
    # Another worker synced it in between (3 was theirs): fetched again.
    assert batch.fetch(_locked(4), stripe.retrieve)["version"] == 2
    assert batch.fetch(_locked(5), stripe.retrieve)["version"] == 2
    batch.forget()  # a sync failed: its transaction may not have counted
    assert batch.fetch(_locked(6), stripe.retrieve)["version"] == 3
    assert stripe.fetches == 3


def test_a_subscriptions_latest_invoice_serves_its_invoice_events() -> None:
    batch = BatchFetches()
    invoice = {"id": "in_1", "object": "invoice", "payments": {"data": []}}
    sub = {"id": "sub_1", "object": "subscription", "latest_invoice": invoice}
    batch.fetch(_locked(1), lambda _: sub)
    fetched: list[str] = []

    def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
        fetched.append(invoice_id)
        return {"id": invoice_id, "object": "invoice", "payments": {"data": []}}

    assert batch.invoice("in_1", retrieve_invoice) is invoice
    assert batch.invoice("in_2", retrieve_invoice)["id"] == "in_2"
    assert fetched == ["in_2"]
