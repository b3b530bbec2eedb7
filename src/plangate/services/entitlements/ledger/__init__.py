"""The item ledger: balances that never overspend. The only writer of lots (``item_lots``),
balances (``item_balances``) and ledger entries; every other module calls this package.

Every change of a quantity is an append-only ledger entry. Behind it, quantities are kept as
lots (what one grant gave, with its expiry), consumed soonest-expiring first; a customer may
owe (``debt``) when a change allowed a negative balance, and later grants pay the debt first.
For every item, at every commit: balance = sum of the ledger's deltas = open lots' remaining
- pending_consumption - debt.

Two paths keep this both correct and fast:

* The fast path (``fast.py``): a consumption that needs no settlement is one conditional
  ``UPDATE`` of the balance row plus its ledger entry, in one statement on PostgreSQL, with or
  without an idempotency key. What it took is added to ``pending_consumption``.
* Settlement (``settlement.py``), for a due refill or expiry, any grant, and every change
  (``changes.py``): events are applied in time order, first the pending consumption spread
  over the open lots, then expiries and grants as they fell due. Spreading the pending
  consumption late gives the same lots as spreading each consumption at once, because between
  two settlements no lot is added and none expires.

The write API: ``consume_fast`` / ``consume_fast_driver`` (consume), ``refuse`` (a keyed
consumption's refusal, kept for its retries), ``settle_item`` (grants,
refills and expiries that fell due), ``change`` (the app adds or removes), ``mark_due``,
``reanchor`` and ``end_with_ownership`` (what ownership changes cause). Reads for views:
``balance_of``, ``balances_of``, ``items_held``, ``next_refill_at``.

Lock order (PostgreSQL; on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` and
so excludes all other writers):

1. the customer row (``lock_customer``, ``FOR NO KEY UPDATE``), then
2. the item's balance row (``lock_item``, ``FOR UPDATE``), item by item in id order.

Everything that writes lots or balances in a transaction holds both: lots are guarded by the
customer lock, the balance row by its own lock, which the fast path also takes (its UPDATE)
but without the customer lock, for one statement. The fast path never waits for a lock while
holding one (its ledger entry has no foreign key, and a same-key entry can only be pending in
a transaction that holds the same balance row), so neither order can deadlock with it.
"""

from plangate.services.entitlements.ledger.changes import (
    change,
    end_with_ownership,
    mark_due,
    reanchor,
    refuse,
)
from plangate.services.entitlements.ledger.entries import (
    FAR_FUTURE,
    MAX_QUANTITY,
    balance_of,
    balances_of,
    insufficient,
    items_held,
    validate_quantity,
)
from plangate.services.entitlements.ledger.fast import Consumed, consume_fast, consume_fast_driver
from plangate.services.entitlements.ledger.settlement import (
    ItemState,
    lock_item,
    next_refill_at,
    settle_item,
)

__all__ = [
    "FAR_FUTURE",
    "MAX_QUANTITY",
    "Consumed",
    "ItemState",
    "balance_of",
    "balances_of",
    "change",
    "consume_fast",
    "consume_fast_driver",
    "end_with_ownership",
    "insufficient",
    "items_held",
    "lock_item",
    "mark_due",
    "next_refill_at",
    "reanchor",
    "refuse",
    "settle_item",
    "validate_quantity",
]
