"""Reads by list in a renewal burst: subscriptions and payment intents 100 per Stripe call.

On the first of the month every subscription renews at once; each renewal leaves a
subscription event, an invoice event and a payment intent event waiting. Fetching each object
(batch.py) costs two calls per renewal. When a batch finds many subscriptions to fetch, the
worker reads instead every subscription whose period started since the earliest period end
plangate holds for a waiting one (``subscriptions.list`` with ``current_period_start[gte]``
and the single fetch's expansions, so that each carries its latest invoice and the invoice's
payments), then the payment intents created since then (``payment_intents.list`` with
``created[gte]``), page by page, until every waiting object is found or the list ends.
Objects not found (a subscription changed mid-period, an older payment) are fetched one by
one as before.

The rule that keeps a newer state from being overwritten is batch.py's, with the read's
start in place of the lock:

* Before the first page, one query notes the events waiting (every type) and, for each object
  of the listed type a waiting event names, its lock row's ``syncs`` count. A read that began
  after an event was stored is at least as new as that event: a listed object serves a batch
  only when every event of the batch about the same Stripe customer is among the noted ones
  (its subscription, its invoice and its payment alike).
* It is taken under the object's sync lock, and only when exactly one sync counted since the
  note (ours): a sync that committed before the note fetched before our read began; one that
  committed after it may hold a newer state, and the object is fetched again.
* Once used, the copy is kept as batch.py keeps its own fetches, while no other sync of the
  object comes between. A failed sync empties it (``forget``): its count may not have been
  written.

Only objects a noted event names are kept, so memory follows the waiting queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from plangate.gateways.base import Gateway, StripeDict
from plangate.store.db import Database
from plangate.store.models import Ownership, StripeEvent, StripeObjectSync

# A batch lists when this many of its subscriptions have no listed copy to use...
MIN_BATCH = 10
# ... and the read pays: at least this many objects waiting without one per expected page.
MIN_PER_PAGE = 10
PAGE = 100
# The most pages one read takes, per page its waiting objects fill: the filter also matches
# objects nothing waits for yet (a burst's events still being delivered) or any more. What it
# leaves is fetched one by one, and a read that found less than half of what it looked for
# waits until twice as many objects wait before the next.
MOST_PAGES_PER_PAGE = 10
LISTED_TYPES = ("subscription", "payment_intent")


@dataclass
class _Listed:
    obj: StripeDict
    # The ``syncs`` count of its lock row when the read began, or that our own use left.
    syncs: int
    # The events waiting when the read began: those it serves.
    noted: frozenset[str]


def _customer_of(obj: StripeDict) -> str | None:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return customer if isinstance(customer, str) else None


def _unix(at: datetime) -> int:
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


@dataclass
class ListReads:
    """A worker's listed objects, kept across its batches."""

    db: Database
    gateway: Gateway
    _objects: dict[str, _Listed] = field(default_factory=dict)
    _invoices: dict[str, str] = field(default_factory=dict)  # latest invoice -> subscription
    pages_read: int = 0
    # By listed type: how many objects must wait before the next read (after one that did
    # not pay).
    _hold: dict[str, int] = field(default_factory=dict)

    # --- use ---------------------------------------------------------------------------------

    def _usable(self, object_id: str, batch_events: dict[str | None, set[str]]) -> _Listed | None:
        listed = self._objects.get(object_id)
        if listed is None:
            return None
        if not batch_events.get(_customer_of(listed.obj), set()) <= listed.noted:
            return None
        return listed

    def take(self, row: StripeObjectSync, batch_events: dict[str | None, set[str]]
             ) -> StripeDict | None:
        """The listed copy of the object ``row`` locks, if it may serve this batch."""
        listed = self._usable(row.object_id, batch_events)
        if listed is None:
            return None
        if row.syncs != listed.syncs + 1:
            del self._objects[row.object_id]  # another sync came between: ours is older
            return None
        listed.syncs = row.syncs
        return listed.obj

    def invoice(self, invoice_id: str, batch_events: dict[str | None, set[str]]
                ) -> StripeDict | None:
        """An invoice as its subscription's listed copy carries it (invoices are read for
        their links only, never written: no lock to check)."""
        subscription_id = self._invoices.get(invoice_id)
        listed = self._usable(subscription_id, batch_events) if subscription_id else None
        invoice = listed.obj.get("latest_invoice") if listed else None
        if isinstance(invoice, dict) and invoice.get("id") == invoice_id and "payments" in invoice:
            return invoice
        return None

    def forget(self) -> None:
        self._objects.clear()
        self._invoices.clear()

    def missing(self, object_ids: Iterable[str], batch_events: dict[str | None, set[str]]
                ) -> set[str]:
        """Which of the objects have no listed copy that may serve this batch."""
        return {o for o in object_ids if self._usable(o, batch_events) is None}

    # --- the read ----------------------------------------------------------------------------

    def read(self, between_pages: Callable[[], object] = lambda: None) -> int:
        """Lists the subscriptions and then the payment intents that waiting events name;
        returns the pages read (0 when too few wait for a list to pay)."""
        noted, waiting = self._note()
        since = self._since(waiting["subscription"])
        if since is None:
            return 0
        pages = 0
        for object_type, list_page in (
            ("subscription", self.gateway.list_subscriptions_page),
            ("payment_intent", self.gateway.list_payment_intents_page),
        ):
            wanted = waiting[object_type]
            new = [o for o in wanted if (o not in self._objects
                                         or not waiting_events(noted, o) <= self._objects[o].noted)]
            expected = math.ceil(len(wanted) / PAGE)
            if len(new) < max(MIN_BATCH, MIN_PER_PAGE * expected, self._hold.get(object_type, 0)):
                continue
            read, found = self._read_pages(object_type, list_page, since, wanted, noted,
                                           MOST_PAGES_PER_PAGE * expected, between_pages)
            pages += read
            self._hold[object_type] = 2 * len(wanted) if 2 * found < len(wanted) else 0
        self.pages_read += pages
        return pages

    def _read_pages(self, object_type: str,
                    list_page: Callable[..., tuple[list[StripeDict], bool]], since: int,
                    wanted: dict[str, int], noted: dict[str, set[str]], most: int,
                    between_pages: Callable[[], object]) -> tuple[int, int]:
        """(pages read, waiting objects found)."""
        for object_id in [o for o, listed in self._objects.items()
                          if listed.obj.get("object") == object_type]:
            del self._objects[object_id]  # a newer read of this type replaces the older
        events = frozenset(e for ids in noted.values() for e in ids)
        left, after, pages, more = set(wanted), None, 0, True
        kwargs = "period_start_gte" if object_type == "subscription" else "created_gte"
        while left and more and pages < most:
            objects, more = list_page(**{kwargs: since}, starting_after=after)
            pages += 1
            for obj in objects:
                object_id = str(obj["id"])
                if object_id in left:
                    left.discard(object_id)
                    self._objects[object_id] = _Listed(obj, wanted[object_id], events)
                    invoice = obj.get("latest_invoice")
                    if isinstance(invoice, dict) and isinstance(invoice.get("id"), str):
                        self._invoices[invoice["id"]] = object_id
            after = str(objects[-1]["id"]) if objects else None
            more = more and after is not None
            between_pages()
        return pages, len(wanted) - len(left)

    def _note(self) -> tuple[dict[str, set[str]], dict[str, dict[str, int]]]:
        """(waiting event ids by the object they name, and for each listed type the objects
        waiting events name with their lock rows' ``syncs``), read before any page."""
        noted: dict[str, set[str]] = {}
        waiting: dict[str, dict[str, int]] = {t: {} for t in LISTED_TYPES}
        with self.db.read() as session:
            rows = session.execute(
                select(StripeEvent.id, StripeEvent.object_type, StripeEvent.object_id,
                       func.coalesce(StripeObjectSync.syncs, 0))
                .outerjoin(StripeObjectSync, StripeObjectSync.object_id == StripeEvent.object_id)
                .where(StripeEvent.status == "pending")
            ).all()
        for event_id, object_type, object_id, syncs in rows:
            noted.setdefault(object_id or event_id, set()).add(event_id)
            if object_type in waiting and object_id:
                waiting[object_type][object_id] = int(syncs)
        return noted, waiting

    def _since(self, subscriptions: dict[str, int]) -> int | None:
        """The earliest period end plangate holds for a waiting subscription: a renewal starts
        its new period there, and its payment intent is created then or later."""
        if not subscriptions:
            return None
        earliest = None
        ids = list(subscriptions)
        with self.db.read() as session:
            for start in range(0, len(ids), 1000):
                found = session.scalar(
                    select(func.min(Ownership.current_period_end)).where(
                        Ownership.stripe_subscription_id.in_(ids[start : start + 1000]),
                        Ownership.ended_at.is_(None),
                    )
                )
                if found is not None and (earliest is None or found < earliest):
                    earliest = found
        return None if earliest is None else _unix(earliest)


def waiting_events(noted: dict[str, set[str]], object_id: str) -> set[str]:
    return noted.get(object_id, set())
