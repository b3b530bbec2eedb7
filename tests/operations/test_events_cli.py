"""`plangate events list|show|retry`: an operator finds the failed and stuck Stripe events,
reads one, and puts them back in the queue (audited)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from plangate.cli import app
from plangate.clock import SystemClock
from plangate.services.audit import list_entries
from plangate.services.stripe_sync.webhooks import store_event
from plangate.store.db import Database
from plangate.store.models import StripeEvent


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PLANGATE_DATABASE_URL", database_url)
    return CliRunner()


@pytest.fixture
def events(db: Database) -> None:
    """Three events: one pending, two that gave up after their retries."""
    now = SystemClock().now()
    with db.write() as session:
        for n, type_ in enumerate(("invoice.paid", "invoice.paid", "charge.refunded")):
            event = {"id": f"evt_{n}", "type": type_, "created": 1767225600,
                     "data": {"object": {"id": f"obj_{n}", "object": "invoice"}}}
            store_event(session, event, now - timedelta(minutes=10 - n))
    # What the worker writes when an event gives up (services/stripe_sync/worker.py).
    with db.write() as session:
        session.execute(
            update(StripeEvent)
            .where(StripeEvent.id.in_(["evt_1", "evt_2"]))
            .values(status="failed", attempts=12, last_error="GatewayError: Stripe is down")
        )


def _listed(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["events", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.usefixtures("events")
def test_list_filters_by_state_and_type(runner: CliRunner) -> None:
    assert [e["id"] for e in _listed(runner)] == ["evt_2", "evt_1", "evt_0"]
    failed = _listed(runner, "--state", "failed")
    assert [e["id"] for e in failed] == ["evt_2", "evt_1"]
    assert failed[0]["last_error"] == "GatewayError: Stripe is down"
    assert [e["id"] for e in _listed(runner, "--state", "failed", "--type", "invoice.paid")] == [
        "evt_1"
    ]
    assert [e["id"] for e in _listed(runner, "--state", "pending")] == ["evt_0"]
    table = runner.invoke(app, ["events", "list", "--state", "failed"])
    assert table.exit_code == 0 and "evt_1" in table.stdout and "evt_0" not in table.stdout
    wrong = runner.invoke(app, ["events", "list", "--state", "stuck"])
    assert wrong.exit_code == 2 and "state must be one of pending, failed, done" in wrong.output


@pytest.mark.usefixtures("events")
def test_show_prints_the_event_and_its_payload(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["events", "show", "evt_1"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["state"] == "failed" and body["attempts"] == 12
    assert body["payload"]["data"]["object"]["id"] == "obj_1"
    missing = runner.invoke(app, ["events", "show", "evt_nope"])
    assert missing.exit_code == 2 and "no Stripe event 'evt_nope'" in missing.output


@pytest.mark.usefixtures("events")
def test_retry_one_or_every_failed_event_is_audited(runner: CliRunner, db: Database) -> None:
    one = runner.invoke(app, ["events", "retry", "evt_1"])
    assert one.exit_code == 0, one.output
    assert [e["id"] for e in _listed(runner, "--state", "failed")] == ["evt_2"]
    retried = _listed(runner, "--state", "pending")
    assert {e["id"]: e["attempts"] for e in retried} == {"evt_1": 0, "evt_0": 0}

    every = runner.invoke(app, ["events", "retry", "--all-failed"])
    assert every.exit_code == 0 and "requeued evt_2" in every.stdout
    assert _listed(runner, "--state", "failed") == []
    again = runner.invoke(app, ["events", "retry", "--all-failed"])
    assert again.exit_code == 0 and "0 event(s) requeued" in again.output

    entries, _ = list_entries(db, target_type="stripe_event")
    assert sorted((e.target, e.actor) for e in entries) == [("evt_1", "cli"), ("evt_2", "cli")]
    assert all(e.before and e.after and e.before["status"] == "failed"
               and e.after["status"] == "pending"
               for e in entries)

    for args in (["events", "retry"], ["events", "retry", "evt_0", "--all-failed"]):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2 and "name one event id, or pass --all-failed" in (
            refused.output
        )
    assert runner.invoke(app, ["events", "retry", "evt_nope"]).exit_code == 2
