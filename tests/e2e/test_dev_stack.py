"""`plangate dev` as a user runs it: a real subprocess, from a directory outside the
repository, stopped with Ctrl-C or killed, and started again on the state it left."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from plangate.gateways.tls import tls_context
from plangate.sandbox.testing import pay_checkout_session

pytestmark = pytest.mark.slow

PLANGATE = str(Path(sys.executable).parent / "plangate")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PLANGATE_")}


class Dev:
    """One `plangate dev` process in ``cwd``; its output goes to files to read after."""

    def __init__(self, cwd: Path, port: int, *args: str) -> None:
        self.cwd, self.port = cwd, port
        self.base = f"http://127.0.0.1:{port}"
        self.stdout = (cwd / f"dev-{time.monotonic_ns()}.out").open("w+")
        self.stderr = (cwd / f"dev-{time.monotonic_ns()}.err").open("w+")
        self.proc = subprocess.Popen(
            [PLANGATE, "dev", "--port", str(port), *args],
            cwd=cwd, env=clean_env(), stdout=self.stdout, stderr=self.stderr,
        )
        self.health: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                probe = httpx.get(self.base + "/healthz", timeout=2, verify=tls_context())
                status = probe.status_code
                self.health.append(status)
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        if not (self.health and self.health[-1] == 200):
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"plangate dev never became healthy:\n{self.output()}")
        key = (cwd / ".plangate" / "dev-secret-key").read_text().strip()
        self.http = httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {key}"}, timeout=30,
            verify=tls_context(),
        )

    def output(self) -> str:
        self.stdout.seek(0)
        self.stderr.seek(0)
        return self.stdout.read() + self.stderr.read()

    def stripe(self) -> stripe.StripeClient:
        return stripe.StripeClient("sk_test_dev", base_addresses={"api": self.base + "/sandbox"})

    def checkout(self, customer_id: str, product_id: str) -> dict[str, Any]:
        resp = self.http.post("/v1/checkout-sessions", json={
            "customer_type": "user", "customer_id": customer_id, "product_id": product_id})
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def stop(self, sig: int = signal.SIGINT) -> int:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(60)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def plangate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PLANGATE, *args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=120)


def test_ready_state_kept_and_a_payment_survives_a_kill(workdir: Path) -> None:
    port = free_port()
    # Deliveries wait 10 s: the kill below comes at once after the payment, while its events
    # are still queued.
    dev = Dev(workdir, port, "--webhook-delay", "10")
    try:
        # Healthy only once set up: the banner is out and a checkout finds its price.
        assert "dev server ready on" in dev.output()
        assert dev.health.count(200) == 1
        dev.checkout("u-first", "pro")
        # A second dev stack on the busy port fails first, touching nothing.
        second = plangate(workdir, "dev", "--port", str(port))
        assert second.returncode == 2
        assert second.stderr.strip().endswith("choose another with --port")
        assert "Traceback" not in second.stderr
        # A catalog applied over the API is pushed: checkout charges what it says.
        catalog = (ROOT / "examples" / "plangate.toml").read_text()
        changed = catalog.replace('amounts = { usd = "10.00", eur = "9.50" }',
                                  'amounts = { usd = "12.00", eur = "11.50" }')
        assert changed != catalog
        applied = dev.http.put("/v1/catalog", content=changed,
                               headers={"Content-Type": "application/toml"})
        assert applied.status_code == 200, applied.text
        session = dev.checkout("u-paid", "credit_pack")
        assert dev.stripe().v1.checkout.sessions.retrieve(session["id"]).amount_total == 1200
        # A second shell finds the running stack's settings by itself.
        pushed = plangate(workdir, "catalog", "push")
        assert pushed.returncode == 0, pushed.stderr
        assert "using the settings of the running `plangate dev`" in pushed.stderr
        assert "Stripe already matches the catalog" in pushed.stdout
        version = dev.http.get("/v1/catalog").json()["version"]
        pay_checkout_session(session["url"])
    finally:
        dev.stop(signal.SIGKILL)
    # Started again: the applied catalog stays, and the payment's webhook is delivered.
    again = Dev(workdir, port)
    try:
        assert again.http.get("/v1/catalog").json()["version"] == version
        assert "the active catalog" in again.output()
        deadline = time.monotonic() + 30
        owned: dict[str, Any] = {}
        while time.monotonic() < deadline and "credit_pack" not in owned:
            products = again.http.get("/v1/customers/user/u-paid/products").json()
            owned = {p["product_id"]: p for p in products["data"]}
            time.sleep(0.2)
        assert "credit_pack" in owned
        # Granted by the delivered webhook, not only by the worker's reconcile at start.
        with sqlite3.connect(workdir / ".plangate" / "plangate.db") as conn:
            types = {row[0] for row in conn.execute("SELECT type FROM stripe_events")}
        assert "checkout.session.completed" in types
        assert again.http.put("/v1/catalog", content=catalog,
                              headers={"Content-Type": "application/toml"}).status_code == 200
    finally:
        code = again.stop(signal.SIGINT)
    # Ctrl-C: a clean stop that takes its state file with it.
    assert code in (0, 130), again.output()
    assert "Traceback" not in again.output()
    assert not (workdir / ".plangate" / "dev.json").exists()
    # The sandbox's own API calls stay out of the log (--verbose shows them).
    assert "/sandbox/v1/" not in again.output() and '"PUT /v1/catalog' in again.output()
