"""Errors as values with a stable code, shaped like the API's error body.

Services raise :class:`PlangateError` subclasses; the API turns them into
``{"error": {"type", "code", "message", "param"}}`` with the status of their type.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PlangateError(Exception):
    type: ClassVar[str] = "invalid_request_error"
    status: ClassVar[int] = 400

    def __init__(
        self, code: str, message: str, *, param: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the error comes with (none but for :class:`GatewayUnavailable`)."""
        return {}

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        error.update(self.extra)
        return {"error": error}


class InvalidRequest(PlangateError):
    type = "invalid_request_error"
    status = 400


class NotFound(PlangateError):
    type = "invalid_request_error"
    status = 404


class Unprocessable(PlangateError):
    type = "invalid_request_error"
    status = 422


class AuthenticationFailed(PlangateError):
    type = "authentication_error"
    status = 401


class PermissionDenied(PlangateError):
    type = "permission_error"
    status = 403


class Conflict(PlangateError):
    type = "conflict_error"
    status = 409


class GatewayFailed(PlangateError):
    type = "api_error"
    status = 502


class GatewayUnavailable(PlangateError):
    """503: the payment gateway could not be reached in time, was rate limiting or failing,
    and a later retry may well succeed; ``Retry-After`` says when to try again."""

    type = "api_error"
    status = 503

    def __init__(self, code: str, message: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(code, message, **extra)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
