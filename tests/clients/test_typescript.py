"""The TypeScript client (clients/typescript) against a real plangate: the sandbox and
plangate served over HTTP, on SQLite and on PostgreSQL, with the client's own tests
(`node --test`) run against them. Also: its checked-in types are those of the API document
the server produces now, and its webhook verifier accepts what Python's `standardwebhooks`
signs."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from plangate.services.access.signing import rotate_signing_key
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.stripe_sync.catalog_push import push_catalog
from tests.clients.typescript_package import PACKAGE, ensure_built, npm, run
from tests.e2e.e2e_harness import Stack, start_stack
from tests.serving import serve_in_background

pytestmark = pytest.mark.slow

PLANGATE = str(Path(sys.executable).parent / "plangate")


@pytest.fixture(scope="module")
def built() -> None:
    ensure_built()


class Control:
    """What the TypeScript tests may ask of the test, not of plangate: an operator's actions
    with no API route, rotating the signing key and `plangate catalog push`."""

    def __init__(self, stack: Stack) -> None:
        control = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                if self.path == "/rotate-signing-key":
                    answer = {"kid": control.rotate()}
                elif self.path == "/push-catalog":
                    control.push_catalog()
                    answer = {"pushed": True}
                else:
                    self.send_error(404)
                    return
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.stack = stack
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = serve_in_background(self.server)

    def rotate(self) -> str:
        with self.stack.db.write() as session:
            key = rotate_signing_key(
                session, self.stack.now(), secret=self.stack.settings.signing_key_secret
            )
            return key.kid

    def push_catalog(self) -> None:
        with self.stack.db.read() as session:
            catalog = CatalogCache().active(session)
        push_catalog(self.stack.stripe, catalog)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Stack, Control]]:
    stack = start_stack(database_url)
    # Entitlement tokens are checked against Node's clock: plangate's and Stripe's clocks
    # are moved to the present.
    stack.advance(datetime.now(UTC).replace(microsecond=0))
    control = Control(stack)
    yield stack, control
    control.stop()
    stack.stop()


def python_signed_webhook() -> dict[str, str]:
    """A message signed by Python's `standardwebhooks`, what plangate's outbound webhooks use."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    message_id = f"msg_{secrets.token_hex(8)}"
    sent_at = datetime.now(UTC).replace(microsecond=0)
    body = json.dumps({"type": "product.granted", "data": {"product_id": "pro", "amount": "19.99"}})
    signature = Webhook(secret).sign(message_id, sent_at, body)
    return {
        "secret": secret, "id": message_id, "timestamp": str(int(sent_at.timestamp())),
        "body": body, "signature": signature,
    }


def test_typescript_client_against_a_real_server(
    built: None, served: tuple[Stack, Control]
) -> None:
    stack, control = served
    env = {
        "PLANGATE_URL": stack.url,
        "PLANGATE_SECRET_KEY": stack.secret_key,
        "PLANGATE_TEST_CONTROL_URL": control.url,
        "PLANGATE_TEST_WEBHOOK": json.dumps(python_signed_webhook()),
    }
    result = subprocess.run(
        [npm(), "run", "--silent", "test:run"], cwd=PACKAGE, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300,
    )
    summary = result.stdout[-12000:] + result.stderr[-4000:]
    assert result.returncode == 0, summary
    # node --test ends with its counts: every test ran, none skipped or left as a todo.
    counts = dict(re.findall(r"^ℹ (\w+) (\d+)$", result.stdout, re.MULTILINE))
    assert counts.get("fail") == "0" and counts.get("cancelled") == "0", summary
    assert counts.get("skipped") == "0" and counts.get("todo") == "0", summary
    assert int(counts.get("pass", "0")) >= 15, summary


def test_checked_in_types_match_the_api_document(built: None, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    subprocess.run([PLANGATE, "openapi", "--output", str(document)], check=True, timeout=120)
    fresh = tmp_path / "schema.ts"
    run(npm(), "run", "--silent", "generate", "--", str(document), "--output", str(fresh))
    checked_in = (PACKAGE / "src" / "schema.ts").read_text()
    assert fresh.read_text() == checked_in, (
        "clients/typescript/src/schema.ts is not the API document's types: run `make ts-types`"
    )
