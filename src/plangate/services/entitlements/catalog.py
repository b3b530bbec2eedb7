"""The catalog service: store catalog versions by content hash and serve the active one."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog
from plangate.store.models import CatalogVersion


@dataclass(frozen=True)
class AppliedCatalog:
    version: str
    created: bool
    activated: bool


def apply_catalog(
    session: Session, catalog: Catalog, now: datetime, *, source_text: str | None = None
) -> AppliedCatalog:
    """Make ``catalog`` the active one. The same content applied twice creates no new version;
    applying an older version again makes it active again."""
    active_id = active_version_id(session)
    row = session.get(CatalogVersion, catalog.version)
    if row is None:
        session.add(
            CatalogVersion(
                id=catalog.version,
                document=catalog.to_dict(),
                source_text=source_text,
                created_at=now,
                activated_at=_activation_time(session, now),
            )
        )
        session.flush()
        return AppliedCatalog(catalog.version, created=True, activated=True)
    if active_id == catalog.version:
        return AppliedCatalog(catalog.version, created=False, activated=False)
    row.activated_at = _activation_time(session, now)
    session.flush()
    return AppliedCatalog(catalog.version, created=False, activated=True)


def _activation_time(session: Session, now: datetime) -> datetime:
    """``now``, or just after the latest activation when that is not earlier: the active
    version is the one activated last, so two applied within one clock tick (or under a clock
    that went back) must not tie."""
    latest: datetime | None = session.scalar(select(func.max(CatalogVersion.activated_at)))
    if latest is not None and latest >= now:
        return latest + timedelta(microseconds=1)
    return now


def active_version_id(session: Session) -> str | None:
    return session.execute(
        select(CatalogVersion.id).order_by(CatalogVersion.activated_at.desc()).limit(1)
    ).scalar_one_or_none()


def list_versions(session: Session) -> list[CatalogVersion]:
    return list(session.scalars(select(CatalogVersion).order_by(CatalogVersion.activated_at)))


class CatalogCache:
    """Parsed catalogs by version id. Versions are immutable, so entries never go stale; only
    which version is active is read from the database each time."""

    def __init__(self) -> None:
        self._by_version: dict[str, Catalog] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version: str) -> Catalog | None:
        with self._lock:
            cached = self._by_version.get(version)
        if cached is not None:
            return cached
        row = session.get(CatalogVersion, version)
        if row is None:
            return None
        catalog = Catalog.from_dict(row.document)
        with self._lock:
            self._by_version[version] = catalog
        return catalog

    def active(self, session: Session) -> Catalog:
        version = active_version_id(session)
        if version is None:
            return Catalog()
        catalog = self.get(session, version)
        assert catalog is not None
        return catalog
