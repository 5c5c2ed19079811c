"""Settings from the environment (prefix ``RETICULIST_``), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Well-known values that must never protect real data.
_PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development-only-secret"}
DEVELOPMENT_SECRET = "development-only-secret"


class Settings(BaseSettings):
    """Every setting Reticulist reads. Each one is documented in docs/operating.md."""

    model_config = SettingsConfigDict(env_prefix="RETICULIST_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development", description="`production` refuses placeholder secrets."
    )
    database_url: str = Field(
        default="sqlite:///reticulist.sqlite3",
        description="SQLAlchemy URL: a SQLite file (default, in the working directory) or "
        "postgresql+psycopg://user@host/db.",
    )
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET,
        description="Key for hashing session and API tokens (HMAC). Changing it logs everyone out.",
    )
    session_hours: int = Field(default=8, ge=1, le=24 * 30, description="How long a login lasts.")
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie only over HTTPS (browsers treat http://127.0.0.1 as secure).",
    )
    max_request_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=64 * 1024,
        description="Largest request body the web server reads (forms, uploads, API calls); larger ones "
        "are refused with 413. Imports of big files go through the command line.",
    )
    login_attempts_per_15_minutes: int = Field(
        default=5, ge=1, description="Failed logins allowed per email address (and per client) in 15 minutes."
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError(
                "RETICULIST_SECRET_KEY is a placeholder; set a long random value in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("RETICULIST_SECRET_KEY must be at least 32 characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
