"""`qinqing indices …`: compute an indicator system, list the indices, open the 督办 list."""

from __future__ import annotations

import getpass
import math
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer(help="Composite indices: compute an indicator system (YAML), list indices, supervise laggards.",
                  no_args_is_help=True)


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _system_path(config: str) -> Path:
    from qinqing.indices.service import IndicesService

    path = Path(config)
    if path.exists():
        return path
    builtin = IndicesService.builtin()
    if config in builtin:
        return builtin[config]
    raise typer.BadParameter(f"找不到指标体系文件，也没有内置指数“{config}”（内置：{', '.join(sorted(builtin))}）",
                             param_hint="CONFIG")


def _data(items: list[str], table_names: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        if "=" in item:
            name, file = item.split("=", 1)
        elif len(table_names) == 1:
            name, file = table_names[0], item
        else:
            raise typer.BadParameter(f"本体系有 {len(table_names)} 个数据表，请写成 NAME=FILE（{', '.join(table_names)}）",
                                     param_hint="--data")
        if name not in table_names:
            raise typer.BadParameter(f"本体系没有数据表“{name}”（有：{', '.join(table_names) or '无'}）",
                                     param_hint="--data")
        out[name] = Path(file)
    return out


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


@app.command("compute")
def compute_command(
    config: str = typer.Argument(..., help="An indicator system's YAML file, or a built-in index id."),
    data: list[str] = typer.Option([], "--data", help="A table's CSV: NAME=FILE, or FILE when there is one table."),
    period: str = typer.Option(None, help="The period (e.g. 2025-03); tables with a period column are filtered."),
    save: bool = typer.Option(False, "--save", help="Store the run (QINQING_DATABASE_URL) with tiers and intervals."),
    uncertainty: bool = typer.Option(False, "--uncertainty", help="Monte Carlo rank intervals (the system's seed)."),
    sensitivity: int = typer.Option(0, "--sensitivity", metavar="N",
                                    help="Sobol indices with base sample N (a power of two; N·(d+2) runs)."),
    leave_one_out: bool = typer.Option(False, "--leave-one-out", help="Rank shift when each indicator is left out."),
    output: Path = typer.Option(None, help="Write the ranking (with every node's score) to this CSV file."),
    actor: str = typer.Option(None, help="Who computes (recorded with a saved run)."),
) -> None:
    """Compute CONFIG: scores and ranks of every unit, imputed cells flagged, units left out with the reason."""
    from qinqing.indices import compute, gather, load_system
    from qinqing.indices.config import Uncertainty
    from qinqing.indices.uncertainty import leave_one_out as loo
    from qinqing.indices.uncertainty import monte_carlo
    from qinqing.indices.uncertainty import sensitivity as sobol

    path = _system_path(config)
    system = load_system(path)
    files = _data(data, list(system.tables))
    engine = None
    if save or any(n.source and n.source.query for n in system.indicators()):
        from qinqing.db import make_engine, migrate
        from qinqing.settings import get_settings

        settings = get_settings()
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
    if save:
        from qinqing.indices.service import IndicesService

        computed = IndicesService(engine).compute_period(
            system, path.read_text(encoding="utf-8"), period or "-", actor=_actor(actor), base_dir=path.parent,
            data=files, uncertainty=uncertainty or system.uncertainty is not None)
        result, intervals, tiers = computed.result, computed.intervals, computed.tiers
        console.print(f"已保存：{system.name} 第 {period or '-'} 期（run {computed.run_id}）")
    else:
        inputs = gather(system, period, base_dir=path.parent, data=files, engine=engine)
        result = compute(system, inputs)
        tiers = {}
        if system.tiers is not None:  # without stored history: no hysteresis
            from qinqing.indices.service import apply_min_sample
            from qinqing.indices.tiers import assign_tiers

            samples = apply_min_sample(system, result)
            tiers = assign_tiers(system.tiers, result.units, result.overall().to_dict(),
                                 result.ranks[result.root].to_dict(), None, samples)
        intervals = monte_carlo(system, inputs, system.uncertainty or Uncertainty(),
                                exclude=set(result.excluded_units)).summary() if uncertainty else None
    ranking = result.ranking()
    table = Table(title=f"{system.name}{'（' + period + '）' if period else ''}")
    for column in ("排名", "单位", "名称", "得分", "分档", "排名区间", "插补", "说明"):
        table.add_column(column)
    for row in ranking.itertuples():
        tier = tiers.get(row.unit) if tiers else None
        interval = "—"
        if intervals is not None:
            i = intervals.loc[row.unit]
            interval = f"{_fmt(i['rank_low'], 0)}–{_fmt(i['rank_high'], 0)}（中位 {_fmt(i['rank_median'], 1)}）"
        table.add_row(_fmt(row.rank, 0), row.unit, row.name, _fmt(row.score), tier.reason if tier else "",
                      interval, row.imputed or "", row.excluded or "")
    console.print(table)
    for indicator, reason in result.dropped_indicators.items():
        console.print(f"[yellow]指标 {indicator}：{reason}[/yellow]")
    for node, weights in result.weights.items():
        if weights.method == "ahp":
            console.print(f"节点 {node} AHP 一致性比率 CR = {weights.details['cr']:.3f}")
    if leave_one_out:
        frame = loo(system, result.inputs)
        shifts = Table(title="逐一剔除指标（平均排名变化）")
        shifts.add_column("指标")
        shifts.add_column("名称")
        shifts.add_column("平均绝对排名变化")
        for row in frame.itertuples():
            shifts.add_row(row.indicator, row.name, _fmt(row.mean_abs_rank_shift))
        console.print(shifts)
    if sensitivity:
        result_s = sobol(system, result.inputs, system.uncertainty or Uncertainty(), n=sensitivity)
        st = Table(title=f"方差敏感性（Sobol，{result_s.runs} 次运行）")
        for column in ("参数", "S1", "ST"):
            st.add_column(column)
        for name, row in result_s.table().iterrows():
            st.add_row(str(name), _fmt(row["S1"], 3), _fmt(row["ST"], 3))
        console.print(st)
    if output:
        frame = result.scores.copy()
        frame.insert(0, "name", [result.names.get(u, u) for u in frame.index])
        frame.insert(1, "rank", result.ranks[result.root])
        frame.to_csv(output, index_label="unit", encoding="utf-8")
        console.print(f"已写入 {output}")


@app.command("list")
def list_command() -> None:
    """Built-in and stored indices (with the periods computed), and the registered data sources."""
    from qinqing.db import make_engine, migrate
    from qinqing.indices.service import IndicesService
    from qinqing.indices.sources import queries
    from qinqing.settings import get_settings

    settings = get_settings()
    migrate(settings.database_url)
    service = IndicesService(make_engine(settings.database_url))
    table = Table(title="指数")
    for column in ("id", "名称", "已计算期数", "最新一期"):
        table.add_column(column)
    for entry in service.indices():
        table.add_row(entry["id"], entry["name"], str(len(entry["periods"])), entry["latest"] or "—")
    console.print(table)
    registered = queries()
    console.print("已注册的数据来源：" + ("、".join(registered) if registered else "无（各模块上线后注册）"))


@app.command("supervise")
def supervise_command(
    index_id: str = typer.Argument(..., help="The index id (as in `qinqing indices list`)."),
    period: str = typer.Option(None, help="The period to judge (default: the latest computed)."),
    actor: str = typer.Option(None, help="Who opens the cases (recorded in the audit trail)."),
) -> None:
    """Apply the index's 督办 rule to its stored history; open a case per unit it picks; show the list."""
    from qinqing.db import make_engine, migrate
    from qinqing.indices.service import STATES, IndicesService
    from qinqing.settings import get_settings

    settings = get_settings()
    migrate(settings.database_url)
    service = IndicesService(make_engine(settings.database_url))
    opened = service.supervise(index_id, period, actor=_actor(actor))
    console.print(f"本次新列入督办 {len(opened)} 个单位。")
    table = Table(title="督办名单")
    for column in ("编号", "期", "单位", "状态", "理由", "公示日期"):
        table.add_column(column)
    for case in service.cases(index_id):
        table.add_row(str(case["id"]), case["opened_period"], f"{case['unit_name']}（{case['unit']}）",
                      STATES.get(case["state"], case["state"]), case["reason"],
                      case["published_on"].isoformat() if case["published_on"] else "—")
    console.print(table)
