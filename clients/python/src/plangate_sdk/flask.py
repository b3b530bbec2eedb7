"""Flask: ``@require(feature="export")`` on a view answers 403 ``feature_required`` (with
your pricing page) to a customer without the feature; ``flask.g.plangate_customer`` holds
the customer for the view.

    gate = Plangate(client, customer=lambda request: ("user", session["user_id"]),
                    pricing_url="https://example.com/pricing")
    gate.init_app(app)

    @app.get("/export")
    @require(feature="export")
    def export(): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

try:
    from flask import Flask, Request, current_app, g, jsonify, request
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("plangate_sdk.flask needs Flask: pip install flask") from exc

from plangate_sdk.gate import CustomerRef, Gate, Requirement

EXTENSION = "plangate"
View = TypeVar("View", bound=Callable[..., Any])


class Plangate(Gate[Request]):
    def init_app(self, app: Flask) -> None:
        """Makes this gate the one :func:`require` uses in ``app``."""
        app.extensions[EXTENSION] = self

    def require(
        self, *, feature: str | None = None, plan: str | None = None
    ) -> Callable[[View], View]:
        return _decorator(lambda: self, Requirement(feature, plan))


def require(*, feature: str | None = None, plan: str | None = None) -> Callable[[View], View]:
    """A decorator checked by the app's gate (:meth:`Plangate.init_app`)."""
    return _decorator(_app_gate, Requirement(feature, plan))


def _app_gate() -> Gate[Request]:
    gate = current_app.extensions.get(EXTENSION)
    if not isinstance(gate, Gate):
        raise RuntimeError("no plangate gate on this app: call Plangate(...).init_app(app)")
    return gate


def _decorator(
    find_gate: Callable[[], Gate[Request]], requirement: Requirement
) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            decision = find_gate().check(request, requirement)
            if decision.denial is not None:
                return jsonify(decision.denial.body), decision.denial.status
            g.plangate_customer = decision.customer
            return view(*args, **kwargs)

        return cast(View, checked)

    return decorate


__all__ = ["CustomerRef", "Plangate", "require"]
