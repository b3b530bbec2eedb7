"""REST routes for invoices and invoice items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import invoices, taxes
from .router import PAGE, ApiRequest, Router
from .search import search_result
from .wire import (
    Obj,
    apply_metadata,
    get_bool,
    get_int,
    get_str,
    invalid,
    match_created,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()


@router.post("/v1/invoices", "InvoiceCreateParams",
              ("auto_advance", "automatic_tax.enabled", "currency", "customer",
               "default_payment_method", "default_tax_rates", "description", "metadata",
               "pending_invoice_items_behavior"))
def create_invoice(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    customer = sb.get("customer", get_str(p, "customer", required=True) or "", param="customer")
    automatic, rates = taxes.parse(sb, p, customer, rates_param="default_tax_rates")
    now = sb.now(customer)
    inv = invoices.new_invoice(sb, customer, billing_reason="manual", sub=None,
                               period=(now, now),
                               auto_advance=bool(get_bool(p, "auto_advance")))
    if get_str(p, "currency"):
        inv["currency"] = (get_str(p, "currency") or "").lower()
    inv["description"] = get_str(p, "description")
    pm = get_str(p, "default_payment_method")
    if pm:
        inv["default_payment_method"] = pm
    apply_metadata(inv, p)
    taxes.configure(sb, inv, {"automatic": automatic, "rates": rates})
    if get_str(p, "pending_invoice_items_behavior") == "include":
        invoices.claim_pending_items(sb, inv, None)
    taxes.apply(sb, inv)
    sb.store.put(inv)
    sb.emit("invoice.created", inv)
    return inv


@router.get("/v1/invoices/search", "InvoiceSearchParams", ("query", "limit", "page"))
def search_invoices(sb: Sandbox, req: ApiRequest) -> Obj:
    return search_result(sb.store.all("invoice"), req.params, "/v1/invoices/search")


@router.get("/v1/invoices/{id}", "InvoiceRetrieveParams")
def retrieve_invoice(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("invoice", id)


@router.get("/v1/invoices/{id}/lines", "InvoiceLineItemListParams", PAGE)
def list_lines(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    return paginate(inv["lines"]["data"], req.params, f"/v1/invoices/{id}/lines")


@router.post("/v1/invoices/{id}", "InvoiceUpdateParams",
              ("auto_advance", "description", "metadata"))
def update_invoice(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    before = sb.snapshot(inv)
    p = req.params
    if "description" in p:
        inv["description"] = get_str(p, "description")
    if "auto_advance" in p:
        inv["auto_advance"] = bool(get_bool(p, "auto_advance"))
    apply_metadata(inv, p)
    sb.store.put(inv)
    sb.emit("invoice.updated", inv, before)
    return inv


@router.post("/v1/invoices/{id}/finalize", "InvoiceFinalizeInvoiceParams")
def finalize_invoice(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    invoices.finalize(sb, inv)
    if inv["status"] == "open" and inv["auto_advance"]:
        invoices.attempt_payment(sb, inv)
    return inv


@router.post("/v1/invoices/{id}/pay", "InvoicePayParams",
              ("off_session", "paid_out_of_band", "payment_method"))
def pay_invoice(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    if inv["status"] == "draft":
        invoices.finalize(sb, inv)
        if inv["status"] == "paid":
            return inv
    if get_bool(req.params, "paid_out_of_band"):
        invoices.mark_paid(sb, inv)
        return inv
    outcome, err = invoices.attempt_payment(
        sb, inv, off_session=get_bool(req.params, "off_session") is not False,
        payment_method=get_str(req.params, "payment_method"))
    if err is not None:
        raise err
    return inv


@router.post("/v1/invoices/{id}/void", "InvoiceVoidInvoiceParams")
def void_invoice(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    invoices.void(sb, inv)
    return inv


@router.post("/v1/invoices/{id}/mark_uncollectible", "InvoiceMarkUncollectibleParams")
def uncollectible(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    invoices.mark_uncollectible(sb, inv)
    return inv


@router.delete("/v1/invoices/{id}", "InvoiceDeleteParams")
def delete_draft(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    inv = sb.get("invoice", id)
    if inv["status"] != "draft":
        raise invalid("You can only delete draft invoices.", code="invoice_not_editable")
    sb.emit("invoice.deleted", inv)
    sb.store.remove("invoice", id)
    return {"id": id, "object": "invoice", "deleted": True}


@router.get("/v1/invoices", "InvoiceListParams",
              (*PAGE, "created", "customer", "status", "subscription"))
def list_invoices(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    cus = get_str(p, "customer")
    sub = get_str(p, "subscription")
    status = get_str(p, "status")
    items = [
        i for i in sb.store.all("invoice")
        if (cus is None or i["customer"] == cus) and (status is None or i["status"] == status)
        and (sub is None or invoices.subscription_of(i) == sub) and match_created(i, p)
    ]
    return paginate(items, p, "/v1/invoices")


# --- invoice items -------------------------------------------------------------------------------


@router.post("/v1/invoiceitems", "InvoiceItemCreateParams",
              ("amount", "currency", "customer", "description", "invoice", "metadata",
              "pricing.price", "quantity", "subscription", "tax_rates"))
def create_invoice_item(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    customer = sb.get("customer", get_str(p, "customer", required=True) or "", param="customer")
    rates = taxes.item_rates(sb, p, "tax_rates")
    price_id = get_str(p, "price") or get_str(p.get("pricing") or {}, "price")
    price = sb.get("price", price_id, param="price") if price_id else None
    qty = get_int(p, "quantity", minimum=1) or 1
    amount = get_int(p, "amount")
    if price is not None:
        amount = int(price["unit_amount"]) * qty
    if amount is None:
        raise invalid("Missing required param: amount.", "amount", code="parameter_missing")
    currency = price["currency"] if price else (get_str(p, "currency", required=True) or "")
    now = sb.now(customer)
    ii = invoices.new_invoice_item(
        sb, customer, amount=amount, currency=currency.lower(),
        description=get_str(p, "description") or "Invoice item", period=(now, now),
        price=price, quantity=qty, sub_id=get_str(p, "subscription"), si_id=None,
        proration=False)
    apply_metadata(ii, p)
    ii["tax_rates"] = [sb.snapshot(sb.get("tax_rate", r)) for r in rates]
    sb.store.put(ii)
    inv_id = get_str(p, "invoice")
    if inv_id is not None:
        inv = sb.get("invoice", inv_id, param="invoice")
        if inv["status"] != "draft":
            raise invalid("You can only add invoice items to draft invoices.", "invoice")
        invoices.claim_pending_items(sb, inv, None)
        taxes.apply(sb, inv)
    return ii


@router.get("/v1/invoiceitems/{id}", "InvoiceItemRetrieveParams")
def retrieve_invoice_item(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("invoiceitem", id, "invoiceitem")


@router.get("/v1/invoiceitems", "InvoiceItemListParams", (*PAGE, "customer", "pending"))
def list_invoice_items(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    cus = get_str(p, "customer")
    pending = get_bool(p, "pending")
    items = [
        i for i in sb.store.all("invoiceitem")
        if (cus is None or i["customer"] == cus)
        and (pending is None or (i["invoice"] is None) == pending)
    ]
    return paginate(items, p, "/v1/invoiceitems")
