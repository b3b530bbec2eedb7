"""Fixtures for the billing emails: a real SMTP server (aiosmtpd), settings that send to it,
and customers with addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
