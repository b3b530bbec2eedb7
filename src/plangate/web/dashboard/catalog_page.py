"""The Catalog page: the active catalog's lines, products (prices per interval and currency,
trial, features, items), items, features, coupons and promotion codes; every version with
when and by whom it was applied; a diff between any two versions. Owners also get the form
that checks and applies a new catalog and the push to Stripe (``catalog_actions.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from plangate.domain.catalog import Catalog, CatalogChange, Product, diff_catalogs
from plangate.domain.money import MoneyError, format_money
from plangate.errors import NotFound, PlangateError
from plangate.services.audit import list_entries
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.operators import may
from plangate.web.dashboard.auth import Visit, context_of, current_visit
from plangate.web.dashboard.respond import page, to_login
from plangate.web.security import new_token

# Audit entries the page reads to say who applied each version.
APPLY_ACTION = "catalog.apply"
AUDIT_TARGET = "catalog"
MAX_AUDIT_ENTRIES = 500

router = APIRouter(prefix="/catalog")


def _amount(product: Product, price_id: str, currency: str) -> str:
    price = product.prices[price_id]
    try:
        return format_money(price.minor_amount(currency), currency)
    except MoneyError:
        return f"{price.amounts[currency]} {currency.upper()}"


def _product_view(catalog: Catalog, product: Product) -> dict[str, Any]:
    prices = []
    for price_id, price in product.prices.items():
        prices.append({
            "id": price_id,
            "interval": str(price.interval) if price.interval is not None else "once",
            "amounts": [_amount(product, price_id, cur) for cur in price.amounts],
            "trial_days": product.effective_trial_days(price_id),
        })
    features = [catalog.features[f].name if f in catalog.features else f
                for f in product.features]
    items = []
    for item_id, grant in product.items.items():
        item = catalog.items.get(item_id)
        items.append({
            "id": item_id, "name": item.name if item else item_id,
            "quantity": grant.quantity,
            "repeat": str(grant.repeat) if grant.repeat is not None else None,
            "expires": grant.expires.replace("_", " "),
        })
    return {"p": product, "prices": prices, "features": features, "grants": items}


def catalog_view(catalog: Catalog) -> dict[str, Any]:
    """The active catalog shaped for the template: products grouped by line, in catalog
    order, then the products of no line."""
    groups = [
        {"line": line, "products": [_product_view(catalog, p)
                                    for p in catalog.products_in_line(line_id)]}
        for line_id, line in catalog.lines.items()
    ]
    loose = [_product_view(catalog, p) for p in catalog.products.values() if p.line is None]
    if loose:
        groups.append({"line": None, "products": loose})
    return {
        "groups": groups, "all_items": list(catalog.items.values()),
        "all_features": list(catalog.features.values()),
        "coupons": list(catalog.coupons.values()),
        "promotion_codes": list(catalog.promotion_codes.values()),
        "empty": not (catalog.products or catalog.items or catalog.features),
    }


@dataclass(frozen=True)
class VersionRow:
    id: str
    label: str | None
    created_at: Any
    activated_at: Any
    applied_by: str | None
    active: bool


def versions(request: Request) -> list[VersionRow]:
    """Every stored version, the active one first, then by when each was last applied."""
    ctx = context_of(request)
    entries, _ = list_entries(ctx.db, target_type=AUDIT_TARGET, limit=MAX_AUDIT_ENTRIES)
    applied_by: dict[str, str] = {}
    for entry in entries:  # newest first: keep the latest applier of each version
        if entry.action == APPLY_ACTION:
            applied_by.setdefault(entry.target, entry.actor)
    with ctx.db.read() as session:
        rows = catalog_service.list_versions(session)
        active = catalog_service.active_version_id(session)
    return [
        VersionRow(row.id, (row.document or {}).get("version_label"), row.created_at,
                   row.activated_at, applied_by.get(row.id), row.id == active)
        for row in reversed(rows)
    ]


def _load(request: Request, version: str) -> Catalog:
    ctx = context_of(request)
    with ctx.db.read() as session:
        found = ctx.catalogs.get(session, version)
    if found is None:
        raise NotFound("catalog_version_not_found", f"no catalog version {version!r}")
    return found


def version_diff(
    request: Request, rows: list[VersionRow]
) -> tuple[str | None, str | None, list[CatalogChange] | None]:
    """The diff the page shows: the versions named by ``from`` and ``to``, else the version
    applied before the active one against the active one (None when there is only one)."""
    query = request.query_params
    old_id = (query.get("from") or "").strip()[:100] or (rows[1].id if len(rows) > 1 else "")
    new_id = (query.get("to") or "").strip()[:100] or (rows[0].id if rows else "")
    if not old_id or not new_id:
        return None, None, None
    return old_id, new_id, diff_catalogs(_load(request, old_id), _load(request, new_id))


def catalog_page(
    request: Request, visit: Visit, *, status_code: int = 200, **extra: Any
) -> Response:
    """The page, with ``extra`` from a form's answer: ``draft`` (the text sent back into the
    textarea), ``problems``, ``proposed`` (a checked catalog's summary and diff against the
    active one), ``push`` (a push report), ``notice`` or ``error``."""
    ctx = context_of(request)
    rows = versions(request)
    error = extra.pop("error", None)
    try:
        old_id, new_id, changes = version_diff(request, rows)
    except PlangateError as exc:
        old_id = new_id = None
        changes = None
        error = error or exc.message
        status_code = max(status_code, exc.status)
    with ctx.db.read() as session:
        active = ctx.catalogs.active(session)
    can_change = may(visit.operator.role, "catalog")
    pushed = request.query_params.get("pushed", "")
    view = catalog_view(active)
    return page(request, visit, "dashboard/catalog.html", {
        "catalog": view, "versions": rows,
        "active_toml": "" if view["empty"] or not can_change else active.to_toml(),
        "diff_from": old_id, "diff_to": new_id, "changes": changes,
        "can_change": can_change,
        "gateway": ctx.settings.gateway, "form_key": new_token(),
        "done": request.query_params.get("done"), "error": error,
        "pushed": int(pushed) if pushed.isdigit() and len(pushed) < 10 else None,
        "section": "catalog", **extra,
    }, status_code)


@router.get("")
def catalog_get(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    return catalog_page(request, visit)
