"""A real plangate server for the SDK: the app under uvicorn in a thread, on a free port,
with a migrated SQLite database, a secret key and the example catalog applied.

One server serves the whole session; tests stay independent by using fresh customer ids.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from plangate.api.app import create_app
from plangate.clock import SystemClock
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from plangate_sdk import Client
from tests.serving import PromptServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CATALOG = ROOT / "examples" / "plangate.toml"


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    secret_key: str
    db: Database


class ServerThread:
    """uvicorn serving ``app`` on an already bound socket, so the port is known up front."""

    def __init__(self, app: object, sock: socket.socket) -> None:
        self.server = PromptServer.for_app(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bind_free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def plangate_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    path = tmp_path_factory.mktemp("sdk-server") / "plangate.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    db = Database(url, pool_size=5)
    with db.write() as session:
        secret = create_key(session, "sdk tests", datetime.now(UTC)).secret
    sock = bind_free_port()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(database_url=url, base_url=base_url), db=db, clock=SystemClock())
    server = ServerThread(app, sock)
    server.start()
    try:
        response = httpx.put(
            f"{base_url}/v1/catalog",
            content=EXAMPLE_CATALOG.read_bytes(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/toml"},
        )
        response.raise_for_status()
        yield RunningServer(base_url, secret, db)
    finally:
        server.stop()
        sock.close()
        db.dispose()


@pytest.fixture
def client(plangate_server: RunningServer) -> Iterator[Client]:
    with Client(plangate_server.secret_key, plangate_server.base_url, backoff=0.0) as sdk:
        yield sdk


@pytest.fixture
def user_id() -> str:
    """A customer id no other test uses."""
    return f"u_{uuid.uuid4().hex[:12]}"
