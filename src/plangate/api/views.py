"""Turning stored rows into API bodies, where more than one route needs the same shape."""

from __future__ import annotations

from plangate.api.context import AppContext
from plangate.api.schemas import OwnedProduct
from plangate.domain.catalog import Catalog
from plangate.services.entitlements.ownership import grants_access, product_of
from plangate.store.models import Ownership


def owned_products(
    ctx: AppContext, ownerships: list[Ownership], catalog: Catalog | None = None
) -> list[OwnedProduct]:
    """Owned products with their switch options in ``catalog`` (the active one when not given:
    pass it from a transaction that has it, rather than reading it again)."""
    if catalog is None:
        with ctx.db.read() as session:
            catalog = ctx.catalogs.active(session)
    result = []
    for ownership in ownerships:
        product = product_of(ownership)
        switch_options = (
            [p.id for p in catalog.products_in_line(product.line) if p.id != product.id]
            if product.line
            else []
        )
        result.append(
            OwnedProduct(
                id=f"own_{ownership.id}",
                product_id=ownership.product_id,
                name=product.name,
                quantity=ownership.quantity,
                type=ownership.source,
                line=ownership.line_id,
                status=ownership.status,
                grants_access=grants_access(ownership),
                current_period_end=ownership.current_period_end,
                cancel_at_period_end=ownership.cancel_at_period_end,
                trial_end=ownership.trial_end,
                catalog_version=ownership.catalog_version,
                switch_options=switch_options,
                created_at=ownership.created_at,
            )
        )
    return result
