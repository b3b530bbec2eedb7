"""Persisted switches. ``PLANGATE_BLOCK_NEW_PURCHASES`` still blocks from the environment;
the persisted switch blocks too, so either is enough to refuse a checkout.

Test mode (free purchases granted at once, no Stripe) is the gateway an installation starts
on: ``PLANGATE_GATEWAY`` when the environment sets it, else the persisted choice, else test
mode. An owner's change takes effect at the next start, since the gateway is chosen once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from plangate.services.audit import record_action
from plangate.settings import Settings
from plangate.store.admin_models import Setting
from plangate.store.db import Database

BLOCK_NEW_PURCHASES = "block_new_purchases"
TEST_MODE_KEY = "test_mode"


def _enabled(db: Database, key: str) -> bool | None:
    with db.read() as session:
        row = session.get(Setting, key)
        return None if row is None else bool(row.value.get("enabled"))


def _set(session: Session, key: str, enabled: bool, *, actor: str, now: datetime,
         unset: bool | None) -> None:
    """Stores the switch and audits it; ``unset`` is what it was before it was ever set."""
    row = session.get(Setting, key, with_for_update=True)
    before = unset if row is None else bool(row.value.get("enabled"))
    if row is None:
        row = Setting(key=key, value={}, updated_at=now, updated_by=actor)
        session.add(row)
    row.value = {"enabled": enabled}
    row.updated_at = now
    row.updated_by = actor
    record_action(
        session, actor=actor, action=f"settings.{key}", target_type="settings", target=key,
        before={"enabled": before}, after={"enabled": enabled}, now=now,
    )


def purchases_blocked(db: Database) -> bool:
    return bool(_enabled(db, BLOCK_NEW_PURCHASES))


def set_purchases_blocked(
    session: Session, blocked: bool, *, actor: str, now: datetime
) -> None:
    _set(session, BLOCK_NEW_PURCHASES, blocked, actor=actor, now=now, unset=False)


def persisted_gateway(db: Database) -> str | None:
    """The gateway an owner chose ("test" for test mode, else "stripe"); None if none did."""
    enabled = _enabled(db, TEST_MODE_KEY)
    return None if enabled is None else ("test" if enabled else "stripe")


def set_test_gateway(session: Session, enabled: bool, *, actor: str, now: datetime) -> None:
    """Test mode on (the test gateway) or off (Stripe) from the next start."""
    _set(session, TEST_MODE_KEY, enabled, actor=actor, now=now, unset=None)


def starting_settings(settings: Settings, db: Database) -> Settings:
    """``settings`` with the persisted gateway unless the environment named one."""
    if "gateway" in settings.model_fields_set:
        return settings
    try:
        chosen = persisted_gateway(db)
    except SQLAlchemyError:  # not migrated yet: the API answers that on every request
        return settings
    return settings if chosen is None else settings.model_copy(update={"gateway": chosen})
