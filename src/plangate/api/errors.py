"""The API's one error shape: ``{"error": {"type", "code", "message", "param"}}``.

Every refusal leaves through here, FastAPI's own validation errors and unknown routes
included, so clients can rely on ``code`` and never see a framework's default body. The
unexpected (a 500) is answered by the EdgeGuard middleware (api/limits.py).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, compile_path

from plangate.domain.catalog import CatalogInvalid
from plangate.domain.money import MoneyError
from plangate.errors import PlangateError

_STATUS_TYPES = {401: "authentication_error", 403: "permission_error", 409: "conflict_error"}
_STATUS_CODES = {
    # FastAPI's own 400: a body it could not read as JSON (too deep, not UTF-8).
    400: "body_invalid",
    404: "route_not_found",
    405: "method_not_allowed",
    401: "authentication_required",
    403: "forbidden",
    413: "request_too_large",
    415: "unsupported_media_type",
}

# Parameters whose refusal has a code of its own, which callers can branch on.
_PARAM_CODES = {
    "expires_at": "expires_at_invalid",
    "days": "days_invalid",
    "address.country": "country_invalid",
    "tax_ids.type": "tax_id_type_invalid",
}


def error_response(
    status: int, type_: str, code: str, message: str, param: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "code": code, "message": message, "param": param}
    body.update(extra)
    return JSONResponse({"error": body}, status_code=status)


def _param_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the most specific documented path template that matches the path, as
    the API document groups operations (on ``/products/switch``: POST, not also the DELETE
    of ``/products/{product_id}``); for undocumented routes, whatever the router serves."""
    path = request.url.path
    candidates = []
    for template, item in request.app.openapi().get("paths", {}).items():
        regex, _, _ = compile_path(template)
        if regex.match(path):
            static = len(re.sub(r"\{[^}]*\}", "", template))
            candidates.append((static, sorted(m.upper() for m in item)))
    if candidates:
        return max(candidates)[1]
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PlangateError)
    async def _plangate_error(_: Request, exc: PlangateError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(CatalogInvalid)
    async def _catalog_invalid(_: Request, exc: CatalogInvalid) -> JSONResponse:
        problems = [{"path": p.path, "code": p.code, "message": p.message} for p in exc.problems]
        return error_response(
            422,
            "invalid_request_error",
            "catalog_invalid",
            f"the catalog has {len(problems)} problem(s); nothing was applied",
            problems=problems,
        )

    @app.exception_handler(MoneyError)
    async def _money_error(_: Request, exc: MoneyError) -> JSONResponse:
        return error_response(400, "invalid_request_error", exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        loc = tuple(first.get("loc", ()))
        kind = first.get("type")
        if kind == "json_invalid":
            # The location is a character offset into the body, no parameter.
            context = first.get("ctx")
            reason = context.get("error", "malformed") if isinstance(context, dict) else "malformed"
            offset = loc[1] if len(loc) > 1 else "?"
            return error_response(
                400,
                "invalid_request_error",
                "body_invalid",
                f"the request body is not valid JSON: {reason} (at character {offset})",
            )
        if loc == ("body",) and kind in ("model_attributes_type", "dict_type", "model_type"):
            return error_response(
                400, "invalid_request_error", "body_invalid", "the request body must be a "
                "JSON object",
            )
        param = _param_of(loc)
        if kind == "missing":
            code = "parameter_missing"
        else:
            # List indices left out: `tax_ids.0.type` has the code of `tax_ids.type`.
            code = _PARAM_CODES.get(re.sub(r"\.\d+(?=\.|$)", "", param or ""), "parameter_invalid")
        return error_response(
            400,
            "invalid_request_error",
            code,
            f"{param or 'request'}: {first.get('msg', 'invalid')}",
            param,
            problems=[
                {"param": _param_of(tuple(e.get("loc", ()))), "message": e.get("msg")}
                for e in errors
            ],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _STATUS_TYPES.get(exc.status_code, "invalid_request_error")
        if exc.status_code >= 500:
            type_ = "api_error"
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, type_, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's ``Allow`` names the methods of the first route on the path only.
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    # Unexpected exceptions are answered by the EdgeGuard middleware (api/limits.py), which
    # logs them with the request id and, unlike Starlette's last-resort handler, does not
    # re-raise: the server keeps the connection open.
