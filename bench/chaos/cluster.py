"""The chaos cluster: the sandbox, 2 API processes behind one port (``plangate serve
--workers 2``: uvicorn's supervisor restarts a dead one) and 3 Stripe worker processes, all on
one PostgreSQL database; and the killer, which sends ``kill -9`` to a random worker every few
seconds (the cluster restarts it at once) and, when told, to one API process."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select

from bench.chaos.procs import API_HEALTHCHECK_SECONDS, CLOCK_ENV, FileClock
from bench.harness import ROOT, free_port
from plangate.domain.catalog import parse_catalog
from plangate.gateways.stripe_http import PacedHttpClient, RetryPolicy
from plangate.gateways.tls import tls_context
from plangate.services.access.keys import create_key
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.stripe_sync.catalog_push import push_catalog
from plangate.services.stripe_sync.webhooks import WEBHOOK_EVENTS
from plangate.store.db import Database
from plangate.store.models import StripeEvent

CATALOG = Path(__file__).with_name("catalog.toml")
PLANGATE_KEY = "sk_test_chaos_plangate"  # plangate's key at the sandbox
DRIVER_KEY = "sk_test_chaos_driver"  # the simulated customers' and the checks' own key


@dataclass
class ClusterConfig:
    seed: int = 2026
    api_processes: int = 2
    workers: int = 3
    kill_every: tuple[float, float] = (2.0, 6.0)  # seconds between worker kills
    calm: bool = False  # no webhook chaos, no faults, no kills (a baseline)


@dataclass
class Kills:
    workers: int = 0
    apis: int = 0
    api_restarts_seen: int = 0


@dataclass
class Cluster:
    database_url: str
    start_time: datetime
    workdir: Path
    config: ClusterConfig = field(default_factory=ClusterConfig)
    kills: Kills = field(default_factory=Kills)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.clock = FileClock(str(self.workdir / "clock"))
        self.clock.set(self.start_time)
        self.sandbox_port, self.api_port = free_port(), free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.db = Database(self.database_url, pool_size=8)
        self._workers: list[subprocess.Popen[bytes]] = []
        self._others: list[subprocess.Popen[bytes]] = []
        self._stop_killing = threading.Event()
        self._killer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._logs = 0
        self.log_of: dict[int, Path] = {}

    # --- processes ----------------------------------------------------------------------------

    def _spawn(self, role: str, *args: str) -> subprocess.Popen[bytes]:
        self._logs += 1
        path = self.workdir / f"{role}-{self._logs}.log"
        with open(path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.chaos.procs", role, *args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        self.log_of[process.pid] = path
        return process

    def _wait_for(self, url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = self.log_of[process.pid].read_text(errors="replace")[-2000:]
                raise RuntimeError(f"a cluster process exited ({process.returncode}):\n{tail}")
            try:
                if httpx.get(url, timeout=2, verify=tls_context()).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")

    def start(self) -> None:
        cfg = self.config
        self.env: dict[str, str] = dict(os.environ)
        sandbox_args = ["--port", str(self.sandbox_port), "--seed", str(cfg.seed)]
        if cfg.calm:
            sandbox_args.append("--calm")
        self._others.append(self._spawn("sandbox", *sandbox_args))
        self._wait_for(self.sandbox_url + "/_chaos/status", 300, self._others[-1])
        self.stripe = stripe.StripeClient(
            DRIVER_KEY, base_addresses={"api": self.sandbox_url},
            # The driver's calls meet the limits and faults too; they retry as plangate's do.
            http_client=PacedHttpClient(stripe.new_default_http_client(timeout=900),
                                        policy=RetryPolicy(max_retries=10)),
            max_network_retries=0,
        )
        test_clock = self.stripe.v1.test_helpers.test_clocks.create(
            {"frozen_time": int(self.start_time.timestamp())})
        self.test_clock_id = test_clock.id
        endpoint = self.stripe.v1.webhook_endpoints.create(
            {"url": self.api_url + "/v1/stripe/webhooks",
             "enabled_events": list(WEBHOOK_EVENTS)})  # type: ignore[arg-type]
        text = CATALOG.read_text()
        catalog = parse_catalog(text)
        push_catalog(self.stripe, catalog)
        with self.db.write() as session:
            catalog_service.apply_catalog(session, catalog, self.start_time, source_text=text)
            self.secret_key = create_key(session, "chaos", self.start_time).secret
        self.env.update({
            "PLANGATE_DATABASE_URL": self.database_url,
            "PLANGATE_BASE_URL": self.api_url,
            "PLANGATE_GATEWAY": "stripe",
            "PLANGATE_STRIPE_API_KEY": PLANGATE_KEY,
            "PLANGATE_STRIPE_API_BASE": self.sandbox_url,
            "PLANGATE_STRIPE_WEBHOOK_SECRET": str(endpoint.secret),
            "PLANGATE_STRIPE_TEST_CLOCK": test_clock.id,
            "PLANGATE_STRIPE_TIMEOUT_SECONDS": "3",
            "PLANGATE_WORKER_POLL_SECONDS": "0.3",
            # A killed worker's events come back to the others after this.
            "PLANGATE_WORKER_LEASE_SECONDS": "15",
            "PLANGATE_LOG_LEVEL": "warning",
            CLOCK_ENV: str(self.clock.path),
        })
        self._others.append(self._spawn("api", "--port", str(self.api_port),
                                        "--workers", str(cfg.api_processes)))
        for _ in range(cfg.workers):
            self._workers.append(self._spawn("worker"))
        # Slow on a loaded machine: 2 API processes and 3 workers import plangate at once.
        self._wait_for(self.api_url + "/livez", 300, self._others[-1])
        if not cfg.calm:
            self._killer = threading.Thread(target=self._kill_workers, daemon=True)
            self._killer.start()

    def _kill_workers(self) -> None:
        """Every few seconds, ``kill -9`` of a random worker among those that got to work, as
        long as another one works on (on a loaded machine a restart takes many seconds)."""
        low, high = self.config.kill_every
        while not self._stop_killing.wait(self.rng.uniform(low, high)):
            with self._lock:
                ready = [n for n, process in enumerate(self._workers)
                         if (self.workdir / f"ready-{process.pid}").exists()]
                if len(ready) < 2:
                    continue
                n = self.rng.choice(ready)
                self._workers[n].send_signal(signal.SIGKILL)
                self._workers[n].wait()
                self._workers[n] = self._spawn("worker")
                self.kills.workers += 1

    def api_children(self) -> list[int]:
        supervisor = self._others[1].pid
        try:
            children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def kill_api(self) -> None:
        """``kill -9`` of one API process (uvicorn's supervisor starts another)."""
        children = self.api_children()
        if not children:
            return
        victim = self.rng.choice(children)
        os.kill(victim, signal.SIGKILL)
        self.kills.apis += 1
        # uvicorn's supervisor pings every child before it restarts a dead one, and a child
        # still starting (the one restarted after the last kill, on a loaded machine) may
        # take the whole health-check timeout to answer: wait past it.
        deadline = time.monotonic() + API_HEALTHCHECK_SECONDS + 60
        while time.monotonic() < deadline:
            alive = [pid for pid in self.api_children() if pid != victim]
            if len(alive) >= self.config.api_processes:
                self.kills.api_restarts_seen += 1
                return
            time.sleep(0.2)

    def stop_killing(self) -> None:
        self._stop_killing.set()
        if self._killer is not None:
            self._killer.join()

    def stop(self) -> None:
        self.stop_killing()
        for process in [*self._workers, *reversed(self._others)]:
            process.terminate()
        for process in [*self._workers, *self._others]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.db.dispose()

    def reconcile(self) -> dict[str, Any]:
        """``plangate reconcile`` (on the simulated clock), in this process."""
        from bench.chaos.procs import run_reconcile
        from plangate.settings import Settings

        prefix = "PLANGATE_"
        values = {k[len(prefix):].lower(): v for k, v in self.env.items()
                  if k.startswith(prefix) and k[len(prefix):].lower() in Settings.model_fields}
        return run_reconcile(Settings.model_validate(values), str(self.clock.path))

    # --- time and the queue -------------------------------------------------------------------

    def advance(self, to: datetime) -> None:
        """plangate's clock, then Stripe's test clock (which runs what falls due on the way)."""
        self.clock.set(to)
        try:
            self.stripe.v1.test_helpers.test_clocks.advance(
                self.test_clock_id, {"frozen_time": int(to.timestamp())})
        except stripe.StripeError:
            # A late answer whose advance was done: the retry finds the clock there already.
            clock = self.stripe.v1.test_helpers.test_clocks.retrieve(self.test_clock_id)
            if clock.frozen_time != int(to.timestamp()):
                raise
        deadline = time.monotonic() + 600
        while self.stripe.v1.test_helpers.test_clocks.retrieve(
                self.test_clock_id).status != "ready":
            if time.monotonic() > deadline:
                raise TimeoutError("the test clock did not finish its advance")
            time.sleep(0.5)

    def sandbox_status(self) -> dict[str, int]:
        body: dict[str, int] = httpx.get(self.sandbox_url + "/_chaos/status", timeout=30).json()
        return body

    def pending_events(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(StripeEvent)
                                      .where(StripeEvent.status == "pending")) or 0)

    def settle(self, timeout: float) -> str | None:
        """Waits until the sandbox has no delivery queued and plangate no event pending, twice
        in a row; what is still waiting when ``timeout`` passes first, else None."""
        deadline, quiet = time.monotonic() + timeout, 0
        queued = pending = 0
        while time.monotonic() < deadline:
            queued, pending = self.sandbox_status()["queued"], self.pending_events()
            quiet = quiet + 1 if queued == pending == 0 else 0
            if quiet >= 2:
                return None
            time.sleep(0.5)
        with self.db.read() as session:
            waiting = session.execute(
                select(StripeEvent.type, StripeEvent.attempts, StripeEvent.next_attempt_at,
                       StripeEvent.last_error)
                .where(StripeEvent.status == "pending").limit(5)).all()
        return f"{queued} deliveries queued, {pending} events pending: {waiting}"

