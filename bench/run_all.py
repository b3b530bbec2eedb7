"""Every figure of docs/benchmarks.md, one after the other (``make bench``)."""

from __future__ import annotations

import subprocess
import sys

COMMANDS = [
    [sys.executable, "-m", "bench.check_http"],
    [sys.executable, "-m", "bench.consume_pg"],
    [sys.executable, "bench/sdk_has.py"],
    [sys.executable, "-m", "bench.events"],
    [sys.executable, "-m", "bench.outbox_delivery"],
    [sys.executable, "-m", "bench.admin_lists"],
    [sys.executable, "-m", "bench.rate_limits"],
    [sys.executable, "-m", "bench.sync_queue"],
    [sys.executable, "-m", "bench.throughput", "--events", "5000", "--subscriptions", "60"],
]


def main() -> None:
    for command in COMMANDS:
        print("$", " ".join(command[1:]), flush=True)
        subprocess.run(command, check=False)


if __name__ == "__main__":
    main()
