"""What both clients share: configuration, the request for a :class:`Call`, and the reading
of a response into a value or a typed error."""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import httpx

from plangate_sdk.calls import Call
from plangate_sdk.errors import APIError, PlangateError, error_from_response
from plangate_sdk.retry import RetryPolicy

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 10.0


def _user_agent() -> str:
    try:
        return f"plangate-python/{version('plangate-sdk')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "plangate-python"


@dataclass(frozen=True)
class ClientConfig:
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key is required: a secret key (sk_...) or a client token")

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": _user_agent(),
        }

    def httpx_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url.rstrip("/"),
            "headers": self.headers,
            "timeout": self.timeout,
            "verify": tls_context(),
        }


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification, built once per process and shared by every client:
    httpx otherwise loads the CA bundle (about 30 ms of CPU) for each client it creates, which
    an app that makes a client per request would pay on every request."""
    return httpx.create_ssl_context()


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    return http.build_request(
        call.method,
        call.path,
        params=call.params or None,
        json=call.json,
        content=call.content,
        headers=call.headers,
    )


def read_response(call: Call[T], response: httpx.Response) -> T:
    """The parsed body of a 2xx response; a typed :class:`PlangateError` otherwise."""
    if response.status_code == 204:  # No Content: the call's parse expects nothing
        return call.parse(None)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.is_success:
        if body is None:
            raise _unreadable(response)
        return call.parse(body)
    raise error_from_response(response.status_code, body, response.text)


def _unreadable(response: httpx.Response) -> PlangateError:
    return APIError(
        f"plangate answered {response.status_code} with a body that is not JSON",
        code="response_invalid",
        type="api_error",
        status=response.status_code,
        body=response.text,
    )
