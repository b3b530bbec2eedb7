from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from plangate.api.deps import Context
from plangate.api.errors import error_response
from plangate.api.schemas import Health, Index
from plangate.clock import SystemClock
from plangate.services.stripe_sync.queue import worker_lag
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
    """Readiness: the database answers and its schema is the one this plangate needs. Reports
    the Stripe worker's lag (seconds since the oldest pending event became due) and, past
    ``PLANGATE_HEALTH_MAX_LAG_SECONDS`` (when set), answers 503 ``worker_behind``."""
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
    # Queue times are wall-clock times (the worker's backoff runs on them).
    lag = round(worker_lag(ctx.db, SystemClock().now()), 3)
    limit = ctx.settings.health_max_lag_seconds
    if limit and lag > limit:
        return error_response(
            503,
            "api_error",
            "worker_behind",
            f"the oldest pending Stripe event has waited {lag:.0f} s, more than "
            f"PLANGATE_HEALTH_MAX_LAG_SECONDS={limit}: is a worker running?",
            worker_lag_seconds=lag,
        )
    return Health(status="ok", database="ok", version=__version__, worker_lag_seconds=lag)


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """Answers without touching the database: the baseline of the HTTP benchmarks."""
    return {"status": "ok"}
