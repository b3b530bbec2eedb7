"""Failures come back as typed exceptions carrying the API's type, code, message and param."""

from __future__ import annotations

import httpx
import pytest

from plangate_sdk import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    Client,
    ConflictError,
    IdempotencyKeyReusedError,
    InsufficientQuantityError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlangateError,
    RateLimitError,
)
from plangate_sdk.errors import error_from_response

from .conftest import RunningServer


def test_unknown_product_is_a_not_found_invalid_request(client: Client, user_id: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.grant("user", user_id, "platinum")
    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert (error.status, error.type, error.code, error.param) == (
        404,
        "invalid_request_error",
        "product_not_found",
        "product_id",
    )
    assert "platinum" in error.message
    assert error.body["error"]["code"] == "product_not_found"


def test_consuming_more_than_the_balance_is_a_conflict_and_consumes_nothing(
    client: Client, user_id: str
) -> None:
    with pytest.raises(InsufficientQuantityError) as caught:
        client.consume("user", user_id, "credits", 101)
    error = caught.value
    assert isinstance(error, ConflictError)
    assert (error.status, error.type, error.code) == (
        409,
        "conflict_error",
        "insufficient_quantity",
    )
    assert error.details["quantity"] == 100
    assert client.item("user", user_id, "credits").quantity == 100


def test_a_wrong_key_is_an_authentication_error(plangate_server: RunningServer) -> None:
    with (
        Client("sk_not_a_real_key", plangate_server.base_url) as bad,
        pytest.raises(AuthenticationError) as caught,
    ):
        bad.has("user", "u1", feature="export")
    assert (caught.value.status, caught.value.code) == (401, "secret_key_invalid")


def test_check_needs_exactly_one_target(client: Client, user_id: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.check("user", user_id, feature="export", plan="pro")
    assert (caught.value.status, caught.value.code) == (400, "check_target_invalid")
    with pytest.raises(ValueError):
        client.has("user", user_id)


def test_an_idempotency_key_reused_for_another_request(client: Client, user_id: str) -> None:
    client.consume("user", user_id, "credits", 1, idempotency_key=f"k-{user_id}")
    with pytest.raises(IdempotencyKeyReusedError) as caught:
        client.consume("user", user_id, "credits", 2, idempotency_key=f"k-{user_id}")
    assert caught.value.code == "idempotency_key_reused"
    assert client.item("user", user_id, "credits").quantity == 99


def test_an_invalid_catalog_lists_its_problems(client: Client) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.apply_catalog('[products.x]\nname = "X"\n')
    assert (caught.value.status, caught.value.code) == (422, "catalog_invalid")
    assert caught.value.details["problems"]
    assert "customer_type" in str(caught.value)


def test_an_unknown_customer_is_not_found(client: Client, user_id: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_customer("user", user_id)
    assert caught.value.code == "customer_not_found"


@pytest.mark.parametrize(
    ("status", "cls", "type_"),
    [
        (400, InvalidRequestError, "invalid_request_error"),
        (404, NotFoundError, "invalid_request_error"),
        (422, InvalidRequestError, "invalid_request_error"),
        (401, AuthenticationError, "authentication_error"),
        (403, PermissionDeniedError, "permission_error"),
        (409, ConflictError, "conflict_error"),
        (429, RateLimitError, "rate_limit_error"),
        (500, APIError, "api_error"),
        (502, APIError, "api_error"),
    ],
)
def test_status_maps_to_class_even_without_a_plangate_body(
    status: int, cls: type[PlangateError], type_: str
) -> None:
    error = error_from_response(status, None, "<html>Bad Gateway</html>")
    assert type(error) is cls
    assert (error.status, error.type, error.code) == (status, type_, f"http_{status}")
    assert error.message == "<html>Bad Gateway</html>"


def test_a_proxy_error_page_is_an_api_error() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(502, text="Bad Gateway"))
    with (
        Client("sk_x", "http://plangate.test", transport=transport, max_retries=0) as sdk,
        pytest.raises(APIError) as caught,
    ):
        sdk.get_catalog()
    assert (caught.value.status, caught.value.code) == (502, "http_502")


def test_an_unreachable_server_is_a_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse)
    with (
        Client("sk_x", "http://plangate.test", transport=transport, backoff=0) as sdk,
        pytest.raises(APIConnectionError) as caught,
    ):
        sdk.has("user", "u1", feature="export")
    assert caught.value.code == "connection_error"
    assert caught.value.status is None
