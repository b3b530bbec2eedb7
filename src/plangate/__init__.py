"""plangate: self-hosted billing and entitlements on top of Stripe."""

__version__ = "0.1.0"
