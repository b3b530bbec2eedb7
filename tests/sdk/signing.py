"""Ed25519 keys made in the test, signing entitlement tokens the way plangate does."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

ISSUER = "http://plangate.test"


@dataclass
class SigningKey:
    kid: str = field(default_factory=lambda: f"k_{uuid.uuid4().hex[:8]}")
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm="EdDSA", headers={"kid": self.kid, **header}
        )


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def claims(
    customer: tuple[str, str] = ("user", "u1"),
    *,
    plans: list[str] | None = None,
    features: list[str] | None = None,
    now: float | None = None,
    lifetime: float = 300,
    issuer: str = ISSUER,
) -> dict[str, Any]:
    issued = int(now if now is not None else time.time())
    return {
        "iss": issuer,
        "sub": f"{customer[0]}/{customer[1]}",
        "customer_type": customer[0],
        "customer_id": customer[1],
        "plans": plans if plans is not None else ["pro"],
        "features": features if features is not None else ["analytics", "export"],
        "iat": issued,
        "exp": int(issued + lifetime),
    }
