"""`qinqing workflow …`: budgets, 免申即享 batches, payment batches, bank files and returns, reconciliation.

Thin: every command calls ``qinqing.workflow.WorkflowService``. Money-moving commands take ``--key`` (an
idempotency key): run the same command again with the same key and nothing happens twice."""

from __future__ import annotations

import getpass
import json
import uuid
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer(help="兑政策: budgets, 免申即享, payment batches, bank files and returns, reconciliation.",
                  no_args_is_help=True)

KEY = typer.Option(None, "--key", help="Idempotency key: the same key again replays the first answer (default: new).")


def _service():
    from qinqing.db import make_engine, migrate
    from qinqing.matching.results import ResultStore
    from qinqing.settings import get_settings
    from qinqing.workflow import WorkflowService

    settings = get_settings()
    migrate(settings.database_url)
    results = ResultStore(settings.results_dir) if Path(settings.results_dir).exists() else None
    return WorkflowService(make_engine(settings.database_url), today=settings.today, results=results)


def _actor():
    from qinqing.workflow import Actor

    return Actor(f"cli:{getpass.getuser()}", "admin")


def _show(result) -> None:
    if result.replayed:
        console.print("[yellow]（重放：该 --key 已执行过，以下为首次结果）[/yellow]")
    if not result.ok:
        error = result.body["error"]
        console.print(f"[red]{error['message']}[/red]", markup=True)
        raise typer.Exit(1)


def _yuan(fen: int) -> str:
    from qinqing.workflow.money import yuan

    return yuan(fen)


@app.command("fund")
def fund(policy_id: str = typer.Argument(..., help="The published policy."),
         amount: str = typer.Option(None, help="万元 to add to its budget (default: the budget its file declares)."),
         key: str = KEY) -> None:
    """Put money into a policy's budget account (a fund journal from its funding account)."""
    from qinqing.workflow.money import fen

    svc = _service()
    if amount is None:
        result = svc.fund_from_catalogue(_actor(), policy_id)
    else:
        result = svc.fund(_actor(), policy_id, fen(Decimal(amount)), idempotency_key=key or uuid.uuid4().hex)
    _show(result)
    console.print(f"{policy_id}：预算 {_yuan(result.body['funded_fen'])} 元，可用 {_yuan(result.body['available_fen'])} 元")


@app.command("totals")
def totals(policy_id: str = typer.Argument(None, help="One policy (default: every policy with a budget).")) -> None:
    """Each policy's budget, reserved, paid, returned and remaining (元)."""
    table = Table("政策", "预算", "已冻结", "已拨付", "已追回", "可用", "平衡")
    for t in _service().totals(policy_id).values():
        table.add_row(t.policy_id, _yuan(t.funded), _yuan(t.reserved), _yuan(t.paid), _yuan(t.returned),
                      _yuan(t.available), "是" if t.balanced else "否")
    console.print(table)


@app.command("grant-batch")
def grant_batch(policy_id: str = typer.Argument(..., help="A published 免申即享 policy."), key: str = KEY) -> None:
    """免申即享: 名单公示 of the latest run's eligible enterprises with no unknown condition, reserved at once."""
    result = _service().create_grant_batch(_actor(), policy_id, idempotency_key=key or uuid.uuid4().hex)
    _show(result)
    b = result.body
    console.print(f"批次 {b['id']}：候选 {b['candidates']}，新建 {b['created']}，已享受 {b['already_awarded']}，"
                  f"预算不足 {b['skipped_budget']}；公示至 {b['objection_until']}，确认截止 {b['confirm_until']}"
                  f"（{b['calendar']}）")


@app.command("pay")
def pay(policy_id: str = typer.Option(None, "--policy", help="Only this policy's approved applications."),
        out: Path = typer.Option(..., help="The bank file to write (.csv or .xlsx)."), key: str = KEY) -> None:
    """A payment batch of every approved application with a verified account, and its bank file."""
    svc = _service()
    result = svc.create_payment_batch(_actor(), policy_id=policy_id, idempotency_key=key or uuid.uuid4().hex)
    _show(result)
    _path, digest = svc.bank_file(result.body["id"], out)
    console.print(f"拨付批次 {result.body['id']}：{result.body['lines']} 笔，{_yuan(result.body['total_fen'])} 元；"
                  f"银行文件 {out}（SHA-256 {digest}）")


@app.command("bank-file")
def bank_file(batch_id: int, out: Path = typer.Option(..., help=".csv or .xlsx")) -> None:
    """Write a payment batch's bank file again (same lines, same checksum)."""
    _path, digest = _service().bank_file(batch_id, out)
    console.print(f"{out}（SHA-256 {digest}）")


@app.command("bank-return")
def bank_return(path: Path = typer.Argument(..., help="The bank's return file (CSV: 转账编号, 结果, 到账金额（元）, …)."),
                key: str = KEY) -> None:
    """Import the bank's return file; lines already applied are skipped, failures go back to the queue."""
    from qinqing.workflow.payments import parse_return_file

    if not path.exists():
        raise typer.BadParameter(f"找不到文件“{path}”", param_hint="PATH")
    lines = parse_return_file(path.read_text(encoding="utf-8-sig"))
    result = _service().import_bank_return(_actor(), lines, idempotency_key=key or uuid.uuid4().hex)
    _show(result)
    s = result.body
    console.print(f"到账 {s['paid']}，失败 {s['failed']}，退回 {s['returned']}，已处理过 {s['skipped']}")


@app.command("reconcile")
def reconcile(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Daily reconciliation: ledger = bank = budget per policy, every difference listed. Exit 1 on a difference."""
    report = _service().reconcile()
    if as_json:
        console.print_json(json.dumps(report, ensure_ascii=False))
    else:
        table = Table("政策", "预算", "可用", "冻结", "账务已拨付", "银行确认", "平衡")
        for r in report["policies"]:
            table.add_row(r["policy_id"], _yuan(r["funded_fen"]), _yuan(r["available_fen"]), _yuan(r["reserved_fen"]),
                          _yuan(r["ledger_out_fen"]), _yuan(r["bank_paid_fen"]), "是" if r["balanced"] else "否")
        console.print(table)
        for line in report["differences"]:
            console.print(f"[red]差异：{line}[/red]")
        if report["ok"]:
            console.print("对账一致：账务 = 银行 = 预算")
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("queue")
def queue(state: list[str] = typer.Option(None, "--state", help="States to list (default: those awaiting review)."),
          policy_id: str = typer.Option(None, "--policy")) -> None:
    """Applications waiting, with their time limits in working days."""
    from qinqing.workflow import states

    rows = _service().list(_actor(), states_=state or sorted(states.IN_REVIEW), policy_id=policy_id)
    table = Table("编号", "政策", "企业", "状态", "金额（元）", "期限", "剩余工作日")
    for r in rows:
        table.add_row(str(r["id"]), r["policy_id"], r["enterprise_name"], r["state"],
                      _yuan(r["amount_fen"]) if r["amount_fen"] else "—", r["deadline"] or "—",
                      "" if r["working_days_left"] is None else str(r["working_days_left"]))
    console.print(table)


@app.command("report")
def report(out: Path = typer.Option(..., help="The workbook to write (.xlsx)."),
           unpaid_after: int = typer.Option(30, help="Days after which an eligible, unpaid application is listed.")) -> None:
    """The auditor's workbook: money per policy, payouts per enterprise, eligible but unpaid, paid without a
    verified account, conflicts of interest, reviewed off the platform, materials missing."""
    counts = _service().audit_report(out, unpaid_after)
    console.print(f"{out}：" + "，".join(f"{name} {n} 行" for name, n in counts.items()))


@app.command("verify")
def verify() -> None:
    """Check the audit chain, the ledger's history (sums, running balances, nothing overdrawn or resolved
    twice) and every application against its latest audit row. Exit 1 on any problem."""
    result = _service().verify()
    for line in result["audit_problems"] + result["ledger_problems"] + result["row_problems"]:
        console.print(f"[red]{line}[/red]")
    console.print(f"已核对申报 {result['rows_checked']} 条：" + ("一致" if result["ok"] else "发现问题"))
    if not result["ok"]:
        raise typer.Exit(1)
