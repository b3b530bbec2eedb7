"""What every request handler needs, built once per app: settings, database, clock, caches."""

from __future__ import annotations

from dataclasses import dataclass, field

from plangate.clock import Clock
from plangate.gateways import Gateway, make_gateway
from plangate.services.access.identity import IdentityProvider
from plangate.services.access.keys import KeyVerifier
from plangate.services.access.signing import PublicKeyCache
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.checks import HotReads, Services
from plangate.services.purchases import Deps as PurchaseDeps
from plangate.services.purchases import PurchaseBackend, backend_for
from plangate.services.stripe_budget import budget_for
from plangate.services.stripe_sync.inbox import EventInbox
from plangate.services.stripe_sync.on_return import ReturnSyncs
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
    # The check route's reads (coalesced on PostgreSQL).
    hot_reads: HotReads = field(init=False)
    # The webhook endpoint's writes (concurrent events stored in one transaction).
    event_inbox: EventInbox = field(init=False)
    # The payment gateway; built from the settings on first use unless given (tests).
    gateway_override: Gateway | None = None
    # Whether the gateway is the one an owner persisted (test mode), not the settings' own.
    gateway_from_owner: bool = False
    # Checkout sessions synced when the success page asks (services/stripe_sync/on_return).
    return_syncs: ReturnSyncs = field(default_factory=ReturnSyncs)
    # Stripe or test mode, chosen once from the gateway (services/purchases/backends).
    _purchases: PurchaseBackend | None = field(default=None, init=False)

    @property
    def gateway(self) -> Gateway:
        if self.gateway_override is None:
            # Built lazily: an installation on the stripe gateway without a key still serves
            # checks; only the calls that need Stripe fail, with a clear message.
            # Its Stripe requests share the installation's call budget with every process;
            # a caller waits for them, so their retries have a deadline.
            self.gateway_override = make_gateway(
                self.settings, budget_for(self.db, self.settings), interactive=True
            )
        return self.gateway_override

    @property
    def purchases(self) -> PurchaseBackend:
        if self._purchases is None:
            deps = PurchaseDeps(self.db, self.gateway, self.catalogs, self.settings)
            self._purchases = backend_for(deps)
        return self._purchases

    def __post_init__(self) -> None:
        self.identity = IdentityProvider(self.settings)
        self.hot_reads = HotReads(self.db)
        self.event_inbox = EventInbox(self.db)

    @property
    def services(self) -> Services:
        return Services(self.db, self.catalogs)
