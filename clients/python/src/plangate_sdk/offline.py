"""``has()`` for a backend without a network call per check: fetch each customer's signed
entitlement token once, verify it, and answer from memory until shortly before it expires.

The answers are as fresh as the token (its lifetime, 5 minutes by default on the server):
call :meth:`OfflineEntitlements.invalidate` after your own grants and purchases.
"""

from __future__ import annotations

import time

from plangate_sdk._sync.client import Client
from plangate_sdk.tokens import Clock, Entitlements, EntitlementVerifier


class OfflineEntitlements:
    def __init__(
        self,
        client: Client,
        verifier: EntitlementVerifier | None = None,
        *,
        issuer: str | None = None,
        refresh_before: float = 30.0,
        clock: Clock = time.time,
    ) -> None:
        """``verifier`` defaults to one reading the JWKS through ``client`` with the issuer
        ``issuer`` (default: the client's base URL, which is what plangate signs with when
        its ``PLANGATE_BASE_URL`` is the address you call)."""
        self.client = client
        self.verifier = verifier or EntitlementVerifier(
            client.jwks, issuer=issuer or client.base_url, clock=clock
        )
        self._refresh_before = refresh_before
        self._clock = clock
        self._by_customer: dict[tuple[str, str], Entitlements] = {}

    def entitlements(self, customer_type: str, customer_id: str) -> Entitlements:
        key = (customer_type, customer_id)
        current = self._by_customer.get(key)
        if current is None or current.expires_at - self._refresh_before <= self._clock():
            token = self.client.entitlement_token(customer_type, customer_id).token
            current = Entitlements.from_token(token, self.verifier, customer=key)
            self._by_customer[key] = current
        return current

    def has(
        self,
        customer_type: str,
        customer_id: str,
        *,
        feature: str | None = None,
        plan: str | None = None,
    ) -> bool:
        return self.entitlements(customer_type, customer_id).has(feature=feature, plan=plan)

    def invalidate(self, customer_type: str, customer_id: str) -> None:
        """Forget a customer's token: the next check fetches a fresh one."""
        self._by_customer.pop((customer_type, customer_id), None)
