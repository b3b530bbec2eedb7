"""Starting plangate's own commands as separate processes, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.e2e_harness import free_port

PLANGATE = str(Path(sys.executable).parent / "plangate")


def worker_env(database_url: str, **extra: str) -> dict[str, str]:
    """A stripe-gateway worker that never needs Stripe: no reconcile, and the events it is
    given name objects plangate keeps no state from. Stripe's address is a closed port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PLANGATE_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        PLANGATE_DATABASE_URL=database_url,
        PLANGATE_GATEWAY="stripe",
        PLANGATE_STRIPE_API_KEY="sk_test_processes",
        PLANGATE_STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
        PLANGATE_RECONCILE_INTERVAL_SECONDS="0",
        PLANGATE_WORKER_POLL_SECONDS="0.1",
        **extra,
    )
    return env


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PLANGATE, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 30) -> str:
    """Reads the process's stderr until a line holds ``needle``."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never came; stderr: {''.join(seen)}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
