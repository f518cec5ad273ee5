"""Engines and migrations for the store (SQLite on one machine, PostgreSQL for a city or province).

Every piece keeps its tables' revisions on its own Alembic branch in a subdirectory of
``qinqing/migrations/``; :func:`migrate` finds them all and upgrades every branch head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from qinqing.settings import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for ``url`` (the configured database_url by default).

    SQLite gets WAL journaling and enforced foreign keys on every connection;
    ``postgresql://`` URLs use psycopg 3.
    """
    url = url or get_settings().database_url
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; commits stay atomic
    cursor.close()


def version_locations() -> list[Path]:
    """Every subdirectory of migrations/ that holds revision files, one per piece."""
    return sorted(
        d
        for d in MIGRATIONS_DIR.iterdir()
        if d.is_dir()
        and not d.name.startswith(("_", "."))
        and any(not f.name.startswith("_") for f in d.glob("*.py"))
    )


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration for ``url``, with every piece's branch as a version location."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", " ".join(str(d) for d in version_locations()))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database at ``url`` up to date: ``alembic upgrade heads`` over every branch."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
    finally:
        engine.dispose()
