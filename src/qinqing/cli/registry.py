"""`qinqing registry …`: generate, import, validate and show enterprise registries."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from qinqing.cli.options import parse_date, reference_date
from qinqing.registry.errors import ImportFileError, RegistryError

app = typer.Typer(help="Enterprise registry: generate synthetic data, import exports, validate.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err_console, transient=False)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv (Chinese headers, UTF-8 with BOM) or .parquet.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of enterprises.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives a byte-identical file.")] = 0,
    province: Annotated[Optional[str], typer.Option("--province", help="Province code (e.g. 330000) holding 85% of the enterprises.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Reference date of the data, YYYY-MM-DD (default 2024-12-31).")] = None,
) -> None:
    """Write a synthetic registry of N enterprises for demos and benchmarks."""
    from qinqing.registry.generator import DEFAULT_AS_OF
    from qinqing.registry.generator import generate as run

    reference = parse_date(as_of) if as_of else DEFAULT_AS_OF
    with _progress() as progress:
        task = progress.add_task("生成企业", total=n)
        try:
            run(out, n, seed, province=province, as_of=reference, progress=lambda rows: progress.advance(task, rows))
        except RegistryError as error:  # the options asked for what the generator cannot do: a usage error
            err_console.print(f"[red]错误：{escape(str(error))}[/red]", soft_wrap=True)
            raise typer.Exit(2) from None
    console.print(f"已生成 {n:,} 家企业 → {out}")


def _run_import(file: Path, report: Optional[Path], store: bool, url: Optional[str]):
    from qinqing.registry.importer import Progress as Callbacks
    from qinqing.registry.importer import import_file

    engine = None
    if store:
        from qinqing.db import make_engine, migrate

        migrate(url)
        engine = make_engine(url)
    with _progress() as progress:
        task = progress.add_task("导入" if store else "校验", total=None)
        callbacks = Callbacks(start=lambda total: progress.update(task, total=total),
                              advance=lambda rows: progress.advance(task, rows))
        try:
            result = import_file(file, engine, report=report, progress=callbacks)
        except ImportFileError as error:
            err_console.print(f"[red]错误：{escape(str(error))}[/red]", soft_wrap=True)  # not markup; a path stays whole
            raise typer.Exit(2) from None
        finally:
            if engine is not None:
                engine.dispose()
        progress.update(task, total=result.read, completed=result.read)
    if result.unknown_columns:
        ignored = escape("、".join(result.unknown_columns))
        err_console.print(f"[yellow]警告：以下列不对应任何字段，已忽略：{ignored}[/yellow]")
    verb = "入库" if store else "通过校验"
    console.print(f"读取 {result.read:,} 行，{verb} {result.stored:,} 行，拒绝 {result.rejected:,} 行"
                  f"（问题 {len(result.problems):,} 处）")
    if report is not None:
        console.print(f"问题报告：{report}")
    elif result.problems:
        for problem in result.problems[:10]:
            console.print(escape(f"  第{problem.row}行 列“{problem.column}” 值“{problem.value}”：{problem.reason}"))
        if len(result.problems) > 10:
            console.print(f"  …… 共 {len(result.problems):,} 处，用 --report 写出全部")
    return result


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), XLSX or Parquet export with Chinese or English headers.")],
    report: Annotated[Optional[Path], typer.Option("--report", help="Write every problem to this CSV (row, column, value, reason).")] = None,
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="Store URL (default: QINQING_DATABASE_URL).")] = None,
) -> None:
    """Validate FILE and store its good rows (upsert by uscc) in one transaction; report the bad ones."""
    _run_import(file, report, True, database_url)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), XLSX or Parquet export.")],
    report: Annotated[Optional[Path], typer.Option("--report", help="Write every problem to this CSV (row, column, value, reason).")] = None,
) -> None:
    """Check FILE like import does, but store nothing."""
    result = _run_import(file, report, False, None)
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def show(
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码 of the enterprise.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Reference date for derived fields, YYYY-MM-DD (default: today).")] = None,
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="Store URL (default: QINQING_DATABASE_URL).")] = None,
) -> None:
    """Show one enterprise's profile with its derived variables."""
    from qinqing.db import make_engine
    from qinqing.registry.schema import ALL_FIELDS
    from qinqing.registry.store import enterprise_with_derived

    reference = reference_date(as_of)
    engine = make_engine(database_url)
    try:
        profile = enterprise_with_derived(engine, uscc.strip().upper(), reference)
    finally:
        engine.dispose()
    if profile is None:
        err_console.print(f"[red]未找到统一社会信用代码为“{uscc}”的企业[/red]")
        raise typer.Exit(1)
    table = Table(title=f"{profile.get('name') or uscc}（截至{reference.isoformat()}）")
    for header in ("字段", "名称", "值", "单位"):
        table.add_column(header)
    for field in ALL_FIELDS:
        label = f"{field.label_zh}（派生）" if field.derived else field.label_zh
        table.add_row(field.name, label, format_value(profile.get(field.name)), field.unit)
    console.print(table)


def format_value(value: object) -> str:
    """A value as shown to people: 未知 for NULL, 是/否, money without trailing zeros."""
    if value is None:
        return "[dim]未知[/dim]"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
