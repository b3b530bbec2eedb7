# Generated from plangate_sdk/_async/base.py by clients/python/scripts/generate_sync.py
# (make generate): edit the async source, never this file.
"""The connection of the :class:`Client`: its configuration, its ``httpx.Client``, and
the sending of a :class:`~plangate_sdk.calls.Call` with retries."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Self, TypeVar

import httpx

from plangate_sdk.calls import Call
from plangate_sdk.connection import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ClientConfig,
    build_request,
    read_response,
)
from plangate_sdk.errors import connection_error
from plangate_sdk.retry import RetryPolicy

T = TypeVar("T")


class ClientBase:
    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = ClientConfig(
            api_key, base_url, timeout, RetryPolicy(max_retries=max_retries, backoff=backoff)
        )
        self._http = httpx.Client(transport=transport, **self.config.httpx_options())

    @property
    def base_url(self) -> str:
        return self.config.base_url.rstrip("/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, call: Call[T]) -> T:
        """Sends ``call``, retrying per the policy with the same request (and idempotency key)."""
        retry = self.config.retry
        attempt = 0
        while True:
            request = build_request(self._http, call)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if not retry.retries_error(call.method, exc, attempt):
                    raise connection_error(exc) from exc
                time.sleep(retry.delay(attempt))
            else:
                if not retry.retries_status(response.status_code, attempt):
                    return read_response(call, response)
                time.sleep(retry.delay(attempt, response.headers))
            attempt += 1
