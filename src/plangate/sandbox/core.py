"""The `Sandbox`: state, clocks, events and the unit of work every change runs in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .config import SandboxConfig
from .limits import FaultPlan, RateLimiter, RateLimits
from .store import Store
from .webhooks import WebhookDispatcher
from .wire import API_VERSION, Obj, new_id, strip_private

_DEFAULT_BASE = "http://127.0.0.1:12111"


class Sandbox:
    """A stateful Stripe. All state changes run inside `unit()`, which holds one lock: the
    sandbox favours obviously-correct ordering over throughput."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        from . import resources  # noqa: F401 - registers routes and scheduled work

        self.config = config or SandboxConfig()
        self.store = Store(self.config.db_path)
        self.lock = threading.RLock()
        self._local = threading.local()
        self._outbox: list[Obj] = []
        self.base_url = (self.config.public_url or _DEFAULT_BASE).rstrip("/")
        # Stripe under load (limits.py): kept here so that tests read what was refused.
        limits = self.config.rate_limits
        if limits is None and self.config.rate_limit_per_second is not None:
            limits = RateLimits(global_per_second=self.config.rate_limit_per_second)
        self.limiter = RateLimiter(limits) if limits is not None else None
        self.faults = FaultPlan(self.config.faults) if self.config.faults is not None else None
        self.webhooks = WebhookDispatcher(self)
        self.webhooks.start()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="sandbox-ticker", daemon=True)
        self._ticker.start()

    # --- units of work -------------------------------------------------------------------------

    @contextmanager
    def unit(self, request_id: str | None = None, idempotency_key: str | None = None
             ) -> Iterator[None]:
        """One transaction: state changes, then flush to SQLite, then hand events to delivery
        (an outbox, so no webhook describes state that was not stored)."""
        with self.lock:
            outer = getattr(self._local, "depth", 0)
            self._local.depth = outer + 1
            if outer == 0:
                self._local.request = {"id": request_id, "idempotency_key": idempotency_key}
            try:
                yield
            finally:
                self._local.depth = outer
                if outer == 0:
                    events, self._outbox = self._outbox, []
                    # Deliveries are stored in the same flush as their events.
                    planned = [d for event in events for d in self.webhooks.plan(event)]
                    self.store.flush()
                    self._local.request = {"id": None, "idempotency_key": None}
                    self.webhooks.schedule(planned)

    # --- time ------------------------------------------------------------------------------------

    def real_now(self) -> int:
        return int(self.config.time_source())

    def clock_id_of(self, obj: Obj | None) -> str | None:
        """The test clock an object lives on: its own, or its customer's."""
        if obj is None:
            return None
        if obj.get("object") == "test_helpers.test_clock":
            return str(obj["id"])
        clock = obj.get("test_clock")
        if isinstance(clock, str):
            return clock
        # Objects without a `customer` field (disputes) keep their charge's as `_customer`.
        customer = obj.get("customer") or obj.get("_customer")
        if isinstance(customer, str):
            cus = self.store.get("customer", customer)
            if cus is not None and isinstance(cus.get("test_clock"), str):
                return str(cus["test_clock"])
        return None

    def now_on(self, clock_id: str | None) -> int:
        if clock_id is not None:
            clock = self.store.get("test_helpers.test_clock", clock_id)
            if clock is not None:
                return int(clock["frozen_time"])
        return self.real_now()

    def now(self, obj: Obj | None = None) -> int:
        return self.now_on(self.clock_id_of(obj))

    # --- objects --------------------------------------------------------------------------------

    def get(self, kind: str, id_: str, label: str | None = None, param: str = "id") -> Obj:
        from .wire import no_such

        obj = self.store.get(kind, id_) if isinstance(id_, str) else None
        if obj is None or obj.get("deleted") or obj.get("_deleted"):
            raise no_such(label or kind.split(".")[-1].replace("_", " "), str(id_), param)
        return obj

    def snapshot(self, obj: Obj) -> Obj:
        return strip_private(obj)  # type: ignore[no-any-return]

    # --- events ---------------------------------------------------------------------------------

    def emit(self, type_: str, obj: Obj, before: Obj | None = None,
             previous: Obj | None = None) -> Obj | None:
        """Record an event with a snapshot of `obj` now. With `before` (a snapshot taken
        before the change) the event carries `previous_attributes`, and is skipped when
        nothing changed, as Stripe does not send empty updates."""
        data: Obj = {"object": self.snapshot(obj)}
        if before is not None:
            previous = previous_attributes(before, data["object"])
            if not previous:
                return None
        if previous is not None:
            data["previous_attributes"] = previous
        request = getattr(self._local, "request", None) or {"id": None, "idempotency_key": None}
        event: Obj = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(obj),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(self.webhooks.endpoints_for(type_)),
            "request": dict(request),
            "type": type_,
        }
        self.store.put(event)
        self._outbox.append(event)
        if type_.startswith("customer.subscription."):
            from .entitlements import refresh  # what the customer is entitled to may change

            refresh(self, str(obj["customer"]))
        return event

    # --- background work ------------------------------------------------------------------------

    def process_due(self) -> None:
        """Run renewals, retries, trial ends and expiries that are due in real time."""
        from .scheduler import run_all_due

        with self.unit():
            run_all_due(self)

    def _tick(self) -> None:
        while not self._stop.wait(self.config.tick_seconds):
            try:
                self.process_due()
            except Exception:  # noqa: BLE001 - a bad object must not stop the clock
                import logging

                logging.getLogger(__name__).exception("sandbox tick failed")

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        """Block until no webhook delivery is queued or in flight (TimeoutError otherwise)."""
        self.webhooks.wait_idle(timeout)

    def close(self) -> None:
        self._stop.set()
        self.webhooks.close()
        with self.lock:
            self.store.close()


def previous_attributes(before: Any, after: Any) -> Obj:
    """Stripe's `previous_attributes`: old values of changed keys; nested hashes are diffed
    key by key, lists and list objects are given whole."""
    out: Obj = {}
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if (isinstance(old, dict) and isinstance(new, dict) and old.get("object") != "list"
                and "id" not in old):
            out[key] = previous_attributes(old, new)
        else:
            out[key] = old
    return out
