from __future__ import annotations

from fastapi import APIRouter

from plangate.api.deps import Context, CustomerPath, ReadableCustomer, ServerCaller
from plangate.api.schemas import CustomerOut, CustomerUpsert
from plangate.services.entitlements import customers

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}", tags=["customers"])


def customer_out(view: customers.CustomerView) -> CustomerOut:
    return CustomerOut.model_validate(view, from_attributes=True)


@router.put("", response_model=CustomerOut)
def upsert_customer(
    ref: CustomerPath, body: CustomerUpsert, ctx: Context, _: ServerCaller
) -> CustomerOut:
    """Create or update a customer; fields left out of the body are kept."""
    with ctx.db.write() as session:
        row = customers.upsert_customer(
            session,
            ref,
            ctx.clock.now(),
            email=body.email,
            name=body.name,
            metadata=body.metadata,
            fields_set=frozenset(body.model_fields_set),
        )
        return customer_out(customers.customer_view(row))


@router.get("", response_model=CustomerOut)
def get_customer(ref: ReadableCustomer, ctx: Context) -> CustomerOut:
    with ctx.db.read() as session:
        return customer_out(customers.customer_view(customers.require_customer(session, ref)))
