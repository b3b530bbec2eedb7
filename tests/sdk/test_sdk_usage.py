"""Usage through the SDK: recording once per event id and reading the period's usage."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from plangate_sdk import AsyncClient, Client, ConflictError, NotFoundError

from .conftest import RunningServer


def test_record_usage_and_read_it_back(client: Client) -> None:
    team = f"t_{uuid.uuid4().hex[:12]}"
    client.set_team_member(team, "ada")
    acme = client.customer("team", team)
    first = acme.record_usage("api_calls", 40, "evt-1", user_id="ada")
    assert first.duplicate is False and first.quantity == 40
    assert acme.record_usage("api_calls", 40, "evt-1", user_id="ada").duplicate is True
    with pytest.raises(ConflictError) as exc:
        acme.record_usage("api_calls", 41, "evt-1", user_id="ada")
    assert exc.value.code == "usage_event_reused"
    with pytest.raises(NotFoundError):
        acme.record_usage("nope", 1, "evt-2")
    [meter] = acme.usage().meters
    assert (meter.meter, meter.quantity, meter.members) == ("api_calls", 40, {"ada": 40})


def test_the_async_client_records_usage(plangate_server: RunningServer) -> None:
    async def scenario() -> tuple[int, int]:
        async with AsyncClient(plangate_server.secret_key, plangate_server.base_url) as sdk:
            user = sdk.customer("user", f"u_{uuid.uuid4().hex[:12]}")
            recorded = await user.record_usage("api_calls", 3, "a")
            return recorded.quantity, (await user.usage()).meters[0].quantity

    assert asyncio.run(scenario()) == (3, 3)
