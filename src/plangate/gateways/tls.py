"""The TLS context of plangate's outbound HTTPS (webhook deliveries, the identity provider's
JWKS, the dev stack's own probes).

httpx builds a new context for every client it creates unless given one, and loading the CA
bundle costs about 30 ms of CPU each time: a loop that creates a client per request would
spend more on that than on the request. One context per process, read-only once built, is
shared by every client (``ssl.SSLContext`` is safe to share between threads).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    return httpx.create_ssl_context()
