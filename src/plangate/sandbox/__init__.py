"""A local, stateful Stripe: the REST API of a subscription SaaS, hosted pages and signed
webhooks, for `make dev` and the integration tests. Imports nothing else from plangate."""

from .app import create_app
from .config import Chaos, SandboxConfig
from .core import Sandbox
from .limits import Faults, RateLimits
from .server import serve
from .testing import CheckoutDeclined, pay_checkout_session

__all__ = ["Chaos", "CheckoutDeclined", "Faults", "RateLimits", "Sandbox", "SandboxConfig",
           "create_app", "pay_checkout_session", "serve"]
