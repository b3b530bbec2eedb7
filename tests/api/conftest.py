from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.services.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database


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
