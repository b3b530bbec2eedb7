"""Running the sandbox alone: `python -m plangate.sandbox --port 12111 [--db PATH]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .app import create_app
from .config import SandboxConfig
from .core import Sandbox


def serve(host: str = "127.0.0.1", port: int = 12111, config: SandboxConfig | None = None
          ) -> None:
    import uvicorn

    sandbox = Sandbox(config)
    try:
        uvicorn.run(create_app(sandbox), host=host, port=port, log_level="info")
    finally:
        sandbox.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="plangate sandbox",
                                     description="A local, stateful Stripe.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--db", default=None, help="SQLite file that keeps state across runs")
    parser.add_argument("--public-url", default=None, help="base of hosted-page links")
    args = parser.parse_args(argv)
    serve(args.host, args.port, SandboxConfig(db_path=args.db, public_url=args.public_url))
