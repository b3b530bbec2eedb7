"""The OpenAPI document as the contract: every operation's error responses with the error
shape and the codes it can answer, bearer auth as a security scheme, enums for the customer
type. Done here, over the document FastAPI generates, so route modules only declare their
handlers; ``tests/api/test_openapi_contract.py`` runs schemathesis against it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from plangate.api.operation_descriptions import DESCRIPTIONS
from plangate.api.operation_docs import (
    AUTH_401,
    CUSTOMER_403,
    OPERATION_ERRORS,
    OPTIONAL_AUTH,
    PUBLIC,
    SERVER_ONLY,
)
from plangate.api.schemas import CUSTOMER_TYPES, GrantOut, ItemChanged
from plangate.domain.ids import ID_PATTERN

C = "/v1/customers/{customer_type}/{customer_id}"
_STATUS_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    402: "Payment failed",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Catalog invalid",
    500: "Internal error (quote `request_id`)",
    502: "Payment provider failed",
    503: "Not configured, or the payment provider unavailable for now",
}
_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    409: "conflict_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
}

# The app's own ids, checked by one rule (domain/ids.py) that the document states.
ID_PARAMETERS = {"customer_id", "team_id", "user_id"}
# Handlers that answer a JSONResponse document the body they really send.
RESPONSE_MODELS: dict[tuple[str, str], tuple[int, type[Any]]] = {
    ("POST", C + "/items/{item_id}/changes"): (200, ItemChanged),
    ("POST", C + "/items/{item_id}/consume"): (200, ItemChanged),
    ("POST", C + "/products"): (201, GrantOut),
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "a retry with the same key and body answers the first response; the same "
    "key with another body is 409 `idempotency_key_reused`",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

RETRY_AFTER_HEADER = {
    "description": "with `gateway_unavailable`: seconds to wait before retrying (with the same "
    "Idempotency-Key, so that what Stripe did do is not done twice)",
    "schema": {"type": "integer"},
}
REQUEST_ID_HEADER = {
    "description": "names this request in plangate's logs; an incoming sane X-Request-Id is kept",
    "schema": {"type": "string"},
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "code", "message", "param"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "invalid_request_error",
                        "authentication_error",
                        "permission_error",
                        "conflict_error",
                        "api_error",
                    ],
                },
                "code": {"type": "string", "description": "stable; branch on this"},
                "message": {"type": "string", "description": "for people; may change"},
                "param": {
                    "type": ["string", "null"],
                    "description": "the parameter at fault, when there is one",
                },
                "request_id": {"type": "string", "description": "on a 500: quote it"},
                "problems": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def _common_errors(
    method: str, path: str, operation: dict[str, Any]
) -> dict[int, set[str]]:
    key = (method, path)
    errors: dict[int, set[str]] = {500: {"internal_error"}}
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if params or has_body:
        errors.setdefault(400, set()).update({"parameter_invalid", "parameter_missing"})
    if has_body or method in ("POST", "PUT", "PATCH"):
        errors.setdefault(400, set()).add("body_invalid")
        errors[413] = {"request_too_large"}
    if any(p["in"] == "path" for p in params):
        # An empty or slash-holding segment names no route.
        errors.setdefault(404, set()).add("route_not_found")
    if "{customer_type}" in path:
        errors.setdefault(400, set()).update({"customer_type_invalid", "customer_id_invalid"})
    if key not in PUBLIC:
        errors[401] = set(AUTH_401)
        if key in SERVER_ONLY:
            errors.setdefault(403, set()).add("server_only")
        if "{customer_type}" in path or "{team_id}" in path or key in (
            ("POST", "/v1/checkout-sessions"),
            ("GET", "/v1/entitlement-token"),
        ):
            errors.setdefault(403, set()).update(CUSTOMER_403)
    if any(p["name"] == "Idempotency-Key" for p in params):
        errors.setdefault(400, set()).add("idempotency_key_invalid")
        errors.setdefault(409, set()).update(
            {"idempotency_key_reused", "idempotency_request_in_progress"}
        )
    for status, codes in OPERATION_ERRORS.get(key, {}).items():
        errors.setdefault(status, set()).update(codes)
    return errors


def _error_response(status: int, codes: Iterable[str]) -> dict[str, Any]:
    ordered = sorted(codes)
    listed = ", ".join(f"`{code}`" for code in ordered)
    error_type = _TYPES.get(status, "invalid_request_error")
    response: dict[str, Any] = {
        "description": f"{_STATUS_DESCRIPTIONS.get(status, 'Error')} (`{error_type}`): {listed}",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "x-error-codes": ordered,
    }
    if "gateway_unavailable" in ordered:
        response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    return response


def _tidy_parameters(method: str, path: str, operation: dict[str, Any]) -> None:
    params = [
        p
        for p in operation.get("parameters", [])
        if not (p["in"] == "header" and p["name"].lower() == "authorization")
    ]
    for param in params:
        schema = param.setdefault("schema", {})
        if param["name"] == "customer_type":
            schema.pop("anyOf", None)
            schema.pop("maxLength", None)
            schema.update({"type": "string", "enum": list(CUSTOMER_TYPES)})
            if not param.get("required"):
                schema["nullable"] = False
        elif param["in"] == "path":
            schema.setdefault("minLength", 1)
            schema.setdefault("maxLength", 255)
        if param["name"] in ID_PARAMETERS:
            for branch in schema.get("anyOf", [schema]):
                if branch.get("type") == "string":
                    branch["pattern"] = ID_PATTERN
    # Minting a customer session records nothing, so it takes no Idempotency-Key.
    if method == "POST" and (method, path) not in PUBLIC | {("POST", "/v1/customer-sessions")} and (
        "requestBody" in operation or path.endswith("/resume")
    ):
        params.append(dict(IDEMPOTENCY_KEY))
    operation["parameters"] = params


STRIPE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "a Stripe event, signed by Stripe in `Stripe-Signature` over the raw body",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 255},
        "type": {"type": "string", "minLength": 1, "maxLength": 100},
        "created": {"type": "integer"},
        "data": {"type": "object"},
    },
}
STRIPE_SIGNATURE = {
    "name": "Stripe-Signature",
    "in": "header",
    "required": True,
    "description": "`t=<unix time>,v1=<HMAC-SHA256 of \"t.<body>\">`; within 300 s of now, "
    "either way",
    "schema": {"type": "string"},
}

# The Standard Webhooks headers of an identity message (Svix's ``svix-*`` names also work).
IDENTITY_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^[!-~]+$", "maxLength": 255},
     "description": "the message's id, the same on every retry of it (also `svix-id`)"},
    {"name": "webhook-timestamp", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 20},
     "description": "unix seconds; within 300 s of now, either way (also `svix-timestamp`)"},
    {"name": "webhook-signature", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^[ -~]+$", "maxLength": 4096},
     "description": "space-separated `v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">` "
     "(also `svix-signature`)"},
]
IDENTITY_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "an identity provider's event (Clerk: `user.updated`, `user.deleted`, "
    "`organization.updated`, `organization.deleted`; others are acknowledged)",
    "required": ["type", "data"],
    "properties": {"type": {"type": "string", "minLength": 1}, "data": {"type": "object"}},
}


def _string_format(prop: dict[str, Any], format_: str) -> None:
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "string":
            branch["format"] = format_


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "a secret key (`sk_...`, the app's server) or an end user's token "
            "(a client)",
        }
    }
    for name, model in (("ItemChanged", ItemChanged), ("GrantOut", GrantOut)):
        schemas.setdefault(
            name, model.model_json_schema(ref_template="#/components/schemas/{model}")
        )
    # The id rule (domain/ids.py) where bodies carry the app's ids; the SDK imports the
    # models, so the rule is stated here rather than on them.
    schemas["CheckoutSessionIn"]["properties"]["customer_id"]["pattern"] = ID_PATTERN
    session = schemas["CustomerSessionIn"]["properties"]
    session["user_id"]["pattern"] = ID_PATTERN
    session["teams"]["propertyNames"] = {"pattern": ID_PATTERN, "maxLength": 255}
    for model_name, field in (
        ("CheckoutSessionIn", "success_url"),
        ("CheckoutSessionIn", "cancel_url"),
        ("PortalIn", "return_url"),
        ("SetupIn", "return_url"),
    ):
        _string_format(schemas[model_name]["properties"][field], "uri")
    for path, item in schema["paths"].items():
        for method_lower, operation in item.items():
            method = method_lower.upper()
            key = (method, path)
            if key == ("POST", "/v1/stripe/webhooks"):
                operation["parameters"] = [STRIPE_SIGNATURE]
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": STRIPE_EVENT}},
                }
            if key == ("POST", "/v1/identity/webhooks"):
                operation["parameters"] = [dict(h) for h in IDENTITY_HEADERS]
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": IDENTITY_EVENT}},
                }
            _tidy_parameters(method, path, operation)
            if key in DESCRIPTIONS:
                operation["description"] = DESCRIPTIONS[key]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if key in RESPONSE_MODELS:
                status, model = RESPONSE_MODELS[key]
                responses[str(status)] = {
                    "description": "Successful Response",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                }
            if key in PUBLIC:
                operation["security"] = []
            elif key in OPTIONAL_AUTH:
                operation["security"] = [{}, {"bearer": []}]
            else:
                operation["security"] = [{"bearer": []}]
            for status, codes in sorted(_common_errors(method, path, operation).items()):
                responses[str(status)] = _error_response(status, codes)
            for response in responses.values():
                response.setdefault("headers", {})["X-Request-Id"] = REQUEST_ID_HEADER
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

