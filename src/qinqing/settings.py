"""One validated settings object, read from QINQING_* environment variables."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QINQING_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('qinqing.db').absolute()}",
        description="SQLAlchemy URL of the store; an SQLite file in the current directory by default.",
    )
    results_dir: Path = Field(
        default=Path("qinqing-results"),
        description="Directory of the matching results store (one DuckDB file per run).",
    )
    results_keep: int = Field(
        default=1, ge=1, le=1000,
        description="Previous run files the results store keeps beside the current one (older ones are pruned "
                    "after each publish; their counts stay in the run history). At least 1: push lists read "
                    "the previous run.",
    )
    reference_date: date | None = Field(
        default=None,
        description="The date 'today' for age_years and validity windows; the real date when unset.",
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL for the Spark engine, e.g. spark://host:7077; local mode by default.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs session cookies; a random key per process when empty (sessions then end on restart).",
    )
    token_ttl_days: int = Field(
        default=90, ge=1, le=3650,
        description="Days an API token stays valid after it is issued; expired tokens are refused.",
    )
    password_hash_concurrency: int = Field(
        default=4, ge=1, le=64,
        description="Argon2 hashes or verifications at once per worker process (each takes 64 MiB); "
                    "further logins wait.",
    )
    password_hash_wait_seconds: float = Field(
        default=3.0, ge=0, le=60,
        description="How long a login waits for an argon2 slot before it is refused with 429 (请稍后再试).",
    )

    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0,
        description="Largest request body the web app reads (forms, JSON); a larger one gets 413. No route takes uploads.",
    )

    def today(self) -> date:
        return self.reference_date or date.today()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
