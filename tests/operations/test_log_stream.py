"""The log handler writes to stderr as it is at each record: a process whose stderr is
replaced after logging was configured keeps its logs, and a thread logging after the old
stream was closed neither fails nor prints "--- Logging error ---"."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from plangate.observability.logs import configure_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_records_follow_stderr_when_it_is_replaced(
    monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("json", "info")
    log = logging.getLogger("plangate.tests.stream")
    log.info("while configured")
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    first.close()  # the stream logging was configured with is gone

    log.info("after the swap")

    assert "Logging error" not in second.getvalue()
    lines = [json.loads(line) for line in second.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["after the swap"]
