"""`plangate catalog push`, and `catalog apply` pushing first on the stripe gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe
from typer.testing import CliRunner

from plangate.cli import app
from plangate.gateways.stripe_client import lookup_key
from tests.conftest import EXAMPLE_CATALOG
from tests.sandbox.sandbox_harness import Running


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_server: Running) -> CliRunner:
    monkeypatch.setenv("PLANGATE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("PLANGATE_STRIPE_API_KEY", "sk_test_cli")
    monkeypatch.setenv("PLANGATE_STRIPE_API_BASE", sandbox_server.url)
    return CliRunner()


def test_push_a_file_then_again_reports_no_change(
    runner: CliRunner, stripe_client: stripe.StripeClient
) -> None:
    first = runner.invoke(app, ["catalog", "push", str(EXAMPLE_CATALOG)])
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "pushed to Stripe" in first.output
    key = lookup_key("pro", "monthly", "usd")
    assert stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0].unit_amount == 1999

    second = runner.invoke(app, ["catalog", "push", str(EXAMPLE_CATALOG)])
    assert second.exit_code == 0 and "already matches" in second.output


def test_apply_pushes_first_on_the_stripe_gateway(
    runner: CliRunner, stripe_client: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    monkeypatch.setenv("PLANGATE_GATEWAY", "stripe")
    applied = runner.invoke(app, ["catalog", "apply", str(EXAMPLE_CATALOG)])
    assert applied.exit_code == 0, applied.output
    assert "pushed to Stripe" in applied.output and "applied new catalog version" in applied.output
    assert stripe_client.v1.prices.list(
        {"lookup_keys": [lookup_key("team", "monthly", "eur")]}
    ).data
    # The active catalog pushes with no argument.
    again = runner.invoke(app, ["catalog", "push"])
    assert again.exit_code == 0 and "already matches" in again.output


def test_apply_on_the_test_gateway_does_not_touch_stripe(
    runner: CliRunner, stripe_client: stripe.StripeClient
) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    applied = runner.invoke(app, ["catalog", "apply", str(EXAMPLE_CATALOG)])
    assert applied.exit_code == 0 and "Stripe" not in applied.output
    assert stripe_client.v1.prices.list().data == []


def test_push_without_a_key_fails_clearly(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANGATE_STRIPE_API_KEY", "")
    result = runner.invoke(app, ["catalog", "push", str(EXAMPLE_CATALOG)])
    assert result.exit_code == 2 and "PLANGATE_STRIPE_API_KEY" in result.output
