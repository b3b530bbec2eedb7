"""plangate's Python SDK: a sync and an async client for the REST API, typed errors, offline
entitlement checks from signed tokens, and access checks for FastAPI, Flask and Django
(``plangate.sdk.fastapi``, ``plangate.sdk.flask``, ``plangate.sdk.django``, imported on
demand so that none of those frameworks is needed here).

    from plangate.sdk import Client

    plangate = Client(api_key="sk_...", base_url="http://127.0.0.1:8000")
    if plangate.customer("user", "u1").has(feature="export"):
        ...
"""

from plangate.sdk.async_client import AsyncClient, AsyncCustomerHandle
from plangate.sdk.calls import UnknownNameWarning
from plangate.sdk.client import Client, CustomerHandle
from plangate.sdk.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    IdempotencyKeyReusedError,
    InsufficientQuantityError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlangateError,
    RateLimitError,
)
from plangate.sdk.gate import CustomerRef, Decision, Denial, EntitlementSource, Gate, Requirement
from plangate.sdk.models import CheckResult, EntitlementToken, GrantResult
from plangate.sdk.offline import OfflineEntitlements
from plangate.sdk.retry import RetryPolicy
from plangate.sdk.tokens import (
    Entitlements,
    EntitlementVerifier,
    ExpiredTokenError,
    InvalidTokenError,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AsyncCustomerHandle",
    "AuthenticationError",
    "CheckResult",
    "Client",
    "ConflictError",
    "CustomerHandle",
    "CustomerRef",
    "Decision",
    "Denial",
    "EntitlementSource",
    "EntitlementToken",
    "EntitlementVerifier",
    "Entitlements",
    "ExpiredTokenError",
    "Gate",
    "GrantResult",
    "IdempotencyKeyReusedError",
    "InsufficientQuantityError",
    "InvalidRequestError",
    "InvalidTokenError",
    "NotFoundError",
    "OfflineEntitlements",
    "PermissionDeniedError",
    "PlangateError",
    "RateLimitError",
    "Requirement",
    "RetryPolicy",
    "UnknownNameWarning",
]
