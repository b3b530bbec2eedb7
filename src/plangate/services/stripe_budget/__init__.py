"""The Stripe call budget: how many requests per second every process of an installation,
together, may send to Stripe (``PLANGATE_STRIPE_RATE_LIMIT``)."""

from plangate.services.stripe_budget.bucket import SharedCallBudget, budget_for

__all__ = ["SharedCallBudget", "budget_for"]
