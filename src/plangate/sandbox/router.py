"""Route table for the REST API: `(method, "/v1/things/{id}")` to a handler.

Handlers take `(sandbox, request, **path_params)` and return stored objects; the app renders
them (bookkeeping keys stripped, `expand` applied). Each route names its operation's class in
`stripe.params` and the parameters its handler implements (see `strict`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .strict import Operation
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
    # Made with the publishable key (Stripe.js): see `publishable`.
    publishable: bool = False


Handler = Callable[..., Obj]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    pattern: re.Pattern[str]
    handler: Handler
    operation: Operation


# A list's paging parameters, which `wire.paginate` implements.
PAGE = ("limit", "starting_after", "ending_before")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler, operation: Operation) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
        self.routes.append(Route(method, path, re.compile(f"^{regex}$"), handler, operation))

    def get(self, path: str, params: str | None,
            implements: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self._decorator("GET", path, Operation(params, frozenset(implements)))

    def post(self, path: str, params: str | None,
             implements: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self._decorator("POST", path, Operation(params, frozenset(implements)))

    def delete(self, path: str, params: str | None,
               implements: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        return self._decorator("DELETE", path, Operation(params, frozenset(implements)))

    def _decorator(self, method: str, path: str,
                   operation: Operation) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(method, path, fn, operation)
            return fn

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict()
        return None


def call(handler: Handler, sb: Sandbox, req: ApiRequest, args: dict[str, str]) -> Any:
    return handler(sb, req, **args)
