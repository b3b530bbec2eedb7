"""``plangate webhooks``: add, list, disable, rotate-secret and deliver, against a real
receiver."""

from __future__ import annotations

from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from plangate.cli import app
from tests.services.events.receiver import Receiver

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plangate.toml"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PLANGATE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("PLANGATE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    assert cli.invoke(app, ["migrate"]).exit_code == 0
    return cli


def test_the_webhooks_commands(runner: CliRunner, receiver: Receiver,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    added = runner.invoke(app, ["webhooks", "add", receiver.url, "--events",
                                "product.granted,product.revoked"])
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip()
    assert secret.startswith("whsec_")
    listed = runner.invoke(app, ["webhooks", "list"]).output
    assert "product.granted,product.revoked" in listed and "enabled" in listed
    endpoint_id = next(w for w in listed.split() if w.startswith("ep_"))

    unknown = runner.invoke(app, ["webhooks", "add", receiver.url, "--events", "nope"])
    assert unknown.exit_code == 2 and "event_type_unknown" in unknown.output
    monkeypatch.delenv("PLANGATE_WEBHOOK_ALLOWED_NETWORKS")
    refused = runner.invoke(app, ["webhooks", "add", receiver.url])
    assert refused.exit_code == 2 and "url_forbidden" in refused.output
    monkeypatch.setenv("PLANGATE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")

    rotated = runner.invoke(app, ["webhooks", "rotate-secret", endpoint_id])
    assert rotated.exit_code == 0 and rotated.stdout.strip() != secret
    assert runner.invoke(app, ["webhooks", "disable", endpoint_id]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["webhooks", "list"]).output
    assert runner.invoke(app, ["webhooks", "disable", "ep_missing"]).exit_code == 2


def test_deliver_once_sends_what_is_due(runner: CliRunner, receiver: Receiver) -> None:
    from plangate.clock import SystemClock
    from plangate.services.events import record
    from plangate.settings import load_settings
    from plangate.store.db import Database

    secret = runner.invoke(app, ["webhooks", "add", receiver.url]).stdout.strip()
    db = Database(load_settings().database_url)
    with db.write() as session:
        record(session, "item.depleted", {"item_id": "credits"}, SystemClock().now())
    db.dispose()
    result = runner.invoke(app, ["webhooks", "deliver", "--once"])
    assert result.exit_code == 0 and "delivered 1 webhook(s)" in result.output
    (only,) = receiver.successes()
    assert Webhook(secret).verify(only.body, only.headers)["type"] == "item.depleted"
