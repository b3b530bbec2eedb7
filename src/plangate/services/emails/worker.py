"""The email worker: takes facts from the outbox, writes the emails they call for, sends them.

Two steps, each leased as webhook delivery is (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
write transaction's lock on SQLite), so any number of workers share the work:

1. *Intake*: the email consumer's due outbox records. For each fact, the emails it calls for
   are rendered and written (``pending``, or ``skipped`` with why: no SMTP server configured,
   no address, the kind turned off) in the transaction that settles the record. A fact taken
   twice (a lease that ran out) writes nothing the second time: the settle finds the record
   no longer the worker's, and ``(message_id, kind)`` is unique.
2. *Sending*: due ``pending`` emails, one SMTP attempt each outside any transaction; a failure
   comes due again after a backoff, and is ``failed`` after ``PLANGATE_EMAIL_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from plangate.clock import Clock
from plangate.services.emails import compose
from plangate.services.emails.render import render
from plangate.services.emails.smtp import Outgoing, SmtpConfig, default_sender, send
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.events import consumers
from plangate.services.events.loop import PollingLoop
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.email_models import EmailMessage

log = logging.getLogger("plangate.emails")

# The wait before each attempt: the first immediate, then growing; the last repeats.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s) for s in (0, 30, 120, 600, 1800, 7200, 21600, 43200)
)
INTAKE_ATTEMPTS = 12
DETAIL_KEPT = 1000


def backoff(attempts: int) -> timedelta:
    return RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE) - 1)]


class _LeaseLost(Exception):
    """Another worker took the fact after this one's lease ran out."""


@dataclass(frozen=True)
class LeasedEmail:
    email_id: int
    lease_id: str
    attempts: int
    outgoing: Outgoing


@dataclass
class EmailStats:
    written: int = 0
    sent: int = 0
    skipped: int = 0
    failed_attempts: int = 0


@dataclass
class EmailWorker(PollingLoop):
    thread_name = "plangate-emails"
    db: Database
    settings: Settings
    clock: Clock
    batch_size: int = 20
    catalogs: CatalogCache = field(default_factory=CatalogCache)
    stats: EmailStats = field(default_factory=EmailStats)
    _wakeup: threading.Event = field(default_factory=threading.Event)

    # --- intake ------------------------------------------------------------------------------

    def intake(self) -> int:
        """Writes the emails of one batch of facts; returns how many facts were leased."""
        facts = consumers.lease(
            self.db, consumers.EMAIL, self.clock.now(),
            lease_seconds=self.settings.delivery_lease_seconds, limit=self.batch_size,
        )
        for fact in facts:
            try:
                self._take(fact)
            except (_LeaseLost, IntegrityError):
                log.info("email fact %s was taken by another worker", fact.message_id)
            except compose.NotReady as wait:
                consumers.postpone(self.db, fact, wait.at, max_attempts=None)
            except Exception:  # noqa: BLE001 - one bad fact must not stop the others
                log.exception("emails for fact %s could not be written", fact.message_id)
                now = self.clock.now()
                consumers.postpone(self.db, fact, now + backoff(fact.attempts + 1),
                                   max_attempts=INTAKE_ATTEMPTS)
        return len(facts)

    def _status(self, kind: str, to: str | None) -> tuple[str, str]:
        if kind in self.settings.email_disabled:
            return "skipped", f"{kind} emails are turned off (PLANGATE_EMAIL_DISABLED)"
        if not to:
            return "skipped", "no address to send to"
        if not self.settings.smtp_url:
            return "skipped", "no SMTP server configured (PLANGATE_SMTP_URL)"
        return "pending", ""

    def _take(self, fact: consumers.Fact) -> None:
        now = self.clock.now()
        # Unit of work: the fact's emails and the consumer's record, together or not at all.
        with self.db.write() as session:
            for draft in compose.drafts(session, fact, self.settings, self.catalogs, now):
                exists = session.scalar(
                    select(EmailMessage.id).where(EmailMessage.message_id == fact.message_id,
                                                  EmailMessage.kind == draft.kind)
                )
                if exists is not None:
                    continue
                to = compose.recipient(session, draft, self.settings)
                rendered = render(draft.kind, draft.context, self.settings.email_templates_dir)
                status, detail = self._status(draft.kind, to)
                session.add(EmailMessage(
                    message_id=fact.message_id,
                    kind=draft.kind,
                    customer_type=draft.customer[0] if draft.customer else None,
                    customer_id=draft.customer[1] if draft.customer else None,
                    recipient=to,
                    subject=rendered.subject,
                    text_body=rendered.text,
                    html_body=rendered.html,
                    status=status,
                    detail=detail,
                    attempts=0,
                    next_attempt_at=now,
                    link_token=draft.link_token,
                    created_at=now,
                    updated_at=now,
                ))
                self.stats.written += 1
                if status == "skipped":
                    self.stats.skipped += 1
                    log.info("email %s for %s skipped: %s", draft.kind, fact.message_id, detail)
            session.flush()
            if not consumers.settle(session, fact, now):
                raise _LeaseLost

    # --- sending -----------------------------------------------------------------------------

    def lease(self, limit: int | None = None) -> list[LeasedEmail]:
        now = self.clock.now()
        lease_id = secrets.token_hex(8)
        sender = self.settings.email_from or default_sender(self.settings.brand_name or "plangate")
        with self.db.write() as session:
            query = (
                select(EmailMessage)
                .where(EmailMessage.status == "pending", EmailMessage.next_attempt_at <= now)
                .order_by(EmailMessage.next_attempt_at, EmailMessage.id)
                .limit(limit or self.batch_size)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = session.scalars(query).all()
            if not rows:
                return []
            session.execute(
                update(EmailMessage)
                .where(EmailMessage.id.in_([row.id for row in rows]))
                .values(lease_id=lease_id,
                        next_attempt_at=now + timedelta(
                            seconds=self.settings.delivery_lease_seconds))
            )
            return [
                LeasedEmail(
                    email_id=row.id,
                    lease_id=lease_id,
                    attempts=row.attempts,
                    outgoing=Outgoing(
                        email_id=row.id,
                        sender=sender,
                        recipients=tuple(a.strip() for a in (row.recipient or "").split(",")
                                         if a.strip()),
                        subject=row.subject,
                        text=row.text_body,
                        html=row.html_body,
                        message_id=row.message_id,
                    ),
                )
                for row in rows
            ]

    def send(self, leased: LeasedEmail) -> bool:
        """One SMTP attempt of one leased email; returns whether it was sent."""
        error = ""
        if not self.settings.smtp_url:
            error = "no SMTP server configured (PLANGATE_SMTP_URL)"
        else:
            config = SmtpConfig.from_url(self.settings.smtp_url,
                                         self.settings.smtp_timeout_seconds)
            try:
                send(config, leased.outgoing)
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                # ValueError: an address or header the email library refuses.
                error = f"{type(exc).__name__}: {exc}"[:DETAIL_KEPT]
        self._record(leased, error)
        return not error

    def _record(self, leased: LeasedEmail, error: str) -> None:
        now = self.clock.now()
        attempts = leased.attempts + 1
        if not error:
            values: dict[str, object] = {"status": "sent", "sent_at": now, "detail": ""}
        elif attempts >= self.settings.email_max_attempts:
            values = {"status": "failed", "detail": error}
        else:
            values = {"next_attempt_at": now + backoff(attempts), "detail": error}
        with self.db.write() as session:
            session.execute(
                update(EmailMessage)
                .where(EmailMessage.id == leased.email_id,
                       EmailMessage.lease_id == leased.lease_id)
                .values(attempts=attempts, lease_id=None, updated_at=now, **values)
            )
        if error:
            self.stats.failed_attempts += 1
            log.warning("email %d not sent (attempt %d): %s", leased.email_id, attempts, error)
        else:
            self.stats.sent += 1
            log.info("email %d sent to %s: %s", leased.email_id,
                     ", ".join(leased.outgoing.recipients), leased.outgoing.subject)

    # --- the loop ----------------------------------------------------------------------------

    def run_once(self) -> int:
        """One batch of facts taken and one of emails attempted; returns how many of both."""
        taken = self.intake()
        leased = self.lease()
        for email in leased:
            self.send(email)
        return taken + len(leased)
