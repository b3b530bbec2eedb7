"""The built wheels stand on their own: the server's and the SDK's (a dependency of the
server), installed with pip into a fresh virtual environment and run from a directory outside
the repository, `plangate migrate`, `serve` and `dev` work against PostgreSQL.

The wheelhouse that makes this offline after a first run is described in tests/wheels.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plangate.gateways.tls import tls_context
from tests.wheels import ROOT, SDK, build_wheels, sh, venv_with

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("PLANGATE_TEST_POSTGRES_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `plangate` executable of a fresh venv holding the wheels built from this tree."""
    work = tmp_path_factory.mktemp("wheel")
    return venv_with(work, *build_wheels(work / "dist", ROOT, SDK)).parent / "plangate"


@pytest.fixture
def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL is not available (PLANGATE_TEST_POSTGRES_URL unset)")
    name = f"plangate_wheel_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def env_for(database_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PLANGATE_", "VIRTUAL_"))}
    return {**base, "PLANGATE_DATABASE_URL": database_url}


def until_healthy(proc: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, verify=tls_context())
            if health.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"port {port} never became healthy")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, errors = proc.communicate(timeout=60)
    assert "Traceback" not in out + errors, out + errors
    return out + errors


def test_the_wheel_migrates_serves_and_runs_dev_on_postgresql(
    installed: Path, pg_database: str, tmp_path: Path
) -> None:
    env = env_for(pg_database)
    # Nothing from the repository is in reach of the installed package.
    assert str(ROOT) not in sh(installed.parent / "python", "-c",
                               "import plangate; print(plangate.__file__)", cwd=tmp_path, env=env)
    assert "database up to date" in sh(installed, "migrate", cwd=tmp_path, env=env)
    port = free_port()
    serve = subprocess.Popen([str(installed), "serve", "--port", str(port)], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until_healthy(serve, port, timeout=90)  # a cold start on a loaded machine, like dev
        # The dashboard's templates and static files are in the wheel.
        login = httpx.get(f"http://127.0.0.1:{port}/dashboard/login")
        assert login.status_code == 200 and "Sign in to plangate" in login.text
        assert httpx.get(f"http://127.0.0.1:{port}/dashboard/static/htmx.min.js").status_code == 200
    finally:
        stop(serve)
    dev_port = free_port()
    dev = subprocess.Popen([str(installed), "dev", "--port", str(dev_port)], cwd=tmp_path,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until_healthy(dev, dev_port, timeout=90)
        catalog = httpx.get(
            f"http://127.0.0.1:{dev_port}/v1/catalog",
            headers={"Authorization": "Bearer "
                     + (tmp_path / ".plangate" / "dev-secret-key").read_text().strip()},
        ).json()
        assert "pro" in catalog["catalog"]["products"]  # the example catalog, from the wheel
        # The pricing pages' templates, stylesheet and embeddable table are in the wheel.
        pricing = httpx.get(f"http://127.0.0.1:{dev_port}/pricing/plan")
        assert pricing.status_code == 200 and "$19.99" in pricing.text
        for asset in ("pages.css", "pricing-table.js"):
            assert httpx.get(f"http://127.0.0.1:{dev_port}/static/{asset}").status_code == 200
    finally:
        output = stop(dev)
    assert "the example catalog" in output
