"""A chaotic year on a cluster: ``--customers`` customers through ``--months`` monthly
test-clock advances on PostgreSQL, with 2 API processes and 3 worker processes being killed,
against a sandbox in its own process with Stripe's test-mode rate limits, 2 % 5xx, 1 % answers
later than plangate's Stripe timeout, and webhooks duplicated (30 %), reordered and dropped
(5 %). Then a reconcile, and the checks of ``verify.py``. Prints the report as JSON; exits 1
on any mismatch.

    scripts/with-postgres --require .venv/bin/python -m bench.chaos [--customers 1000]
        [--months 12] [--seed 2026] [--settle 300] [--calm]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.chaos.cluster import Cluster, ClusterConfig
from bench.chaos.scenario import Driver
from bench.chaos.verify import verify
from bench.harness import database
from plangate.domain.intervals import Interval, add_intervals

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def run(customers: int, months: int, *, seed: int = 2026, settle: float = 300,
        calm: bool = False, database_url: str | None = None,
        config: ClusterConfig | None = None) -> dict[str, Any]:
    """The whole run; the report (``mismatches`` empty when plangate matches Stripe). On a
    new database of ``PLANGATE_TEST_POSTGRES_URL``'s server, or on ``database_url`` (migrated
    and empty)."""
    with ExitStack() as stack:
        url = database_url or stack.enter_context(database("postgresql"))
        # The processes' logs: removed after a clean run, kept (and named) after a failed one.
        tmp = tempfile.mkdtemp(prefix="plangate-chaos-")
        config = config or ClusterConfig(seed=seed, calm=calm)
        try:
            report = _run(Cluster(url, T0, Path(tmp), config), customers, months, settle)
        except BaseException:
            say(f"the cluster's logs are kept in {tmp}")
            raise
        if report["mismatches"] or report["reconcile"]["errors"]:
            say(f"the cluster's logs are kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        return report


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(cluster: Cluster, customers: int, months: int, settle: float) -> dict[str, Any]:
    started = time.monotonic()
    unsettled = 0
    seed, calm = cluster.config.seed, cluster.config.calm
    try:
        cluster.start()
        say(f"cluster up in {time.monotonic() - started:.0f} s")
        driver = Driver(cluster, customers, seed)
        driver.start()
        api_kills = {max(1, months // 3), max(1, 2 * months // 3 + 1)}
        for month in range(1, months + 1):
            waiting = cluster.settle(settle)
            if waiting:
                unsettled += 1
                say(f"month {month}: not settled after {settle:.0f} s: {waiting}")
            driver.month(month)
            if month in api_kills and not calm:
                cluster.kill_api()
            cluster.advance(add_intervals(T0, Interval("month"), month).replace(hour=15))
            say(f"month {month} done at {time.monotonic() - started:.0f} s: "
                f"{dict(driver.counts)}")
        if not calm and cluster.kills.apis < 2:
            cluster.kill_api()
        cluster.stop_killing()
        # The checks compare end states: every queued event is handled before they run (the
        # reconcile repairs what was lost, not what is still on its way).
        drain = max(settle, 3600 if customers > 200 else 600)
        backlog = cluster.settle(drain)
        say(f"settled ({backlog or 'all handled'}) at {time.monotonic() - started:.0f} s; "
            "reconciling")
        reconcile = cluster.reconcile()
        cluster.settle(drain)
        checks = verify(cluster, driver)
        sandbox = cluster.sandbox_status()
    finally:
        cluster.stop()
    repaired = [fix for fix in reconcile.get("fixed", []) if fix.get("changed")]
    return {
        "customers": customers,
        "months": months,
        "seed": seed,
        "seconds": round(time.monotonic() - started, 1),
        "checks": checks.counts,
        "mismatches": checks.mismatches,
        "actions": dict(sorted(driver.counts.items())),
        "chaos": {
            "workers_killed": cluster.kills.workers,
            "api_processes_killed": cluster.kills.apis,
            "api_restarts_seen": cluster.kills.api_restarts_seen,
            "months_not_settled_before_next": unsettled,
            "backlog_before_reconcile": backlog,
            "webhooks_dropped": sandbox["dropped"],
            "webhooks_duplicated": sandbox["duplicates"],
            "webhook_attempts": sandbox["attempts"],
            "stripe_requests_admitted": sandbox["admitted"],
            "stripe_requests_429": sandbox["refused_429"],
            "stripe_5xx_injected": sandbox["errors_5xx"],
            "stripe_late_answers_injected": sandbox["slow"],
        },
        "reconcile": {"customers": reconcile.get("customers"),
                      "repaired": len(repaired), "errors": reconcile.get("errors", [])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--settle", type=float, default=300,
                        help="seconds to wait for the queue to drain before each month")
    parser.add_argument("--calm", action="store_true",
                        help="no chaos, faults or kills: the same year as a baseline")
    args = parser.parse_args()
    report = run(args.customers, args.months, seed=args.seed, settle=args.settle,
                 calm=args.calm)
    json.dump(report, sys.stdout, indent=2)
    print()
    sys.exit(1 if report["mismatches"] or report["reconcile"]["errors"] else 0)


if __name__ == "__main__":
    main()
