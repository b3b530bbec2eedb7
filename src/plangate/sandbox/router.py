"""Route table for the REST API: `(method, "/v1/things/{id}")` to a handler.

Handlers take `(sandbox, request, **path_params)` and return stored objects; the app renders
them (bookkeeping keys stripped, `expand` applied).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .wire import Obj, Params

if TYPE_CHECKING:
    from .core import Sandbox


@dataclass
class ApiRequest:
    method: str
    path: str
    params: Params
    base_url: str
    api_key: str
    idempotency_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[..., Obj]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
        self._routes.append(_Route(method, re.compile(f"^{regex}$"), handler))

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self._decorator("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self._decorator("POST", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self._decorator("DELETE", path)

    def _decorator(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(method, path, fn)
            return fn

        return register

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route.handler, m.groupdict()
        return None


def call(handler: Handler, sb: Sandbox, req: ApiRequest, args: dict[str, str]) -> Any:
    return handler(sb, req, **args)
