"""Settings an owner changes from the dashboard and that outlive a restart (kept in the
``settings`` table, which this package alone writes): today, blocking new purchases."""

from plangate.services.installation.switches import purchases_blocked, set_purchases_blocked

__all__ = ["purchases_blocked", "set_purchases_blocked"]
