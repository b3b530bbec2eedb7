"""``plangate webhooks``: outbound webhook endpoints (add, list, disable, rotate-secret) and
the delivery worker (deliver)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from plangate.cli.common import command_settings, database, err, fail, out
from plangate.clock import SystemClock
from plangate.errors import PlangateError


def add(
    url: Annotated[str, typer.Argument(help="http(s) URL that receives the events")],
    events: Annotated[
        list[str] | None,
        typer.Option("--events", help="event types to send (repeat or comma-separate); "
                     "default: every type"),
    ] = None,
    description: Annotated[str, typer.Option(help="a label")] = "",
) -> None:
    """Add an endpoint; prints its whsec_ secret once."""
    from plangate.services.events import endpoints

    current = command_settings()
    types = [t.strip() for chunk in events or [] for t in chunk.split(",") if t.strip()]
    db = database(current)
    try:
        with db.write() as session:
            created = endpoints.create_endpoint(
                session,
                endpoints.EndpointSpec(url, types, description),
                current.webhook_allowed_networks,
                SystemClock().now(),
            )
            endpoint_id, secret = created.id, created.secret
    except PlangateError as exc:
        raise fail(f"{exc.code}: {exc.message}") from None
    out.print(secret, soft_wrap=True)
    err.print(f"endpoint {endpoint_id} added; its signing secret is above, store it now")


def list_endpoints() -> None:
    """List endpoints (without secrets)."""
    from plangate.services.events import endpoints

    # One line per endpoint, tab-separated, whatever the terminal's width (scripts read it).
    with database(command_settings()).read() as session:
        for endpoint in endpoints.list_endpoints(session):
            state = (
                "disabled: " + (endpoint.disabled_reason or "")
                if endpoint.disabled_at
                else "enabled"
            )
            events = ",".join(endpoint.event_types) or "all"
            out.print(f"{endpoint.id}\t{endpoint.url}\t{events}\t{state}", soft_wrap=True,
                      highlight=False)


def disable(endpoint_id: str) -> None:
    """Stop sending to an endpoint (PATCH disabled=false through the API enables it again)."""
    _change(endpoint_id, {"disabled": True})
    out.print(f"endpoint {endpoint_id} disabled")


def enable(endpoint_id: str) -> None:
    """Send to a disabled endpoint again."""
    _change(endpoint_id, {"disabled": False})
    out.print(f"endpoint {endpoint_id} enabled")


def _change(endpoint_id: str, changes: dict[str, object]) -> None:
    from plangate.services.events import endpoints

    current = command_settings()
    try:
        with database(current).write() as session:
            endpoints.update_endpoint(session, endpoint_id, changes,
                                      current.webhook_allowed_networks, SystemClock().now())
    except PlangateError as exc:
        raise fail(f"{exc.code}: {exc.message}") from None


def rotate_secret(endpoint_id: str) -> None:
    """A new secret; the old one keeps signing beside it for the rotation overlap."""
    from plangate.services.events import endpoints

    current = command_settings()
    overlap = timedelta(seconds=current.webhook_rotation_overlap_seconds)
    try:
        with database(current).write() as session:
            rotated = endpoints.rotate_secret(session, endpoint_id, overlap, SystemClock().now())
            secret = rotated.secret
    except PlangateError as exc:
        raise fail(f"{exc.code}: {exc.message}") from None
    out.print(secret, soft_wrap=True)
    err.print(f"the old secret also signs for {overlap}; move receivers to the new one")


def deliver(
    once: Annotated[bool, typer.Option(help="send what is due, then exit")] = False,
) -> None:
    """Send webhooks until stopped (any number of these on PostgreSQL). `plangate worker`
    and `plangate dev` also send them."""
    import signal
    import threading

    from plangate.observability.logs import configure_logging
    from plangate.services.events.delivery import DeliveryWorker

    current = command_settings()
    configure_logging(current.log_format, current.log_level)
    worker = DeliveryWorker(database(current), current, SystemClock())
    if once:
        worker.drain()
        out.print(f"delivered {worker.stats.delivered} webhook(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("plangate webhooks deliver: sending webhooks (Ctrl-C stops)")
    worker.run_forever(stop)
