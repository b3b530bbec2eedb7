"""One customer as an operator sees it: who they are, what they hold and since when, their
item balances with the ledger behind them, their money, and what operators did to them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from plangate.errors import PlangateError
from plangate.services.admin import ledger_history, ownerships
from plangate.services.audit import list_entries
from plangate.services.commerce import transactions
from plangate.services.entitlements import checks
from plangate.services.entitlements.customers import CustomerRef, customer_ref, require_customer
from plangate.services.operators import may
from plangate.web.dashboard.auth import Visit, context_of
from plangate.web.dashboard.respond import page, refused
from plangate.web.security import new_token


def _read(request: Request, ref: CustomerRef) -> dict[str, Any]:
    ctx = context_of(request)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        customer = require_customer(session, ref)
        catalog = ctx.catalogs.active(session)
        info = {
            "email": customer.email, "name": customer.name,
            "metadata": dict(customer.metadata_ or {}),
            "stripe_customer_id": customer.stripe_customer_id,
            "created_at": customer.created_at,
        }
    held, _ = ownerships.list_ownerships(
        ctx.db, ownerships.OwnershipFilter(customer=ref, ended=None), limit=100
    )
    view = checks.entitlements(ctx.services, ref, now)
    try:
        invoices = ctx.purchases.list_invoices(ref, 10, None)["data"]
        invoices_error = None
    except PlangateError as exc:
        invoices, invoices_error = [], exc.message
    audit, _ = list_entries(ctx.db, target_type="customer", target=str(ref), limit=20)
    return {
        "customer": info,
        "ownerships": held,
        "items": sorted(view.items.items()),
        "ledger": ledger_history.ledger_history(ctx.db, ref, limit=50),
        "transactions": transactions.list_transactions(
            ctx.db, customer_type=ref.type, customer_id=ref.id, type_=None, limit=50,
            cursor=None,
        )["data"],
        "invoices": invoices,
        "invoices_error": invoices_error,
        "audit": audit,
        "products": sorted(catalog.products.values(), key=lambda p: p.id),
        "catalog_items": sorted(catalog.items),
    }


def customer_page(
    request: Request,
    visit: Visit,
    customer_type: str,
    customer_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The customer's page; after a refused action, with ``error`` shown above the forms."""
    try:
        ref = customer_ref(customer_type, customer_id)
        data = _read(request, ref)
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    return page(request, visit, "dashboard/customer.html", {
        **data,
        "ref": ref,
        "error": error,
        "done": request.query_params.get("done"),
        # One key per rendering of a form: submitting it twice is one action.
        "form_key": new_token(),
        "can_act": may(visit.operator.role, "grant"),
        "section": "customers",
    }, status_code)
