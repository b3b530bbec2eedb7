"""The asynchronous client: the one implementation of every call. ``plangate_sdk._sync`` is
generated from it (``clients/python/scripts/generate_sync.py``)."""
