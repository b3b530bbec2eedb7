"""The ASGI app: Stripe's REST API under `/v1` plus the hosted pages.

Every API request goes through the same steps, in Stripe's order: authentication, rate
limit, idempotency, then the handler inside one unit of work, then rendering with `expand`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import threading
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import publishable
from .config import SandboxConfig
from .core import Sandbox
from .expansion import render
from .resources import ROUTERS
from .router import ApiRequest
from .scheduler import run_all_due
from .strict import check_params
from .wire import (
    API_VERSION,
    StripeError,
    check_expand_depth,
    decode_form,
    get_list,
    invalid,
    new_id,
)

log = logging.getLogger(__name__)


class _Api:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self._in_flight: set[str] = set()
        self._guard = threading.Lock()
        self.limiter = sb.limiter
        self.faults = sb.faults

    async def handle(self, request: Request) -> Response:
        request_id = new_id("req", 14)
        headers = {"Request-Id": request_id,
                   "Stripe-Version": request.headers.get("stripe-version", API_VERSION)}
        slow = False
        try:
            params = await _read_params(request)
            api_key = self._authenticate(request, params)
            path = "/v1/" + request.path_params["path"]
            if self.limiter is not None:
                self.limiter.admit(api_key, _endpoint(request.method, path))
            if self.faults is not None:
                fault = self.faults.decide(await _fingerprint(request, path))
                if fault == "error":
                    raise self.faults.error()
                slow = fault == "slow"
            base = _base_url(request, self.sb)
            req = ApiRequest(request.method, path, params, base,
                             api_key, request.headers.get("idempotency-key"), request.headers,
                             api_key.startswith(self.sb.config.publishable_key_prefix))
            if req.idempotency_key:
                headers["Idempotency-Key"] = req.idempotency_key
            status, body, replayed = await run_in_threadpool(self._handle, req, request_id)
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        except StripeError as err:
            status, body = err.status, json.dumps(err.body())
            headers.update(err.headers)
        if slow and self.faults is not None:
            await asyncio.sleep(self.faults.faults.slow_seconds)
        return Response(body, status, headers, media_type="application/json")

    def _authenticate(self, request: Request, params: dict[str, Any]) -> str:
        auth = request.headers.get("authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth[7:].strip()
        elif auth.startswith("Basic "):
            key = base64.b64decode(auth[6:]).decode(errors="replace").split(":")[0]
        from_form = publishable.key_from_params(params)
        key = key or from_form
        if key.startswith(self.sb.config.publishable_key_prefix):
            return key
        if not key:
            raise StripeError(401, "invalid_request_error",
                              "You did not provide an API key. Provide it in the Authorization "
                              "header as a Bearer token.")
        if not key.startswith(self.sb.config.api_key_prefix):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            raise StripeError(401, "invalid_request_error",
                              f"Invalid API Key provided: {shown}", code="api_key_invalid")
        return key

    def _handle(self, req: ApiRequest, request_id: str) -> tuple[int, str, bool]:
        key = f"{req.api_key}:{req.idempotency_key}" if req.idempotency_key else None
        if req.method != "POST" or key is None:
            status, body = self._dispatch(req, request_id)
            return status, body, False
        fingerprint = json.dumps([req.path, req.params], sort_keys=True)
        with self._guard:
            if key in self._in_flight:
                raise StripeError(
                    409, "idempotency_error",
                    "There is currently another in-progress request using this Idempotent "
                    "Key (that probably means you submitted twice, and the other request is "
                    "still going through). Please retry this request later.",
                    code="idempotency_key_in_use",
                )
            self._in_flight.add(key)
        try:
            with self.sb.lock:
                seen = self.sb.store.idempotency.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise StripeError(
                        400, "idempotency_error",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{req.idempotency_key}' if you meant to execute a different request.",
                    )
                return seen[1], seen[2], True
            status, body = self._dispatch(req, request_id)
            with self.sb.unit():
                self.sb.store.remember(key, fingerprint, status, body)
            return status, body, False
        finally:
            with self._guard:
                self._in_flight.discard(key)

    def _dispatch(self, req: ApiRequest, request_id: str) -> tuple[int, str]:
        for router in ROUTERS:
            found = router.match(req.method, req.path)
            if found:
                break
        else:
            err = invalid(f"Unrecognized request URL ({req.method}: {req.path}). Please see "
                          "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                          code="")
            err.status = 404
            return 404, json.dumps(err.body())
        route, args = found
        sb = self.sb
        if not self.sb.config.public_url:
            sb.base_url = req.base_url
        try:
            with sb.unit():
                run_all_due(sb)
            client = publishable.admit(req.method, route.path, req)
            check_params(route.operation, req.params)
            check_expand_depth(get_list(req.params, "expand"))
            with sb.unit(request_id, req.idempotency_key):
                if client is not None:
                    publishable.bind(sb, req.method, route.path, args, req, client)
                result = route.handler(sb, req, **args)
                expand = [str(x) for x in get_list(req.params, "expand")]
                body = publishable.visible(render(sb, result, expand), req)
            with sb.unit():
                run_all_due(sb)
        except StripeError as err:
            return err.status, json.dumps(err.body())
        except Exception:  # a sandbox bug still answers in Stripe's shape, and is logged
            log.exception("sandbox error on %s %s", req.method, req.path)
            bug = StripeError(500, "api_error", "An unexpected error occurred in the sandbox.")
            return 500, json.dumps(bug.body())
        return 200, json.dumps(body)


def _endpoint(method: str, path: str) -> str:
    """The named operation a path belongs to (`GET /v1/subscriptions/{id}`), which Stripe's
    per-endpoint limit counts; an unknown path is its own endpoint."""
    for router in ROUTERS:
        found = router.match(method, path)
        if found:
            return f"{method} {found[0].path}"
    return f"{method} {path}"


async def _fingerprint(request: Request, path: str) -> str:
    body = await request.body() if request.method == "POST" else b""
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return "|".join((request.method, path, request.url.query,
                     request.headers.get("idempotency-key", ""), digest))


async def _read_params(request: Request) -> dict[str, Any]:
    pairs: list[tuple[str, str]] = list(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method == "POST":
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json") and raw:
            data = json.loads(raw)
            return data if isinstance(data, dict) else {}
        pairs += parse_qsl(raw, keep_blank_values=True)
    return decode_form(pairs)


def _base_url(request: Request, sb: Sandbox) -> str:
    if sb.config.public_url:
        return sb.config.public_url.rstrip("/")
    from .pages import base_url

    return base_url(request)


def create_app(sandbox: Sandbox | None = None, config: SandboxConfig | None = None) -> Starlette:
    """The sandbox as an ASGI app; mount it anywhere or serve it alone."""
    from .pages import page_routes

    sb = sandbox or Sandbox(config)
    api = _Api(sb)
    routes: list[BaseRoute] = [
        Route("/v1/{path:path}", api.handle, methods=["GET", "POST", "DELETE"]),
        *page_routes(sb),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sb
    return app

