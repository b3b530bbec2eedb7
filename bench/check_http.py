"""Figure 1: ``check`` over HTTP against the same server's ``/livez`` (no database), in the
same run, on SQLite and PostgreSQL. Prints the medians of several alternating rounds.

    scripts/with-postgres .venv/bin/python -m bench.check_http [--rounds 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json

from bench.harness import database, free_port, median, seed, served, wrk


def run(backend: str, rounds: int, seconds: int, connections: int) -> dict[str, object]:
    with database(backend) as url:
        key = seed(url)
        with served(url, free_port()) as base:
            check_url = f"{base}/v1/customers/user/u2/check?feature=export"
            trivial_url = f"{base}/livez"
            wrk(check_url, key=key, seconds=1, connections=connections)  # warm-up
            checks, trivials, p50s, p99s = [], [], [], []
            for _ in range(rounds):
                t = wrk(trivial_url, key=None, seconds=seconds, connections=connections)
                c = wrk(check_url, key=key, seconds=seconds, connections=connections)
                assert c.non_2xx == 0, "check answered errors"
                trivials.append(t.requests_per_second)
                checks.append(c.requests_per_second)
                p50s.append(c.latency_p50_ms)
                p99s.append(c.latency_p99_ms)
    ratios = [c / t for c, t in zip(checks, trivials, strict=True)]
    return {
        "backend": backend,
        "check_rps_median": round(median(checks)),
        "trivial_rps_median": round(median(trivials)),
        "ratio_median": round(median(ratios), 3),
        "check_p50_ms_median": round(median(p50s), 2),
        "check_p99_ms_median": round(median(p99s), 2),
        "rounds": rounds,
        "seconds": seconds,
        "connections": connections,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        print(json.dumps(run(backend, args.rounds, args.seconds, args.connections)))


if __name__ == "__main__":
    main()
