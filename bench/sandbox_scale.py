"""The sandbox's due work at scale, in process: ``--n`` trialing subscriptions on one test
clock beside ``--n`` real-time customers, then (a) the mean time of a plain request
(``GET /v1/customers/{id}``) and (b) one test-clock advance that ends every trial.

Each size runs twice in the same process: with the due index, and with
``PLANGATE_SANDBOX_SCAN=1`` (every object evaluated on each step, as the scheduler did
before the index), the baseline.

    nice -n 10 .venv/bin/python -m bench.sandbox_scale --n 500,2000 [--modes index,scan]

Prints JSON lines, one per size and mode.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from starlette.testclient import TestClient

from plangate.sandbox import Sandbox, SandboxConfig
from plangate.sandbox.app import create_app

T0 = 1768435200  # 2026-01-15 00:00 UTC
DAY = 86400
AUTH = {"Authorization": "Bearer sk_test_sandbox"}


def _post(client: TestClient, path: str, data: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, data=data, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def run(n: int, mode: str, reads: int) -> dict[str, Any]:
    os.environ["PLANGATE_SANDBOX_SCAN"] = "1" if mode == "scan" else "0"
    sandbox = Sandbox(SandboxConfig(tick_seconds=3600))
    client = TestClient(create_app(sandbox))
    started = time.perf_counter()
    clock = _post(client, "/v1/test_helpers/test_clocks", {"frozen_time": str(T0)})["id"]
    prod = _post(client, "/v1/products", {"name": "Pro"})["id"]
    price = _post(client, "/v1/prices", {"product": prod, "currency": "usd",
                                         "unit_amount": "1000",
                                         "recurring[interval]": "month"})["id"]
    for _ in range(n):
        _post(client, "/v1/customers", {"email": "other@example.com"})
    for _ in range(n):
        cus = _post(client, "/v1/customers", {
            "test_clock": clock, "payment_method": "pm_card_visa",
            "invoice_settings[default_payment_method]": "pm_card_visa"})["id"]
        _post(client, "/v1/subscriptions", {"customer": cus, "items[0][price]": price,
                                            "trial_period_days": "30"})
    setup = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(reads):
        assert client.get(f"/v1/customers/{cus}", headers=AUTH).status_code == 200
    read = (time.perf_counter() - started) / reads
    started = time.perf_counter()
    _post(client, f"/v1/test_helpers/test_clocks/{clock}/advance",
          {"frozen_time": str(T0 + 31 * DAY)})
    advance = time.perf_counter() - started
    active = sum(s["status"] == "active" for s in sandbox.store.values("subscription"))
    assert active == n, active
    sandbox.close()
    return {"n": n, "mode": mode, "setup_s": round(setup, 2),
            "read_ms": round(read * 1000, 3), "advance_s": round(advance, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", default="500,2000")
    parser.add_argument("--modes", default="index,scan")
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    for n in (int(x) for x in args.n.split(",")):
        for mode in args.modes.split(","):
            print(json.dumps(run(n, mode, args.reads)), flush=True)


if __name__ == "__main__":
    main()
