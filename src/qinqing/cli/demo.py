"""`qinqing demo`: the whole platform on one machine, from nothing to a browser.

Generates a synthetic registry, imports it into a fresh SQLite database, publishes the policy
catalogue, matches every enterprise against every policy in force, creates demo accounts and serves
the web platform. Each step is the same code the real commands run.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qinqing.cli.options import parse_date

console = Console()

# The generator's registry describes enterprises as of the end of 2024 (last year's figures, as policies
# of 2025 read them), and the national policies of the catalogue are in force in mid-2025.
DEMO_AS_OF = date(2025, 6, 30)


def register(app: typer.Typer) -> None:
    """Add `qinqing demo` to the top-level app."""

    @app.command()
    def demo(
        n: int = typer.Option(20_000, "--n", help="Number of synthetic enterprises."),
        seed: int = typer.Option(2024, help="Random seed of the synthetic registry."),
        province: str = typer.Option("350000", help="GB/T 2260 code of the province most enterprises are in."),
        policies: Path = typer.Option(Path("policies"), help="Directory of the policy catalogue (YAML)."),
        workdir: Path = typer.Option(Path("demo"), help="Directory for the demo database, registry and results."),
        as_of: str = typer.Option(DEMO_AS_OF.isoformat(), help="Reference date of the demo (YYYY-MM-DD)."),
        host: str = typer.Option("127.0.0.1", help="Address to serve on."),
        port: int = typer.Option(8000, help="Port to serve on."),
        serve: bool = typer.Option(True, help="Serve the web platform at the end (--no-serve to stop after the summary)."),
    ) -> None:
        """Build a demo platform (registry → catalogue → matching → accounts) and serve it."""
        reference = parse_date(as_of)
        if not policies.is_dir():
            raise typer.BadParameter(f"找不到政策目录：{policies}（请在项目根目录运行，或用 --policies 指定）")
        settings = _prepare(workdir, reference)
        started = time.perf_counter()
        registry_file = workdir / "registry.parquet"
        _generate(registry_file, n, seed, province)
        engine = _import(settings, registry_file)
        _publish_catalogue(engine, policies)
        summary, matching = _match(engine, settings, reference)
        with matching:
            logins = _accounts(engine, matching.results)
            _print_summary(matching.registry.size_classes(reference), summary, logins, reference,
                           time.perf_counter() - started)
        if serve:
            _serve(settings, host, port)


MARKER = ".qinqing-demo"  # written into the work directory: what a later demo may clear
DEMO_FILES = ("qinqing.db", "qinqing.db-wal", "qinqing.db-shm", "registry.parquet", "results")


def _prepare(workdir: Path, reference: date):
    """The demo's settings: QINQING_DATABASE_URL and QINQING_RESULTS_DIR when set, else files in
    ``workdir``. Only what an earlier demo created in ``workdir`` is removed; a directory the demo did
    not create is used only when it is empty."""
    import os

    from qinqing.settings import Settings

    if workdir.exists() and not (workdir / MARKER).exists() and any(workdir.iterdir()):
        raise typer.BadParameter(f"目录“{workdir}”不是演示程序创建的，且不为空；为免误删，请用 --workdir 指定"
                                 "一个新目录或空目录", param_hint="--workdir")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("qinqing demo work directory\n", encoding="utf-8")
    own_database = not os.environ.get("QINQING_DATABASE_URL")
    own_results = not os.environ.get("QINQING_RESULTS_DIR")
    for name in DEMO_FILES:
        if name.startswith("qinqing.db") and not own_database or name == "results" and not own_results:
            continue
        target = workdir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    base = Settings()
    return Settings(
        database_url=f"sqlite:///{(workdir / 'qinqing.db').absolute()}" if own_database else base.database_url,
        results_dir=(workdir / "results").absolute() if own_results else base.results_dir,
        reference_date=reference,
    )


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def _generate(path: Path, n: int, seed: int, province: str) -> None:
    from qinqing.registry.service import RegistryService

    with _progress() as bar:
        task = bar.add_task("生成企业库", total=n)
        RegistryService.generate(path, n, seed, province=province, progress=lambda rows: bar.advance(task, rows))


def _import(settings, path: Path):
    from qinqing.db import make_engine, migrate
    from qinqing.registry.service import RegistryService

    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    registry = RegistryService(engine)
    with _progress() as bar:
        task = bar.add_task("导入企业库", total=None)
        result = registry.import_file(path, as_of=settings.reference_date, progress=registry.import_progress(
            start=lambda total: bar.update(task, total=total),
            advance=lambda rows: bar.advance(task, rows),
        ))
    console.print(f"导入：读取 {result.read} 行，入库 {result.stored} 行，拒绝 {result.rejected} 行")
    return engine


def _publish_catalogue(engine, directory: Path) -> None:
    from qinqing.catalogue.service import CatalogueService

    report = CatalogueService.from_engine(engine).load_directory(directory)
    for path, error in report.errors.items():
        console.print(f"[red]政策文件有误，未发布：{path}：{error}[/red]")
    console.print(f"政策库：发布 {len(report.loaded)} 条政策，{len(report.errors)} 个文件有误")


def _match(engine, settings, reference: date):
    """A full run of the published catalogue; the service stays open for the accounts' sample enterprises.
    (The catalogue's publications, read by this run, leave re-match jobs that find it included.)"""
    from qinqing.matching.service import MatchingService

    matching = MatchingService(engine, settings)
    with _progress() as bar:
        task = bar.add_task("政策匹配", total=None)

        class _Bar:  # the matcher reports (done, total) in scope slices
            def __call__(self, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

        summary = matching.full_run(as_of=reference, progress=_Bar())
    return summary, matching


def _accounts(engine, store):
    from qinqing.web.demo import demo_seed

    return demo_seed(engine, results=store)


def _print_summary(sizes: dict, summary, logins, reference: date, seconds: float) -> None:
    table = Table(title="亲清 演示平台", show_header=False)
    table.add_row("基准日期", reference.isoformat())
    table.add_row("企业", f"{summary.enterprises:,}")
    order = {"大型": 0, "中型": 1, "小型": 2, "微型": 3, None: 4}
    table.add_row("企业规模", "，".join(f"{k or '未知'} {v:,}" for k, v in sorted(sizes.items(), key=lambda kv: order.get(kv[0], 5))))
    table.add_row("参与匹配的政策", f"{summary.policies}（另有 {summary.skipped_expired} 条不在有效期内）")
    table.add_row("评估的企业×政策对", f"{summary.pairs_evaluated:,}")
    table.add_row("可享受（符合）", f"{summary.eligible:,}")
    table.add_row("待补充数据（未知）", f"{summary.unknown:,}")
    table.add_row("用时", f"{seconds:.1f} 秒")
    console.print(table)
    logins_table = Table(title="演示账号")
    for column in ("角色", "用户名", "密码", "说明"):
        logins_table.add_column(column)
    for login in logins:
        logins_table.add_row(login.role_label, login.username, login.password, login.note)
    console.print(logins_table)


def _serve(settings, host: str, port: int) -> None:
    from qinqing.web.serve import serve

    console.print(f"[bold]打开浏览器访问 http://{host}:{port} [/bold]（API 文档：http://{host}:{port}/api/docs；Ctrl+C 停止）")
    serve(settings, host, port)
