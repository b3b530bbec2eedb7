"""Billing emails: the list of what was sent, failed or skipped (server only), and the link a
payment-failed email carries, which opens a billing portal session. See docs/emails.md."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plangate.api.deps import Context, ServerCaller
from plangate.api.email_schemas import EmailKind, EmailList, EmailStatus
from plangate.errors import PlangateError
from plangate.services.admin.paging import MAX_PAGE
from plangate.services.emails import listing
from plangate.services.emails.compose import FIX_CARD_PATH
from plangate.services.entitlements.customers import customer_ref

router = APIRouter(tags=["emails"])


@router.get("/v1/emails", response_model=EmailList)
def list_emails(
    ctx: Context,
    _: ServerCaller,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    status: Annotated[EmailStatus | None, Query()] = None,
    kind: Annotated[EmailKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> dict[str, Any]:
    customer = None
    if customer_type is not None or customer_id is not None:
        customer = customer_ref(customer_type or "", customer_id or "")
    page, next_cursor = listing.list_emails(
        ctx.db, customer=customer, status=status, kind=kind, limit=limit, cursor=cursor
    )
    return {"data": page, "next_cursor": next_cursor}


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"<p>{escape(text)}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={
        "Content-Security-Policy": "default-src 'none'", "Cache-Control": "no-store"})


@router.get(FIX_CARD_PATH + "{token}", include_in_schema=False)
def fix_card(
    ctx: Context, token: Annotated[str, Path(max_length=64)]
) -> Response:
    """The link of a payment-failed email: a fresh billing portal session, where the card is
    changed (portal sessions are short-lived, so the email carries this link instead)."""
    ref = listing.fix_card_customer(ctx.db, token, ctx.clock.now())
    if ref is None:
        return _page("Link not valid", "This link is unknown or has expired. Open billing "
                     "from the app to update your card.", 404)
    back = ctx.settings.allowed_origins[0] if ctx.settings.allowed_origins else (
        ctx.settings.base_url)
    try:
        url = ctx.purchases.portal_url(ref, back, None)
    except PlangateError as exc:
        return _page("Billing is not available", exc.message, 503)
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
