"""Signed webhook delivery: at least once, retried with backoff, optionally chaotic.

Several deliveries are in flight at once (``SandboxConfig.webhook_concurrency`` workers
sharing one queue), to one endpoint too, as Stripe sends them: a receiver meets events
concurrently and out of order. The queue takes due deliveries from the units of work that
made them in turn (oldest first within a unit): as at Stripe, an event is sent promptly even
while thousands from another request wait (a test-clock advance renewing every subscription
does not hold up the checkout paid just after it).

A delivery is stored with its event (same flush), so that a sandbox stopped before it is
settled (a Ctrl-C right after a payment) retries it when it starts again; a restart makes
every pending delivery due at once, keeping its attempt count, so the give-up point of the
retry schedule (``SandboxConfig.webhook_retry_seconds``) stays where it was.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import httpx

from .tls import tls_context
from .wire import Obj

if TYPE_CHECKING:
    from .core import Sandbox

log = logging.getLogger(__name__)


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: HMAC-SHA256 of `"<t>.<body>"` keyed by the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    id: str = field(compare=False)
    event_id: str = field(compare=False)
    endpoint_id: str = field(compare=False)
    url: str = field(compare=False)
    secret: str = field(compare=False)
    body: str = field(compare=False)
    attempt: int = field(compare=False, default=0)
    # The unit of work that made it (deliveries of different units are sent in turn).
    unit: int = field(compare=False, default=0)

    def stored(self) -> dict[str, object]:
        """What the store keeps: all but the in-process ordering (``due`` is monotonic time,
        meaningless after a restart, which makes a stored delivery due at once)."""
        kept = asdict(self)
        del kept["due"], kept["order"], kept["unit"]
        return kept


@dataclass(frozen=True)
class DeliveryRecord:
    """One attempt, kept for tests and `make dev` debugging."""

    event_id: str
    event_type: str
    endpoint_id: str
    attempt: int
    status: int | None
    at: float


class WebhookDispatcher:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sb = sandbox
        self._config = sandbox.config
        chaos = self._config.chaos
        self._rng = random.Random(chaos.seed if chaos else 0)
        # Not yet due (a retry's backoff, chaos's delay), by due time; then, once due, by
        # unit of work, taken in turn (``_next``).
        self._heap: list[_Delivery] = []
        self._ready: dict[int, deque[_Delivery]] = {}
        self._order = itertools.count()
        self._units = itertools.count(1)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._closed = False
        self.log: list[DeliveryRecord] = []
        self.dropped: list[str] = []
        self._client = httpx.Client(timeout=self._config.webhook_timeout_seconds,
                                    verify=tls_context())
        now = time.monotonic()
        for stored in sandbox.store.deliveries.values():
            heapq.heappush(self._heap, _Delivery(now, next(self._order), **stored))
        self._threads = [
            threading.Thread(target=self._run, name=f"sandbox-webhooks-{i}", daemon=True)
            for i in range(max(1, self._config.webhook_concurrency))
        ]

    def start(self) -> None:
        """Starts sending. Separate from construction: a delivery stored by an earlier run is
        due at once, and sending it runs a unit of work on a sandbox that must be complete."""
        for thread in self._threads:
            thread.start()

    def endpoints_for(self, event_type: str) -> list[Obj]:
        out = []
        for ep in self._sb.store.all("webhook_endpoint"):
            if ep.get("deleted") or ep.get("status") != "enabled":
                continue
            enabled = ep.get("enabled_events") or []
            if "*" in enabled or event_type in enabled:
                out.append(ep)
        return out

    def plan(self, event: Obj) -> list[_Delivery]:
        """The deliveries of an event, stored with the unit of work that made the event; they
        are sent once :meth:`schedule` gets them, after that unit is flushed."""
        endpoints = self.endpoints_for(event["type"])
        if not endpoints:
            return []
        body = json.dumps(event, indent=2)
        chaos = self._config.chaos
        now = time.monotonic()
        planned: list[_Delivery] = []
        with self._cond:
            if chaos and self._rng.random() < chaos.drop_rate:
                self.dropped.append(event["id"])
                return []
            copies = 2 if chaos and self._rng.random() < chaos.duplicate_rate else 1
            for ep in endpoints:
                for _ in range(copies):
                    due = now + (chaos.delay_seconds if chaos else 0.0)
                    if chaos and chaos.reorder_window > 1:
                        # A random lateness of up to `window` small slots shuffles deliveries
                        # that are enqueued close together, and only those.
                        due += self._rng.randrange(chaos.reorder_window) * 0.02
                    planned.append(_Delivery(
                        due, next(self._order), uuid.uuid4().hex, event["id"], ep["id"],
                        ep["url"], ep["_secret"], body,
                    ))
        for delivery in planned:
            self._sb.store.save_delivery(delivery.id, delivery.stored())
        return planned

    def schedule(self, deliveries: list[_Delivery]) -> None:
        if not deliveries:
            return
        with self._cond:
            unit = next(self._units)
            for delivery in deliveries:
                delivery.unit = unit
                heapq.heappush(self._heap, delivery)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Deliveries not settled yet: waiting, due, or in flight."""
        with self._cond:
            return (len(self._heap) + sum(len(q) for q in self._ready.values())
                    + self._in_flight)

    def _next(self) -> _Delivery | None:
        """The next delivery to send, under ``_cond``: the due ones join their unit's line,
        and the units take turns (the one served goes to the back)."""
        now = time.monotonic()
        while self._heap and self._heap[0].due <= now:
            due = heapq.heappop(self._heap)
            self._ready.setdefault(due.unit, deque()).append(due)
        if not self._ready:
            return None
        unit = next(iter(self._ready))
        line = self._ready.pop(unit)
        delivery = line.popleft()
        if line:
            self._ready[unit] = line
        return delivery

    def _run(self) -> None:
        while True:
            with self._cond:
                delivery = None
                while not self._closed and (delivery := self._next()) is None:
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if delivery is None:  # closed
                    return
                self._in_flight += 1
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _endpoint_gone(self, d: _Delivery) -> bool:
        """Deleted or disabled since the delivery was planned: as at Stripe, it is not sent
        (its stored row goes too, so restarts do not revive it)."""
        # A plain read, without the sandbox's lock: an advance holding it must not hold up
        # deliveries; at worst a delivery to an endpoint deleted this instant is sent.
        ep = self._sb.store.get("webhook_endpoint", d.endpoint_id)
        gone = ep is None or bool(ep.get("deleted")) or ep.get("status") != "enabled"
        if gone:
            with self._sb.unit():
                self._sb.store.forget_delivery(d.id)
        return gone

    def _attempt(self, d: _Delivery) -> None:
        if self._endpoint_gone(d):
            return
        # Signed with wall-clock time even for test clocks: receivers check freshness.
        header = sign(d.body, d.secret, int(time.time()))
        status: int | None = None
        try:
            resp = self._client.post(d.url, content=d.body.encode(), headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            })
            status = resp.status_code
        except httpx.HTTPError as exc:
            log.info("webhook %s to %s failed: %s", d.event_id, d.url, exc)
        event_type = json.loads(d.body)["type"]
        self.log.append(DeliveryRecord(
            d.event_id, event_type, d.endpoint_id, d.attempt, status, time.time()
        ))
        if status is not None and 200 <= status < 300:
            self._settled(d)
            return
        delays = self._config.webhook_retry_seconds
        if d.attempt >= len(delays) or self._closed:
            if d.attempt >= len(delays):
                log.warning("webhook %s to %s: giving up after %d attempts",
                            d.event_id, d.url, d.attempt + 1)
                with self._sb.unit():
                    self._sb.store.forget_delivery(d.id)
            return  # closing: the stored delivery is retried at the next start
        d.due = time.monotonic() + delays[d.attempt]
        d.attempt += 1
        d.order = next(self._order)
        with self._sb.unit():
            self._sb.store.save_delivery(d.id, d.stored())
        with self._cond:
            heapq.heappush(self._heap, d)
            self._cond.notify_all()

    def _settled(self, d: _Delivery) -> None:
        with self._sb.unit():
            self._sb.store.forget_delivery(d.id)
            event = self._sb.store.get("event", d.event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
                self._sb.store.put(event)

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (pending := self.pending):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{pending} webhook deliveries still pending")
                self._cond.wait(min(left, 0.05))

    def close(self) -> None:
        """Stops sending; deliveries in flight finish (bounded by the webhook timeout). What
        is still queued stays stored for the next start."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        deadline = time.monotonic() + self._config.webhook_timeout_seconds + 1
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._client.close()
