"""What a client may see of what a customer owns: server-only products stay hidden
(DESIGN.md invariant 7). What they grant (features, items) stays visible, so a client gates
its UI on features; only the product itself, and its id in ``plans``, is not shown."""

from __future__ import annotations

from plangate.api.deps import Principal
from plangate.services.entitlements.ownership import product_of
from plangate.store.models import Ownership


def _server_only(ownership: Ownership) -> bool:
    return product_of(ownership).server_only


def visible_ownerships(principal: Principal, ownerships: list[Ownership]) -> list[Ownership]:
    if principal.is_server:
        return ownerships
    return [o for o in ownerships if not _server_only(o)]


def visible_plans(
    principal: Principal, plans: list[str], ownerships: list[Ownership]
) -> list[str]:
    if principal.is_server:
        return plans
    hidden = {o.product_id for o in ownerships if _server_only(o)}
    return [p for p in plans if p not in hidden]
