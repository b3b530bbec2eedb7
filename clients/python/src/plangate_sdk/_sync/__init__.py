"""The synchronous client, generated from ``plangate_sdk._async`` (never edited by hand)."""
