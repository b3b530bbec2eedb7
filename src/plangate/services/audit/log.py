"""Writing and reading the audit log. An entry is written in the transaction of the action it
records, so an action and its entry commit or roll back together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest
from plangate.store.admin_models import AuditEntry
from plangate.store.db import Database

ENTRY_PREFIX = "aud_"


@dataclass(frozen=True)
class AuditRecord:
    id: str
    actor: str
    action: str
    target_type: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


def record_action(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    session.add(
        AuditEntry(
            actor=actor[:330],
            action=action,
            target_type=target_type,
            target=target[:600],
            before=before,
            after=after,
            created_at=now,
        )
    )


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=f"{ENTRY_PREFIX}{row.id}",
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target=row.target,
        before=row.before,
        after=row.after,
        created_at=row.created_at,
    )


def _cursor_id(cursor: str) -> int:
    digits = cursor.removeprefix(ENTRY_PREFIX)
    if not cursor.startswith(ENTRY_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise InvalidRequest("cursor_invalid", f"{cursor!r} is not a cursor", param="cursor")
    return int(digits)


def list_entries(
    db: Database,
    *,
    target_type: str | None = None,
    target: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[AuditRecord], str | None]:
    """Entries newest first, optionally of one target or actor; the second value is the
    cursor of the next page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if cursor is not None:
        query = query.where(AuditEntry.id < _cursor_id(cursor))
    with db.read() as session:
        rows = list(session.scalars(query))
    page = [_record(row) for row in rows[:limit]]
    return page, (page[-1].id if len(rows) > limit else None)
