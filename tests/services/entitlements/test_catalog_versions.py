"""The active catalog is the one applied last, even when versions are applied within one tick
of the clock (or under a clock that went back): the order of applying decides, on both
databases, whatever order the rows come back in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plangate.domain.catalog import parse_catalog
from plangate.services.entitlements.catalog import active_version_id, apply_catalog
from plangate.store.db import Database

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _catalog(name: str) -> str:
    return f'[items.credits]\nname = "{name}"\n'


def test_the_version_applied_last_is_active_within_one_instant(db: Database) -> None:
    versions = {}
    for name in ("A", "B", "C"):
        with db.write() as session:
            versions[name] = apply_catalog(session, parse_catalog(_catalog(name)), NOW).version
        with db.read() as session:
            assert active_version_id(session) == versions[name]
    for name, at in (("A", NOW), ("C", NOW - timedelta(hours=1)), ("B", NOW)):
        with db.write() as session:
            assert apply_catalog(session, parse_catalog(_catalog(name)), at).activated
        with db.read() as session:
            assert active_version_id(session) == versions[name], name
