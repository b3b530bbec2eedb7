"""The owner's actions on the Catalog page: check a pasted catalog (every problem, nothing
applied), apply it through the catalog service ``PUT /v1/catalog`` calls (under the form's
Idempotency-Key, audited), and push the active catalog to Stripe."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any
from urllib.parse import urlencode

import stripe
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.api.deps import Principal
from plangate.api.gateway_writes import replayed
from plangate.api.idempotency import Idempotency
from plangate.domain.catalog import Catalog, CatalogInvalid, diff_catalogs, parse_catalog
from plangate.errors import PlangateError
from plangate.gateways.stripe_client import make_stripe_client
from plangate.services.audit import record_action
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.stripe_budget import budget_for
from plangate.services.stripe_sync.catalog_push import PushReport, push_catalog
from plangate.web.dashboard.auth import Visit, context_of
from plangate.web.dashboard.catalog_page import APPLY_ACTION, AUDIT_TARGET, catalog_page
from plangate.web.dashboard.respond import posted_form

router = APIRouter(prefix="/catalog")
# Far above any real catalog; a bigger paste is refused before it is parsed.
MAX_CATALOG_CHARS = 1_000_000
NOTHING_TO_PUSH = ("plangate runs on the test gateway: purchases never reach Stripe, so "
                   "there is nothing to push.")


def _draft(form: FormData) -> str:
    value = form.get("catalog")
    return value if isinstance(value, str) else ""


def _checked(request: Request, visit: Visit, text: str) -> Catalog | Response:
    """The pasted catalog, or the page showing why it is refused: 400 for an empty, oversized
    or unreadable (TOML syntax) paste, 422 with every problem for an invalid catalog."""
    if not text.strip():
        return catalog_page(request, visit, status_code=400, draft=text,
                            error="The catalog is empty: paste the whole catalog (TOML).")
    if len(text) > MAX_CATALOG_CHARS:
        return catalog_page(request, visit, status_code=400, draft="",
                            error=f"The catalog is longer than {MAX_CATALOG_CHARS:,} "
                                  "characters.")
    try:
        return parse_catalog(text)
    except CatalogInvalid as exc:
        status = 400 if exc.codes == {"toml_syntax"} else 422
        return catalog_page(request, visit, status_code=status, draft=text,
                            problems=list(exc.problems))


def _summary(catalog: Catalog) -> str:
    return (f"{len(catalog.products)} products, {len(catalog.items)} items, "
            f"{len(catalog.features)} features, {len(catalog.lines)} lines"
            + (f", {len(catalog.coupons)} coupons, {len(catalog.promotion_codes)} promotion "
               "codes" if catalog.coupons or catalog.promotion_codes else ""))


async def _posted_catalog(
    request: Request,
) -> tuple[FormData, Visit, str, Catalog] | Response:
    """An owner's form with a pasted catalog that parses and validates, or the page that
    says why not."""
    checked = await posted_form(request, "catalog")
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    text = _draft(form)
    catalog = await run_in_threadpool(_checked, request, visit, text)
    if isinstance(catalog, Response):
        return catalog
    return form, visit, text, catalog


@router.post("/check")
async def check(request: Request) -> Response:
    posted = await _posted_catalog(request)
    if isinstance(posted, Response):
        return posted
    _, visit, text, proposed = posted

    def show() -> Response:
        ctx = context_of(request)
        with ctx.db.read() as session:
            active = ctx.catalogs.active(session)
        return catalog_page(request, visit, draft=text, proposed={
            "version": proposed.version, "summary": _summary(proposed),
            "same": proposed.version == active.version,
            "changes": diff_catalogs(active, proposed),
        })

    return await run_in_threadpool(show)


def _apply_idempotency(request: Request, visit: Visit, catalog: Catalog,
                       key: str | None) -> Idempotency:
    digest = hashlib.sha256(json.dumps([APPLY_ACTION, catalog.version]).encode()).hexdigest()
    return Idempotency(context_of(request), Principal("server", visit.operator.actor), key,
                       digest)


def _apply(request: Request, visit: Visit, catalog: Catalog, text: str,
           key: str | None) -> dict[str, Any]:
    ctx = context_of(request)
    idem = _apply_idempotency(request, visit, catalog, key)

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        previous = catalog_service.active_version_id(session)
        applied = catalog_service.apply_catalog(session, catalog, ctx.clock.now(),
                                                source_text=text)
        if applied.activated:
            record_action(session, actor=visit.operator.actor, action=APPLY_ACTION,
                          target_type=AUDIT_TARGET, target=applied.version,
                          before={"version": previous},
                          after={"version": applied.version, "created": applied.created},
                          now=ctx.clock.now())
        return 200, {"version": applied.version, "previous": previous,
                     "activated": applied.activated}

    answer = idem.run(effect)
    body: dict[str, Any] = json.loads(bytes(answer.body))
    return body


@router.post("/apply")
async def apply(request: Request) -> Response:
    posted = await _posted_catalog(request)
    if isinstance(posted, Response):
        return posted
    form, visit, text, catalog = posted
    key_field = form.get("idempotency_key")
    key = key_field.strip()[:200] if isinstance(key_field, str) and key_field.strip() else None
    pushed: PushReport | None = None
    if context_of(request).settings.gateway == "stripe" and not await run_in_threadpool(
        lambda: replayed(_apply_idempotency(request, visit, catalog, key)) is not None
    ):
        # Stripe first: checkouts must find the new prices as soon as the catalog is active.
        # A push that fails leaves plangate's catalog as it was.
        report = await run_in_threadpool(_push_to_stripe, request, visit, catalog, text)
        if isinstance(report, Response):
            return report
        pushed = report
    try:
        done = await run_in_threadpool(_apply, request, visit, catalog, text, key)
    except PlangateError as exc:
        problem = exc
        return await run_in_threadpool(
            lambda: catalog_page(request, visit, status_code=problem.status, draft=text,
                                 error=problem.message))
    query = {"done": "apply" if done["activated"] else "unchanged"}
    if done["previous"] and done["previous"] != done["version"]:
        query |= {"from": done["previous"], "to": done["version"]}
    if pushed is not None:
        query |= {"pushed": str(pushed.changes)}
    return RedirectResponse(f"/dashboard/catalog?{urlencode(query)}#h-versions",
                            status_code=303)


def report_lines(report: PushReport) -> list[tuple[str, list[str]]]:
    """Each non-empty group of a push report, as ("prices created", [lookup keys...])."""
    lines = []
    for field in fields(report):
        value = getattr(report, field.name)
        if isinstance(value, list) and value:
            lines.append((field.name.replace("_", " "), [str(v) for v in value]))
    return lines


def _push_to_stripe(request: Request, visit: Visit, catalog: Catalog,
                    draft: str = "") -> PushReport | Response:
    """Pushes ``catalog`` to Stripe and audits it, or answers the page saying why it could
    not (503 without a secret key, 502 when Stripe refused or was out of reach; with
    ``draft`` kept in the form)."""
    ctx = context_of(request)
    try:
        client = make_stripe_client(ctx.settings, budget_for(ctx.db, ctx.settings))
        report = push_catalog(client, catalog)
    except ValueError as exc:  # no secret key configured
        return catalog_page(request, visit, status_code=503, draft=draft, error=str(exc))
    except stripe.StripeError as exc:
        return catalog_page(request, visit, status_code=502, draft=draft,
                            error=f"The push to Stripe failed: {exc.user_message or exc}"
                            + ("; nothing was applied." if draft else ""))
    with ctx.db.write() as session:
        record_action(session, actor=visit.operator.actor, action="catalog.push",
                      target_type=AUDIT_TARGET, target=catalog.version if catalog.products
                      else "(empty)", before=None,
                      after={"changes": report.changes, "unchanged": report.unchanged},
                      now=ctx.clock.now())
    return report


def _push(request: Request, visit: Visit) -> Response:
    ctx = context_of(request)
    with ctx.db.read() as session:
        active = ctx.catalogs.active(session)
    report = _push_to_stripe(request, visit, active)
    if isinstance(report, Response):
        return report
    return catalog_page(request, visit, push={
        "changes": report.changes, "unchanged": report.unchanged,
        "lines": report_lines(report),
    })


@router.post("/push")
async def push(request: Request) -> Response:
    checked = await posted_form(request, "catalog")
    if isinstance(checked, Response):
        return checked
    _, visit = checked
    if context_of(request).settings.gateway != "stripe":
        return await run_in_threadpool(
            lambda: catalog_page(request, visit, notice=NOTHING_TO_PUSH))
    return await run_in_threadpool(_push, request, visit)
