"""`qinqing audit …`: verify the hash-chained audit trail and export its head; show an object's trail."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer(
    help="The audit trail (QINQING_DATABASE_URL): verify the chain, print its head, show an object's rows.",
    no_args_is_help=True,
)


def _utc(moment: datetime) -> str:
    """``moment`` in UTC to the second (SQLite hands back naive datetimes, in UTC)."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise typer.BadParameter(f"链头应写作 序号:64位十六进制哈希（verify 打印的那一行），实为“{text}”",
                                 param_hint="--anchor")
    return int(seq), digest


@app.command("verify")
def verify(
    anchor: str = typer.Option(None, help="A head exported earlier (SEQ:HASH): does row SEQ still have it?"),
) -> None:
    """Recompute every row's hash and follow the chain; print the head hash to export.

    Reports edited, deleted, inserted and reordered rows; exit status 1 when any is found.
    """
    from qinqing import audit
    from qinqing.db import make_engine, migrate
    from qinqing.settings import get_settings

    expected = _anchor(anchor)
    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    try:
        result = audit.verify(engine, anchor=expected)
    finally:
        engine.dispose()
    for problem in result.problems:
        console.print(f"[red]第 {problem.seq} 行：{problem.label}[/red]　{problem.detail}", highlight=False)
    if result.ok:
        console.print(f"审计链完好：共 {result.rows} 行。", highlight=False)
    else:
        console.print(f"[red]审计链有 {len(result.problems)} 处问题（共 {result.rows} 行）。[/red]",
                      highlight=False)
    console.print("链头（导出保存，日后用 --anchor 核对）：", highlight=False)
    typer.echo(f"{result.head_seq}:{result.head_hash}")
    if not result.ok:
        raise typer.Exit(1)


@app.command("show")
def show(
    object_type: str = typer.Argument(..., help="The object's kind: policy, user, registry, run, …"),
    object_id: str = typer.Argument(..., help="The object's id, e.g. a policy id or a username."),
) -> None:
    """Every row recorded for one object, oldest first."""
    from qinqing import audit
    from qinqing.db import make_engine, migrate
    from qinqing.settings import get_settings

    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    try:
        entries = audit.trail(engine, object_type, object_id)
    finally:
        engine.dispose()
    table = Table(title=f"{audit.object_type_label(object_type)} {object_id} 的操作记录：{len(entries)} 条")
    for column in ("序号", "时间（UTC）", "操作人", "操作", "原因", "变更前", "变更后", "行哈希"):
        table.add_column(column)
    for e in entries:
        table.add_row(str(e.seq), _utc(e.recorded_at), e.actor,
                      audit.action_label(e.action),
                      e.reason or "", (e.before_hash or "")[:12], (e.after_hash or "")[:12], e.row_hash[:12])
    console.print(table)
