"""Running the sandbox alone: `python -m plangate.sandbox --port 12111 [--db PATH]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .app import create_app
from .config import SandboxConfig
from .core import Sandbox
from .limits import Faults, RateLimits


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
    parser.add_argument("--rate-limits", choices=("off", "test", "live"), default="off",
                        help="Stripe's rate limits: test 25/s, live 100/s, 25/s per endpoint")
    parser.add_argument("--error-rate", type=float, default=0.0,
                        help="share of requests answered 500")
    parser.add_argument("--slow-rate", type=float, default=0.0,
                        help="share of requests answered only after --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected faults")
    args = parser.parse_args(argv)
    limits = None if args.rate_limits == "off" else RateLimits(mode=args.rate_limits)
    faults = (Faults(args.seed, error_rate=args.error_rate, slow_rate=args.slow_rate,
                     slow_seconds=args.slow_seconds)
              if args.error_rate or args.slow_rate else None)
    serve(args.host, args.port, SandboxConfig(db_path=args.db, public_url=args.public_url,
                                              rate_limits=limits, faults=faults))
