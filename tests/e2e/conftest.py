"""End-to-end fixtures: the sandbox and plangate over real HTTP (see e2e_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_harness import browser, page  # noqa: F401 - Chromium fixtures for the pages
from tests.e2e.e2e_harness import Stack, start_stack


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    running = start_stack(database_url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def refusing_stack(module_database_url: str) -> Iterator[Stack]:
    """One stack for a module's tests that are all refused and check that nothing was
    stored: each leaves the stack as it found it, so it need not be fresh."""
    running = start_stack(module_database_url)
    yield running
    running.stop()
