"""bench/throughput.py's events are what plangate's webhook endpoint accepts: distinct ids,
Stripe's signature with the endpoint's secret, the subscriptions in the order asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.throughput import _events
from plangate.services.stripe_sync.webhooks import parse_verified_event

SUBS = [{"id": f"sub_{n}", "object": "subscription", "customer": f"cus_{n}"} for n in range(2)]


@pytest.mark.parametrize(
    ("order", "objects"),
    [("interleaved", ["sub_0", "sub_1", "sub_0", "sub_1"]),
     ("grouped", ["sub_0", "sub_0", "sub_1", "sub_1"])],
)
def test_the_events_verify_and_name_the_subscriptions_in_order(
    tmp_path: Path, order: str, objects: list[str]
) -> None:
    path = tmp_path / "events.tsv"
    _events(SUBS, 4, 10, order, "whsec_bench", path)
    events = []
    for line in path.read_text().splitlines():
        signature, body = line.split("\t", 1)
        events.append(parse_verified_event(body.encode(), signature, "whsec_bench"))
    assert [e["id"] for e in events] == [f"evt_bench{n:08d}" for n in range(10, 14)]
    assert [e["data"]["object"]["id"] for e in events] == objects
    assert {e["type"] for e in events} == {"customer.subscription.updated"}
