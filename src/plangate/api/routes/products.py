from __future__ import annotations

from fastapi import APIRouter

from plangate.api.deps import Caller, Context, CustomerPath, ReadableCustomer, ServerCaller
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import GrantIn, ProductList
from plangate.api.views import owned_products
from plangate.api.visibility import visible_ownerships
from plangate.domain.catalog import parse_product_definition
from plangate.errors import InvalidRequest, NotFound
from plangate.services import ownership
from plangate.services.entitlements import entitlements

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}/products", tags=["products"])


@router.get("", response_model=ProductList)
def list_products(ref: ReadableCustomer, ctx: Context, caller: Caller) -> ProductList:
    """Products the customer holds now, the implicit default of each line included."""
    view = entitlements(ctx.services, ref, ctx.clock.now())
    return ProductList(data=owned_products(ctx, visible_ownerships(caller, view.ownerships)))


@router.post("", status_code=201, responses={201: {"model": ProductList}})
def grant(ref: CustomerPath, body: GrantIn, ctx: Context, _: ServerCaller, idem: Idempotent):  # type: ignore[no-untyped-def]
    """Grant a product without payment: a catalog product by id, or an inline definition."""
    if (body.product_id is None) == (body.product is None):
        raise InvalidRequest("product_required", "give exactly one of product_id or product",
                             param="product_id")

    def effect(session):  # type: ignore[no-untyped-def]
        now = ctx.clock.now()
        catalog = ctx.catalogs.active(session)
        if body.product is not None:
            definition = dict(body.product)
            product_id = definition.pop("id", None)
            if not isinstance(product_id, str):
                raise InvalidRequest("parameter_missing", "an inline product needs an id",
                                     param="product.id")
            product = parse_product_definition(definition, catalog, product_id=product_id)
            inline = True
        else:
            product = catalog.products.get(body.product_id or "")
            inline = False
            if product is None:
                raise NotFound("product_not_found", f"no product {body.product_id!r} in the catalog",
                               param="product_id")
        owned = ownership.grant_product(
            session, ref, catalog, product, now, quantity=body.quantity, inline=inline
        )
        products = owned_products_in(session, ctx, ref, now)
        return 201, {
            "ownership_id": f"own_{owned.id}",
            "product_id": owned.product_id,
            "data": [p.model_dump(mode="json") for p in products],
        }

    return idem.run(effect)


def owned_products_in(session, ctx, ref, now):  # type: ignore[no-untyped-def]
    live = ownership.live_ownerships(session, ref)
    return owned_products(ctx, live)


@router.delete("/{product_id}", response_model=ProductList)
def revoke(ref: CustomerPath, product_id: str, ctx: Context, _: ServerCaller) -> ProductList:
    """Revoke a grant. (Subscriptions are cancelled through the payment gateway.)"""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        catalog = ctx.catalogs.active(session)
        ownership.revoke_product(session, ref, catalog, product_id, now)
        live = ownership.live_ownerships(session, ref)
    return ProductList(data=owned_products(ctx, live))
