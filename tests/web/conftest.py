from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.browser_harness import browser  # noqa: F401 - one Chromium per module


@pytest.fixture
def site(db: Database, clock: FrozenClock) -> Iterator[TestClient]:
    """The API and the dashboard in test mode, over HTTP semantics, without credentials."""
    settings = Settings(database_url=db.url.render_as_string(hide_password=False), gateway="test")
    with TestClient(create_site(settings, db=db, clock=clock)) as client:
        yield client
