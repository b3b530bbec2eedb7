"""plangate: self-hosted billing and entitlements on top of Stripe.

This is the server. Apps call it through the REST API, or from Python through the SDK, its
own distribution: ``pip install plangate-sdk``, then ``from plangate_sdk import Client``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
