"""The connection of the :class:`AsyncClient`: its configuration, its ``httpx.AsyncClient``, and
the sending of a :class:`~plangate_sdk.calls.Call` with retries."""

from __future__ import annotations

import asyncio
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


class AsyncClientBase:
    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.25,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = ClientConfig(
            api_key, base_url, timeout, RetryPolicy(max_retries=max_retries, backoff=backoff)
        )
        self._http = httpx.AsyncClient(transport=transport, **self.config.httpx_options())

    @property
    def base_url(self) -> str:
        return self.config.base_url.rstrip("/")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def send(self, call: Call[T]) -> T:
        """Sends ``call``, retrying per the policy with the same request (and idempotency key)."""
        retry = self.config.retry
        attempt = 0
        while True:
            request = build_request(self._http, call)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if not retry.retries_error(call.method, exc, attempt):
                    raise connection_error(exc) from exc
                await asyncio.sleep(retry.delay(attempt))
            else:
                if not retry.retries_status(response.status_code, attempt):
                    return read_response(call, response)
                await asyncio.sleep(retry.delay(attempt, response.headers))
            attempt += 1
