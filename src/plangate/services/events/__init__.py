"""Events: the transactional outbox, webhook endpoints and their delivery.

Other capabilities report facts through :mod:`facts` (or :func:`record`) inside their own
transaction; this package alone writes the outbox, endpoint, delivery and attempt tables, and
imports no other capability.
"""

from plangate.services.events import facts
from plangate.services.events.outbox import envelope, record

__all__ = ["envelope", "facts", "record"]
