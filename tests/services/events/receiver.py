"""A real HTTP receiver for outbound webhooks: a threaded server on 127.0.0.1 that records
every request and answers as told (down for the first N requests, a redirect, slow)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.serving import serve_in_background


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    # time.perf_counter() when it arrived (the benchmark times commit to arrival)
    at: float = 0.0


@dataclass
class Receiver:
    fail_first: int = 0
    status: int = 200
    redirect_to: str | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                arrived = time.perf_counter()
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    down = len(receiver.received) < receiver.fail_first
                    status = 503 if down else receiver.status
                    if receiver.redirect_to:
                        status = 307
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body, status,
                                 arrived)
                    )
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("location", receiver.redirect_to)
                answer = b"down for maintenance" if down else b'{"ok":true}' + b" " * 2000
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = serve_in_background(self.server)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def successes(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def arrivals(self) -> dict[str, float]:
        """When each webhook-id first arrived."""
        with self._lock:
            first: dict[str, float] = {}
            for r in self.received:
                first.setdefault(r.headers.get("webhook-id", ""), r.at)
            return first

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
