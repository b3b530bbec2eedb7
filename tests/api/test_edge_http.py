"""The HTTP edge over a real uvicorn server: body-size limits before reading, request ids, a
500 that keeps the keep-alive connection usable; and the small HTTP courtesies (Allow on 405,
an index at /)."""

from __future__ import annotations

import json
import logging
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.settings import Settings
from plangate.store.db import Database
from tests.sdk.conftest import ServerThread, bind_free_port

LIMIT = 64 * 1024


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    secret_key: str


@pytest.fixture
def server(db: Database, clock: FrozenClock, secret_key: str) -> Iterator[Server]:
    settings = Settings(
        database_url=db.url.render_as_string(hide_password=False),
        gateway="test",
        max_request_bytes=LIMIT,
    )
    app = create_app(settings, db=db, clock=clock)

    async def boom() -> None:
        raise RuntimeError("a defect")

    app.add_api_route("/boom", boom, include_in_schema=False)
    sock = bind_free_port()
    thread = ServerThread(app, sock)
    thread.start()
    try:
        yield Server("127.0.0.1", sock.getsockname()[1], secret_key)
    finally:
        thread.stop()


def _connect(server: Server) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=10)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body, read off a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        rest += chunk
    return status, headers, rest[:length]


def _request(method: str, path: str, server: Server, extra: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {server.host}\r\n"
        f"Authorization: Bearer {server.secret_key}\r\n{extra}\r\n"
    ).encode()


def test_a_500_keeps_the_connection_and_names_its_request_id(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="plangate.api")
    with _connect(server) as sock:
        sock.sendall(_request("GET", "/boom", server))
        status, headers, body = _read_response(sock)
        assert status == 500
        error = json.loads(body)["error"]
        assert error["code"] == "internal_error" and error["type"] == "api_error"
        assert error["request_id"] == headers["x-request-id"]
        assert headers.get("connection") != "close"
        # The same socket answers the next request: the server did not hang up.
        sock.sendall(_request("GET", "/healthz", server))
        status, headers, _ = _read_response(sock)
        assert status == 200
    logged = [r for r in caplog.records if error["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_a_sane_incoming_request_id_is_kept_and_others_replaced(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_request("GET", "/boom", server, "X-Request-Id: lb-1234.abc\r\n"))
        _, headers, body = _read_response(sock)
        assert headers["x-request-id"] == "lb-1234.abc"
        assert json.loads(body)["error"]["request_id"] == "lb-1234.abc"
        sock.sendall(_request("GET", "/healthz", server, "X-Request-Id: <script>\r\n"))
        _, headers, _ = _read_response(sock)
        assert headers["x-request-id"].startswith("req_")


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(
            _request(
                "PUT",
                "/v1/customers/user/ada",
                server,
                "Content-Type: application/json\r\nContent-Length: 20000000\r\n",
            )
        )
        # Not a byte of the 20 MB is sent: the answer comes from the headers alone.
        status, _, body = _read_response(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_chunked_body_is_refused_while_it_streams(server: Server) -> None:
    chunk = b"x" * 16384
    sent = 0
    with _connect(server) as sock:
        sock.sendall(
            _request(
                "PUT",
                "/v1/customers/user/ada",
                server,
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
            )
        )
        while sent < 20_000_000:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        status, _, body = _read_response(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"
    # Answered while the body was still streaming, not after all 20 MB were read (what the
    # client sent beyond the limit sits in socket buffers, never in the app).
    assert sent < 10_000_000


def test_405_names_the_allowed_methods(api: TestClient) -> None:
    response = api.patch("/v1/customers/user/ada")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PUT"}


def test_the_root_is_an_index(anonymous: TestClient) -> None:
    response = anonymous.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"] == "/docs" and body["health"] == "/healthz"
    assert anonymous.get(body["health"]).status_code == 200
    assert anonymous.get(body["openapi"]).status_code == 200


def test_every_response_carries_a_request_id(api: TestClient) -> None:
    for response in (api.get("/healthz"), api.get("/v1/nowhere"), api.patch("/v1/catalog")):
        assert response.headers["x-request-id"].startswith("req_")


def test_the_app_has_one_error_handler_for_exceptions(api: TestClient) -> None:
    # Starlette's last-resort handler re-raises after answering, which closes the
    # connection; EdgeGuard answers instead.
    app: FastAPI = api.app  # type: ignore[assignment]
    assert Exception not in app.exception_handlers
