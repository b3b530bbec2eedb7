"""The hosted pricing pages: ``/pricing`` (the product lines), ``/pricing/{line}`` (one
line's plans) and the checkout form each plan's button posts. The buttons act through the
same checkout service as ``POST /v1/checkout-sessions``, as the customer's own client."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.errors import PlangateError
from plangate.services.commerce.checkout import CheckoutRequest
from plangate.services.pricing import PricingTable, read_pricing_table, read_public_lines
from plangate.web.pages.pricing_page import buyer_of, page_context
from plangate.web.pages.theme import theme_css
from plangate.web.pages.visitor import (
    Visitor,
    adopt_token,
    context_of,
    current_visitor,
    forget_visitor,
)
from plangate.web.templating import render

router = APIRouter(prefix="/pricing", include_in_schema=False)

FORM_EXPIRED = "The form expired or did not come from this page; reload it and try again."


def _brand(request: Request) -> dict[str, str]:
    settings = context_of(request).settings
    return {"brand_name": settings.brand_name, "brand_logo_url": settings.brand_logo_url}


def _problem(request: Request, message: str, code: str, status_code: int) -> Response:
    return render(request, "pages/problem.html",
                  {**_brand(request), "message": message, "code": code}, status_code)


@router.get("/theme.css")
def theme(request: Request) -> Response:
    return Response(theme_css(context_of(request).settings), media_type="text/css")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """Forgets the customer's token in this browser (it stays valid until it expires, like
    any client token). Back to where the visitor was, if that was a pricing page."""
    form = await request.form()
    visitor = await run_in_threadpool(current_visitor, request)
    if visitor is not None and not visitor.csrf_ok(form.get("csrf_token")):
        return _problem(request, FORM_EXPIRED, "csrf_invalid", 403)
    referer = urlsplit(request.headers.get("referer", ""))
    back = (referer.path if referer.path.startswith(("/pricing/", "/account"))
            else "/pricing")
    response = RedirectResponse(back, status_code=303)
    forget_visitor(response)
    return response


@router.get("")
def lines(request: Request) -> Response:
    ctx = context_of(request)
    found = read_public_lines(ctx.db, ctx.catalogs)
    if len(found) == 1:
        query = request.url.query
        return RedirectResponse(f"/pricing/{found[0].id}" + (f"?{query}" if query else ""),
                                status_code=303)
    adopted = adopt_token(request)
    if adopted is not None:
        return adopted
    if not found:
        return _problem(request, "There are no plans to show yet.", "line_not_found", 404)
    return render(request, "pages/lines.html", {**_brand(request), "lines": found})


def _pricing(
    request: Request,
    table: PricingTable,
    visitor: Visitor | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = page_context(request, table, visitor)
    return render(request, "pages/pricing.html", {**context, "error": error}, status_code)


def _table_or_problem(request: Request, line: str) -> PricingTable | Response:
    ctx = context_of(request)
    try:
        return read_pricing_table(ctx.db, ctx.catalogs, line)
    except PlangateError as exc:
        return _problem(request, "There is no such pricing page.", exc.code, exc.status)


@router.get("/{line}")
def pricing(request: Request, line: str) -> Response:
    adopted = adopt_token(request)
    if adopted is not None:
        return adopted
    table = _table_or_problem(request, line)
    if isinstance(table, Response):
        return table
    return _pricing(request, table, current_visitor(request))


def _checkout(request: Request, line: str, form: dict[str, str]) -> Response:
    table = _table_or_problem(request, line)
    if isinstance(table, Response):
        return table
    visitor = current_visitor(request)
    # The form posts to an address with the page's own query (interval, currency, team).
    query = urlencode([(k, v) for k, v in request.query_params.multi_items()
                       if k in ("interval", "currency", "team")])
    back = f"/pricing/{table.line_id}" + (f"?{query}" if query else "")
    if visitor is None:
        # Signed out meanwhile (the token expired): the page offers the sign-in again.
        return RedirectResponse(back, status_code=303)
    if not visitor.csrf_ok(form.get("csrf_token")):
        return _pricing(request, table, visitor, error=FORM_EXPIRED, status_code=403)
    buyer = buyer_of(request, table, visitor)
    if buyer.ref is None or not buyer.may_buy:
        return _pricing(request, table, visitor, error=buyer.reason, status_code=403)
    product_id = form.get("product_id", "")
    if product_id not in {plan.id for plan in table.plans}:
        return _pricing(request, table, visitor, error="That plan is not on this page.",
                        status_code=404)
    ctx = context_of(request)
    form_key = form.get("form_key", "")
    key = (hashlib.sha256(f"{visitor.principal.name}\x00{form_key}".encode()).hexdigest()
           if form_key else None)
    checkout = CheckoutRequest(
        ref=buyer.ref,
        product_id=product_id,
        price_id=form.get("price_id") or None,
        currency=form.get("currency") or None,
        cancel_url=ctx.settings.base_url.rstrip("/") + back,
        client=True,
        idempotency_key=key,
    )
    try:
        created = ctx.purchases.checkout(checkout, ctx.clock.now())
    except PlangateError as exc:
        return _pricing(request, table, visitor, error=exc.message, status_code=exc.status)
    return RedirectResponse(created.url, status_code=303)


@router.post("/{line}/checkout")
async def start_checkout(request: Request, line: str) -> Response:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    return await run_in_threadpool(_checkout, request, line, form)
