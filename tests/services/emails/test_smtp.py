"""PLANGATE_SMTP_URL: its forms, and a login against a real SMTP server that requires one."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from plangate.services.emails.smtp import Outgoing, SmtpConfig, send
from plangate.settings import ConfigError, load_settings
from tests.smtp_server import SmtpServer


def test_the_url_forms() -> None:
    starttls = SmtpConfig.from_url("smtp://me%40acme.test:p%3Ass@mail.acme.test:587?starttls=true")
    assert (starttls.host, starttls.port, starttls.starttls, starttls.tls) == (
        "mail.acme.test", 587, True, False)
    assert (starttls.user, starttls.password) == ("me@acme.test", "p:ss")
    tls = SmtpConfig.from_url("smtps://mail.acme.test")
    assert (tls.port, tls.tls, tls.starttls, tls.user) == (465, True, False, "")
    plain = SmtpConfig.from_url("smtp://localhost")
    assert (plain.port, plain.tls, plain.starttls) == (25, False, False)


def test_a_url_that_is_not_smtp_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(smtp_url="http://user:secret@mail.acme.test")
    assert "PLANGATE_SMTP_URL" in str(raised.value)
    assert "secret" not in str(raised.value)


@pytest.fixture
def guarded() -> Iterator[SmtpServer]:
    server = SmtpServer(login=("me@acme.test", "p:ss")).start()
    yield server
    server.stop()


def _outgoing() -> Outgoing:
    return Outgoing(email_id=1, sender="billing@acme.test", recipients=("ada@example.com",),
                    subject="hello", text="hi\n", html="<p>hi</p>", message_id="msg_1")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_login_in_the_url_is_used(guarded: SmtpServer) -> None:
    port = guarded.port
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"), _outgoing())
    assert refused.value.smtp_code == 530  # authentication required
    send(SmtpConfig.from_url(f"smtp://me%40acme.test:p%3Ass@127.0.0.1:{port}"), _outgoing())
    [caught] = guarded.caught
    assert caught.recipients == ["ada@example.com"] and caught.subject == "hello"
