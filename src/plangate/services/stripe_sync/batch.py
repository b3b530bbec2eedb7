"""What one leased batch of events has fetched already, so that each Stripe object is fetched
once per batch.

Every event of a batch was received before the batch was leased, and every fetch here happens
after the lease: one fetch of an object covers every event of the batch that names it, whatever
their order. Reusing a fetched object is sound only while it is still the newest state anyone
wrote, so an object is reused under its sync lock (sync.lock_object) and only when no other
sync of it committed since ours: the lock row's ``syncs`` counter went up by exactly our own
lock. Otherwise it is fetched again, as without a batch.

Invoices are read for their links only (the subscription, the payment intents), never written,
and a subscription's fetch carries its latest invoice (``latest_invoice.payments`` expanded):
``invoice.paid`` for that invoice needs no fetch of its own.

In a renewal burst the worker reads by list (list_reads.py): an object that read found, and
that may serve this batch, is taken from it instead of fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plangate.gateways.base import StripeDict
from plangate.store.models import StripeObjectSync

if TYPE_CHECKING:
    from plangate.services.stripe_sync.list_reads import ListReads


@dataclass
class BatchFetches:
    # object id -> (the object as fetched, the ``syncs`` count our lock left on its row)
    _objects: dict[str, tuple[StripeDict, int]] = field(default_factory=dict)
    _invoices: dict[str, StripeDict] = field(default_factory=dict)
    calls_saved: int = 0
    # The worker's reads by list, and this batch's event ids by Stripe customer (what a
    # listed copy must have been read after).
    listed: ListReads | None = None
    events: dict[str | None, set[str]] = field(default_factory=dict)

    def fetch(self, row: StripeObjectSync, retrieve: Callable[[str], StripeDict]) -> StripeDict:
        """The object ``row`` locks: reused when our own sync was the last one, else fetched."""
        known = self._objects.get(row.object_id)
        if known is not None and row.syncs == known[1] + 1:
            self._objects[row.object_id] = (known[0], row.syncs)
            self.calls_saved += 1
            return known[0]
        obj = self.listed.take(row, self.events) if self.listed is not None else None
        if obj is not None:
            self.calls_saved += 1
        else:
            obj = retrieve(row.object_id)
        self._objects[row.object_id] = (obj, row.syncs)
        self._keep_latest_invoice(obj)
        return obj

    def forget(self) -> None:
        """A sync failed: what it fetched may belong to a transaction that rolled back (its
        ``syncs`` count was never written), so nothing fetched so far is reused."""
        self._objects.clear()
        self._invoices.clear()
        if self.listed is not None:
            self.listed.forget()

    def _keep_latest_invoice(self, obj: StripeDict) -> None:
        invoice = obj.get("latest_invoice") if obj.get("object") == "subscription" else None
        if isinstance(invoice, dict) and isinstance(invoice.get("id"), str):
            self._invoices[invoice["id"]] = invoice

    def invoice(self, invoice_id: str, retrieve: Callable[[str], StripeDict]) -> StripeDict:
        known = self._invoices.get(invoice_id)
        if known is not None and "payments" in known:
            self.calls_saved += 1
            return known
        listed = self.listed.invoice(invoice_id, self.events) if self.listed is not None else None
        if listed is not None:
            self.calls_saved += 1
            return listed
        invoice = retrieve(invoice_id)
        self._invoices[invoice_id] = invoice
        return invoice


def fetch_locked(
    batch: BatchFetches | None, row: StripeObjectSync, retrieve: Callable[[str], StripeDict]
) -> StripeDict:
    """``retrieve(row.object_id)``, or the batch's copy when that is still the newest."""
    return retrieve(row.object_id) if batch is None else batch.fetch(row, retrieve)
