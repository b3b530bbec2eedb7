from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from plangate.api.deps import Context, ServerCaller
from plangate.api.schemas import CatalogApplied, CatalogOut
from plangate.domain.catalog import Catalog, parse_catalog
from plangate.errors import InvalidRequest
from plangate.services.entitlements import catalog as catalog_service

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.get("", response_model=CatalogOut)
def get_catalog(ctx: Context, _: ServerCaller) -> CatalogOut:
    with ctx.db.read() as session:
        version = catalog_service.active_version_id(session)
        catalog = ctx.catalogs.active(session)
    return CatalogOut(version=version, catalog=catalog.to_dict())


def _parse_body(content_type: str, raw: bytes) -> tuple[Catalog, str | None]:
    if not raw.strip():
        # An empty TOML document is a valid, empty catalog: applying it by accident (a
        # missing file, an unset variable) would take every product away.
        raise InvalidRequest("body_invalid", "the catalog body is empty")
    if "json" in content_type:
        try:
            data: Any = json.loads(raw)
        except ValueError as exc:
            raise InvalidRequest("body_invalid", f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidRequest("body_invalid", "the catalog must be a JSON object")
        return parse_catalog(data), None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("body_invalid", "the catalog must be UTF-8 TOML or JSON") from None
    return parse_catalog(text), text


@router.put(
    "",
    response_model=CatalogApplied,
    openapi_extra={
        "requestBody": {
            "content": {"application/toml": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"type": "object"}}},
            "required": True,
        }
    },
)
async def put_catalog(request: Request, ctx: Context, _: ServerCaller) -> CatalogApplied:
    """Apply a catalog (TOML, or JSON with a JSON content type). Invalid → 422 with every
    problem; the same content applied twice creates no new version."""
    catalog, text = _parse_body(request.headers.get("content-type", ""), await request.body())
    with ctx.db.write() as session:
        applied = catalog_service.apply_catalog(session, catalog, ctx.clock.now(), source_text=text)
    return CatalogApplied(
        version=applied.version, created=applied.created, activated=applied.activated
    )
