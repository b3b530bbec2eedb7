"""The OpenAPI document is the contract: schemathesis generates valid and invalid requests for
every operation from the document the server serves, sends them over HTTP to the real app
under uvicorn (on SQLite and on PostgreSQL) and runs every check: no 5xx, every status, header
and body documented, invalid data refused, valid data accepted, auth enforced, 405 with the
documented ``Allow``. Bounded and deterministic, so a run is stable (about a minute per
database); tests/api/schemathesis.toml says where valid-looking data may still be refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plangate.api.app import create_app
from plangate.clock import SystemClock
from plangate.settings import Settings
from plangate.store.db import Database
from tests.sdk.conftest import ServerThread, bind_free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
WEBHOOK_SECRET = "whsec_contract"
IDENTITY_SECRET = "whsec_Y29udHJhY3QtaWRlbnRpdHktc2VjcmV0"
MAX_EXAMPLES = 5


@pytest.fixture
def base_url(db: Database, secret_key: str, example_catalog_text: str) -> Iterator[str]:
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False),
        gateway="test",
        stripe_webhook_secret=WEBHOOK_SECRET,
        identity_webhook_secret=IDENTITY_SECRET,
    )
    # The wall clock: webhook signatures are checked against it.
    app = create_app(settings, db=db, clock=SystemClock())
    sock = bind_free_port()
    server = ServerThread(app, sock)
    server.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        import httpx

        applied = httpx.put(
            url + "/v1/catalog",
            content=example_catalog_text,
            headers={"Authorization": f"Bearer {secret_key}", "Content-Type": "application/toml"},
        )
        assert applied.status_code == 200
        yield url
    finally:
        server.stop()
        sock.close()


def test_every_operation_keeps_the_contract(
    base_url: str, secret_key: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PLANGATE_CONTRACT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PLANGATE_CONTRACT_IDENTITY_SECRET": IDENTITY_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            base_url + "/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",
            "--generation-allow-x00",
            "false",
            "--header",
            f"Authorization: Bearer {secret_key}",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        # Its working files (.schemathesis/) go to the test's own folder, not the tree.
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failures = run.stdout.partition("FAILURES")[2].partition("WARNINGS")[0]
    summary = failures[:20000] + run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "No issues found" in run.stdout or " passed" in run.stdout, summary
