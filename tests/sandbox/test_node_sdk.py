"""The official Node SDK (npm `stripe`, the release of the Python SDK's API version) through
the sandbox's main flows: Checkout paid through the hosted page, a subscription renewed on a
test clock, a refund, a delivered webhook verified with `stripe.webhooks.constructEvent`,
auto-pagination, a declined card caught as `StripeCardError`, a new subscription's preview
and the entitlements it grants. The script is
tests/sandbox/node/main.mjs, installed from its lock file with `npm ci`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import stripe
from sandbox_harness import Running

from tests.clients.typescript_package import ensure_npm_installed

pytestmark = pytest.mark.slow

NODE_PACKAGE = Path(__file__).resolve().parent / "node"
CHECKS = ["checkout", "webhook signature", "test clock renewal", "refund", "auto-pagination",
          "card declined", "preview and entitlements"]


def test_the_node_sdk_runs_the_main_flows(running: Running) -> None:
    ensure_npm_installed(NODE_PACKAGE)
    node = shutil.which("node")
    assert node is not None, "node is not installed: the Node SDK test needs Node 20+"
    result = subprocess.run([node, "main.mjs"], cwd=NODE_PACKAGE, capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, "SANDBOX_URL": running.url})
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines[-1] == {"ok": CHECKS}
    # The Node release speaks the same API version as the Python SDK the sandbox follows.
    api_version = (NODE_PACKAGE / "node_modules" / "stripe" / "cjs" / "apiVersion.js").read_text()
    assert f"ApiVersion = '{stripe.api_version}'" in api_version
