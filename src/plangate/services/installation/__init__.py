"""Settings an owner changes from the dashboard and that outlive a restart (kept in the
``settings`` table, which this package alone writes): blocking new purchases, test mode."""

from plangate.services.installation.switches import (
    persisted_gateway,
    purchases_blocked,
    set_purchases_blocked,
    set_test_gateway,
    starting_settings,
)

__all__ = ["persisted_gateway", "purchases_blocked", "set_purchases_blocked",
           "set_test_gateway", "starting_settings"]
