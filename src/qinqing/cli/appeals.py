"""`qinqing appeals …`: the 接诉即办 configuration, lists, clocks, 三率 rankings and the dispatch classifier."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer(help="接诉即办: the 派单目录 and time limits, 工单 lists, clocks, 三率 rankings, the classifier.",
                  no_args_is_help=True)
config_app = typer.Typer(help="The appeals configuration (派单目录, time limits, sources).", no_args_is_help=True)
app.add_typer(config_app, name="config")

# The command line acts as the platform operator (an admin principal) on the configured database.
OPERATOR = "cli"


def _service():
    from qinqing.appeals.service import AppealService
    from qinqing.db import make_engine, migrate
    from qinqing.settings import get_settings

    settings = get_settings()
    migrate(settings.database_url)
    return AppealService(make_engine(settings.database_url))


def _operator():
    from qinqing.accounts.authz import Principal, Role

    return Principal(0, OPERATOR, Role.ADMIN, "命令行操作员")


@config_app.command("show")
def config_show() -> None:
    """Print the configuration in force (the latest stored revision, or the shipped default)."""
    typer.echo(_service().config_text(), nl=False)  # verbatim: a file to edit and load back


@config_app.command("load")
def config_load(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="An appeals YAML file.")) -> None:
    """Validate a configuration file and store it as the new revision every dispatch reads."""
    revision = _service().load_config(_operator(), path.read_text(encoding="utf-8"), file=str(path))
    console.print(f"已载入派单目录修订 {revision}。")


@app.command("list")
def list_appeals(queue: str = typer.Option("all", help="all, desk (待派单/退单审核) or supervision (督办清单).")) -> None:
    """The 工单 of a queue, newest first."""
    items = _service().list_for(_operator(), queue=queue)
    table = Table("工单编号", "标题", "分类", "状态", "主办部门")
    for a in items:
        table.add_row(a.number, a.title, a.category_name or "未分类", a.state_label, a.lead_department or "—")
    console.print(table)


@app.command("sweep")
def sweep() -> None:
    """Fire every due clock now (催办, escalation, rating expiry); the job runner does this every 15 minutes."""
    console.print(f"已触发 {_service().sweep_clocks()['fired']} 项时限提醒或升级。")


@app.command("rankings")
def rankings(month: str = typer.Option(..., help="YYYY-MM"), by: str = typer.Option("department"),
             out: Path = typer.Option(None, help="Write an .xlsx with the department and region tables.")) -> None:
    """三率 of every department (or city) for a month; units under the minimum count are flagged."""
    from qinqing.appeals.metrics import export_xlsx, month_period
    from qinqing.appeals.service import ranking_for

    service = _service()
    try:
        year, number = (int(p) for p in month.split("-"))
    except ValueError:
        raise typer.BadParameter("月份格式应为 YYYY-MM", param_hint="--month") from None
    start, end = month_period(year, number, service.config().rankings.month_starts_on)
    table = ranking_for(service, _operator(), start, end, by=by)
    shown = Table("排名", "单位", "件数", "响应率", "解决率", "满意率", "综合", "说明")
    for row in table.rows:
        cells = [f"{r.raw:.1%}（{r.wilson:.1%}）" if r.n else "—" for r in row.rates.values()]
        shown.add_row(str(row.rank or "—"), row.unit, str(row.items), *cells,
                      f"{row.score:.1%}" if row.score is not None else "—", row.flag or "")
    console.print(shown)
    if out is not None:
        tables = [ranking_for(service, _operator(), start, end, by=b) for b in ("department", "region")]
        console.print(f"已导出 {export_xlsx(out, tables)}")


@app.command("classifier")
def classifier(samples: int = typer.Option(0, help="Evaluate on N synthetic appeals instead of the database's.")) -> None:
    """Held-apart accuracy of the dispatch classifier (jieba + TF-IDF + logistic regression)."""
    from qinqing.appeals.samples import sample_appeals
    from qinqing.appeals.text import appeal_tokens, held_apart_accuracy

    if samples:
        items = sample_appeals(samples)
        tokens = [appeal_tokens("", i["description"]) for i in items]
        labels = [i["category"] for i in items]
        groups = [i["title"] for i in items]
        console.print("按条目留出：", held_apart_accuracy(tokens, labels))
        console.print("按措辞留出（留出条目的措辞不在训练集中）：", held_apart_accuracy(tokens, labels, groups=groups, every=4))
    else:
        tokens, labels = _service().training_items()
        console.print("本平台已派单工单，按条目留出：", held_apart_accuracy(tokens, labels))
