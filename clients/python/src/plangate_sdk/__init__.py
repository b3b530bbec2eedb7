"""plangate's Python SDK: a sync and an async client for the REST API, typed errors, offline
entitlement checks from signed tokens, and access checks for FastAPI, Flask and Django
(``plangate_sdk.fastapi``, ``plangate_sdk.flask``, ``plangate_sdk.django``, imported on
demand so that none of those frameworks is needed here). It needs httpx, pydantic and PyJWT,
nothing of the server.

    from plangate_sdk import Client

    plangate = Client(api_key="sk_...", base_url="http://127.0.0.1:8000")
    if plangate.customer("user", "u1").has(feature="export"):
        ...
"""

from plangate_sdk._async.client import AsyncClient, AsyncCustomerHandle
from plangate_sdk._sync.client import Client, CustomerHandle
from plangate_sdk.calls import UnknownNameWarning
from plangate_sdk.errors import (
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
from plangate_sdk.gate import CustomerRef, Decision, Denial, EntitlementSource, Gate, Requirement
from plangate_sdk.models import CheckResult, EntitlementToken, GrantResult
from plangate_sdk.offline import OfflineEntitlements
from plangate_sdk.retry import RetryPolicy
from plangate_sdk.tokens import (
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
