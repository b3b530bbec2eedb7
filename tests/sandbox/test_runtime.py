"""Running modes: SQLite persistence across restarts, mounting under a prefix, chaos."""

from __future__ import annotations

from pathlib import Path

import stripe
from sandbox_harness import Receiver, start
from starlette.applications import Starlette
from starlette.routing import Mount

from plangate.sandbox import Chaos, Sandbox, SandboxConfig, create_app, pay_checkout_session


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = start(SandboxConfig(db_path=db))
    try:
        client = first.client()
        cus = client.v1.customers.create({"email": "keep@example.com"},
                                         {"idempotency_key": "keep"})  # type: ignore[arg-type]
        prod = client.v1.products.create({"name": "Kept"})
    finally:
        first.stop()
    second = start(SandboxConfig(db_path=db))
    try:
        client = second.client()
        assert client.v1.customers.retrieve(cus.id).email == "keep@example.com"
        assert client.v1.products.list().data[0].id == prod.id
        again = client.v1.customers.create({"email": "keep@example.com"},
                                           {"idempotency_key": "keep"})  # type: ignore[arg-type]
        assert again.id == cus.id
        assert [e.type for e in client.v1.events.list().data] == ["product.created",
                                                                 "customer.created"]
    finally:
        second.stop()


def test_mounted_under_a_prefix_builds_urls_with_the_root_path() -> None:
    def mounted(sandbox: Sandbox) -> Starlette:
        return Starlette(routes=[Mount("/sandbox", app=create_app(sandbox))])

    r = start(app_factory=mounted)
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": r.url + "/sandbox"})
        prod = client.v1.products.create({"name": "Mounted"})
        price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                         "unit_amount": 900})
        cs = client.v1.checkout.sessions.create({
            "mode": "payment", "success_url": "https://app.test/ok",
            "line_items": [{"price": price.id, "quantity": 1}]})
        assert cs.url == f"{r.url}/sandbox/checkout/{cs.id}"
        pay_checkout_session(cs.url)
        assert client.v1.checkout.sessions.retrieve(cs.id).status == "complete"
    finally:
        r.stop()


def _chaotic_run(chaos: Chaos, receiver: Receiver) -> tuple[list[str], list[str], Sandbox]:
    r = start(SandboxConfig(chaos=chaos))
    try:
        client = r.client()
        client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
        created = [client.v1.customers.create({"email": f"c{i}@example.com"}).id
                   for i in range(40)]
        r.sandbox.wait_for_deliveries(20)
        delivered = [e["data"]["object"]["id"] for e in receiver.events()]
        return created, delivered, r.sandbox
    finally:
        r.stop()


def test_chaos_drops_duplicates_and_reorders_reproducibly(receiver: Receiver) -> None:
    chaos = Chaos(seed=7, duplicate_rate=0.2, reorder_window=4, drop_rate=0.1)
    created, delivered, sandbox = _chaotic_run(chaos, receiver)
    lost = set(created) - set(delivered)
    assert lost and len(sandbox.webhooks.dropped) == len(lost), "10% of 40 should drop"
    assert set(delivered) <= set(created)
    assert len(delivered) > len(set(delivered)), "some events should arrive twice"
    assert delivered != sorted(delivered, key=created.index), "order should be shuffled"
    with receiver.lock:
        receiver.requests.clear()
    created2, delivered2, _ = _chaotic_run(chaos, receiver)
    lost2 = set(created2) - set(delivered2)
    assert sorted(created.index(c) for c in lost) == sorted(created2.index(c) for c in lost2)
