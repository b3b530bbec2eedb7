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
        description="extra accepted secret keys (plain text), besides the hashed ones in the database",
    )
    log_level: str = Field(default="info")
