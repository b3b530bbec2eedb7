"""The API's edge: what every request passes before a route sees it.

* A request id: a sane incoming ``X-Request-Id`` is kept, otherwise one is made; it is sent
  back on every response, and a 500 logs it and carries it in its body, so a user's report
  finds the log line.
* Text the databases cannot hold: NUL (PostgreSQL refuses it in text, SQLite stores it) and
  unpaired UTF-16 surrogates (not encodable as UTF-8) are refused with the same 400 on both,
  in the path, the query string and the headers here, and in JSON bodies by the request
  models (``api/text.py``, ``api/schemas.py``).
* The body size: refused with 413 from ``Content-Length`` before a byte is read, and counted
  while a chunked body streams in, so a huge body is never buffered.
* An unexpected exception becomes a 500 answer here, without re-raising: the server then
  keeps the keep-alive connection open instead of closing it under the client.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plangate.api.text import UNSAFE_TEXT_MESSAGE, has_unsafe_text
from plangate.observability.logs import REQUEST_ID

log = logging.getLogger("plangate.api")

DEFAULT_MAX_BODY_BYTES = 1_048_576
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestTooLarge(HTTPException):
    """Raised while a body streams in past the limit. An ``HTTPException`` so that FastAPI's
    body parsing lets it through to the 413 handler instead of calling it a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def _error(status: int, type_: str, code: str, message: str, param: str | None) -> bytes:
    body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
    return json.dumps(body).encode()


class EdgeGuard:
    """ASGI middleware doing the checks in this module's docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k.lower(), v) for k, v in scope.get("headers", [])]
        incoming = next((v for k, v in headers if k == b"x-request-id"), b"")
        incoming_text = incoming.decode("latin-1")
        request_id = (
            incoming_text if _REQUEST_ID.fullmatch(incoming_text) else "req_" + uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        # Log records of this request carry its id (observability/logs.py).
        REQUEST_ID.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        async def answer(status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})

        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, code, message, param = refusal
            await answer(status, _error(status, "invalid_request_error", code, message, param), [])
            return

        received = 0
        limit = self.max_body_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, send_with_id)
        except Exception as exc:
            if started:
                raise
            log.error(
                "unhandled error in %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
                exc_info=exc,
            )
            body = json.dumps(
                {
                    "error": {
                        "type": "api_error",
                        "code": "internal_error",
                        "message": "an internal error occurred; quote the request id when "
                        "reporting it",
                        "param": None,
                        "request_id": request_id,
                    }
                }
            ).encode()
            await answer(500, body, [])

    def _refusal(
        self, scope: Scope, headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, str, str, str | None] | None:
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit():
                    return 400, "content_length_invalid", "Content-Length is not a number", None
                if int(value) > self.max_body_bytes:
                    return (
                        413,
                        "request_too_large",
                        f"the request body is larger than {self.max_body_bytes} bytes",
                        None,
                    )
            elif b"\x00" in value:
                header = name.decode("latin-1")
                return 400, "parameter_invalid", f"{header} {UNSAFE_TEXT_MESSAGE}", header
        path = scope.get("path", "")
        if has_unsafe_text(path):
            return 400, "parameter_invalid", f"the path {UNSAFE_TEXT_MESSAGE}", None
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in unquote_to_bytes(query):
            return 400, "parameter_invalid", f"the query string {UNSAFE_TEXT_MESSAGE}", None
        return None
