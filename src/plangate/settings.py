"""Settings from ``PLANGATE_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an installation configures. Each field reads ``PLANGATE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PLANGATE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///.plangate/plangate.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where plangate is reached; hosted pages and success URLs are built on it",
    )
    gateway: Literal["test", "stripe"] = Field(
        default="test", description="test (free purchases, no Stripe) or stripe"
    )
    stripe_api_key: str = Field(default="", description="Stripe secret key (sk_live_/sk_test_)")
    stripe_api_base: str = Field(
        default="", description="Stripe API base address; empty for api.stripe.com"
    )
    stripe_webhook_secret: str = Field(default="", description="whsec_... of the endpoint")
    block_new_purchases: bool = Field(default=False, description="refuse new checkouts")
    allowed_origins: list[str] = Field(
        default_factory=list, description="origins allowed in success/cancel/return URLs"
    )
    secret_keys: list[str] = Field(
        default_factory=list,
        description="extra accepted secret keys (plain text), besides the hashed stored ones",
    )
    log_level: str = Field(default="info")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest request body accepted (413 above)"
    )

    # --- client authentication (docs/auth.md) ------------------------------------------------
    identity_jwks_url: str = Field(
        default="", description="JWKS URL of the app's identity provider (RS256, ES256, EdDSA)"
    )
    identity_hs256_secret: str = Field(
        default="", description="shared HS256 secret of the identity provider (instead of JWKS)"
    )
    identity_issuer: str = Field(default="", description="required `iss` of identity tokens")
    identity_audience: str = Field(default="", description="required `aud` of identity tokens")
    identity_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="clock skew allowed on exp / nbf / iat"
    )
    identity_user_claim: str = Field(
        default="sub", description="claim holding the user id (dotted path for nested claims)"
    )
    identity_team_claim: str = Field(
        default="org_id", description="claim holding the active team id; empty to ignore"
    )
    identity_role_claim: str = Field(
        default="org_role", description="claim holding the caller's role in that team"
    )
    identity_admin_roles: list[str] = Field(
        default_factory=lambda: ["org:admin", "admin"],
        description="role claim values that make the caller an admin of the team",
    )
    identity_jwks_cache_seconds: int = Field(
        default=3600, ge=0, description="how long fetched JWKS keys are used before a refetch"
    )
    identity_jwks_miss_seconds: int = Field(
        default=30,
        ge=0,
        description="after a refetch that still lacks a token's kid, no refetch for this long",
    )
    customer_session_max_seconds: int = Field(
        default=3600, ge=60, le=86400, description="longest lifetime of a customer-session token"
    )
    entitlement_token_seconds: int = Field(
        default=300, ge=10, le=86400, description="lifetime of entitlement tokens"
    )
    signing_key_secret: str = Field(
        default="",
        description="if set, signing private keys are stored encrypted with a key derived from it",
    )

    # --- Stripe sync (docs/stripe.md) ----------------------------------------------------
    stripe_test_clock: str = Field(
        default="",
        description="test mode only: new Stripe customers join this test clock (clock_...)",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often an idle worker looks for pending events"
    )
    worker_lease_seconds: int = Field(
        default=120, ge=5, description="how long a claimed event is reserved for its worker"
    )
    worker_max_attempts: int = Field(
        default=12, ge=1, description="attempts before an event is marked failed"
    )
    reconcile_interval_seconds: int = Field(
        default=3600, ge=0, description="how often the worker reconciles with Stripe; 0: never"
    )
