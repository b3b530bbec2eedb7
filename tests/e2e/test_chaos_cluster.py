"""The chaos harness's small variant (bench/chaos, docs/scaling.md): customers through a few
monthly test-clock advances on a cluster of separate processes (the sandbox with Stripe's
test-mode rate limits, faults and webhook chaos; 2 API processes; 3 workers), with workers
killed every few seconds and an API process killed twice. After the reconcile, plangate must
equal Stripe for every customer, and the ledger must hold every accepted consumption once.

The full run is a command: ``scripts/with-postgres --require .venv/bin/python -m bench.chaos``
(1,000 customers, a year; its report is in docs/benchmarks.md)."""

from __future__ import annotations

import json
import os

import pytest

from bench.chaos.__main__ import run

pytestmark = pytest.mark.slow

CUSTOMERS = int(os.environ.get("PLANGATE_CHAOS_CUSTOMERS", "20"))
MONTHS = int(os.environ.get("PLANGATE_CHAOS_MONTHS", "2"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_chaotic_year_on_a_cluster_ends_equal_to_stripe(database_url: str) -> None:
    report = run(CUSTOMERS, MONTHS, database_url=database_url, settle=30)
    print(json.dumps(report, indent=2))
    assert report["mismatches"] == []
    assert report["reconcile"]["errors"] == []
    chaos, checks, actions = report["chaos"], report["checks"], report["actions"]
    # The chaos did happen.
    assert chaos["workers_killed"] >= 3
    assert chaos["api_processes_killed"] == chaos["api_restarts_seen"] == 2
    assert chaos["webhooks_dropped"] > 0 and chaos["webhooks_duplicated"] > 0
    assert chaos["stripe_5xx_injected"] > 0
    # And the checks had something to compare.
    assert checks["customers_compared"] >= CUSTOMERS * 0.7
    assert checks["granting_subscriptions"] > 0 and checks["one_time_purchases"] > 0
    assert checks["grants_applied_twice"] == 0 and checks["grants_in_ledger"] > CUSTOMERS
    assert checks["consumes_accepted"] > 0 and checks["consumes_refused"] > 0
    assert actions.get("consumes_replayed", 0) > 0
    assert checks.get("stripe_events_failed", 0) == 0
