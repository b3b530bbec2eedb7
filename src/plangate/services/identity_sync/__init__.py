"""Identity sync: the identity provider's user and organization webhooks (Clerk's, signed
by Svix with the Standard Webhooks scheme) keep plangate's customers, and their Stripe
customers, up to date. See docs/auth.md, "Identity webhooks"."""

from plangate.services.identity_sync.clerk import IdentityEvent, parse_event
from plangate.services.identity_sync.signature import VerifiedMessage, secret_key, sign, verify
from plangate.services.identity_sync.sync import IdentityDeps, handle_message

__all__ = [
    "IdentityDeps",
    "IdentityEvent",
    "VerifiedMessage",
    "handle_message",
    "parse_event",
    "secret_key",
    "sign",
    "verify",
]
