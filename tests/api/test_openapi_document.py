"""The OpenAPI document names, for every operation, the errors it can answer (the error shape
and the stable codes), how to authenticate, and the customer type's values."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

C = "/v1/customers/{customer_type}/{customer_id}"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def test_every_operation_documents_its_errors(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        responses = op["responses"]
        # 422 is a catalog that does not validate, never FastAPI's default validation error.
        if "422" in responses:
            assert responses["422"]["x-error-codes"] == ["catalog_invalid"], (method, path)
        assert "500" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
                assert response["x-error-codes"], (method, path, status)
            assert "X-Request-Id" in response["headers"]
        if op["security"]:
            assert "401" in responses and "authentication_required" in responses["401"][
                "x-error-codes"
            ]


def test_codes_are_listed_where_they_can_happen(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    consume = paths[C + "/items/{item_id}/consume"]["post"]["responses"]
    assert "insufficient_quantity" in consume["409"]["x-error-codes"]
    assert "idempotency_key_reused" in consume["409"]["x-error-codes"]
    assert "request_too_large" in consume["413"]["x-error-codes"]
    assert consume["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ItemChanged"
    )
    webhooks = paths["/v1/stripe/webhooks"]["post"]
    assert webhooks["security"] == []
    assert {"signature_invalid", "event_invalid"} <= set(
        webhooks["responses"]["400"]["x-error-codes"]
    )


def test_parameters_use_enums_and_bearer_auth(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, op in _operations(spec):
        for param in op.get("parameters", []):
            assert param["name"].lower() != "authorization", (method, path)
            if param["name"] == "customer_type":
                assert param["schema"]["enum"] == ["user", "team", "custom"], (method, path)


def test_every_operation_is_described_for_its_callers(anonymous: TestClient) -> None:
    from plangate.api.operation_descriptions import DESCRIPTIONS
    from plangate.api.operation_docs import OPERATION_ERRORS

    spec = anonymous.get("/openapi.json").json()
    documented = {(method, path) for method, path, _ in _operations(spec)}
    # The tables name real operations (a renamed route would leave its codes behind) ...
    assert set(OPERATION_ERRORS) <= documented
    assert set(DESCRIPTIONS) == documented
    # ... and the descriptions are the callers', not the handlers' implementation notes.
    for method, path, op in _operations(spec):
        assert op["description"] == DESCRIPTIONS[(method, path)]
        assert "thread pool" not in op["description"]


def test_formats_are_stated(anonymous: TestClient) -> None:
    schemas = anonymous.get("/openapi.json").json()["components"]["schemas"]

    def formats(model: str, field: str) -> set[str]:
        prop = schemas[model]["properties"][field]
        return {b.get("format", "") for b in prop.get("anyOf", [prop])} - {""}

    assert formats("CheckoutSessionIn", "success_url") == {"uri"}
    assert formats("PortalIn", "return_url") == {"uri"}
    assert formats("ItemChangeIn", "expires_at") == {"date-time"}
    assert formats("CustomerOut", "created_at") == {"date-time"}
