"""plangate: self-hosted billing and entitlements on top of Stripe.

``from plangate import Client`` is all an app needs; the SDK is loaded on first use so that
importing the server does not import the client, and the other way round.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_SDK_EXPORTS = frozenset(
    {
        "Client",
        "AsyncClient",
        "PlangateError",
        "InvalidRequestError",
        "NotFoundError",
        "AuthenticationError",
        "PermissionDeniedError",
        "ConflictError",
        "InsufficientQuantityError",
        "IdempotencyKeyReusedError",
        "RateLimitError",
        "APIError",
        "APIConnectionError",
        "EntitlementVerifier",
        "Entitlements",
        "OfflineEntitlements",
    }
)

__all__ = ["__version__", *sorted(_SDK_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _SDK_EXPORTS:
        from plangate import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'plangate' has no attribute {name!r}")
