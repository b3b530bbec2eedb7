"""Typed exceptions for the API's error body ``{"error": {"type", "code", "message", "param"}}``.

The class follows the HTTP status (what kind of failure); ``code`` is the stable, documented
reason (``product_not_found``, ``insufficient_quantity``...) to branch on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PlangateError(Exception):
    """Base of every error the SDK raises for a failed call."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        type: str,
        param: str | None = None,
        status: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.type = type
        self.param = param
        self.status = status
        self.body = body

    @property
    def details(self) -> dict[str, Any]:
        """Fields of the error object besides type/code/message/param (e.g. ``problems``)."""
        error = self.body.get("error") if isinstance(self.body, Mapping) else None
        if not isinstance(error, Mapping):
            return {}
        return {k: v for k, v in error.items() if k not in ("type", "code", "message", "param")}

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        status = f"{self.status} " if self.status is not None else ""
        text = f"{status}{self.code}: {self.message}{where}"
        problems = self.details.get("problems")
        if isinstance(problems, list) and problems:
            text += "".join(f"\n  - {_describe(p)}" for p in problems[:20])
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, param={self.param!r})"
        )


class InvalidRequestError(PlangateError):
    """400, 404 or 422: the request cannot succeed as sent; do not retry it unchanged."""


class NotFoundError(InvalidRequestError):
    """404: the customer, product, item or route does not exist."""


class AuthenticationError(PlangateError):
    """401: the secret key or token is missing, unknown or revoked."""


class PermissionDeniedError(PlangateError):
    """403: the caller is known but may not do this (e.g. a server-only call)."""


class ConflictError(PlangateError):
    """409: the request conflicts with the current state; nothing was changed."""


class InsufficientQuantityError(ConflictError):
    """409 ``insufficient_quantity``: the balance is too low and nothing was consumed."""


class IdempotencyKeyReusedError(ConflictError):
    """409 ``idempotency_key_reused``: this key was already used with another request."""


class RateLimitError(PlangateError):
    """429: too many requests; the SDK has already retried with backoff."""


class APIError(PlangateError):
    """5xx: plangate (or a proxy in front of it) failed; the SDK has already retried."""


class APIConnectionError(PlangateError):
    """plangate could not be reached, or did not answer in time, after the SDK's retries."""


def _describe(problem: Any) -> str:
    if not isinstance(problem, Mapping):
        return str(problem)
    where = problem.get("path") or problem.get("param")
    return f"{where}: {problem.get('message')}" if where else str(problem.get("message"))


_CONFLICTS: dict[str, type[ConflictError]] = {
    "insufficient_quantity": InsufficientQuantityError,
    "idempotency_key_reused": IdempotencyKeyReusedError,
}

_DEFAULT_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    409: "conflict_error",
    429: "rate_limit_error",
}


def _class_for(status: int, code: str) -> type[PlangateError]:
    if status == 404:
        return NotFoundError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 409:
        return _CONFLICTS.get(code, ConflictError)
    if status == 429:
        return RateLimitError
    if status >= 500:
        return APIError
    return InvalidRequestError


def error_from_response(status: int, body: Any, text: str = "") -> PlangateError:
    """The exception for a failed response; tolerates bodies that are not plangate's (proxies)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        error = {}
    code = str(error.get("code") or f"http_{status}")
    default_type = (
        "api_error" if status >= 500 else _DEFAULT_TYPES.get(status, "invalid_request_error")
    )
    message = str(error.get("message") or text.strip()[:500] or f"HTTP {status}")
    param = error.get("param")
    return _class_for(status, code)(
        message,
        code=code,
        type=str(error.get("type") or default_type),
        param=str(param) if param is not None else None,
        status=status,
        body=body if body is not None else text,
    )


def connection_error(exc: Exception) -> APIConnectionError:
    return APIConnectionError(
        f"could not reach plangate: {type(exc).__name__}: {exc}",
        code="connection_error",
        type="api_connection_error",
    )
