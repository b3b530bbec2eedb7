"""``plangate mail-catcher``: a local SMTP server that prints what it is sent; ``plangate
emails send``: an email worker on its own."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from plangate.cli.common import command_settings, database, err, fail, out


def mail_catcher(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMTP port", min=1, max=65535)] = 1025,
) -> None:
    """Catch plangate's emails locally: run this, set PLANGATE_SMTP_URL=smtp://HOST:PORT, and
    each message is printed here instead of being sent (`plangate dev` has one built in, shown
    at /dev/mail)."""
    from plangate.devmail import CaughtMail, MailCatcher

    def show(mail: CaughtMail) -> None:
        out.print(f"[bold]#{mail.number}[/] {mail.received_at:%H:%M:%S} from {mail.sender} "
                  f"to {', '.join(mail.recipients)}", soft_wrap=True, markup=True)
        out.print(f"  Subject: {mail.subject}", soft_wrap=True, markup=False)
        for line in mail.text.splitlines():
            out.print(f"  | {line}", soft_wrap=True, markup=False)

    try:
        catcher = MailCatcher(host=host, port=port, on_mail=show).start()
    except ImportError:
        raise fail("the mail catcher needs aiosmtpd: pip install aiosmtpd") from None
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print(f"plangate mail-catcher: listening on {catcher.url} (Ctrl-C stops); "
              f"set PLANGATE_SMTP_URL={catcher.url}")
    try:
        stop.wait()
    finally:
        catcher.stop()


def emails_send(
    once: Annotated[bool, typer.Option(help="send what is due, then exit")] = False,
) -> None:
    """Write and send billing emails until stopped (any number of these on PostgreSQL).
    `plangate worker` and `plangate dev` also send them."""
    import logging

    from plangate.clock import SystemClock
    from plangate.services.emails.worker import EmailWorker

    current = command_settings()
    logging.basicConfig(level=current.log_level.upper(), format="%(asctime)s %(message)s")
    worker = EmailWorker(database(current), current, SystemClock())
    if once:
        worker.drain()
        stats = worker.stats
        out.print(f"sent {stats.sent} email(s), skipped {stats.skipped}, "
                  f"{stats.failed_attempts} failed attempt(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("plangate emails send: sending billing emails (Ctrl-C stops)")
    worker.run_forever(stop)
