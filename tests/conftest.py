"""Fixtures shared by the suite: a fresh migrated database per test, on SQLite and on
PostgreSQL (when ``PLANGATE_TEST_POSTGRES_URL`` names a server: ``make test`` starts one)."""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

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


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Browser tests drive pages on SQLite only. A page is rendered from the same services
    as the API, and those services and the API run on both databases in the rest of the
    suite; a second browser run on PostgreSQL would test Chromium twice, not the database.
    A browser test that needs PostgreSQL says so with its own ``database_url`` parameter."""
    if (
        metafunc.definition.get_closest_marker("browser") is not None
        and "database_url" in metafunc.fixturenames
        and not any(
            "database_url" in str(mark.args[0])
            for mark in metafunc.definition.iter_markers("parametrize")
        )
    ):
        # As a mark, which pytest's own hooks (after this one) read like a decorator's.
        metafunc.definition.add_marker(
            pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests (marked ``slow``) first: the workers then share the short ones at the
    end, instead of one worker running a minute-long scenario alone while the other idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that configures logging (the CLI's commands run in process) leaves the root
    logger as it found it; otherwise its handler and level would stay for every later test,
    and the background threads of those tests would log through them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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


# What a test may not change in a database it gives back: its tables, columns and indexes and
# its migration revision. A test that does (the migration tests) gets its database dropped.
_SHAPE = text("""
    SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
        SELECT table_name || '.' || column_name || ':' || data_type AS item
        FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT 'rev:' || version_num FROM alembic_version) AS items
""")
_TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
               "AND tablename <> 'alembic_version' ORDER BY tablename")
_SEQUENCES = text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")


class _PostgresDatabases:
    """The PostgreSQL databases of this worker's tests, each test on a fresh one.

    Copying the migrated template (CREATE DATABASE ... TEMPLATE) costs the server about half a
    second of CPU, so a database a test is done with is made fresh again instead, in a few
    milliseconds: its connections are closed, it is renamed (a connection a test left behind
    cannot reach the next test's data), every row is deleted and the sequences restart. A
    database whose schema the test changed is dropped, and the next one copied anew."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.admin = _admin_engine()
        self.free: list[str] = []
        with _connect(template) as conn:
            self.shape = conn.execute(_SHAPE).scalar_one()
            self.tables = list(conn.execute(_TABLES).scalars())
            self.sequences = list(conn.execute(_SEQUENCES).scalars())
            self.reusable = not any(
                conn.execute(text(f'SELECT EXISTS (SELECT FROM "{t}")')).scalar_one()
                for t in self.tables)

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = _fresh_name()
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def give_back(self, name: str) -> None:
        if self.reusable:
            try:
                self.free.append(self._emptied(name))
                return
            except Exception:  # anything odd: this database is not reused
                pass
        _drop(self.admin, name)

    def _emptied(self, name: str) -> str:
        renamed = _fresh_name()
        with self.admin.connect() as conn:
            for _ in range(50):
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name"), {"name": name})
                try:
                    conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"'))
                    break
                except OperationalError:  # a terminated connection has not quite gone yet
                    time.sleep(0.02)
            else:
                raise RuntimeError(f"{name} keeps its connections")
        with _connect(renamed) as conn, conn.begin():
            if conn.execute(_SHAPE).scalar_one() != self.shape:
                raise RuntimeError(f"the test changed the schema of {name}")
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self.tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            for sequence in self.sequences:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        return renamed

    def close(self) -> None:
        for name in self.free:
            _drop(self.admin, name)
        self.admin.dispose()


def _fresh_name() -> str:
    return f"plangate_t_{uuid.uuid4().hex[:12]}"


@contextmanager
def _connect(database: str) -> Iterator[Connection]:
    engine = create_engine(_pg_url(database), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _drop(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
    _drop(admin, name)
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_template: str) -> Iterator[_PostgresDatabases]:
    databases = _PostgresDatabases(postgres_template)
    yield databases
    databases.close()


@contextmanager
def _fresh_database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = folder / "plangate.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    databases: _PostgresDatabases = request.getfixturevalue("postgres_databases")
    name = databases.take()
    try:
        yield _pg_url(name)
    finally:
        databases.give_back(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    with _fresh_database(request, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated, empty database shared by the tests of a module that use it: for
    tests that are refused and check that nothing was stored, which one stack can serve."""
    with _fresh_database(request, tmp_path_factory.mktemp("module-db")) as url:
        yield url


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
