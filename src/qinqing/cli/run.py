"""`qinqing run …`, `qinqing preview`, `qinqing lists …`: province-scale matching into the results store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
run_app = typer.Typer(help="匹配运行：全量匹配写入结果库，单个企业或单项政策的增量匹配。", no_args_is_help=True)
lists_app = typer.Typer(help="名单：新增匹配推送名单、免申即享兑付候选名单（XLSX / CSV）。", no_args_is_help=True)

POLICIES = typer.Option(Path("policies"), "--policies", help="政策文件或目录")
STORE = typer.Option(Path("results"), "--store", help="匹配结果库目录")
ENTERPRISES = typer.Option(None, "--enterprises", help="企业数据文件（Parquet/CSV）；缺省时读取数据库")
AS_OF = typer.Option(None, "--as-of", help="参照日期 YYYY-MM-DD；缺省为设置中的日期或今天")


def _as_of(value: str | None) -> date:
    from qinqing.settings import get_settings

    return date.fromisoformat(value) if value else get_settings().today()


def _policies(path: Path):
    from qinqing.rules.load import load_policies

    policies, errors = load_policies([path])
    for e in errors:
        console.print(f"[red]{e}[/red]")
    if errors:
        raise typer.Exit(1)
    return policies


def _enterprises(path: Path | None, usccs: list[str] | None = None):
    import duckdb

    if path is None:
        from qinqing.db import make_engine
        from qinqing.registry.store import to_arrow

        return to_arrow(make_engine(), usccs)
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    table = duckdb.connect().sql(f"SELECT * FROM {reader}($p)", params={"p": str(path)}).to_arrow_table()
    if usccs is not None:
        import pyarrow.compute as pc

        import pyarrow as pa

        table = table.filter(pc.is_in(table.column("uscc"), pa.array(usccs)))
    return table


@run_app.command("full")
def full(policies: Path = POLICIES, store: Path = STORE, enterprises: Path | None = ENTERPRISES,
         as_of: str | None = AS_OF, engine: str = typer.Option("vectorised", help="vectorised | duckdb | spark"),
         include_expired: bool = typer.Option(False, "--include-expired", help="也匹配已过期的政策")) -> None:
    """全量匹配：所有有效政策 × 全部企业，完成后原子替换当前结果。"""
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run

    day, catalogue, registry = _as_of(as_of), _policies(policies), _enterprises(enterprises)
    with Progress(TextColumn("匹配中"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.fields[pairs]} 对"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("match", total=None, pairs="?")
        summary = full_run(catalogue, registry, ResultStore(store), day,
                           progress=lambda done, total: bar.update(task, completed=done, total=total, pairs=f"{total:,}"),
                           engine=engine, include_expired=include_expired)
    console.print(f"批次 {summary.run_id}：政策 {summary.policies} 项（跳过过期 {summary.skipped_expired} 项），"
                  f"企业 {summary.enterprises:,} 家，评估 {summary.pairs_evaluated:,} 对，符合 {summary.eligible:,}，"
                  f"待补充数据 {summary.unknown:,}，用时 {summary.seconds:.1f} 秒")


@run_app.command("enterprise")
def enterprise(uscc: list[str], policies: Path = POLICIES, store: Path = STORE,
               enterprises: Path | None = ENTERPRISES, as_of: str | None = AS_OF) -> None:
    """增量匹配：重新匹配指定企业（统一社会信用代码）。"""
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import rematch_enterprise

    table = _enterprises(enterprises, list(uscc))
    s = rematch_enterprise(table, _policies(policies), ResultStore(store), _as_of(as_of))
    console.print(f"已重新匹配企业 {table.num_rows} 家：符合 {s.eligible}，待补充数据 {s.unknown}，用时 {s.seconds:.3f} 秒")


@run_app.command("policy")
def policy(file: Path, store: Path = STORE, enterprises: Path | None = ENTERPRISES, as_of: str | None = AS_OF) -> None:
    """增量匹配：新增或修改的一项政策重新匹配全部企业。"""
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import rematch_policy

    (p,) = _policies(file)
    s = rematch_policy(p, _enterprises(enterprises), ResultStore(store), _as_of(as_of))
    console.print(f"已重新匹配政策 {p.id}：符合 {s.eligible}，待补充数据 {s.unknown}，用时 {s.seconds:.3f} 秒")


def preview_command(file: Path, enterprises: Path | None = ENTERPRISES, as_of: str | None = AS_OF) -> None:
    """政策草案影响预览：符合与待补充数据的企业数、预计金额与预算、分地区/行业/规模分布（不保存）。"""
    from qinqing.matching.preview import preview

    (p,) = _policies(file)
    r = preview(p, _enterprises(enterprises), _as_of(as_of))
    console.print(f"政策 {r.policy_id}：范围内企业 {r.evaluated:,} 家，符合 {r.eligible:,}，待补充数据 {r.unknown:,}，"
                  f"预计金额 {r.amount_total} 万元" + (f"（预算 {r.budget} 万元，占 {r.budget_share:.0%}）" if r.budget else ""))
    for title, rows in (("地区", r.by_region), ("行业门类", r.by_industry), ("企业规模", r.by_size_class)):
        console.print(f"[bold]按{title}[/bold]：" + "；".join(f"{x['key']} 符合{x['eligible']} 待补{x['unknown']}" for x in rows[:10]))


@lists_app.command("push")
def push(out: Path = typer.Option(..., "--out", help="导出文件 .xlsx 或 .csv"), store: Path = STORE) -> None:
    """推送名单：本次匹配新增的符合条件的企业—政策。"""
    from qinqing.matching.lists import export, push_list
    from qinqing.matching.results import ResultStore

    table = push_list(ResultStore(store))
    export(table, out)
    console.print(f"已导出推送名单 {table.num_rows:,} 条 → {out}")


@lists_app.command("auto-grant")
def auto_grant(out: Path = typer.Option(..., "--out", help="导出文件 .xlsx 或 .csv"), policies: Path = POLICIES,
               store: Path = STORE) -> None:
    """免申即享兑付候选名单：条件全部由数据确认符合的企业。"""
    from qinqing.matching.lists import auto_grant_candidates, export
    from qinqing.matching.results import ResultStore

    catalogue = _policies(policies)
    table = auto_grant_candidates(ResultStore(store), catalogue)
    export(table, out, {p.id: p.title for p in catalogue})
    console.print(f"已导出免申即享候选名单 {table.num_rows:,} 条 → {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(run_app, name="run")
    app.add_typer(lists_app, name="lists")
    app.command("preview")(preview_command)
