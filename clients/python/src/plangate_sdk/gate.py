"""Access checks for web apps, independent of the framework: find the customer of a request,
ask whether they hold a feature or plan, and describe the refusal.

The framework modules (``plangate_sdk.fastapi``, ``.flask``, ``.django``) turn a
:class:`Denial` into their own response; everything they share is here.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

import anyio.to_thread

from plangate_sdk.errors import PlangateError
from plangate_sdk.tokens import EntitlementVerifier, InvalidTokenError

RequestT = TypeVar("RequestT")
CustomerRef = tuple[str, str]
"""``(customer_type, customer_id)``"""


class EntitlementSource(Protocol):
    """Answers ``has()`` for a customer: :class:`~plangate_sdk.Client`,
    :class:`~plangate_sdk.OfflineEntitlements`, or :class:`~plangate_sdk.AsyncClient`
    (whose ``has`` is awaitable)."""

    def has(
        self,
        customer_type: str,
        customer_id: str,
        *,
        feature: str | None = None,
        plan: str | None = None,
    ) -> bool | Awaitable[bool]: ...


@dataclass(frozen=True)
class Requirement:
    feature: str | None = None
    plan: str | None = None

    def __post_init__(self) -> None:
        if self.feature is None and self.plan is None:
            raise ValueError("require() needs feature= or plan= (or both)")

    def checks(self) -> list[tuple[str | None, str | None]]:
        """``(feature, plan)`` pairs to ask ``has()``, features first."""
        pairs: list[tuple[str | None, str | None]] = []
        if self.feature is not None:
            pairs.append((self.feature, None))
        if self.plan is not None:
            pairs.append((None, self.plan))
        return pairs


@dataclass(frozen=True)
class Denial:
    """Why a request may not go on, as a status and the API's error body."""

    status: int
    body: dict[str, Any]

    @classmethod
    def of(cls, status: int, type_: str, code: str, message: str, **extra: Any) -> Denial:
        error: dict[str, Any] = {"type": type_, "code": code, "message": message, "param": None}
        error.update(extra)
        return cls(status, {"error": error})


@dataclass(frozen=True)
class Decision:
    """The request's customer (when known) and, if it may not go on, why."""

    customer: CustomerRef | None
    denial: Denial | None

    @property
    def allowed(self) -> bool:
        return self.denial is None


HasCheck = Callable[[str | None, str | None], bool]


class Gate(Generic[RequestT]):
    """Decides whether a request's customer meets a :class:`Requirement`.

    Either ``Gate(source, customer=...)``: ``customer(request)`` names the customer and
    ``source.has()`` answers (a Client asks plangate; OfflineEntitlements answers from a
    cached signed token). Or ``Gate.from_request_token(verifier, token=...)``: the request
    itself carries a plangate entitlement token (e.g. a header set by your front service).
    """

    def __init__(
        self,
        source: EntitlementSource | None = None,
        *,
        customer: Callable[[RequestT], CustomerRef | None] | None = None,
        verifier: EntitlementVerifier | None = None,
        token: Callable[[RequestT], str | None] | None = None,
        pricing_url: str | None = None,
    ) -> None:
        if (source is None) == (verifier is None):
            raise ValueError("give either a source (with customer=) or a verifier (with token=)")
        if source is not None and customer is None:
            raise ValueError("customer= is needed to know whose entitlements to check")
        if verifier is not None and token is None:
            raise ValueError("token= is needed to read the entitlement token of a request")
        self.source = source
        self.customer = customer
        self.verifier = verifier
        self.token = token
        self.pricing_url = pricing_url

    @classmethod
    def from_request_token(
        cls,
        verifier: EntitlementVerifier,
        *,
        token: Callable[[RequestT], str | None],
        pricing_url: str | None = None,
    ) -> Self:
        return cls(verifier=verifier, token=token, pricing_url=pricing_url)

    @property
    def is_async(self) -> bool:
        return self.source is not None and inspect.iscoroutinefunction(self.source.has)

    def check(self, request: RequestT, requirement: Requirement) -> Decision:
        """Whether the request may go on. Sync sources only (see :meth:`acheck`)."""
        if self.is_async:
            raise TypeError("this gate's source is async: use acheck()")
        try:
            found = self._lookup(request)
            if found is None:
                return Decision(None, self._unauthenticated())
            customer, has = found
            for feature, plan in requirement.checks():
                if not has(feature, plan):
                    return Decision(customer, self.denial(feature, plan))
            return Decision(customer, None)
        except InvalidTokenError as exc:
            if self.verifier is None:  # a token plangate gave this backend: misconfiguration
                return Decision(None, self._unavailable(exc))
            return Decision(None, Denial.of(401, "authentication_error", exc.code, exc.message))
        except PlangateError as exc:
            return Decision(None, self._unavailable(exc))

    async def acheck(self, request: RequestT, requirement: Requirement) -> Decision:
        """:meth:`check` for async frameworks; a sync source runs in a worker thread."""
        if not self.is_async:
            return await anyio.to_thread.run_sync(self.check, request, requirement)
        assert self.source is not None and self.customer is not None
        customer = self.customer(request)
        if customer is None:
            return Decision(None, self._unauthenticated())
        try:
            for feature, plan in requirement.checks():
                allowed = self.source.has(customer[0], customer[1], feature=feature, plan=plan)
                if not (await allowed if inspect.isawaitable(allowed) else allowed):
                    return Decision(customer, self.denial(feature, plan))
            return Decision(customer, None)
        except PlangateError as exc:
            return Decision(customer, self._unavailable(exc))

    def denial(self, feature: str | None, plan: str | None) -> Denial:
        extra: dict[str, Any]
        if feature is not None:
            code, what, extra = "feature_required", f"the feature {feature!r}", {"feature": feature}
        else:
            code, what, extra = "plan_required", f"the plan {plan!r}", {"plan": plan}
        return Denial.of(
            403,
            "permission_error",
            code,
            f"this needs {what}; upgrade to get it",
            pricing_url=self.pricing_url,
            **extra,
        )

    def _lookup(self, request: RequestT) -> tuple[CustomerRef, HasCheck] | None:
        """The request's customer and how to ask about them; ``None`` if there is none."""
        if self.verifier is not None:
            assert self.token is not None
            token = self.token(request)
            if not token:
                return None
            entitlements = self.verifier.verify(token)

            def has_in_token(feature: str | None, plan: str | None) -> bool:
                return entitlements.has(feature=feature, plan=plan)

            customer = (entitlements.customer_type, entitlements.customer_id)
            return customer, has_in_token
        assert self.source is not None and self.customer is not None
        found = self.customer(request)
        if found is None:
            return None
        source, (customer_type, customer_id) = self.source, found

        def has_at_source(feature: str | None, plan: str | None) -> bool:
            return bool(source.has(customer_type, customer_id, feature=feature, plan=plan))

        return found, has_at_source

    @staticmethod
    def _unauthenticated() -> Denial:
        return Denial.of(
            401, "authentication_error", "authentication_required", "sign in to use this"
        )

    @staticmethod
    def _unavailable(exc: PlangateError) -> Denial:
        # Fail closed: without an answer from plangate, nothing paid-for is served.
        return Denial.of(
            503,
            "api_error",
            "entitlements_unavailable",
            f"entitlements could not be checked ({exc.code}); try again",
        )
