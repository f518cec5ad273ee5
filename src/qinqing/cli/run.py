"""`qinqing run …`, `qinqing preview`, `qinqing lists …`: province-scale matching into the results store."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from qinqing.cli.options import load_policies_or_exit, published_catalogue, reference_date, results_dir

console = Console()
run_app = typer.Typer(
    help="Matching runs: a full run into the results store, or an incremental re-match of some enterprises "
         "or of one policy.",
    no_args_is_help=True,
)
lists_app = typer.Typer(
    help="Lists from the results store: new matches to push, 免申即享 (no-application) payout candidates "
         "(XLSX / CSV).",
    no_args_is_help=True,
)

STORE = typer.Option(None, "--store", help="Matching results store directory (default: QINQING_RESULTS_DIR).")
ENTERPRISES = typer.Option(None, "--enterprises",
                           help="Registry file: Parquet or CSV (default: the database, QINQING_DATABASE_URL).")
AS_OF = typer.Option(None, "--as-of",
                     help="Reference date YYYY-MM-DD (default: settings.reference_date or today).")
POLICY_ID = typer.Argument(..., help="Id of a policy in the catalogue.")


def _one_policy(file: Path):
    """The single policy in ``file``; anything else is a usage error."""
    policies = load_policies_or_exit(file, param_hint="--draft-file")
    if len(policies) != 1:
        raise typer.BadParameter(f"应为一项政策，“{file}”中有 {len(policies)} 项", param_hint="--draft-file")
    return policies[0]


@contextmanager
def _results(store: Path | None):
    """The results store (``--store`` or QINQING_RESULTS_DIR), closed when the command ends."""
    from qinqing.matching.results import ResultStore

    opened = ResultStore(results_dir(store))
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def _matching(store: Path | None):
    """The matching service on the configured database and the results store ``--store``."""
    from qinqing.db import make_engine, migrate
    from qinqing.matching.service import MatchingService
    from qinqing.settings import get_settings

    settings = get_settings()
    migrate(settings.database_url)
    settings = settings.model_copy(update={"results_dir": results_dir(store)})
    with MatchingService(make_engine(settings.database_url), settings) as service:
        yield service


def _published(service, policy_id: str):
    """The published version of ``policy_id``; a usage error naming it when there is none."""
    from qinqing.catalogue.errors import PolicyNotFound

    try:
        return service.published_policy(policy_id)
    except PolicyNotFound:
        raise typer.BadParameter(f"政策库中没有已发布的政策“{policy_id}”", param_hint="POLICY_ID") from None


def _draft(policy_id: str):
    """The current draft (the latest saved version) of ``policy_id`` in the catalogue."""
    from qinqing.catalogue.errors import CatalogueError
    from qinqing.catalogue.parse import parse_policy
    from qinqing.catalogue.service import CatalogueService
    from qinqing.db import make_engine, migrate

    migrate()
    try:
        entry = CatalogueService.from_engine(make_engine()).get(policy_id)
        return parse_policy(entry.yaml_text, policy_id)
    except CatalogueError as error:
        raise typer.BadParameter(error.message, param_hint="POLICY_ID") from None


def _report_refused(refused: dict[str, str]) -> None:
    from rich.markup import escape

    for policy_id, reason in refused.items():
        console.print(f"[red]未参与匹配：政策 {escape(policy_id)} 无法编译：{escape(reason)}[/red]", highlight=False)


def published_plans_or_exit(day, *, in_force: bool = False) -> list:
    """The published catalogue as the fast path's plans (``MatchingService.published_plans``: each version
    compiled the first time it is read, then kept; only those in force on ``day`` with ``in_force``);
    versions that cannot be planned are named and left out."""
    with _matching(None) as matching, Progress(
            TextColumn("读取已发布的政策"), BarColumn(), TextColumn("{task.completed:,.0f} 项"),
            TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("plans", total=None)
        result = matching.published_plans(day, progress=lambda done, total: bar.update(task, completed=done,
                                                                                        total=total))
    _report_refused(result.refused)
    if not result.plans:
        typer.echo("政策库中没有已发布的政策：请先用 qinqing catalogue load DIR 载入并发布政策文件", err=True)
        raise typer.Exit(1)
    return matching.in_force(result.plans, day) if in_force else result.plans


def _enterprises(service, path: Path | None, usccs: list[str] | None = None):
    """The registry file ``--enterprises`` read by the service, or None: the service reads the database."""
    from qinqing.cli.options import registry_file

    if path is None:
        return None
    with registry_file(path):
        return service.registry_file(path, usccs)


@run_app.command("full")
def full(store: Path | None = STORE, enterprises: Path | None = ENTERPRISES,
         as_of: str | None = AS_OF, engine: str = typer.Option("vectorised", help="vectorised | duckdb | spark"),
         include_expired: bool = typer.Option(False, "--include-expired",
                                              help="Also match policies not valid on the reference date.")) -> None:
    """Full run: every published policy in force × every enterprise; the new run replaces the current
    results atomically. A policy that cannot be compiled is left out and named; the others are published."""
    day = reference_date(as_of)
    # The fast path reads the stored plans (compiled once per version); the SQL engines compile policies.
    catalogue = published_plans_or_exit(day) if engine == "vectorised" else published_catalogue()
    with _matching(store) as matching, Progress(
            TextColumn("匹配中"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.fields[pairs]} 对"),
            TimeElapsedColumn(), console=console) as bar:
        registry = _enterprises(matching, enterprises)
        task = bar.add_task("match", total=None, pairs="?")
        summary = matching.full_run(as_of=day, policies=catalogue, enterprises=registry, engine=engine,
                                    include_expired=include_expired,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total,
                                                                            pairs=f"{total:,}"))
    console.print(f"批次 {summary.run_id}：政策 {summary.policies} 项（跳过过期 {summary.skipped_expired} 项），"
                  f"企业 {summary.enterprises:,} 家，评估 {summary.pairs_evaluated:,} 对，符合 {summary.eligible:,}，"
                  f"待补充数据 {summary.unknown:,}，用时 {summary.seconds:.1f} 秒")
    _report_refused(summary.refused)
    if summary.refused:
        console.print(f"[red]{len(summary.refused)} 项政策未参与本次匹配，其余结果已发布[/red]")


@run_app.command("enterprise")
def enterprise(uscc: list[str] = typer.Argument(..., help="Unified social credit codes (统一社会信用代码)."),
               store: Path | None = STORE,
               enterprises: Path | None = ENTERPRISES, as_of: str | None = AS_OF) -> None:
    """Incremental run: re-match the given enterprises against every published policy."""
    day = reference_date(as_of)
    # The stored plans go to the matcher as they are (policies out of force are skipped).
    plans = published_plans_or_exit(day, in_force=True)
    with _matching(store) as matching:
        table = _enterprises(matching, enterprises, list(uscc))
        if table is None:
            table = matching.registry.table(list(uscc))
        s = _no_run_yet(matching.rematch_enterprises(list(uscc), as_of=day, enterprises=table, plans=plans))
    console.print(f"已重新匹配企业 {table.num_rows} 家：符合 {s.eligible}，待补充数据 {s.unknown}，用时 {s.seconds:.3f} 秒")


@run_app.command("policy")
def policy(policy_id: str = POLICY_ID, store: Path | None = STORE, enterprises: Path | None = ENTERPRISES,
           as_of: str | None = AS_OF) -> None:
    """Incremental run: re-match every enterprise against one published policy (new or changed)."""
    day = reference_date(as_of)
    with _matching(store) as matching:
        p = _published(matching, policy_id)
        s = _no_run_yet(matching.rematch_policy(policy=p, as_of=day, enterprises=_enterprises(matching, enterprises)))
    console.print(f"已重新匹配政策 {p.id}：符合 {s.eligible}，待补充数据 {s.unknown}，用时 {s.seconds:.3f} 秒")


def _no_run_yet(summary):
    """An incremental run's summary; with no run in the store yet, say what to do and exit 1."""
    if summary is None:
        typer.echo("匹配结果库中还没有批次：请先运行 qinqing run full", err=True)
        raise typer.Exit(1)
    return summary


def preview_command(policy_id: str = typer.Argument(None, help="Id of a policy in the catalogue: its current "
                                                                  "draft is previewed."),
                    draft_file: Path = typer.Option(None, "--draft-file",
                                                    help="Preview an unpublished policy file instead."),
                    enterprises: Path | None = ENTERPRISES, as_of: str | None = AS_OF) -> None:
    """Preview a draft policy's reach: eligible and unknown counts, amount against the budget, breakdowns.

    Nothing is stored.
    """
    from qinqing.matching import preview as pv
    from qinqing.rules.amounts import plain

    if (policy_id is None) == (draft_file is None):
        raise typer.BadParameter("请给出政策编号 POLICY_ID，或用 --draft-file 指定一个未发布的政策文件（二者选一）",
                                 param_hint="POLICY_ID")
    day = reference_date(as_of)
    p = _one_policy(draft_file) if draft_file is not None else _draft(policy_id)
    with _matching(None) as matching:
        r, _registry_size = matching.preview(p, as_of=day, enterprises=_enterprises(matching, enterprises))
    budget = f"（预算 {plain(r.budget)} 万元，占 {r.budget_share:.0%}）" if r.budget else ""
    console.print(f"政策 {r.policy_id}：范围内企业 {r.evaluated:,} 家，符合 {r.eligible:,}，待补充数据 {r.unknown:,}，"
                  f"预计金额 {plain(r.amount_total)} 万元{budget}")
    if r.amount_distribution:
        console.print("[bold]每家金额[/bold]：" + " · ".join(
            f"{pv.quantile_label(q['quantile'])} {plain(q['amount'])}" for q in r.amount_distribution) + " 万元")
        console.print("[bold]金额区间[/bold]：" + "；".join(
            f"{plain(b['low'])}–{plain(b['high'])} 万元 {b['eligible']} 家" if b["low"] != b["high"]
            else f"{plain(b['low'])} 万元 {b['eligible']} 家" for b in r.amount_bands))
    for title, rows, label in (("地区", r.by_region, pv.region_label), ("行业门类", r.by_industry, pv.section_label),
                               ("企业规模", r.by_size_class, pv.size_label)):
        shown = "；".join(f"{label(x['key'])} 符合{x['eligible']} 待补{x['unknown']}" for x in rows[:10])
        more = f"；另 {len(rows) - 10} 项" if len(rows) > 10 else ""
        console.print(f"[bold]按{title}[/bold]：{shown}{more}")


@lists_app.command("push")
def push(out: Path = typer.Option(..., "--out", help="Output file: .xlsx or .csv."), store: Path | None = STORE) -> None:
    """Push list: eligible enterprise–policy pairs that are new in the latest run."""
    from qinqing.matching.lists import export, push_list

    with _results(store) as results:
        table = push_list(results)
    export(table, out)
    console.print(f"已导出推送名单 {table.num_rows:,} 条 → {out}")


@lists_app.command("auto-grant")
def auto_grant(out: Path = typer.Option(..., "--out", help="Output file: .xlsx or .csv."),
               store: Path | None = STORE) -> None:
    """Payout candidates (免申即享): pairs whose every condition the data confirms, of published
    免申即享 policies."""
    from qinqing.matching.lists import auto_grant_candidates, export

    catalogue = published_catalogue()
    with _results(store) as results:
        table = auto_grant_candidates(results, catalogue)
    export(table, out, {p.id: p.title for p in catalogue})
    console.print(f"已导出免申即享候选名单 {table.num_rows:,} 条 → {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(run_app, name="run")
    app.add_typer(lists_app, name="lists")
    app.command("preview")(preview_command)
