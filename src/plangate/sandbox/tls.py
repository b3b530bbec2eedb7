"""The sandbox's TLS context for the webhooks it sends and the pages its test helpers post.

Built once per process: httpx otherwise loads the CA bundle again (about 30 ms of CPU) for
every client it creates. The sandbox keeps its own copy rather than plangate's, as it imports
nothing from the rest of plangate.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    return httpx.create_ssl_context()
