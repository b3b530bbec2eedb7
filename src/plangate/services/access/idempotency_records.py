"""The answers recorded under callers' ``Idempotency-Key`` (the API's idempotency layer):
found by caller and key, written in the transaction of the effect they answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.store.models import IdempotencyRecord


@dataclass(frozen=True)
class RecordedAnswer:
    request_hash: str
    status_code: int
    body: dict[str, Any]


def find_answer(session: Session, principal: str, key: str) -> RecordedAnswer | None:
    row = session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return RecordedAnswer(row.request_hash, row.status_code, row.response_body)


def record_answer(
    session: Session,
    principal: str,
    key: str,
    request_hash: str,
    status_code: int,
    body: dict[str, Any],
    now: datetime,
) -> None:
    """Records the answer; a concurrent request that recorded one under the same key first
    makes the flush fail with ``IntegrityError`` (unique on caller and key)."""
    session.add(
        IdempotencyRecord(
            principal=principal,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response_body=body,
            created_at=now,
        )
    )
    session.flush()
