"""Django: ``@require(feature="export")`` on a view answers 403 ``feature_required`` (with
your pricing page) to a customer without the feature; ``request.plangate_customer`` holds
the customer for the view. Sync and async views.

    # settings.py: the gate, or the dotted path to it
    PLANGATE = "myapp.billing.gate"

    # myapp/billing.py
    gate = Plangate(client, customer=lambda request: ("user", str(request.user.pk)),
                    pricing_url="https://example.com/pricing")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

try:
    from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
    from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped, unused-ignore]
    from django.utils.module_loading import import_string  # type: ignore[import-untyped, unused-ignore]
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("plangate_sdk.django needs Django: pip install django") from exc

from plangate_sdk.gate import CustomerRef, Decision, Gate, Requirement

SETTING = "PLANGATE"
View = TypeVar("View", bound=Callable[..., Any])


class Plangate(Gate[HttpRequest]):
    def require(
        self, *, feature: str | None = None, plan: str | None = None
    ) -> Callable[[View], View]:
        return _decorator(lambda: self, Requirement(feature, plan))


def require(*, feature: str | None = None, plan: str | None = None) -> Callable[[View], View]:
    """A decorator checked by the gate named in ``settings.PLANGATE``."""
    return _decorator(settings_gate, Requirement(feature, plan))


def settings_gate() -> Gate[HttpRequest]:
    configured = getattr(settings, SETTING, None)
    gate = import_string(configured) if isinstance(configured, str) else configured
    if not isinstance(gate, Gate):
        raise RuntimeError(f"settings.{SETTING} must be a plangate gate or its dotted path")
    return gate


def _decorator(
    find_gate: Callable[[], Gate[HttpRequest]], requirement: Requirement
) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def checked_async(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                decision = await find_gate().acheck(request, requirement)
                if decision.denial is not None:
                    return _refusal(decision)
                request.plangate_customer = decision.customer
                return await view(request, *args, **kwargs)

            return cast(View, checked_async)

        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            decision = find_gate().check(request, requirement)
            if decision.denial is not None:
                return _refusal(decision)
            request.plangate_customer = decision.customer
            return view(request, *args, **kwargs)

        return cast(View, checked)

    return decorate


def _refusal(decision: Decision) -> JsonResponse:
    assert decision.denial is not None
    return JsonResponse(decision.denial.body, status=decision.denial.status)


__all__ = ["CustomerRef", "Plangate", "require"]
