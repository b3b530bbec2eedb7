from __future__ import annotations

from fastapi import APIRouter

from plangate.api.deps import Context
from plangate.api.schemas import Health, Index

router = APIRouter(tags=["health"])


@router.get("/", response_model=Index)
async def index() -> Index:
    """Where to start: the API reference and the health check."""
    from plangate import __version__

    return Index(
        name="plangate",
        version=__version__,
        docs="/docs",
        openapi="/openapi.json",
        health="/healthz",
    )


@router.get("/healthz", response_model=Health)
def healthz(ctx: Context) -> Health:
    """Liveness and database reachability."""
    from plangate import __version__

    ctx.db.ping()
    return Health(status="ok", database="ok", version=__version__)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """Answers without touching the database: the baseline of the HTTP benchmarks."""
    return {"status": "ok"}
