"""`plangate mail-catcher`: a real subprocess that prints what it is sent, stopped by Ctrl-C."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from plangate.clock import FrozenClock
from plangate.store.db import Database
from tests.e2e.test_dev_stack import clean_env, free_port

PLANGATE = str(Path(sys.executable).parent / "plangate")


def test_the_mail_catcher_prints_each_message(tmp_path: Path) -> None:
    port = free_port()
    out = (tmp_path / "out").open("w+")
    proc = subprocess.Popen([PLANGATE, "mail-catcher", "--port", str(port)], env=clean_env(),
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "never listened"
                time.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "billing@acme.test", "ada@example.com", "Your receipt")
        message.set_content("Amount paid: $20.00")
        with client:
            client.send_message(message)
        deadline = time.monotonic() + 10
        while "Amount paid" not in (tmp_path / "out").read_text():
            assert time.monotonic() < deadline, (tmp_path / "out").read_text()
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(20)
    text = (tmp_path / "out").read_text()
    assert f"listening on smtp://127.0.0.1:{port}" in text
    assert "to ada@example.com" in text and "Subject: Your receipt" in text
    assert "| Amount paid: $20.00" in text
    assert code == 0 and "Traceback" not in text


def test_emails_send_once_writes_and_sends_what_is_due(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    from tests.services.emails.test_email_worker import _customer, _payment
    from tests.smtp_server import SmtpServer

    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    smtp = SmtpServer().start()
    try:
        env = {**clean_env(), "PLANGATE_DATABASE_URL": db.url.render_as_string(
            hide_password=False), "PLANGATE_SMTP_URL": smtp.url, "PLANGATE_BRAND_NAME": "Acme"}
        done = subprocess.run([PLANGATE, "emails", "send", "--once"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    finally:
        smtp.stop()
    assert done.returncode == 0, done.stderr
    assert "sent 1 email(s), skipped 0" in done.stdout
    assert [c.subject for c in smtp.caught] == ["Acme: your receipt for pro"]
