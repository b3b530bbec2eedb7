"""The delivery worker: sends pending webhook deliveries, at least once, signed.

Leasing takes due deliveries in a short transaction and pushes their next attempt a lease
ahead (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so any number of workers share the work
without waiting on each other; on SQLite the write transaction's ``BEGIN IMMEDIATE`` makes
leasing single-writer). The HTTP call runs outside any transaction; its result is written in
another, only by the holder of the lease. A worker killed mid-batch loses nothing: its
deliveries come due again when the lease runs out, with the same ``webhook-id``.

Every time (leases, the retry schedule, the five days that disable an endpoint, the signed
timestamp) comes from the injected clock.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plangate.clock import Clock
from plangate.gateways.tls import tls_context
from plangate.services.events.destinations import DestinationRefused, resolve
from plangate.services.events.endpoints import secrets_in_use
from plangate.services.events.loop import PollingLoop
from plangate.services.events.outbox import WEBHOOK, envelope, record
from plangate.services.events.pruning import prune
from plangate.services.events.signing import signature_headers
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.outbox_models import (
    OutboxDelivery,
    OutboxMessage,
    WebhookAttempt,
    WebhookEndpoint,
)

log = logging.getLogger("plangate.webhooks")

# Svix's schedule: the wait before each attempt, the first one immediate.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s) for s in (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
)
DISABLE_AFTER = timedelta(days=5)
RESPONSE_KEPT = 1024
# How often a worker prunes finished facts older than the retention.
PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Leased:
    """A delivery this worker holds, with what sending it needs (read when it was leased)."""

    delivery_id: int
    lease_id: str
    message_id: str
    endpoint_id: str
    attempts: int
    body: str
    url: str
    secrets: tuple[str, ...]
    disabled: bool


@dataclass(frozen=True)
class Result:
    succeeded: bool
    status_code: int | None
    duration_ms: int
    response: str


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed_attempts: int = 0


@dataclass
class DeliveryWorker(PollingLoop):
    thread_name = "plangate-webhooks"
    db: Database
    settings: Settings
    clock: Clock
    batch_size: int = 20
    # Deliveries of one batch sent at the same time.
    concurrency: int = 8
    stats: DeliveryStats = field(default_factory=DeliveryStats)
    _wakeup: threading.Event = field(default_factory=threading.Event)
    _stats_lock: threading.Lock = field(default_factory=threading.Lock)
    _http: httpx.Client | None = None
    _next_prune: datetime | None = None

    # --- the queue ---------------------------------------------------------------------------

    def lease(self, limit: int | None = None) -> list[Leased]:
        now = self.clock.now()
        lease_id = secrets.token_hex(8)
        # Unit of work: lease only; the calls happen after the commit.
        with self.db.write() as session:
            query = (
                select(
                    OutboxDelivery.id,
                    OutboxDelivery.message_id,
                    OutboxDelivery.endpoint_id,
                    OutboxDelivery.attempts,
                )
                .where(
                    OutboxDelivery.status == "pending",
                    OutboxDelivery.consumer == WEBHOOK,
                    OutboxDelivery.next_attempt_at <= now,
                )
                .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
                .limit(limit or self.batch_size)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return []
            session.execute(
                update(OutboxDelivery)
                .where(OutboxDelivery.id.in_([row[0] for row in rows]))
                .values(
                    lease_id=lease_id,
                    next_attempt_at=now + timedelta(seconds=self.settings.delivery_lease_seconds),
                )
            )
            messages = {
                m.id: m
                for m in session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_({r[1] for r in rows}))
                )
            }
            targets = {
                e.id: e
                for e in session.scalars(
                    select(WebhookEndpoint).where(WebhookEndpoint.id.in_({r[2] for r in rows}))
                )
            }
            return [
                Leased(
                    delivery_id=row[0],
                    lease_id=lease_id,
                    message_id=row[1],
                    endpoint_id=str(row[2]),
                    attempts=row[3],
                    body=json.dumps(envelope(messages[row[1]]), separators=(",", ":")),
                    url=targets[str(row[2])].url,
                    secrets=tuple(secrets_in_use(targets[str(row[2])], now)),
                    disabled=targets[str(row[2])].disabled_at is not None,
                )
                for row in rows
            ]

    def deliver(self, leased: Leased) -> bool:
        """One attempt of one leased delivery; returns whether it succeeded."""
        if leased.disabled:
            self._close(leased, "failed")
            return False
        now = self.clock.now()
        headers = signature_headers(leased.message_id, now, leased.body, list(leased.secrets))
        result = self._send(leased.url, leased.body, headers)
        self._record(leased, result)
        return result.succeeded

    def _send(self, url: str, body: str, headers: dict[str, str]) -> Result:
        started = time.monotonic()
        try:
            destination = resolve(url, self.settings.webhook_allowed_networks)
        except DestinationRefused as exc:
            return Result(False, None, 0, f"refused: {exc.message}"[:RESPONSE_KEPT])
        timeout = self.settings.webhook_timeout_seconds
        request_headers = {
            **headers,
            "content-type": "application/json",
            "user-agent": "plangate-webhooks",
            "host": destination.host_header,
        }
        extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
        try:
            with self._client().stream(
                "POST",
                destination.pinned_url,
                content=body.encode(),
                headers=request_headers,
                timeout=timeout,
                extensions=extensions,
            ) as response:
                kept = bytearray()
                for chunk in response.iter_bytes():
                    kept.extend(chunk)
                    if len(kept) >= RESPONSE_KEPT or time.monotonic() - started > timeout:
                        break
                status = response.status_code
        except httpx.HTTPError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return Result(False, None, elapsed, f"{type(exc).__name__}: {exc}"[:RESPONSE_KEPT])
        elapsed_s = time.monotonic() - started
        text = kept[:RESPONSE_KEPT].decode("utf-8", errors="replace")
        # Redirects are not followed: a 3xx is a failure like any other non-2xx.
        ok = 200 <= status < 300 and elapsed_s <= timeout
        return Result(ok, status, int(elapsed_s * 1000), text)

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(follow_redirects=False, trust_env=False,
                                      verify=tls_context())
        return self._http

    def _record(self, leased: Leased, result: Result) -> None:
        now = self.clock.now()
        attempts = leased.attempts + 1
        with self.db.write() as session:
            session.add(
                WebhookAttempt(
                    delivery_id=leased.delivery_id,
                    message_id=leased.message_id,
                    endpoint_id=leased.endpoint_id,
                    attempted_at=now,
                    succeeded=result.succeeded,
                    status_code=result.status_code,
                    duration_ms=result.duration_ms,
                    response=result.response,
                )
            )
            if result.succeeded:
                values: dict[str, object] = {"status": "delivered", "delivered_at": now}
            elif attempts >= len(RETRY_SCHEDULE):
                values = {"status": "failed"}
            else:
                values = {"next_attempt_at": now + RETRY_SCHEDULE[attempts]}
            session.execute(
                update(OutboxDelivery)
                .where(
                    OutboxDelivery.id == leased.delivery_id,
                    OutboxDelivery.lease_id == leased.lease_id,
                )
                .values(attempts=attempts, lease_id=None, **values)
            )
            self._endpoint_health(session, leased.endpoint_id, result.succeeded, now)
        with self._stats_lock:
            if result.succeeded:
                self.stats.delivered += 1
            else:
                self.stats.failed_attempts += 1
            log.info("webhook %s to %s failed (attempt %d): %s", leased.message_id,
                     leased.endpoint_id, attempts, result.status_code or result.response)

    def _endpoint_health(self, session: Session, endpoint_id: str, ok: bool, now: datetime
                         ) -> None:
        endpoint = WebhookEndpoint
        if ok:
            session.execute(
                update(endpoint)
                .where(endpoint.id == endpoint_id, endpoint.failing_since.is_not(None))
                .values(failing_since=None)
            )
            return
        session.execute(
            update(endpoint)
            .where(endpoint.id == endpoint_id, endpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
        disabled = session.execute(
            update(endpoint)
            .where(
                endpoint.id == endpoint_id,
                endpoint.disabled_at.is_(None),
                endpoint.failing_since <= now - DISABLE_AFTER,
            )
            .values(disabled_at=now, disabled_reason="failing for 5 days")
        )
        if disabled.rowcount:  # type: ignore[attr-defined]
            log.warning("webhook endpoint %s disabled: failing for 5 days", endpoint_id)
            row = session.get(endpoint, endpoint_id)
            assert row is not None
            # The operator hears of it (by email), in the transaction that disabled it.
            record(session, "webhookEndpoint.disabled", {
                "object": "webhook_endpoint",
                "id": row.id,
                "url": row.url,
                "disabled_reason": row.disabled_reason,
                "failing_since": int(row.failing_since.timestamp() * 1000)
                if row.failing_since else None,
                "disabled_at": int(now.timestamp() * 1000),
            }, now, webhooks=False)

    def _close(self, leased: Leased, status: str) -> None:
        with self.db.write() as session:
            session.execute(
                update(OutboxDelivery)
                .where(
                    OutboxDelivery.id == leased.delivery_id,
                    OutboxDelivery.lease_id == leased.lease_id,
                )
                .values(status=status, lease_id=None)
            )

    # --- the loop ----------------------------------------------------------------------------

    def prune_if_due(self) -> int:
        """Deletes finished facts past the retention, at most every ``PRUNE_EVERY``."""
        now = self.clock.now()
        if self._next_prune is not None and now < self._next_prune:
            return 0
        self._next_prune = now + PRUNE_EVERY
        pruned = prune(self.db, now, self.settings.outbox_retention_days)
        if pruned:
            log.info("pruned %d outbox facts older than %d days", pruned,
                     self.settings.outbox_retention_days)
        return pruned

    def run_once(self, limit: int | None = None) -> int:
        """Leases one batch and attempts each; returns how many were leased (pruning, when
        due, is not counted)."""
        self.prune_if_due()
        leased = self.lease(limit)
        if len(leased) <= 1 or self.concurrency <= 1:
            for delivery in leased:
                self.deliver(delivery)
        else:
            # One slow receiver must not hold up the rest of the batch.
            with ThreadPoolExecutor(min(self.concurrency, len(leased))) as pool:
                list(pool.map(self.deliver, leased))
        return len(leased)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
