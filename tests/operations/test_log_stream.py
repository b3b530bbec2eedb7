"""The log handler writes to stderr as it is at each record: a process whose stderr is
replaced after logging was configured keeps its logs, and a thread logging after the old
stream was closed neither fails nor prints "--- Logging error ---". (The suite restores the
root logger after each test.)"""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from plangate.observability.logs import configure_logging


def test_records_follow_stderr_when_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
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
