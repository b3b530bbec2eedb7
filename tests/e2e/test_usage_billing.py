"""Usage-based billing end to end: a team's members record usage, plangate reports it to
Stripe's meter through its durable queue, and the renewal invoice bills the sum with the
example catalog's graduated tiers (1,000 included, then 2 cents up to 10,000, 1 cent
beyond)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from plangate.gateways.base import Gateway
from plangate.services import usage
from plangate.store.usage_models import UsageRecord
from tests.e2e.e2e_harness import EXAMPLE_CATALOG, T0, Stack, start_stack

pytestmark = pytest.mark.slow

# The example catalog, with the Team plan's trial left out: usage is billed from day one.
CATALOG = EXAMPLE_CATALOG.read_text().replace(
    'line = "team_plan"\nfeatures = ["analytics", "export"]\ntrial_days = 14\n',
    'line = "team_plan"\nfeatures = ["analytics", "export"]\n')
assert EXAMPLE_CATALOG.read_text() != CATALOG


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    # The test drives the reporting queue itself (no worker loop reports on its own).
    running = start_stack(database_url, catalog_text=CATALOG)
    yield running
    running.stop()


def _record(stack: Stack, event_id: str, quantity: int, user_id: str | None = None,
            customer: str = "team/acme") -> Any:
    body: dict[str, Any] = {"meter": "api_calls", "quantity": quantity, "event_id": event_id}
    if user_id:
        body["user_id"] = user_id
    return stack.http.post(f"/v1/customers/{customer}/usage", json=body)


def _team_with_members(stack: Stack) -> None:
    """Team acme with three members, subscribed to Team; then the worker loop stops, so the
    test alone drives the reporting queue."""
    for user in ("ada", "bob", "cy"):
        resp = stack.http.put(f"/v1/teams/acme/members/{user}", json={"role": "member"})
        assert resp.status_code in (200, 201), resp.text
    stack.buy("acme", "team", customer_type="team")
    for thread in stack._worker_threads:
        thread.stop()
    stack._worker_threads = []


def _usage_line(stack: Stack, invoice: Any) -> Any:
    lines = [li for li in invoice.lines.data
             if stack.stripe.v1.prices.retrieve(
                 li.pricing.price_details.price).recurring.usage_type == "metered"]
    assert len(lines) == 1
    return lines[0]


def test_a_team_is_billed_for_its_members_usage_with_tiers_at_renewal(stack: Stack) -> None:
    _team_with_members(stack)
    sub = stack.stripe.v1.subscriptions.list(
        {"customer": stack.stripe_customer("acme", "team")}).data[0]
    first = stack.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert first.amount_paid == 9900  # the plan; usage is billed in arrears
    assert _usage_line(stack, first).amount == 0
    for n, (user, quantity) in enumerate((("ada", 4000), ("bob", 5000), ("cy", 3000))):
        stack.advance(T0 + timedelta(days=n + 1))
        assert _record(stack, f"evt-{user}", quantity, user).status_code == 201
    again = _record(stack, "evt-ada", 4000, "ada")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    now = stack.http.get("/v1/customers/team/acme/usage").json()
    [meter] = now["meters"]
    assert meter["quantity"] == 12000
    assert meter["members"] == {"ada": 4000, "bob": 5000, "cy": 3000}
    assert meter["period_start"].startswith("2026-01-15T12:00")
    assert stack.worker.report_usage() == 3
    stack._worker_threads = [stack.worker.start()]
    stack.advance(T0 + timedelta(days=31, hours=2))
    stack.settle()
    sub = stack.stripe.v1.subscriptions.retrieve(sub.id)
    renewal = stack.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert renewal.billing_reason == "subscription_cycle"
    line = _usage_line(stack, renewal)
    # 12,000 calls: 1,000 included, 9,000 at 2 cents, 2,000 at 1 cent.
    assert line.quantity == 12000 and line.amount == 9000 * 2 + 2000 * 1
    assert renewal.total == 9900 + 20000
    # The new period starts from nothing.
    assert stack.http.get("/v1/customers/team/acme/usage").json()["meters"][0]["quantity"] == 0


class CrashAfterSending:
    """The Stripe gateway, with the process dying right after Stripe took a meter event
    (before plangate could record it): the worst moment for a queue."""

    def __init__(self, inner: Gateway) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_meter_event(self, **kwargs: Any) -> bool:
        self.inner.create_meter_event(**kwargs)
        raise SystemExit("crashed after Stripe answered")


def test_the_reporting_queue_survives_a_crash_and_never_reports_twice(stack: Stack) -> None:
    _team_with_members(stack)
    for n in range(3):
        assert _record(stack, f"e{n}", 10 * (n + 1), "bob").status_code == 201
    db, clock = stack.db, stack.clock
    with pytest.raises(SystemExit):
        usage.report_due(db, CrashAfterSending(stack.worker.sync.gateway),  # type: ignore[arg-type]
                         clock)
    with db.read() as session:
        pending = session.query(UsageRecord).filter(UsageRecord.reported_at.is_(None)).count()
    assert pending == 3  # nothing was marked: the records wait in the queue
    # A restarted worker, once the dead one's lease has run out, sends them all again:
    # Stripe refuses the one it had (same identifier), which counts as reported.
    assert usage.report_due(db, stack.worker.sync.gateway, clock).claimed == 0  # leased
    stack.clock.set(clock.now() + usage.reporting.LEASE + timedelta(seconds=1))
    result = usage.drain(db, stack.worker.sync.gateway, stack.clock)
    assert (result.sent, result.duplicates, result.retrying) == (2, 1, 0)
    with db.read() as session:
        assert session.query(UsageRecord).filter(UsageRecord.reported_at.is_(None)).count() == 0
    meter = next(m for m in stack.stripe.v1.billing.meters.list().data
                 if m.event_name == "plangate_api_calls")
    start = int(T0.timestamp())
    summary = stack.stripe.v1.billing.meters.event_summaries.list(meter.id, {
        "customer": stack.stripe_customer("acme", "team"), "start_time": start,
        "end_time": start + 86400})
    assert [s.aggregated_value for s in summary.data] == [60]  # 10 + 20 + 30, once each
