"""The async client: the same methods as the sync one, awaitable, against the real server."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from plangate_sdk import (
    AsyncClient,
    AsyncCustomerHandle,
    Client,
    CustomerHandle,
    InsufficientQuantityError,
    NotFoundError,
)
from plangate_sdk.binding import bind_customer

from .conftest import RunningServer

SYNC_ONLY = {"close", "customer", "base_url"}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__[:-1]  # the SDK's classes, not object
        for name, member in vars(klass).items()
        if not name.startswith("_")
        and (callable(member) or isinstance(member, property | bind_customer))
    }


@pytest.mark.parametrize(
    ("sync", "async_"), [(Client, AsyncClient), (CustomerHandle, AsyncCustomerHandle)]
)
def test_the_async_api_mirrors_the_sync_one(sync: type, async_: type) -> None:
    names = public_methods(sync) - SYNC_ONLY
    assert names == public_methods(async_) - {"aclose", "customer", "base_url"}
    sync_client, async_client = Client("sk_x"), AsyncClient("sk_x")
    sync_obj = sync_client if sync is Client else sync_client.customer("user", "u1")
    async_obj = async_client if async_ is AsyncClient else async_client.customer("user", "u1")
    for name in names:
        sync_method, async_method = getattr(sync_obj, name), getattr(async_obj, name)
        assert not inspect.iscoroutinefunction(sync_method), name
        assert inspect.iscoroutinefunction(async_method), name
        sync_sig, async_sig = inspect.signature(sync_method), inspect.signature(async_method)
        assert list(sync_sig.parameters) == list(async_sig.parameters), name
        assert str(sync_sig.return_annotation) == str(async_sig.return_annotation), name
    assert inspect.iscoroutinefunction(AsyncClient.aclose)


@pytest.mark.parametrize("client", [Client("sk_x"), AsyncClient("sk_x")])
def test_a_handle_method_is_the_client_method_without_the_customer(
    client: Client | AsyncClient,
) -> None:
    handle = client.customer("team", "t1")
    renamed = {"upsert": "upsert_customer", "get": "get_customer"}
    for name in public_methods(type(handle)) - {"transactions"}:
        method = getattr(handle, name)
        client_sig = inspect.signature(getattr(client, renamed.get(name, name)))
        assert list(client_sig.parameters)[:2] == ["customer_type", "customer_id"], name
        expected = list(client_sig.parameters.values())[2:]
        assert list(inspect.signature(method).parameters.values()) == expected, name
        assert method.args == (client, "team", "t1"), name  # bound once, sent on every call


def test_async_client_end_to_end(plangate_server: RunningServer, user_id: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(plangate_server.secret_key, plangate_server.base_url) as sdk:
            await sdk.upsert_customer("user", user_id, email="a@example.com")
            assert (await sdk.get_customer("user", user_id)).email == "a@example.com"
            assert not await sdk.has("user", user_id, feature="export")
            await sdk.grant("user", user_id, "pro")
            assert await sdk.has("user", user_id, feature="export")
            assert (await sdk.check("user", user_id, plan="pro")).allowed
            assert "pro" in (await sdk.entitlements("user", user_id)).plans
            assert [p.product_id for p in (await sdk.products("user", user_id)).data] == ["pro"]
            assert (await sdk.consume("user", user_id, "credits", 100)).quantity == 4900
            assert (await sdk.change_item("user", user_id, "credits", 100)).quantity == 5000
            assert (await sdk.item("user", user_id, "credits")).quantity == 5000
            with pytest.raises(InsufficientQuantityError):
                await sdk.consume("user", user_id, "credits", 5001)
            with pytest.raises(NotFoundError):
                await sdk.grant("user", user_id, "platinum")
            assert (await sdk.get_catalog()).version is not None

            customer = sdk.customer("user", user_id)
            assert await customer.has(plan="pro")
            assert [p.product_id for p in (await customer.revoke("pro")).data] == ["free"]
            assert not await customer.has(feature="export")

    asyncio.run(scenario())


def test_async_concurrent_consumers_never_overdraw(
    plangate_server: RunningServer, user_id: str
) -> None:
    async def scenario() -> list[bool]:
        async with AsyncClient(plangate_server.secret_key, plangate_server.base_url) as sdk:

            async def take() -> bool:
                try:
                    await sdk.consume("user", user_id, "credits", 30)
                    return True
                except InsufficientQuantityError:
                    return False

            return await asyncio.gather(*(take() for _ in range(6)))

    outcomes = asyncio.run(scenario())
    assert outcomes.count(True) == 3  # 100 credits, 30 each
