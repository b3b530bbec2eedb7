"""plangate as deployed: `plangate serve --workers 2` and a `plangate worker` beside it, all
sharing one PROMETHEUS_MULTIPROC_DIR, logging JSON. Any API process's /metrics sums every
process of the host, whichever served each request; each log line is one JSON object, and a
request's lines carry its id, a Stripe event's lines the event's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from plangate.clock import SystemClock
from plangate.gateways.tls import tls_context
from plangate.services.stripe_sync.webhooks import store_event
from plangate.store.db import Database
from tests.e2e.e2e_harness import free_port
from tests.operations.processes import PLANGATE, stop, worker_env
from tests.operations.scrape import value

pytestmark = pytest.mark.slow


def _pids_that_timed_requests(directory: Path) -> set[str]:
    return {path.stem.split("_")[-1] for path in directory.glob("histogram_*.db")}


def _store_events(db: Database, count: int) -> None:
    now = SystemClock().now()
    with db.write() as session:
        for n in range(count):
            event = {"id": f"evt_mp{n}", "type": "price.updated", "created": 1767225600,
                     "data": {"object": {"id": f"price_{n}", "object": "price"}}}
            store_event(session, event, now)


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """How processes share metrics does not depend on the database (the queue figures, which
    do, are tested on both in test_metrics.py): one SQLite file keeps this test short."""
    path = tmp_path / "plangate.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield f"sqlite:///{path}", database
    database.dispose()


def test_every_process_counts_into_one_scrape(
    sqlite_db: tuple[str, Database], tmp_path: Path
) -> None:
    database_url, db = sqlite_db
    shared = tmp_path / "prometheus"
    shared.mkdir()
    logs = tmp_path / "serve.log"
    env = worker_env(database_url, PLANGATE_LOG_FORMAT="json",
                     PROMETHEUS_MULTIPROC_DIR=str(shared))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with logs.open("w") as log_file:
        serve = subprocess.Popen(
            [PLANGATE, "serve", "--workers", "2", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/livez", timeout=2, verify=tls_context()).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert serve.poll() is None and time.monotonic() < deadline, logs.read_text()
            time.sleep(0.2)
        sent = 1  # the probe that answered

        def one(n: int) -> int:
            # A connection per request, so the kernel hands them to either process.
            headers = {"X-Request-Id": f"req-mp-{n}"}
            return httpx.get(base + "/livez", headers=headers, timeout=10,
                             verify=tls_context()).status_code

        # Until both processes have served: on a busy machine the second one may still be
        # starting while the first answers everything.
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            while time.monotonic() < deadline:
                assert set(pool.map(one, range(sent, sent + 24))) == {200}
                sent += 24
                if len(_pids_that_timed_requests(shared)) >= 2:
                    break
        assert len(_pids_that_timed_requests(shared)) >= 2, "one process served everything"

        # A worker process beside them handles events; its counts join the same scrape.
        _store_events(db, 5)
        handled = subprocess.run(
            [PLANGATE, "worker", "--once"], env={**env, "PLANGATE_LOG_LEVEL": "debug"},
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )
        assert handled.returncode == 0, handled.stderr
        assert "handled 5 event(s)" in handled.stdout

        for _ in range(4):  # whichever process answers the scrape, the sums are the same
            text = httpx.get(base + "/metrics", timeout=10).text
            count = value(text, "plangate_http_request_duration_seconds_count",
                          method="GET", route="/livez", status="200")
            assert count == sent
            assert value(text, "plangate_stripe_events_handled_total", type="price.updated") == 5
    finally:
        stop(serve)  # type: ignore[arg-type]

    lines = [line for line in logs.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "plangate.access"]
    assert {r["request_id"] for r in access} >= {f"req-mp-{n}" for n in range(1, sent)}
    probe = next(r for r in access if r["request_id"] == "req-mp-1")
    assert probe["route"] == "/livez" and probe["status"] == 200 and probe["method"] == "GET"
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's lines too

    worker_records = [json.loads(line) for line in handled.stderr.splitlines()
                      if line.startswith("{")]
    about_events = {r["event_id"] for r in worker_records if "event_id" in r}
    assert about_events == {f"evt_mp{n}" for n in range(5)}
    assert os.listdir(shared)
