"""Fixtures for client authentication: an identity provider (keys, a real JWKS HTTP server on
127.0.0.1, a token factory), apps configured for it, and a fingerprint of the whole database
so that every refusal can be shown to have changed nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient
from httpx import Response
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from sqlalchemy import select

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.services.access.keys import create_key
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import Base
from tests.serving import serve_in_background

ISSUER = "https://idp.example.com"
AUDIENCE = "plangate-tests"
BASE_URL = "https://billing.example.com"
ALLOWED_ORIGINS = ["https://app.example.com", "https://*.preview.example.com"]


@dataclass(frozen=True)
class ProviderKeys:
    rsa: rsa.RSAPrivateKey
    rsa_other: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    ed: ed25519.Ed25519PrivateKey

    def jwks(self) -> dict[str, Any]:
        def jwk(algorithm: Any, key: Any, kid: str, alg: str) -> dict[str, Any]:
            data: dict[str, Any] = algorithm.to_jwk(key.public_key(), as_dict=True)
            return {**data, "kid": kid, "alg": alg, "use": "sig"}

        return {
            "keys": [
                jwk(RSAAlgorithm, self.rsa, "rsa-1", "RS256"),
                jwk(ECAlgorithm, self.ec, "ec-1", "ES256"),
                jwk(OKPAlgorithm, self.ed, "ed-1", "EdDSA"),
            ]
        }


@pytest.fixture(scope="session")
def provider_keys() -> ProviderKeys:
    return ProviderKeys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa_other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        ed=ed25519.Ed25519PrivateKey.generate(),
    )


@dataclass
class JwksServer:
    """A real HTTP server serving ``document``; ``requests`` counts fetches."""

    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    requests: int = 0
    url: str = ""
    down: bool = False  # answer 503, as a provider in an outage would


@contextmanager
def running_jwks(provider_keys: ProviderKeys) -> Iterator[JwksServer]:
    state = JwksServer(document=provider_keys.jwks())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            if state.down:
                self.send_error(503)
                return
            body = json.dumps(state.document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = serve_in_background(httpd)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def jwks_server(provider_keys: ProviderKeys) -> Iterator[JwksServer]:
    with running_jwks(provider_keys) as state:
        yield state


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=10)
    yield database
    database.dispose()


@pytest.fixture
def secret_key(db: Database, clock: FrozenClock) -> str:
    with db.write() as session:
        return create_key(session, "tests", clock.now()).secret


MakeApp = Callable[..., TestClient]


class AppMaker:
    """Builds the real app over ``db`` with identity settings (overridable) and returns an
    unauthenticated client; requests name their own Authorization."""

    def __init__(self, db: Database, clock: FrozenClock, jwks_url: str) -> None:
        self.db, self.clock, self.jwks_url = db, clock, jwks_url
        self.clients: list[TestClient] = []

    def __call__(self, **overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "database_url": self.db.url.render_as_string(hide_password=False),
            "gateway": "test",
            "base_url": BASE_URL,
            "allowed_origins": ALLOWED_ORIGINS,
            "identity_jwks_url": self.jwks_url,
            "identity_issuer": ISSUER,
            "identity_audience": AUDIENCE,
            **overrides,
        }
        client = TestClient(create_app(Settings(**values), db=self.db, clock=self.clock))
        client.__enter__()
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.__exit__(None, None, None)


@pytest.fixture
def make_app(
    db: Database, clock: FrozenClock, jwks_server: JwksServer
) -> Iterator[MakeApp]:
    maker = AppMaker(db, clock, jwks_server.url)
    yield maker
    maker.close()


@pytest.fixture
def app(make_app: MakeApp) -> TestClient:
    return make_app()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Tokens:
    """Mints identity-provider tokens like the app's provider would, at the test clock."""

    def __init__(self, keys: ProviderKeys, clock: FrozenClock) -> None:
        self.keys = keys
        self.clock = clock

    def claims(self, sub: str, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now, "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def rs256(self, sub: str, *, key: Any = None, kid: str = "rsa-1", **claims: Any) -> str:
        return jwt.encode(
            self.claims(sub, **claims), key or self.keys.rsa, algorithm="RS256",
            headers={"kid": kid},
        )

    def es256(self, sub: str, **claims: Any) -> str:
        return jwt.encode(self.claims(sub, **claims), self.keys.ec, "ES256", {"kid": "ec-1"})

    def eddsa(self, sub: str, **claims: Any) -> str:
        return jwt.encode(self.claims(sub, **claims), self.keys.ed, "EdDSA", {"kid": "ed-1"})

    def hs256(self, sub: str, secret: str | bytes, *, kid: str | None = None, **claims: Any) -> str:
        """HS256 signed by hand, so that any secret (an RSA public key's PEM included, which
        PyJWT refuses to use) can be the HMAC key."""
        header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
        return _signed(header, self.claims(sub, **claims), secret)

    def unsigned(self, sub: str, **claims: Any) -> str:
        header = {"alg": "none", "typ": "JWT", "kid": "rsa-1"}
        return f"{_b64(header)}.{_b64(self.claims(sub, **claims))}."


def _b64(part: dict[str, Any]) -> str:
    raw = json.dumps(part, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed(header: dict[str, Any], claims: dict[str, Any], secret: str | bytes) -> str:
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.fixture
def tokens(provider_keys: ProviderKeys, clock: FrozenClock) -> Tokens:
    return Tokens(provider_keys, clock)


def database_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal before and after means nothing changed."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).all()
            state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state


def expect_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
