"""Turning service views into API bodies, where more than one route needs the same shape."""

from __future__ import annotations

from collections.abc import Sequence

from plangate.api.context import AppContext
from plangate.api.schemas import OwnedProduct
from plangate.domain.catalog import Catalog
from plangate.services.entitlements.owned import Owned, OwnedView, owned_views


def owned_products(
    ctx: AppContext, ownerships: Sequence[Owned], catalog: Catalog | None = None
) -> list[OwnedProduct]:
    """Owned products with their switch options in ``catalog`` (the active one when not given:
    pass it from a transaction that has it, rather than reading it again)."""
    if catalog is None:
        with ctx.db.read() as session:
            catalog = ctx.catalogs.active(session)
    return products_out(owned_views(ownerships, catalog))


def products_out(views: Sequence[OwnedView]) -> list[OwnedProduct]:
    return [OwnedProduct.model_validate(v, from_attributes=True) for v in views]
