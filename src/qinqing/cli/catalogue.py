"""`qinqing catalogue …`: the published policy catalogue in the database, the one source every run reads."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
app = typer.Typer(
    help="The published policy catalogue (QINQING_DATABASE_URL): load policy files into it, list it.",
    no_args_is_help=True,
)


@app.command("load")
def load(
    directory: Path = typer.Argument(..., help="A policy file or a directory of them (scenario files are skipped)."),
    department: str = typer.Option(None, help="Owner department of new policies (default: each policy's issuer)."),
    draft: bool = typer.Option(False, "--draft", help="Save as drafts; do not publish."),
) -> None:
    """Check, compile and dry-run every policy file, then publish each as a new version.

    Reports what was added, changed, unchanged and refused; a refused file changes nothing and the
    others are still published (each publication is re-matched by a job, `qinqing worker`, when a
    matching run exists). Exit status 1 when any file was refused.
    """
    from qinqing.catalogue.service import CatalogueService
    from qinqing.db import make_engine, migrate
    from qinqing.settings import get_settings

    if not directory.exists():
        raise typer.BadParameter(f"找不到政策文件或目录“{directory}”", param_hint="DIRECTORY")
    settings = get_settings()
    migrate(settings.database_url)
    catalogue = CatalogueService.from_engine(make_engine(settings.database_url))
    with Progress(TextColumn("载入政策"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task("load", total=None)
        report = catalogue.load_directory(directory, department=department, publish=not draft,
                                          progress=lambda done, total: bar.update(task, completed=done,
                                                                                  total=total))
    if report.loaded and not draft:
        # Compile once, here: the plans of the new versions are stored beside them (matching.plans),
        # so the next run, web worker or preview compiles nothing.
        from qinqing.matching.service import MatchingService

        with Progress(TextColumn("编译匹配计划"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar, \
                MatchingService(catalogue.store.engine, settings) as matching:
            task = bar.add_task("plans", total=None)
            matching.published_plans(settings.today(),
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
    for path, error in report.errors.items():
        console.print(f"[red]未通过，未{'保存' if draft else '发布'}：{path}[/red]")
        for problem in getattr(error, "problems", None) or []:
            where = f"第 {problem.line} 行：" if problem.line else ""
            console.print(f"  {where}{problem.message}", markup=False)
        if not getattr(error, "problems", None):
            console.print(f"  {error.message}", markup=False)
    verb = "保存草稿" if draft else "发布"
    console.print(f"政策库：新增 {len(report.added)} 项，更新 {len(report.changed)} 项，未变 {len(report.unchanged)} 项，"
                  f"拒绝 {len(report.errors)} 个文件（已{verb} {len(report.loaded)} 项）")
    if report.errors:
        raise typer.Exit(1)


@app.command("list")
def list_published() -> None:
    """The published policies: id, version, level, region, validity, title."""
    from qinqing.catalogue.service import CatalogueService
    from qinqing.db import make_engine

    entries = CatalogueService.from_engine(make_engine()).published()
    table = Table(title=f"已发布政策 {len(entries)} 项")
    for column in ("政策编号", "版本", "层级", "地区", "有效期", "名称"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.policy_id, str(e.published_version), e.level, e.region_code,
                      f"{e.valid_from}～{e.valid_to or '长期'}", e.title)
    console.print(table)
