"""What a client may see of what a customer owns (services/entitlements/owned.py): server-only
products stay hidden from clients (DESIGN.md invariant 7)."""

from __future__ import annotations

from collections.abc import Sequence

from plangate.api.deps import Principal
from plangate.services.entitlements import owned
from plangate.services.entitlements.owned import Owned


def visible_ownerships(principal: Principal, ownerships: Sequence[Owned]) -> list[Owned]:
    return owned.visible(ownerships, server=principal.is_server)


def visible_plans(principal: Principal, plans: list[str], ownerships: Sequence[Owned]) -> list[str]:
    return owned.visible_plans(plans, ownerships, server=principal.is_server)
