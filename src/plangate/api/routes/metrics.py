"""``GET /metrics``: Prometheus' text format, for a scraper.

Protected: with ``PLANGATE_METRICS_TOKEN`` set, the scraper sends it as a bearer token
(Prometheus' ``authorization`` scrape setting); without it, only a client on this machine
(loopback) is answered, so an installation that set nothing exposes nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from plangate.api.context import AppContext
from plangate.api.errors import error_response
from plangate.clock import SystemClock
from plangate.observability.metrics import CONTENT_TYPE, exposition
from plangate.services.events.backlog import delivery_backlog
from plangate.services.stripe_sync.queue import QUEUED_STATES, queue_figures

router = APIRouter(tags=["operations"])
log = logging.getLogger("plangate.metrics")


class DatabaseFigures(Collector):
    """The queues' state, read from the database when scraped. A database that does not
    answer makes ``plangate_metrics_database_up`` 0 instead of failing the scrape."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # Queue times are wall-clock times (the worker's leases and backoff run on them).
        now = SystemClock().now()
        up = GaugeMetricFamily(
            "plangate_metrics_database_up",
            "1 when the database answered this scrape's queue queries",
        )
        try:
            figures = queue_figures(self.ctx.db, now)
            backlog = delivery_backlog(self.ctx.db, now)
        except Exception:  # noqa: BLE001 - the process's own metrics are still worth a scrape
            log.exception("metrics: the database did not answer the queue queries")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queued = GaugeMetricFamily(
            "plangate_stripe_events_queued",
            "Stripe events waiting: pending (to be handled or retried) and failed (gave up "
            "after the retries; `plangate events retry`), by event type",
            labels=["state", "type"],
        )
        for state in QUEUED_STATES:
            # Each state is present even when empty, so an alert can test it for zero.
            if not any(key[0] == state for key in figures.queued):
                queued.add_metric([state, ""], 0)
        for (state, type_), count in sorted(figures.queued.items()):
            queued.add_metric([state, type_], count)
        yield queued
        yield GaugeMetricFamily(
            "plangate_stripe_events_oldest_pending_age_seconds",
            "Seconds since the oldest pending Stripe event was received (0: none pending)",
            value=figures.oldest_pending_age,
        )
        yield GaugeMetricFamily(
            "plangate_stripe_worker_lag_seconds",
            "Seconds since the oldest pending Stripe event became due (0: the worker is "
            "keeping up); events waiting for a retry's backoff are not counted before it",
            value=figures.lag,
        )
        deliveries = GaugeMetricFamily(
            "plangate_webhook_deliveries_queued",
            "Outbound webhook deliveries waiting: pending and failed (gave up)",
            labels=["state"],
        )
        for state, count in sorted(backlog.queued.items()):
            deliveries.add_metric([state], count)
        yield deliveries
        yield GaugeMetricFamily(
            "plangate_webhook_delivery_lag_seconds",
            "Seconds since the oldest pending outbound webhook delivery became due",
            value=backlog.lag,
        )


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def metrics_refusal(request: Request, token: str) -> Response | None:
    """401/403 for a caller that may not read the metrics; None for one that may."""
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        refusal = error_response(
            401,
            "authentication_error",
            "metrics_token_invalid",
            "send PLANGATE_METRICS_TOKEN as `Authorization: Bearer <token>`",
        )
        refusal.headers["WWW-Authenticate"] = "Bearer"
        return refusal
    if _loopback(request):
        return None
    return error_response(
        403,
        "permission_error",
        "metrics_forbidden",
        "without PLANGATE_METRICS_TOKEN, /metrics answers only clients on this machine",
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    ctx: AppContext = request.app.state.plangate
    refusal = metrics_refusal(request, ctx.settings.metrics_token)
    if refusal is not None:
        return refusal
    body = await run_in_threadpool(exposition, [DatabaseFigures(ctx)])
    return Response(body, media_type=CONTENT_TYPE)
