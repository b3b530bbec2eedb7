"""What every request handler needs, built once per app: settings, database, clock, caches."""

from __future__ import annotations

from dataclasses import dataclass, field

from plangate.clock import Clock
from plangate.services.catalog import CatalogCache
from plangate.services.entitlements import Services
from plangate.services.identity import IdentityProvider
from plangate.services.keys import KeyVerifier
from plangate.services.signing import PublicKeyCache
from plangate.settings import Settings
from plangate.store.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    catalogs: CatalogCache = field(default_factory=CatalogCache)
    keys: KeyVerifier = field(default_factory=KeyVerifier)
    signing_keys: PublicKeyCache = field(default_factory=PublicKeyCache)
    # Built from the settings; caches the identity provider's JWKS for the app's lifetime.
    identity: IdentityProvider = field(init=False)

    def __post_init__(self) -> None:
        self.identity = IdentityProvider(self.settings)

    @property
    def services(self) -> Services:
        return Services(self.db, self.catalogs)
