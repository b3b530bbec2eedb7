"""Customers, products and prices through the SDK; errors, idempotency, pagination."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import stripe
from sandbox_harness import Running


def test_customer_crud_and_metadata_semantics(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(
        {"email": "a@example.com", "name": "Ada", "metadata": {"team": "x", "tier": "1"}})
    assert cus.id.startswith("cus_") and cus.object == "customer"
    assert cus.metadata.to_dict() == {"team": "x", "tier": "1"}
    updated = client.v1.customers.update(cus.id, {"metadata": {"tier": "", "seat": "3"}})
    assert updated.metadata.to_dict() == {"team": "x", "seat": "3"}
    assert client.v1.customers.retrieve(cus.id).name == "Ada"
    deleted = client.v1.customers.delete(cus.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(cus.id)["deleted"] is True


def test_product_and_prices_with_lookup_keys(client: stripe.StripeClient) -> None:
    prod = client.v1.products.create({"name": "Pro"})
    assert prod.id.startswith("prod_")
    monthly = client.v1.prices.create({
        "product": prod.id, "currency": "usd", "unit_amount": 2000,
        "recurring": {"interval": "month"}, "lookup_key": "pro_monthly"})
    eur = client.v1.prices.create({
        "product": prod.id, "currency": "eur", "unit_amount": 1800,
        "recurring": {"interval": "month"}, "lookup_key": "pro_monthly_eur"})
    assert monthly.recurring is not None and monthly.recurring.interval == "month"
    assert monthly.type == "recurring" and str(monthly.unit_amount_decimal) == "2000"
    found = client.v1.prices.list({"lookup_keys": ["pro_monthly", "pro_monthly_eur"]})
    assert {p.id for p in found.data} == {monthly.id, eur.id}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 2500,
                                 "recurring": {"interval": "month"}, "lookup_key": "pro_monthly"})
    assert exc.value.param == "lookup_key"
    moved = client.v1.prices.create({
        "product": prod.id, "currency": "usd", "unit_amount": 2500,
        "recurring": {"interval": "month"}, "lookup_key": "pro_monthly",
        "transfer_lookup_key": True})
    assert client.v1.prices.retrieve(monthly.id).lookup_key is None
    [only] = client.v1.prices.list({"lookup_keys": ["pro_monthly"]}).data
    assert only.id == moved.id
    one_time = client.v1.prices.create(
        {"product_data": {"name": "Setup fee"}, "currency": "usd", "unit_amount": 500})
    assert one_time.type == "one_time" and one_time.recurring is None
    assert client.v1.prices.list({"type": "one_time"}).data[0].id == one_time.id


def test_expand_product_on_price_and_in_lists(client: stripe.StripeClient) -> None:
    prod = client.v1.products.create({"name": "Team"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 100})
    got = client.v1.prices.retrieve(price.id, {"expand": ["product"]})
    assert isinstance(got.product, stripe.Product) and got.product.name == "Team"
    listed = client.v1.prices.list({"expand": ["data.product"]})
    assert listed.data[0].product.id == prod.id  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.retrieve(price.id, {"expand": ["nonsense"]})


def test_errors_have_stripes_shape_and_sdk_classes(running: Running,
                                                   client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert missing.value.param == "id"
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.prices.create({"currency": "usd", "unit_amount": 100})
    assert bad.value.http_status == 400 and bad.value.param == "product"
    with pytest.raises(stripe.InvalidRequestError) as bad_int:
        client.v1.prices.create({"currency": "usd", "unit_amount": "ten", "product": "x"})
    assert bad_int.value.param == "unit_amount"
    with pytest.raises(stripe.AuthenticationError) as auth:
        running.client("sk_live_nope").v1.customers.list()
    assert auth.value.http_status == 401
    with pytest.raises(stripe.InvalidRequestError) as route:
        client.raw_request("get", "/v1/nothing_here")
    assert route.value.http_status == 404


def test_idempotent_replay_and_conflicting_parameters(client: stripe.StripeClient) -> None:
    opts = {"idempotency_key": "create-ada"}
    first = client.v1.customers.create({"email": "ada@example.com"}, opts)  # type: ignore[arg-type]
    again = client.v1.customers.create({"email": "ada@example.com"}, opts)  # type: ignore[arg-type]
    assert again.id == first.id
    assert len(client.v1.customers.list({"email": "ada@example.com"}).data) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"email": "bob@example.com"}, opts)  # type: ignore[arg-type]


def test_concurrent_use_of_one_key_is_409(running: Running) -> None:
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "busy"}
    first: list[int] = []
    with running.sandbox.lock:  # the first request waits for the state lock, key in flight
        t = threading.Thread(target=lambda: first.append(httpx.post(
            f"{running.url}/v1/customers", data={"name": "a"}, headers=headers).status_code))
        t.start()
        # The first request holds its key once it is in flight (it then waits on the lock).
        api = running.server.config.app.routes[0].endpoint.__self__
        deadline = time.monotonic() + 30
        while not api._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert api._in_flight
        second = httpx.post(f"{running.url}/v1/customers", data={"name": "a"}, headers=headers)
    t.join()
    assert second.status_code == 409 and first == [200]
    assert second.json()["error"]["type"] == "idempotency_error"


def test_rate_limit_is_429() -> None:
    from sandbox_harness import start

    from plangate.sandbox import SandboxConfig

    r = start(SandboxConfig(rate_limit_per_second=3))
    try:
        client = r.client()
        with pytest.raises(stripe.RateLimitError):
            for _ in range(10):
                client.v1.customers.list()
    finally:
        r.stop()


def test_pagination_and_auto_paging(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create({"email": f"p{i}@example.com"}).id for i in range(25)]
    newest_first = list(reversed(ids))
    page = client.v1.customers.list({"limit": 10})
    assert [c.id for c in page.data] == newest_first[:10] and page.has_more
    nxt = client.v1.customers.list({"limit": 10, "starting_after": page.data[-1].id})
    assert [c.id for c in nxt.data] == newest_first[10:20]
    back = client.v1.customers.list({"limit": 5, "ending_before": nxt.data[0].id})
    assert [c.id for c in back.data] == newest_first[5:10] and back.has_more
    assert [c.id for c in client.v1.customers.list({"limit": 7}).auto_paging_iter()] == \
        newest_first


def test_customer_search(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "s@example.com", "metadata": {"org": "o1"}})
    client.v1.customers.create({"email": "t@example.com", "metadata": {"org": "o2"}})
    found = client.v1.customers.search({"query": "metadata['org']:'o1'"})
    assert [c.id for c in found.data] == [cus.id]
