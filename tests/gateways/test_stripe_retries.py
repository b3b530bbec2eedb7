"""plangate's Stripe client against the sandbox under load: 429s, seeded 500s and late answers
are retried with backoff until they succeed, POSTs are done once (the same idempotency key on
every attempt), Stripe-Should-Retry is obeyed, and with the call budget the limits are not
hit at all.

The sandbox draws its faults from the seed and each request's fingerprint, which includes the
Idempotency-Key: the tests pass their own keys so that every run meets the same faults (the
SDK's keys are random)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import stripe

from plangate.gateways.base import GatewayError
from plangate.gateways.stripe_client import make_stripe_client
from plangate.gateways.stripe_http import CallStats, RetryPolicy
from plangate.sandbox import Faults, RateLimits, Sandbox, SandboxConfig, create_app
from plangate.services.stripe_budget import SharedCallBudget
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.migrate import upgrade
from tests.browser_harness import serve_in_thread

KEY = "sk_test_retries"


@contextmanager
def running(config: SandboxConfig) -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(config)
    url, server, thread = serve_in_thread(create_app(sandbox))
    try:
        yield sandbox, url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sandbox.close()


def _client(url: str, stats: CallStats, budget: SharedCallBudget | None = None,
            **settings: object) -> stripe.StripeClient:
    return make_stripe_client(
        Settings(stripe_api_key=KEY, stripe_api_base=url, **settings),  # type: ignore[arg-type]
        budget, stats)


def _customers(sandbox: Sandbox) -> list[str]:
    with sandbox.lock:
        return sorted(str(c.get("email")) for c in sandbox.store.all("customer"))


def test_seeded_500s_are_retried_and_every_post_is_done_once() -> None:
    config = SandboxConfig(tick_seconds=60, faults=Faults(11, error_rate=0.3))
    with running(config) as (sandbox, url):
        stats = CallStats()
        client = _client(url, stats)
        for n in range(30):
            client.v1.customers.create({"email": f"c{n}@example.com"},
                                       {"idempotency_key": f"seeded-500-{n}"})
        assert sandbox.faults is not None and sandbox.faults.errors >= 3
        assert stats.server_errors == sandbox.faults.errors
        assert stats.retries == stats.server_errors
        assert _customers(sandbox) == sorted(f"c{n}@example.com" for n in range(30))


def test_late_answers_time_out_and_the_retry_gets_the_stored_answer() -> None:
    config = SandboxConfig(tick_seconds=60, faults=Faults(5, slow_rate=0.3, slow_seconds=0.8))
    with running(config) as (sandbox, url):
        stats = CallStats()
        client = _client(url, stats, stripe_timeout_seconds=0.3)
        made = [client.v1.customers.create({"email": f"s{n}@example.com"},
                                           {"idempotency_key": f"late-{n}"}).id
                for n in range(12)]
        assert stats.connection_errors >= 1, "some answers should have come too late"
        assert len(set(made)) == 12
        # The late answers' work was done, and their retries did not do it again.
        assert _customers(sandbox) == sorted(f"s{n}@example.com" for n in range(12))


def test_stripe_should_retry_false_is_obeyed() -> None:
    config = SandboxConfig(tick_seconds=60, faults=Faults(1, error_rate=1.0,
                                                          should_retry="false"))
    with running(config) as (_sandbox, url):
        stats = CallStats()
        with pytest.raises(stripe.APIError):
            _client(url, stats).v1.customers.list()
        assert stats.attempts == 1 and stats.retries == 0


def test_retries_give_up_after_the_configured_number() -> None:
    config = SandboxConfig(tick_seconds=60, faults=Faults(1, error_rate=1.0))
    with running(config) as (_sandbox, url):
        stats = CallStats()
        with pytest.raises(stripe.APIError):
            _client(url, stats, stripe_max_retries=2).v1.customers.list()
        assert stats.attempts == 3


def test_the_backoff_is_full_jitter_under_a_doubling_cap() -> None:
    policy = RetryPolicy(base_seconds=0.25, cap_seconds=8.0)
    assert [policy.cap(n) for n in range(1, 8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    stats = CallStats()
    client = make_stripe_client(Settings(stripe_api_key=KEY), None, stats)
    http = client._requestor._client  # the paced client make_stripe_client installed
    waits = [http.delay(4, None) for _ in range(400)]  # type: ignore[attr-defined]
    assert 0 <= min(waits) < 0.2 and 1.8 < max(waits) <= 2.0


def _hammer(client: stripe.StripeClient, calls: int, threads: int) -> None:
    def run() -> None:
        for _ in range(calls):
            client.v1.customers.list({"limit": 1})

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def test_429s_are_retried_and_the_budget_avoids_them(tmp_path: Path) -> None:
    config = SandboxConfig(tick_seconds=60, rate_limits=RateLimits(mode="test"))
    with running(config) as (sandbox, url):
        unpaced = CallStats()
        _hammer(_client(url, unpaced), calls=15, threads=6)
        assert unpaced.rate_limited > 0, "90 calls at once must meet Stripe's limit"
        assert unpaced.attempts - unpaced.rate_limited == 90  # every call got through

    db_url = f"sqlite:///{tmp_path / 'budget.db'}"
    upgrade(db_url)
    db = Database(db_url)
    with running(config) as (sandbox, url):
        paced = CallStats()
        _hammer(_client(url, paced, SharedCallBudget(db, 20.0)), calls=8, threads=6)
        assert paced.attempts == 48 and paced.rate_limited == 0
        assert sandbox.limiter is not None and sandbox.limiter.refused == 0
    db.dispose()


def test_the_apps_gateway_takes_its_calls_from_the_installations_budget(
        database_url: str) -> None:
    from plangate.api.context import AppContext
    from plangate.clock import SystemClock
    from plangate.gateways import GatewayNotFound

    with running(SandboxConfig(tick_seconds=60)) as (_sandbox, url):
        settings = Settings(gateway="stripe", stripe_api_key=KEY, stripe_api_base=url,
                            stripe_rate_limit=5, database_url=database_url)
        db = Database(database_url)
        # Another process of the installation has just spent the whole budget for 1 s.
        SharedCallBudget(db, 5).reserve()
        for _ in range(5):
            SharedCallBudget(db, 5).reserve()
        ctx = AppContext(settings, db, SystemClock())
        started = time.monotonic()
        for n in range(2):
            with pytest.raises(GatewayNotFound):
                ctx.gateway.retrieve_customer(f"cus_missing{n}")
        assert time.monotonic() - started >= 0.9
        db.dispose()


def test_a_500_replayed_from_the_idempotency_record_is_final() -> None:
    """Stripe keeps a key's first answer, 500s included: every retry with the key would get
    the same one, so plangate neither retries it nor calls it retryable."""
    from plangate.gateways.stripe_gateway import _translated

    with running(SandboxConfig(tick_seconds=60)) as (sandbox, url):
        failed = json.dumps({"error": {"type": "api_error", "message": "failed midway"}})
        with sandbox.unit():  # what Stripe stored when the first attempt failed midway
            sandbox.store.remember(
                f"{KEY}:replayed-500",
                json.dumps(["/v1/customers", {"email": "r@example.com"}], sort_keys=True),
                500, failed)
        stats = CallStats()
        client = _client(url, stats, stripe_max_retries=5)
        with pytest.raises(stripe.APIError) as raised:
            client.v1.customers.create({"email": "r@example.com"},
                                       {"idempotency_key": "replayed-500"})
        assert stats.attempts == 1 and stats.retries == 0
        with pytest.raises(GatewayError) as translated, _translated():
            raise raised.value
        assert translated.value.http_status == 500 and not translated.value.retryable


def test_an_api_process_stops_retrying_at_its_deadline() -> None:
    """A caller waits for an API request: its Stripe call starts no retry past
    ``PLANGATE_STRIPE_REQUEST_DEADLINE_SECONDS``, however many retries are allowed."""
    config = SandboxConfig(tick_seconds=60, faults=Faults(3, error_rate=1.0))
    with running(config) as (_sandbox, url):
        stats = CallStats()
        settings = Settings(stripe_api_key=KEY, stripe_api_base=url, stripe_max_retries=20,
                            stripe_request_deadline_seconds=1.0)
        client = make_stripe_client(settings, None, stats, interactive=True)
        started = time.monotonic()
        with pytest.raises(stripe.APIError):
            client.v1.customers.list()
        # Twenty retries would take over a minute; the margin is a busy machine's.
        assert time.monotonic() - started < 1.0 + 10.0
        assert 2 <= stats.attempts < 21
        # A worker's client (not interactive) is not held to it.
        worker = make_stripe_client(settings)._requestor._client  # type: ignore[attr-defined]
        assert worker.policy.deadline_seconds is None
