"""The sandbox's state: Stripe objects as JSON dicts, in memory and optionally in SQLite.

Objects are stored exactly as they are rendered, plus bookkeeping keys starting with `_`
(scheduling flags, internal links) that rendering strips. Callers mutate objects in place and
call `put` so the next `flush` writes them; the sandbox flushes once per unit of work.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

from .wire import Obj

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


class Store:
    def __init__(self, db_path: str | None = None) -> None:
        self._by_kind: dict[str, dict[str, Obj]] = {}
        self._kind_of: dict[str, str] = {}
        self._dirty: dict[str, Obj] = {}
        self._deleted: set[str] = set()
        # Ids put or removed since the scheduler last looked (see `take_changes`); apart from
        # `_dirty`, which a flush clears.
        self._changed: set[str] = set()
        self._idem_dirty: dict[str, tuple[str, int, str]] = {}
        self.idempotency: dict[str, tuple[str, int, str]] = {}
        # Webhook deliveries not yet settled, kept so that a restart retries them; a value of
        # None marks one settled since the last flush.
        self.deliveries: dict[str, dict[str, Any]] = {}
        self._deliveries_dirty: dict[str, dict[str, Any] | None] = {}
        self._seq = itertools.count(1)
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        if db_path:
            self._db = sqlite3.connect(db_path, check_same_thread=False)
            self._db.executescript(_SCHEMA)
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        top = 0
        for id_, kind, seq, body in self._db.execute(
            "SELECT id, kind, seq, body FROM objects ORDER BY seq"
        ):
            obj = json.loads(body)
            obj["_seq"] = seq
            self._by_kind.setdefault(kind, {})[id_] = obj
            self._kind_of[id_] = kind
            self._changed.add(id_)
            top = max(top, seq)
        self._seq = itertools.count(top + 1)
        for key, fingerprint, status, body in self._db.execute(
            "SELECT key, fingerprint, status, body FROM idempotency"
        ):
            self.idempotency[key] = (fingerprint, status, body)
        for id_, body in self._db.execute("SELECT id, body FROM deliveries"):
            self.deliveries[id_] = json.loads(body)

    # --- objects -----------------------------------------------------------------------------

    def put(self, obj: Obj, kind: str | None = None) -> Obj:
        kind = kind or obj["object"]
        id_ = obj["id"]
        if "_seq" not in obj:
            obj["_seq"] = next(self._seq)
        self._by_kind.setdefault(kind, {})[id_] = obj
        self._kind_of[id_] = kind
        self._dirty[id_] = obj
        self._changed.add(id_)
        self._deleted.discard(id_)
        return obj

    def get(self, kind: str, id_: str) -> Obj | None:
        return self._by_kind.get(kind, {}).get(id_)

    def find(self, id_: str) -> Obj | None:
        kind = self._kind_of.get(id_)
        return None if kind is None else self._by_kind[kind].get(id_)

    def kind_of(self, id_: str) -> str | None:
        return self._kind_of.get(id_)

    def values(self, kind: str) -> list[Obj]:
        """Objects of a kind in no particular order, without sorting; for callers that do not
        list them."""
        return list(self._by_kind.get(kind, {}).values())

    def any(self, kind: str) -> bool:
        return bool(self._by_kind.get(kind))

    def all(self, kind: str) -> list[Obj]:
        """Objects of a kind, newest first as Stripe lists them."""
        return newest_first(self.values(kind))

    def remove(self, kind: str, id_: str) -> None:
        self._by_kind.get(kind, {}).pop(id_, None)
        self._kind_of.pop(id_, None)
        self._dirty.pop(id_, None)
        self._changed.add(id_)
        self._deleted.add(id_)

    def mark_changed(self, ids: Iterable[str]) -> None:
        """Have the scheduler look at these objects again, as if they had been put."""
        self._changed.update(ids)

    def take_changes(self) -> set[str]:
        """The ids put, removed or marked since the last call."""
        changed, self._changed = self._changed, set()
        return changed

    # --- idempotency -------------------------------------------------------------------------

    def remember(self, key: str, fingerprint: str, status: int, body: str) -> None:
        self.idempotency[key] = (fingerprint, status, body)
        self._idem_dirty[key] = (fingerprint, status, body)

    # --- webhook deliveries ----------------------------------------------------------------

    def save_delivery(self, id_: str, delivery: dict[str, Any]) -> None:
        self.deliveries[id_] = delivery
        self._deliveries_dirty[id_] = delivery

    def forget_delivery(self, id_: str) -> None:
        self.deliveries.pop(id_, None)
        self._deliveries_dirty[id_] = None

    # --- persistence -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what changed since the last flush in one SQLite transaction."""
        if self._db is None:
            self._dirty.clear()
            self._deleted.clear()
            self._idem_dirty.clear()
            self._deliveries_dirty.clear()
            return
        saved = [(i, json.dumps(d)) for i, d in self._deliveries_dirty.items() if d is not None]
        settled = [(i,) for i, d in self._deliveries_dirty.items() if d is None]
        rows = [
            (id_, self._kind_of[id_], obj["_seq"], json.dumps(_without_seq(obj)))
            for id_, obj in self._dirty.items()
        ]
        with self._db_lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO objects (id, kind, seq, body) VALUES (?, ?, ?, ?)", rows
            )
            self._db.executemany(
                "DELETE FROM objects WHERE id = ?", [(i,) for i in self._deleted]
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, status, body) "
                "VALUES (?, ?, ?, ?)",
                [(k, *v) for k, v in self._idem_dirty.items()],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO deliveries (id, body) VALUES (?, ?)", saved
            )
            self._db.executemany("DELETE FROM deliveries WHERE id = ?", settled)
        self._dirty.clear()
        self._deleted.clear()
        self._idem_dirty.clear()
        self._deliveries_dirty.clear()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None


def newest_first(objs: list[Obj]) -> list[Obj]:
    """Sort in place in Stripe's list order (`Store.all`'s), and return the list."""
    objs.sort(key=lambda o: (o.get("created", 0), o["_seq"]), reverse=True)
    return objs


def _without_seq(obj: Obj) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "_seq"}
