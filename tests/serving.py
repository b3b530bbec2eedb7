"""Test HTTP servers (JWKS, webhook receivers) served from a background thread."""

from __future__ import annotations

import threading
from socketserver import BaseServer

# serve_forever checks for shutdown() once per poll interval (0.5 s by default): every test
# that stops a server would wait that long.
POLL_SECONDS = 0.02


def serve_in_background(server: BaseServer) -> threading.Thread:
    """Serve until ``server.shutdown()``, which then returns within ``POLL_SECONDS``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
    )
    thread.start()
    return thread
