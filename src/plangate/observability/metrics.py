"""plangate's Prometheus metrics, recorded by the process that does the work.

The counters and histograms here live in the process that increments them. With several
processes (``plangate serve --workers N``, ``plangate worker`` beside the API), set
``PROMETHEUS_MULTIPROC_DIR`` to one empty directory shared by all of them on the host, before
they start: prometheus_client then keeps each process's values in a file there, and
:func:`exposition` sums them, so any API process answers ``/metrics`` for the whole host.
Without it each process reports only its own values.

Figures read from the database (the Stripe event queue, the outbound webhook backlog) are not
here: the ``/metrics`` route computes them at scrape time, once, whatever the process count.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


# In multiprocess mode the values below are files in that directory from their creation on:
# a directory that does not exist yet is made rather than failing every command at import.
if multiprocess_dir():
    os.makedirs(str(multiprocess_dir()), exist_ok=True)

# No ``*_created`` series: they double the output and no dashboard of plangate's uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds: from a fast indexed read to a slow Stripe round trip.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)

HTTP_REQUESTS = Histogram(
    "plangate_http_request_duration_seconds",
    "HTTP requests served, by route template (not the raw path), method and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
STRIPE_EVENTS_HANDLED = Counter(
    "plangate_stripe_events_handled",
    "Stripe events the worker handled (synced, or nothing to do), by event type",
    ["type"],
)
STRIPE_EVENTS_FAILED = Counter(
    "plangate_stripe_events_failed",
    "Failed attempts at handling a Stripe event, by event type; final: no retry follows",
    ["type", "final"],
)
SYNC_SECONDS = Histogram(
    "plangate_stripe_sync_duration_seconds",
    "Time to handle one Stripe event (the re-fetch from Stripe and the writes), by event type",
    ["type"],
    buckets=LATENCY_BUCKETS,
)
STRIPE_REQUESTS = Counter(
    "plangate_stripe_requests",
    "HTTP requests plangate made to Stripe's API, retries included, by method, endpoint "
    "(ids replaced by {id}) and status (error: no answer)",
    ["method", "endpoint", "status"],
)
STRIPE_REQUEST_SECONDS = Histogram(
    "plangate_stripe_request_duration_seconds",
    "Duration of plangate's HTTP requests to Stripe's API, by method and endpoint",
    ["method", "endpoint"],
    buckets=LATENCY_BUCKETS,
)
CHECKS = Counter(
    "plangate_checks",
    "Entitlement checks answered (GET .../check), by what was asked and the answer",
    ["kind", "allowed"],
)
CONSUMES = Counter(
    "plangate_consumes",
    "Consume requests answered, by outcome (consumed, replayed, insufficient)",
    ["outcome"],
)

# A Stripe id: a lowercase prefix, an underscore, then letters and digits (``sub_1Abc``,
# ``cs_test_a1B2``, ``whsec_...``). Path segments like ``v1`` or ``payment_intents`` are not.
_STRIPE_ID = re.compile(r"^[a-z]+(?:_[a-z]+)*_[A-Za-z0-9]*[0-9A-Z][A-Za-z0-9]*$")


def stripe_endpoint(path: str) -> str:
    """``/v1/subscriptions/sub_123/cancel`` -> ``/v1/subscriptions/{id}/cancel``: a label
    with a bounded set of values, whatever the ids."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if _STRIPE_ID.match(part) else part for part in parts)


def host_registry() -> CollectorRegistry:
    """This host's metrics: every process's sums in multiprocess mode, else this process's."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward())
    return registry


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of this host's metrics (every process's, in multiprocess mode),
    followed by the ``extra`` collectors (read at this moment)."""
    registry = host_registry()
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Forward(Collector):
    """The default registry's metrics (this process's) inside another registry."""

    def collect(self):  # type: ignore[no-untyped-def]
        return REGISTRY.collect()


# The hot paths count through children bound once: a label lookup per request costs more.
_CHECK_CHILDREN = {
    (kind, allowed): CHECKS.labels(kind, "true" if allowed else "false")
    for kind in ("feature", "plan", "item")
    for allowed in (True, False)
}
_CONSUME_CHILDREN = {
    outcome: CONSUMES.labels(outcome) for outcome in ("consumed", "replayed", "insufficient")
}


def count_check(kind: str, allowed: bool) -> None:
    _CHECK_CHILDREN[kind, allowed].inc()


def count_consume(outcome: str) -> None:
    _CONSUME_CHILDREN[outcome].inc()
