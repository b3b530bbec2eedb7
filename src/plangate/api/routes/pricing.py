"""The public price list of a product line: what the embeddable pricing table renders. It
needs no credentials (prices are public on any pricing page) and shows nothing a client
could not buy; browsers on PLANGATE_CORS_ORIGINS may read it (api/cors.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from plangate.api.deps import Context
from plangate.api.pricing_schemas import PricingOut, pricing_out
from plangate.services.pricing import read_pricing_table

router = APIRouter(prefix="/v1/pricing", tags=["pricing"])


@router.get("/{line_id}", response_model=PricingOut)
async def get_pricing(line_id: str, ctx: Context, response: Response) -> PricingOut:
    table = await run_in_threadpool(read_pricing_table, ctx.db, ctx.catalogs, line_id)
    # Public and the same for everyone: caches may keep it briefly.
    response.headers["Cache-Control"] = "public, max-age=60"
    return pricing_out(table)
