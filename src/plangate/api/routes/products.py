from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.deps import (
    Caller,
    Context,
    CustomerPath,
    ManageableCustomer,
    ProductId,
    ReadableCustomer,
    ServerCaller,
)
from plangate.api.gateway_writes import replayed
from plangate.api.idempotency import Idempotent
from plangate.api.routes import purchases as purchase_routes
from plangate.api.schemas import CancelledOut, GrantIn, ProductList
from plangate.api.views import owned_products, products_out
from plangate.api.visibility import visible_ownerships
from plangate.domain.catalog import Product, parse_product_definition
from plangate.errors import InvalidRequest, NotFound, PermissionDenied
from plangate.services.entitlements import owned, ownership
from plangate.services.entitlements.checks import entitlements

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}/products", tags=["products"])


@router.get("", response_model=ProductList)
def list_products(ref: ReadableCustomer, ctx: Context, caller: Caller) -> ProductList:
    """Products the customer holds now, the implicit default of each line included."""
    view = entitlements(ctx.services, ref, ctx.clock.now())
    return ProductList(data=owned_products(ctx, visible_ownerships(caller, view.ownerships)))


@router.post("", status_code=201, responses={201: {"model": ProductList}})
def grant(
    ref: CustomerPath, body: GrantIn, ctx: Context, _: ServerCaller, idem: Idempotent
) -> JSONResponse:
    """Grant a product without payment: a catalog product by id, or an inline definition."""
    if (body.product_id is None) == (body.product is None):
        raise InvalidRequest(
            "product_required", "give exactly one of product_id or product", param="product_id"
        )

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        now = ctx.clock.now()
        catalog = ctx.catalogs.active(session)
        product: Product | None
        if body.product is not None:
            definition = dict(body.product)
            product_id = definition.pop("id", None)
            if not isinstance(product_id, str):
                raise InvalidRequest(
                    "parameter_missing", "an inline product needs an id", param="product.id"
                )
            product = parse_product_definition(definition, catalog, product_id=product_id)
            inline = True
        else:
            product = catalog.products.get(body.product_id or "")
            inline = False
            if product is None:
                raise NotFound(
                    "product_not_found",
                    f"no product {body.product_id!r} in the catalog",
                    param="product_id",
                )
        granted = ownership.grant_product(
            session, ref, catalog, product, now, quantity=body.quantity, inline=inline
        )
        products = products_out(owned.live_views(session, ref, catalog))
        return 201, {
            "ownership_id": owned.ownership_id(granted),
            "product_id": product.id,
            "data": [p.model_dump(mode="json") for p in products],
        }

    return idem.run(effect)


@router.delete("/{product_id}", response_model=CancelledOut)
def revoke(
    ref: ManageableCustomer,
    product_id: ProductId,
    ctx: Context,
    caller: Caller,
    idem: Idempotent,
    immediately: bool = False,
) -> JSONResponse | ProductList:
    """Cancel a subscription, at the period end unless `immediately=true` (a client may, for
    itself or a team it administers), or revoke a grant or one-time purchase (server only)."""
    # A retry replays the first answer before anything is checked: after the first call the
    # product is gone, and checking again would answer 404 ``product_not_owned``.
    found = replayed(idem)
    if found is not None:
        return found
    if purchase_routes.holds_subscription(ctx, ref, product_id):
        return purchase_routes.cancel_subscription(
            ctx, caller, ref, product_id, immediately, idem
        )
    if not caller.is_server:
        raise PermissionDenied("server_only", "this call needs the server's secret key")

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        catalog = ctx.catalogs.active(session)
        ownership.revoke_product(session, ref, catalog, product_id, ctx.clock.now())
        live = products_out(owned.live_views(session, ref, catalog))
        return 200, ProductList(data=live).model_dump(mode="json")

    return idem.run(effect)
