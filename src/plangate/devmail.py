"""A local mail catcher for development: an SMTP server (aiosmtpd) that keeps what it is sent.

``plangate dev`` starts one when no ``PLANGATE_SMTP_URL`` is set and points plangate's emails
at it: nothing leaves the machine, every message is logged in one line and shown at
``/dev/mail``. ``plangate mail-catcher`` runs one on its own, printing each message. aiosmtpd
is a development dependency (``pip install 'plangate[dev]'`` or ``pip install aiosmtpd``).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

KEPT = 200


@dataclass(frozen=True)
class CaughtMail:
    number: int
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


@dataclass
class MailCatcher:
    host: str = "127.0.0.1"
    port: int = 0
    on_mail: Callable[[CaughtMail], None] | None = None
    caught: list[CaughtMail] = field(default_factory=list)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._count += 1
            mail = CaughtMail(
                number=self._count,
                received_at=datetime.now(UTC),
                sender=str(envelope.mail_from),
                recipients=tuple(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                text=_part(message, "plain"),
                html=_part(message, "html"),
            )
            self.caught.append(mail)
            del self.caught[:-KEPT]
        if self.on_mail is not None:
            self.on_mail(mail)
        return "250 OK"

    def get(self, number: int) -> CaughtMail | None:
        with self._lock:
            return next((m for m in self.caught if m.number == number), None)

    def newest_first(self) -> list[CaughtMail]:
        with self._lock:
            return list(reversed(self.caught))

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailCatcher:
        """Listens (on a free port when ``port`` is 0); ImportError without aiosmtpd."""
        from aiosmtpd.controller import Controller

        if not self.port:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# The pages' own styles only; the message's HTML part is shown in a sandboxed frame.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
_PART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
TEMPLATES = Path(__file__).parent / "web" / "templates"


def mount_pages(app: Any, catcher: MailCatcher) -> None:
    """``/dev/mail``: the caught messages, newest first; ``/dev/mail/{n}``: one of them, its
    text and HTML parts (the HTML part in a frame, as a mail client shows it)."""
    from fastapi import APIRouter
    from fastapi.responses import HTMLResponse
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]))
    router = APIRouter(include_in_schema=False)

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(context), status_code=status,
                            headers={"Content-Security-Policy": _CSP})

    @router.get("/dev/mail", response_class=HTMLResponse)
    def inbox() -> HTMLResponse:
        return page("devmail/inbox.html", mails=catcher.newest_first(), url=catcher.url)

    @router.get("/dev/mail/{number}", response_class=HTMLResponse)
    def message(number: int) -> HTMLResponse:
        mail = catcher.get(number)
        if mail is None:
            return page("devmail/missing.html", 404)
        return page("devmail/message.html", mail=mail)

    @router.get("/dev/mail/{number}/html", response_class=HTMLResponse)
    def message_html(number: int) -> HTMLResponse:
        mail = catcher.get(number)
        return HTMLResponse(mail.html if mail else "", status_code=200 if mail else 404,
                            headers={"Content-Security-Policy": _PART_CSP})

    app.include_router(router)
