"""Settings from the environment (prefix ``RETICULIST_``), validated once at start-up."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
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
    login_failures_per_client: int = Field(
        default=5,
        ge=1,
        description="Wrong passwords for one account from one client address before each further try "
        "waits (1 s, 2 s, 4 s ... up to RETICULIST_LOGIN_MAX_WAIT_SECONDS).",
    )
    login_failures_per_address: int = Field(
        default=50,
        ge=1,
        description="Wrong passwords from one client address, whatever the account, before the same backoff.",
    )
    login_failures_per_account: int = Field(
        default=200,
        ge=1,
        description="Wrong passwords for one account, from all client addresses together, before the same "
        "backoff. Much higher than the per-client figure, so guessers elsewhere cannot shut the holder out.",
    )
    login_max_wait_seconds: int = Field(
        default=900, ge=1, le=24 * 3600, description="The longest wait between tries under a login backoff."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For header "
        "gives the client's address (e.g. 127.0.0.1,10.0.0.0/8). Empty: the connecting address is the "
        "client.",
    )
    open_link_uses_per_hour: int = Field(
        default=3,
        ge=1,
        description="How many times one client address may start, and send, a barometer round's open-link "
        "survey in an hour.",
    )
    comparison_refresh_seconds: int = Field(
        default=60,
        ge=0,
        le=24 * 3600,
        description="How often each server process recomputes the stored comparison figures of partnerships "
        "whose data changed (docs/comparison.md); 0 leaves it to `reticulist comparison refresh`.",
    )

    # Few on purpose: the work is mostly Python, one core per process, so more requests at once only share
    # the GIL, and a request holding SQLite's write lock waits its turn for it. Measured with
    # benchmarks/survey_burst.py on 2 cores: 20 gave a survey p95 of 2.0-3.3 s, 4-10 gave 0.5-0.8 s.
    working_requests: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="Requests one server process works on at once. It is also that process's number of "
        "database connections and worker threads, so the three always agree.",
    )
    waiting_requests: int = Field(
        default=200,
        ge=0,
        description="Requests that may wait for a turn when all working places are taken; past that, the "
        "server answers 503 with Retry-After at once instead of queueing without end.",
    )
    wait_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="The longest a request waits for a turn before the server answers 503 with Retry-After.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for entry in value.split(","):
            if entry.strip():
                try:
                    ipaddress.ip_network(entry.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f'"{entry.strip()}" is not an address or network (e.g. 10.0.0.0/8)'
                    ) from None
        return value

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(e.strip(), strict=False)
            for e in self.trusted_proxies.split(",")
            if e.strip()
        ]

    def uses_development_secret(self) -> bool:
        """The secret is a placeholder anyone can read in the source: fine on one's own machine only."""
        return self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS

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
