"""When Stripe cannot answer (timeouts, 5xx, 429 on every retry), an API request answers
promptly with a retryable 503 ``gateway_unavailable`` and ``Retry-After``, not a 502 after
minutes of retries: its Stripe calls stop retrying at
``PLANGATE_STRIPE_REQUEST_DEADLINE_SECONDS``. The database does not matter: SQLite only."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.sandbox import Faults, SandboxConfig
from plangate.settings import Settings
from plangate.store.db import Database
from tests.sandbox.sandbox_harness import start

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_stripe_failing_on_every_retry_answers_503_with_retry_after(
        db: Database, clock: FrozenClock, secret_key: str) -> None:
    sandbox = start(SandboxConfig(tick_seconds=3600, faults=Faults(7, error_rate=1.0)))
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="stripe", stripe_api_key="sk_test_sandbox",
                        stripe_api_base=sandbox.url, stripe_webhook_secret="whsec_test",
                        stripe_max_retries=20, stripe_request_deadline_seconds=1.0)
    try:
        with TestClient(create_app(settings, db=db, clock=clock),
                        headers={"Authorization": f"Bearer {secret_key}"}) as api:
            started = time.monotonic()
            resp = api.get("/v1/admin/balance")
            elapsed = time.monotonic() - started
    finally:
        sandbox.stop()
    assert resp.status_code == 503, resp.text
    error = resp.json()["error"]
    assert (error["type"], error["code"]) == ("api_error", "gateway_unavailable")
    assert resp.headers["Retry-After"] == "5"
    # Twenty retries would take over a minute; the deadline stops them after a second (the
    # margin is a busy machine's, not the deadline's).
    assert elapsed < 1.0 + 10.0, elapsed
    assert sandbox.sandbox.faults is not None and sandbox.sandbox.faults.errors >= 2
