"""Every HTTP request timed into ``plangate_http_request_duration_seconds`` by route template
(``/v1/customers/{customer_type}/{customer_id}/check``, never the raw path, so the label has
a bounded set of values) and logged once on ``plangate.access`` with its request id."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plangate.observability.metrics import HTTP_REQUESTS

access_log = logging.getLogger("plangate.access")
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
# Each (method, route, status) child looked up once: labels() takes a lock and builds a tuple
# on every call. Bounded like the labels themselves: methods x routes x statuses.
_children: dict[tuple[str, str, int], Any] = {}


def route_template(scope: Scope, root_path: str) -> str:
    """The matched route's template, with the prefix of any mount it sits under."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    prefix = str(scope.get("root_path", ""))[len(root_path):]
    if isinstance(route, Mount):  # an app that is not a router (static files)
        return prefix + "/{path}"
    return prefix + str(getattr(route, "path", "")) or "unmatched"


class RequestMetrics:
    """Outermost middleware: sees every answer, the edge's refusals and 500s included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            route = route_template(scope, root_path)
            verb = method if method in _METHODS else "other"
            key = (verb, route, status)
            child = _children.get(key)
            if child is None:
                child = _children[key] = HTTP_REQUESTS.labels(verb, route, str(status))
            child.observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                state = scope.get("state") or {}
                access_log.info(
                    "%s %s %d %.1f ms",
                    method,
                    scope.get("path", ""),
                    status,
                    elapsed * 1000,
                    extra={
                        "request_id": state.get("request_id"),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
