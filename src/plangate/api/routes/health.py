from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from plangate.api.deps import Context
from plangate.api.errors import error_response
from plangate.api.schemas import Health, Index
from plangate.store.migrate import SchemaNotCurrent, check_database_schema

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
def healthz(request: Request, ctx: Context) -> Health | JSONResponse:
    """Readiness: the database answers and its schema is the one this plangate needs."""
    from plangate import __version__

    # Set by whoever must finish work before the app may take traffic (`plangate dev`
    # pushes its catalog to the sandbox first); absent, the app is ready when it serves.
    ready = getattr(request.app.state, "ready", None)
    if ready is not None and not ready.is_set():
        return error_response(
            503, "api_error", "starting", "plangate is starting; try again in a moment"
        )
    try:
        check_database_schema(ctx.db.engine)
    except SchemaNotCurrent as exc:
        return error_response(503, "api_error", exc.code, str(exc))
    return Health(status="ok", database="ok", version=__version__)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """Answers without touching the database: the baseline of the HTTP benchmarks."""
    return {"status": "ok"}
