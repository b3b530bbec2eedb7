"""FastAPI: ``Depends(require(feature="export"))`` answers 403 ``feature_required`` (with
your pricing page) to a customer without the feature, and gives the route the customer.

    gate = Plangate(client, customer=lambda request: ("user", current_user_id(request)),
                    pricing_url="https://example.com/pricing")
    gate.install(app)

    @app.get("/export")
    def export(customer: CustomerRef = Depends(require(feature="export"))): ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

try:
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("plangate_sdk.fastapi needs FastAPI: pip install fastapi") from exc

from plangate_sdk.gate import CustomerRef, Denial, Gate, Requirement

STATE_ATTRIBUTE = "plangate_gate"
Dependency = Callable[[Request], Awaitable[CustomerRef]]


class EntitlementDenied(HTTPException):
    """Raised by the dependency. With :meth:`Plangate.install` it renders as the API's error
    body; without, FastAPI's default handler still answers with its status."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(denial.status, detail=denial.body["error"])
        self.denial = denial


class Plangate(Gate[Request]):
    def install(self, app: FastAPI) -> None:
        """Makes this gate the one :func:`require` uses, and renders its refusals."""
        setattr(app.state, STATE_ATTRIBUTE, self)
        app.add_exception_handler(EntitlementDenied, _render)

    def require(self, *, feature: str | None = None, plan: str | None = None) -> Dependency:
        requirement = Requirement(feature, plan)

        async def require_entitlement(request: Request) -> CustomerRef:
            return await _enforce(self, request, requirement)

        return require_entitlement


def require(*, feature: str | None = None, plan: str | None = None) -> Dependency:
    """A dependency checked by the gate installed on the app (:meth:`Plangate.install`)."""
    requirement = Requirement(feature, plan)

    async def require_entitlement(request: Request) -> CustomerRef:
        gate = getattr(request.app.state, STATE_ATTRIBUTE, None)
        if not isinstance(gate, Gate):
            raise RuntimeError("no plangate gate on this app: call Plangate(...).install(app)")
        return await _enforce(gate, request, requirement)

    return require_entitlement


async def _enforce(gate: Gate[Request], request: Request, requirement: Requirement) -> CustomerRef:
    decision = await gate.acheck(request, requirement)
    if decision.denial is not None:
        raise EntitlementDenied(decision.denial)
    assert decision.customer is not None
    return decision.customer


async def _render(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EntitlementDenied)
    return JSONResponse(exc.denial.body, status_code=exc.denial.status)


__all__ = ["CustomerRef", "EntitlementDenied", "Plangate", "require"]
