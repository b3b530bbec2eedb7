"""``has()`` from a cached, verified entitlement token, in process (issue 6: ≤ 10 µs median).

    .venv/bin/python bench/sdk_has.py [--number 200000] [--rounds 7]

Prints the median per-call time of the cached path (``Entitlements.from_token(token,
verifier).has(feature=...)``: a dict lookup, a clock read and a set membership), its parts,
and the cost of the first verification of a token (EdDSA signature check and claim parsing).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import timeit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from plangate_sdk import Entitlements, EntitlementVerifier

ISSUER = "http://127.0.0.1:8000"
GOAL_US = 10.0


def make_token_and_verifier() -> tuple[str, EntitlementVerifier]:
    private = Ed25519PrivateKey.generate()
    jwk = {**OKPAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": "k1", "use": "sig"}
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "user/u1",
        "customer_type": "user",
        "customer_id": "u1",
        "plans": ["pro"],
        "features": ["analytics", "export", "priority_support"],
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1"})
    return token, EntitlementVerifier({"keys": [jwk]}, issuer=ISSUER)


def per_call_us(stmt: str, env: dict[str, object], number: int, rounds: int) -> list[float]:
    timer = timeit.Timer(stmt, globals=env)
    return [total / number * 1e6 for total in timer.repeat(repeat=rounds, number=number)]


def first_verification_us(token: str, verifier: EntitlementVerifier, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        verifier.clear()
        start = time.perf_counter()
        verifier.verify(token)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--first-samples", type=int, default=500)
    args = parser.parse_args()

    token, verifier = make_token_and_verifier()
    entitlements = verifier.verify(token)
    env: dict[str, object] = {
        "Entitlements": Entitlements,
        "token": token,
        "verifier": verifier,
        "entitlements": entitlements,
    }
    cases = {
        "from_token(token, verifier).has(feature=)": (
            "Entitlements.from_token(token, verifier).has(feature='export')"
        ),
        "verifier.verify(token)  [cache hit]": "verifier.verify(token)",
        "entitlements.has(feature=)  [set lookup]": "entitlements.has(feature='export')",
    }
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"{args.rounds} rounds x {args.number:,} calls; per-call µs: median of rounds (min)")
    results = {}
    for label, stmt in cases.items():
        rounds = per_call_us(stmt, env, args.number, args.rounds)
        results[label] = statistics.median(rounds)
        print(f"  {label:<44} {statistics.median(rounds):7.3f}  ({min(rounds):.3f})")

    first = first_verification_us(token, verifier, args.first_samples)
    print(
        f"  {'first verification (EdDSA + claims)':<44} {statistics.median(first):7.1f}  "
        f"({min(first):.1f}); p95 {statistics.quantiles(first, n=20)[-1]:.1f}"
    )
    headline = results["from_token(token, verifier).has(feature=)"]
    verdict = "met" if headline <= GOAL_US else "MISSED"
    print(f"goal: cached has() ≤ {GOAL_US:.0f} µs median → {headline:.3f} µs, {verdict}")
    return 0 if headline <= GOAL_US else 1


if __name__ == "__main__":
    sys.exit(main())
