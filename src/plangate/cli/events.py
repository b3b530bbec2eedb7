"""``plangate events list|show|retry``: the Stripe events plangate received, for an operator
looking at failed or stuck ones."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from plangate.cli.common import command_settings, database, err, fail, out
from plangate.clock import SystemClock
from plangate.errors import PlangateError

CLI_ACTOR = "cli"


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def list_events(
    state: Annotated[
        str | None, typer.Option(help="pending, failed or done")
    ] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="a Stripe event type (invoice.paid)")
    ] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest received first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """List received Stripe events, newest first."""
    from plangate.services.stripe_sync.queue import find_events

    db = database(command_settings())
    try:
        events = find_events(db, state=state, type_=type_, limit=limit)
    except PlangateError as exc:
        raise fail(exc.message) from None
    if as_json:
        for event in events:
            out.print_json(
                json.dumps(
                    {
                        "id": event.id,
                        "type": event.type,
                        "state": event.status,
                        "attempts": event.attempts,
                        "object": event.object_id,
                        "received_at": _when(event.received_at),
                        "next_attempt_at": _when(event.next_attempt_at),
                        "last_error": event.last_error,
                    }
                ),
                indent=None,
            )
        return
    table = Table("id", "type", "state", "attempts", "object", "received", "next attempt",
                  "last error")
    for event in events:
        table.add_row(
            event.id,
            event.type,
            event.status,
            str(event.attempts),
            event.object_id or "",
            _when(event.received_at),
            _when(event.next_attempt_at) if event.status == "pending" else "",
            (event.last_error or "")[:80],
        )
    out.print(table)
    if not events:
        err.print("no Stripe event matches")


def show(event_id: str) -> None:
    """Everything stored about one Stripe event, its payload included (JSON)."""
    from plangate.services.stripe_sync.queue import event_detail

    db = database(command_settings())
    try:
        detail = event_detail(db, event_id)
    except PlangateError as exc:
        raise fail(exc.message) from None
    event = detail.summary
    out.print_json(
        json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "state": event.status,
                "attempts": event.attempts,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "created": _when(detail.created),
                "received_at": _when(event.received_at),
                "next_attempt_at": _when(event.next_attempt_at),
                "locked_until": _when(detail.locked_until) or None,
                "handled_at": _when(event.handled_at) or None,
                "last_error": event.last_error,
                "payload": detail.payload,
            }
        )
    )


def retry(
    event_id: Annotated[str | None, typer.Argument(help="the event to retry")] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="retry every failed event")
    ] = False,
) -> None:
    """Put an event (or every failed one) back in the queue, due now, with a full set of
    attempts; each retry is written to the audit log. A running worker picks them up."""
    from plangate.services.admin.events import retry_event, retry_failed_events

    if (event_id is None) == (not all_failed):
        raise fail("name one event id, or pass --all-failed")
    db = database(command_settings())
    now = SystemClock().now()
    try:
        with db.write() as session:
            if all_failed:
                retried = retry_failed_events(session, actor=CLI_ACTOR, now=now)
            else:
                assert event_id is not None
                retry_event(session, event_id, actor=CLI_ACTOR, now=now)
                retried = [event_id]
    except PlangateError as exc:
        raise fail(exc.message) from None
    for retried_id in retried:
        out.print(f"requeued {retried_id}")
    err.print(f"{len(retried)} event(s) requeued")
