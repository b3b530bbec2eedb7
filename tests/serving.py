"""Test HTTP servers (JWKS, webhook receivers, the apps under uvicorn) served from a
background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from socketserver import BaseServer
from typing import Any

import uvicorn

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


class PromptServer(uvicorn.Server):
    """uvicorn for the tests' servers, stopped within milliseconds of ``should_exit``.

    uvicorn looks at ``should_exit`` every 0.1 s and then waits 0.1 s more for connections
    to wind down: a quarter of a second per server, which every test that starts one would pay
    (some hundreds of them). Here the flag is looked at every ``POLL_SECONDS`` and shutdown
    waits only while a connection or a request is still open (at most ``DRAIN_SECONDS``)."""

    DRAIN_SECONDS = 5.0

    @classmethod
    def for_app(cls, app: Any, **config: Any) -> PromptServer:
        """``app`` at warning level without lifespan. uvicorn's logging is left alone: its
        own configuration would bind its loggers to the stderr of the test that started the
        server (pytest's capture), which a server kept across tests writes to once closed."""
        return cls(uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None,
                                  **config))

    async def main_loop(self) -> None:
        ticks = 0
        # uvicorn's own tick (date header, request limit) keeps its 0.1 s period.
        per_tick = max(1, round(0.1 / POLL_SECONDS))
        while not self.should_exit:
            await asyncio.sleep(POLL_SECONDS)
            ticks += 1
            if ticks % per_tick == 0 and await self.on_tick(ticks // per_tick):
                return

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        # An idle keep-alive connection closes at once, a busy one after its response.
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + self.DRAIN_SECONDS
        while (self.server_state.connections or self.server_state.tasks) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel(msg="the test server stopped")
        for server in self.servers:
            await server.wait_closed()
