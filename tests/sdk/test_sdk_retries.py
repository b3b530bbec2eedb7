"""Retries: connection failures, 429 and 5xx, with one Idempotency-Key across attempts, so
that a retry after a lost response replays the first answer instead of acting twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from plangate_sdk import APIConnectionError, APIError, AsyncClient, Client, InvalidRequestError

from .conftest import RunningServer


class LosesFirstResponse(httpx.BaseTransport):
    """Passes requests to the real server, but loses the answer to the first POST to a path
    ending in ``suffix``, after the server processed it (a reset connection, say)."""

    def __init__(self, suffix: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.suffix = suffix
        self.attempts: list[tuple[str | None, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith(self.suffix):
            self.attempts.append(
                (
                    request.headers.get("idempotency-key"),
                    response.headers.get("idempotent-replayed"),
                )
            )
            if len(self.attempts) == 1:
                response.read()
                response.close()
                raise httpx.ReadError("connection reset", request=request)
        return response


class AsyncLosesFirstResponse(httpx.AsyncBaseTransport):
    def __init__(self, suffix: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.suffix = suffix
        self.attempts: list[tuple[str | None, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith(self.suffix):
            self.attempts.append(
                (
                    request.headers.get("idempotency-key"),
                    response.headers.get("idempotent-replayed"),
                )
            )
            if len(self.attempts) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection reset", request=request)
        return response


def test_a_lost_response_is_retried_and_the_consumption_happens_once(
    plangate_server: RunningServer, user_id: str
) -> None:
    transport = LosesFirstResponse("/consume")
    with Client(
        plangate_server.secret_key, plangate_server.base_url, transport=transport, backoff=0
    ) as sdk:
        result = sdk.consume("user", user_id, "credits", 30)
        assert result.quantity == 70
        assert sdk.item("user", user_id, "credits").quantity == 70
    (first_key, first_replayed), (retry_key, retry_replayed) = transport.attempts
    assert first_key is not None and first_key == retry_key
    assert (first_replayed, retry_replayed) == (None, "true")


def test_async_a_lost_response_is_retried_and_the_grant_happens_once(
    plangate_server: RunningServer, user_id: str
) -> None:
    transport = AsyncLosesFirstResponse("/products")

    async def scenario() -> int:
        async with AsyncClient(
            plangate_server.secret_key, plangate_server.base_url, transport=transport, backoff=0
        ) as sdk:
            granted = await sdk.grant("user", user_id, "credit_pack")
            assert granted.product_id == "credit_pack"
            return (await sdk.item("user", user_id, "credits")).quantity

    assert asyncio.run(scenario()) == 100 + 1000
    assert [replayed for _, replayed in transport.attempts] == [None, "true"]
    assert transport.attempts[0][0] == transport.attempts[1][0]


def test_the_callers_idempotency_key_is_the_one_sent(
    plangate_server: RunningServer, user_id: str
) -> None:
    transport = LosesFirstResponse("/changes")
    with Client(
        plangate_server.secret_key, plangate_server.base_url, transport=transport, backoff=0
    ) as sdk:
        sdk.change_item("user", user_id, "credits", 5, idempotency_key="order-42-" + user_id)
        assert sdk.item("user", user_id, "credits").quantity == 105
    assert [key for key, _ in transport.attempts] == ["order-42-" + user_id] * 2


Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*statuses: int) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """Answers with ``statuses`` in turn (then 200), recording the requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(statuses):
            status = statuses[len(seen) - 1]
            return httpx.Response(
                status,
                json={"error": {"type": "x", "code": f"c{status}", "message": "m", "param": None}},
                headers={"Retry-After": "0"} if status == 429 else {},
            )
        return httpx.Response(
            200, json={"item_id": "credits", "quantity": 1, "non_negative_quantity": 1}
        )

    return httpx.MockTransport(handle), seen


def test_5xx_and_429_are_retried_with_the_same_key() -> None:
    transport, seen = scripted(503, 429)
    with Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk:
        assert sdk.consume("user", "u1", "credits").quantity == 1
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(seen) == 3 and len(keys) == 1


def test_retries_stop_at_max_retries() -> None:
    transport, seen = scripted(500, 500, 500, 500)
    with (
        Client(
            "sk_x", "http://plangate.test", transport=transport, backoff=0, max_retries=2
        ) as sdk,
        pytest.raises(APIError),
    ):
        sdk.consume("user", "u1", "credits")
    assert len(seen) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_4xx_is_never_retried(status: int) -> None:
    transport, seen = scripted(status)
    with (
        Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk,
        pytest.raises(Exception) as caught,
    ):
        sdk.consume("user", "u1", "credits")
    assert len(seen) == 1
    assert getattr(caught.value, "status", None) == status


def test_posts_get_a_fresh_key_per_call() -> None:
    transport, seen = scripted()
    with Client("sk_x", "http://plangate.test", transport=transport) as sdk:
        sdk.consume("user", "u1", "credits")
        sdk.consume("user", "u1", "credits")
    assert seen[0].headers["idempotency-key"] != seen[1].headers["idempotency-key"]


def failing(exc: type[httpx.TransportError]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise exc("boom", request=request)

    return httpx.MockTransport(handle), seen


def test_a_revoke_whose_answer_was_lost_is_not_resent() -> None:
    # A DELETE whose answer was lost may have taken effect: only a 5xx answer is retried.
    transport, seen = failing(httpx.ReadError)
    with (
        Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk,
        pytest.raises(APIConnectionError),
    ):
        sdk.revoke("user", "u1", "pro")
    assert len(seen) == 1


def test_a_revoke_that_never_connected_is_retried() -> None:
    transport, seen = failing(httpx.ConnectError)
    with (
        Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk,
        pytest.raises(APIConnectionError),
    ):
        sdk.revoke("user", "u1", "pro")
    assert len(seen) == 3


def test_reads_are_retried_after_a_timeout() -> None:
    transport, seen = failing(httpx.ReadTimeout)
    with (
        Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk,
        pytest.raises(APIConnectionError),
    ):
        sdk.has("user", "u1", feature="export")
    assert len(seen) == 3


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    from plangate_sdk import RetryPolicy

    policy = RetryPolicy(backoff=0.5, max_backoff=4)
    assert policy.delay(0, {"retry-after": "2"}) == 2
    assert policy.delay(0, {"retry-after": "120"}) == 4
    assert 0.25 <= policy.delay(0, {}) <= 0.5
    assert 1.0 <= policy.delay(2, {"retry-after": "soon"}) <= 2.0


def test_invalid_request_is_raised_without_retry_against_the_real_server(
    client: Client, user_id: str
) -> None:
    with pytest.raises(InvalidRequestError):
        client.consume("user", user_id, "no_such_item")


class AnswersFirstDeleteWithBadGateway(httpx.BaseTransport):
    """Passes requests to the real server, but after the server processed the first DELETE
    answers it 502, as a proxy that lost the upstream answer would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "DELETE":
            self.keys.append(request.headers.get("idempotency-key"))
            if len(self.keys) == 1:
                response.read()
                response.close()
                return httpx.Response(502, json={"error": "bad gateway"}, request=request)
        return response


def test_a_revoke_retried_after_a_5xx_returns_the_first_answer(
    plangate_server: RunningServer, user_id: str
) -> None:
    transport = AnswersFirstDeleteWithBadGateway()
    with Client(
        plangate_server.secret_key, plangate_server.base_url, transport=transport, backoff=0
    ) as sdk:
        sdk.grant("user", user_id, "pro")
        remaining = sdk.revoke("user", user_id, "pro")
        assert [p.product_id for p in remaining.data] == ["free"]
    first_key, retry_key = transport.keys
    assert first_key is not None and first_key == retry_key
