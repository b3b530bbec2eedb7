"""Persisted switches. ``PLANGATE_BLOCK_NEW_PURCHASES`` still blocks from the environment;
the persisted switch blocks too, so either is enough to refuse a checkout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from plangate.services.audit import record_action
from plangate.store.admin_models import Setting
from plangate.store.db import Database

BLOCK_NEW_PURCHASES = "block_new_purchases"


def purchases_blocked(db: Database) -> bool:
    with db.read() as session:
        row = session.get(Setting, BLOCK_NEW_PURCHASES)
        return bool(row is not None and row.value.get("enabled"))


def set_purchases_blocked(
    session: Session, blocked: bool, *, actor: str, now: datetime
) -> None:
    row = session.get(Setting, BLOCK_NEW_PURCHASES, with_for_update=True)
    before = bool(row is not None and row.value.get("enabled"))
    if row is None:
        row = Setting(key=BLOCK_NEW_PURCHASES, value={}, updated_at=now, updated_by=actor)
        session.add(row)
    row.value = {"enabled": blocked}
    row.updated_at = now
    row.updated_by = actor
    record_action(
        session, actor=actor, action="settings.block_new_purchases", target_type="settings",
        target=BLOCK_NEW_PURCHASES, before={"enabled": before}, after={"enabled": blocked},
        now=now,
    )
