"""What several command groups parse the same way: a reference date, a directory of policies, a registry file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer


def parse_date(text: str) -> date:
    """``text`` as YYYY-MM-DD; a Chinese usage error otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD，实为“{text}”") from None


def reference_date(as_of: str | None) -> date:
    """``--as-of`` when given, else the configured reference date or today."""
    from qinqing.settings import get_settings

    return parse_date(as_of) if as_of else get_settings().today()


def load_policies_or_exit(path: Path, param_hint: str = "--policies") -> list:
    """Every policy under ``path``; with any error, print them all and exit with status 1.

    A ``path`` that does not exist is a usage error (status 2) naming ``param_hint``.
    """
    from qinqing.rules import load_policies

    if not path.exists():
        raise typer.BadParameter(f"找不到政策文件或目录“{path}”", param_hint=param_hint)
    policies, errors = load_policies([path])
    if errors:
        for error in errors:
            typer.echo(str(error), err=True)
        typer.echo(f"政策文件有 {len(errors)} 处错误，请先用 qinqing policy check 修正", err=True)
        raise typer.Exit(1)
    return policies


@contextmanager
def registry_file(path: Path, param_hint: str = "--enterprises") -> Iterator[Path]:
    """A registry file the user named, for reading inside the block: one that does not exist, or
    that the engines cannot read as a registry (a RegistryError), is a Chinese usage error."""
    from qinqing.registry.errors import RegistryError

    if not path.exists():
        raise typer.BadParameter(f"找不到企业数据文件“{path}”", param_hint=param_hint)
    try:
        yield path
    except RegistryError as error:
        raise typer.BadParameter(str(error.located(file=str(path))), param_hint=param_hint) from None


def published_catalogue(*, required: bool = True) -> list:
    """The published catalogue (QINQING_DATABASE_URL) as policies: the one source of every run.

    A published version that no longer parses is named on stderr and left out. With ``required``,
    an empty catalogue is an error (exit 1) that says how to fill it."""
    from qinqing.catalogue import CatalogueStore
    from qinqing.db import make_engine, migrate
    from qinqing.settings import get_settings

    url = get_settings().database_url
    migrate(url)
    policies, refused = CatalogueStore(make_engine(url)).published_policies()
    for policy_id, error in refused.items():
        typer.echo(f"已发布的政策 {policy_id} 无法解析，本次不参与：{error.message}", err=True)
    if required and not policies:
        typer.echo("政策库中没有已发布的政策：请先用 qinqing catalogue load DIR 载入并发布政策文件", err=True)
        raise typer.Exit(1)
    return policies


def draft_or_published(drafts: Path | None, param_hint: str = "--draft-policies") -> list:
    """The policies in the unpublished files ``drafts`` when given, else the published catalogue."""
    if drafts is not None:
        return load_policies_or_exit(drafts, param_hint=param_hint)
    return published_catalogue()


def results_dir(store: Path | None) -> Path:
    """``--store`` when given, else QINQING_RESULTS_DIR."""
    from qinqing.settings import get_settings

    return store if store is not None else get_settings().results_dir


def registry_table(path: Path | None, usccs: list[str] | None = None):
    """The registry as an Arrow table typed as the schema says: from the file ``path`` (CSV or
    Parquet; type inference would turn region codes into numbers) or, without one, the database;
    only the enterprises ``usccs`` when given."""
    import duckdb

    if path is None:
        from qinqing.db import make_engine
        from qinqing.registry.store import to_arrow

        return to_arrow(make_engine(), usccs)
    from qinqing.matching.engines.duckdb import load_enterprises

    con = duckdb.connect()
    with registry_file(path):
        load_enterprises(con, path)
        table = con.sql("SELECT * FROM enterprises").to_arrow_table()
    if usccs is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        table = table.filter(pc.is_in(table.column("uscc"), pa.array(usccs)))
    return table
