"""What the registry does for the CLI, the web and the jobs: import files, read profiles, hand the
registry to matching."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import Engine

from qinqing.events import emit
from qinqing.registry.events import EnterpriseChanged


class RegistryService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def table(self, usccs: Iterable[str] | None = None) -> pa.Table:
        """The stored enterprises (all, or those in ``usccs``) as an Arrow table typed by the schema."""
        from qinqing.registry.store import to_arrow

        return to_arrow(self.engine, usccs)

    def names(self, usccs: Iterable[str]) -> dict[str, str]:
        """The stored enterprises' names by USCC (those found)."""
        from sqlalchemy import select

        from qinqing.registry.tables import enterprises

        codes = list(dict.fromkeys(usccs))
        with self.engine.connect() as connection:
            return dict(connection.execute(select(enterprises.c.uscc, enterprises.c.name)
                                           .where(enterprises.c.uscc.in_(codes))).all())

    def first_usccs(self, count: int) -> list[str]:
        """The first ``count`` USCCs in code order."""
        from sqlalchemy import select

        from qinqing.registry.tables import enterprises

        with self.engine.connect() as connection:
            return list(connection.execute(select(enterprises.c.uscc).order_by(enterprises.c.uscc)
                                           .limit(count)).scalars())

    @staticmethod
    def generate(path: Path, n: int, seed: int, *, province: str | None = None, progress: Any = None) -> Any:
        """Write a synthetic registry of ``n`` enterprises to ``path`` (``generator.generate``)."""
        from qinqing.registry.generator import generate

        kwargs: dict[str, Any] = {"progress": progress}
        if province is not None:
            kwargs["province"] = province
        return generate(path, n, seed, **kwargs)

    def size_classes(self, as_of: date) -> dict[str | None, int]:
        """How many stored enterprises are of each size class (大型 … 微型, None: unknown) on ``as_of``."""
        import duckdb

        from qinqing.registry.derived import derived_sql

        con = duckdb.connect()
        con.register("enterprises", self.table())
        size_class = derived_sql(as_of)["size_class"].sql(dialect="duckdb")
        return dict(con.execute(f"SELECT {size_class} AS size_class, count(*) FROM enterprises GROUP BY 1").fetchall())

    def import_file(self, path: Path, *, as_of: date | None = None, progress: Any = None,
                    changed: Iterable[str] | None = None) -> Any:
        """Import a CSV / XLSX / Parquet file (``importer.import_file``: every bad row reported; ``progress``
        an ``importer.Progress`` or ``(start, advance)`` callables as ``import_progress`` makes). With
        ``changed`` (the USCCs an update touched), an ``EnterpriseChanged`` event re-matches them; a whole
        new registry is matched by the next full run instead."""
        from qinqing.registry.importer import import_file

        result = import_file(path, self.engine, as_of=as_of, progress=progress)
        if changed is not None:
            self.changed(changed, source="import")
        return result

    @staticmethod
    def import_progress(start: Any, advance: Any) -> Any:
        """An import's progress report: ``start(total_rows)``, then ``advance(rows)`` per batch."""
        from qinqing.registry.importer import Progress

        return Progress(start=start, advance=advance)

    def changed(self, usccs: Iterable[str], *, source: str) -> int | None:
        """Record that these enterprises changed (their matches are redone by a job); the event's id."""
        codes = tuple(dict.fromkeys(usccs))
        if not codes:
            return None
        with self.engine.begin() as connection:
            return emit(connection, EnterpriseChanged(usccs=codes, source=source))
