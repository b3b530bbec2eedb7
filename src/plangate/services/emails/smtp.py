"""Sending over SMTP with the standard library.

``PLANGATE_SMTP_URL`` is ``smtp://user:password@host:port`` (plain, or STARTTLS with
``?starttls=true``) or ``smtps://...`` (TLS from the first byte, port 465 by default); the
server's certificate is verified, against ``?cafile=/path`` too when given. The
``Message-ID`` is derived from the email's row, so a message sent again after a worker died
mid-send is recognisable as the same one.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool
    starttls: bool
    user: str
    password: str
    timeout: float
    # A CA bundle that signs the server's certificate (``?cafile=/path``), besides the
    # system's trusted authorities.
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str, timeout: float = 20.0) -> SmtpConfig:
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        tls = parts.scheme == "smtps" or query.get("ssl", "").lower() in TRUE
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if tls else 25),
            tls=tls,
            starttls=not tls and query.get("starttls", "").lower() in TRUE,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            cafile=query.get("cafile") or None,
        )


@dataclass(frozen=True)
class Outgoing:
    email_id: int
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str


def mime(out: Outgoing) -> MimeMessage:
    message = MimeMessage()
    message["From"] = out.sender
    message["To"] = ", ".join(out.recipients)
    message["Subject"] = out.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(out.sender)[1].rpartition("@")[2] or "plangate.local"
    message["Message-ID"] = f"<plangate.{out.message_id}.{out.email_id}@{domain}>"
    message["X-Plangate-Email-Id"] = str(out.email_id)
    message.set_content(out.text)
    message.add_alternative(out.html, subtype="html")
    return message


def default_sender(brand: str) -> str:
    return formataddr((brand, "billing@localhost"))


def send(config: SmtpConfig, out: Outgoing) -> None:
    """One attempt; raises ``smtplib.SMTPException`` or ``OSError`` when it fails."""
    message = mime(out)
    context = ssl.create_default_context()
    if config.cafile:
        context.load_verify_locations(cafile=config.cafile)
    client: smtplib.SMTP
    if config.tls:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        if config.starttls:
            client.starttls(context=context)
        if config.user:
            client.login(config.user, config.password)
        client.send_message(message, from_addr=parseaddr(out.sender)[1] or None,
                            to_addrs=list(out.recipients))
