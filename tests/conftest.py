"""Fixtures shared by the suite: a fresh migrated database per test, on SQLite and on
PostgreSQL (when ``PLANGATE_TEST_POSTGRES_URL`` names a server: ``make test`` starts one)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CATALOG = ROOT / "examples" / "plangate.toml"
PG_URL = os.environ.get("PLANGATE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
# `make test` sets this: there, a test that would skip (no PostgreSQL, no chromium, a missing
# fixture or package) fails instead, so a green run means everything ran.
NO_SKIPS = os.environ.get("PLANGATE_TEST_NO_SKIPS") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"plangate: databases sqlite + postgresql ({make_url(PG_URL).port})"
    return "plangate: PLANGATE_TEST_POSTGRES_URL is not set: the PostgreSQL half is SKIPPED"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PG_URL:
        terminalreporter.write_sep(
            "!", "PostgreSQL was not available: only SQLite was tested", red=True
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    if NO_SKIPS and not PG_URL:
        raise pytest.UsageError(
            "PLANGATE_TEST_NO_SKIPS=1 needs PostgreSQL: run through scripts/with-postgres"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under PLANGATE_TEST_NO_SKIPS=1 (make test): {reason}"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "plangate.db"
    upgrade(f"sqlite:///{path}")
    return path


def _admin_engine():  # type: ignore[no-untyped-def]
    assert PG_URL
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_size=1)


def _pg_url(database: str) -> str:
    assert PG_URL
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL is not available (PLANGATE_TEST_POSTGRES_URL unset)")
    name = f"plangate_tmpl_{_worker()}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "plangate.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"plangate_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def example_catalog_text() -> str:
    return EXAMPLE_CATALOG.read_text()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=5)
    yield database
    database.dispose()


@pytest.fixture
def secret_key(db: Database, clock: FrozenClock) -> str:
    with db.write() as session:
        return create_key(session, "tests", clock.now()).secret


@pytest.fixture
def api(db: Database, clock: FrozenClock, secret_key: str) -> Iterator[TestClient]:
    """The real app over HTTP semantics, authenticated with a real secret key."""
    settings = Settings(database_url=db.url.render_as_string(hide_password=False), gateway="test")
    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, headers={"Authorization": f"Bearer {secret_key}"}) as client:
        yield client


@pytest.fixture
def anonymous(api: TestClient) -> TestClient:
    return TestClient(api.app)
