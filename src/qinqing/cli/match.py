"""Top-level `qinqing match` and `qinqing explain`: match policies against a registry file, explain one pair."""

from __future__ import annotations

from pathlib import Path

import typer

from qinqing.cli.options import draft_or_published, reference_date, registry_file, registry_table

DRAFTS = typer.Option(None, "--draft-policies",
                      help="Evaluate these unpublished policy files (a file or directory) instead of the "
                           "published catalogue (QINQING_DATABASE_URL).")

STATUS_ZH = {"eligible": "符合", "ineligible": "不符合", "unknown": "未知"}
RESULT_ZH = {True: "符合", False: "不符合", None: "未知"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.command("match")(match)
    app.command("explain")(explain)


def match(
    enterprises: Path = typer.Option(..., "--enterprises", help="Registry file: CSV or Parquet (as from `qinqing registry generate`)."),
    out: Path = typer.Option(..., "--out", help="Output file: .csv, .jsonl or .parquet."),
    as_of: str = typer.Option(None, "--as-of", help="Reference date YYYY-MM-DD (default: settings.reference_date or today)."),
    engine: str = typer.Option("vectorised", "--engine", help="vectorised (the fast path `run full` uses), duckdb or spark."),
    all_pairs: bool = typer.Option(False, "--all-pairs", help="Write every pair, ineligible ones too (default: "
                                                               "eligible and unknown pairs only)."),
    include_expired: bool = typer.Option(False, "--include-expired", help="Also match policies not valid on the reference date."),
    draft_policies: Path = DRAFTS,
) -> None:
    """Match every enterprise against every published policy: uscc, policy_id, status, amount, failed, missing.

    Pairs are written batch by batch as they are matched, so memory stays flat however many there are.
    """
    from qinqing.matching.run import ENGINES, compilable, match_batches

    day = reference_date(as_of)
    if engine not in ENGINES:
        raise typer.BadParameter(f"应为 {'、'.join(ENGINES)} 之一", param_hint="--engine")
    if out.suffix.lower() not in (".csv", ".jsonl", ".parquet"):
        raise typer.BadParameter("输出文件应为 .csv、.jsonl 或 .parquet", param_hint="--out")
    if draft_policies is None and engine == "vectorised":  # the published catalogue's stored plans
        from qinqing.cli.run import published_plans_or_exit

        selected = published_plans_or_exit(day, in_force=not include_expired)
    else:
        selected = [p for p in draft_or_published(draft_policies) if include_expired or p.valid_on(day)]
    selected, refused = compilable(selected, day, engine)
    for policy_id, reason in refused.items():
        typer.echo(f"未参与匹配：政策 {policy_id} 无法编译：{reason}", err=True)
    table = registry_table(enterprises)
    counts = {s: 0 for s in STATUS_ZH}
    with ResultsWriter(out) as writer:
        for batch in match_batches(selected, table, day, engine=engine, all_pairs=all_pairs):
            writer.write(batch.pairs)  # kept pairs only, unless all_pairs: match_batches filters
            for status in STATUS_ZH:
                counts[status] += int(pc_sum(batch.counts, status))
    # Out-of-scope pairs are ineligible without being evaluated (scope pruning): count them too.
    counts["ineligible"] = len(selected) * table.num_rows - counts["eligible"] - counts["unknown"]
    summary = "，".join(f"{STATUS_ZH[s]} {n:,}" for s, n in counts.items())
    kept = counts["eligible"] + counts["unknown"] + (counts["ineligible"] if all_pairs else 0)
    typer.echo(f"{len(selected)} 项政策 × {table.num_rows:,} 家企业：{summary}；写入 {kept:,} 对 → {out}")


def pc_sum(counts, column: str) -> int:
    import pyarrow.compute as pc

    return pc.sum(counts.column(column)).as_py() or 0


class ResultsWriter:
    """Pairs appended batch by batch: CSV (lists joined by ';', amount empty unless eligible), JSON
    lines (amount as an exact string) or Parquet. CSV text cells are neutralised against formulas."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.suffix = out.suffix.lower()
        self._parquet = None
        self._file = None
        self._csv = None

    def __enter__(self) -> "ResultsWriter":
        if self.suffix == ".parquet":
            import pyarrow.parquet as pq

            from qinqing.matching.pairs import DECODED_SCHEMA

            self._parquet = pq.ParquetWriter(self.out, DECODED_SCHEMA, compression="zstd")
        else:
            self._file = self.out.open("w", encoding="utf-8", newline="")
            if self.suffix == ".csv":
                import csv

                self._csv = csv.writer(self._file)
                self._csv.writerow(["uscc", "policy_id", "status", "amount", "failed", "missing"])
        return self

    def write(self, table) -> None:
        import json

        from qinqing.registry.spreadsheet import safe_row

        if self._parquet is not None:
            self._parquet.write_table(table)
            return
        for r in table.to_pylist():
            amount = None if r["amount"] is None else str(r["amount"])
            if self._csv is not None:
                self._csv.writerow(safe_row([r["uscc"], r["policy_id"], r["status"], amount or "",
                                             ";".join(r["failed"]), ";".join(r["missing"])]))
            else:
                self._file.write(json.dumps({**r, "amount": amount}, ensure_ascii=False) + "\n")

    def __exit__(self, *exc) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._file is not None:
            self._file.close()


def explain(
    enterprise: str = typer.Option(..., "--enterprise", help="A registry file (CSV/Parquet, first row or the row of --uscc) or a USCC to read from the database."),
    policy: str = typer.Option(..., "--policy", help="Policy id."),
    uscc: str = typer.Option(None, "--uscc", help="With a file: which enterprise in it."),
    as_of: str = typer.Option(None, "--as-of", help="Reference date YYYY-MM-DD."),
    draft_policies: Path = DRAFTS,
) -> None:
    """Explain, condition by condition and in Chinese, why an enterprise does or does not qualify."""
    from qinqing.rules import evaluate
    day = reference_date(as_of)
    chosen = [p for p in draft_or_published(draft_policies) if p.id == policy]
    if not chosen:
        typer.echo(f"找不到政策“{policy}”", err=True)
        raise typer.Exit(1)
    facts = _enterprise_facts(enterprise, uscc)
    outcome = evaluate(chosen[0], facts, day)
    typer.echo(render_explanation(chosen[0], facts, outcome))


def render_explanation(policy, facts, outcome) -> str:
    """The trace as text a policy officer or an enterprise can read."""
    from qinqing.registry.schema import FIELDS_BY_NAME

    lines = [f"政策：{policy.title}（{policy.id}）", f"企业：{facts.get('name') or ''} {facts.get('uscc') or ''}".rstrip()]
    for i, t in enumerate(outcome.trace, 1):
        lines.append(f"{i}. 【{RESULT_ZH[t.result]}】{t.clause}")
        lines.append(f"   规则：{t.expr}")
        seen = "；".join(f"{FIELDS_BY_NAME[f].label_zh}（{f}）= {'缺失' if v is None else v}" for f, v in t.values.items())
        if seen:
            lines.append(f"   数据：{seen}")
    verdict = f"结论：{STATUS_ZH[outcome.status]}"
    if outcome.status == "eligible":
        verdict += f"，可享受 {outcome.amount} 万元" if outcome.amount is not None else "，金额无法计算"
    lines.append(verdict)
    if outcome.failed:
        lines.append("不符合的条件：" + "、".join(outcome.failed))
    if outcome.missing:
        lines.append("缺少的数据：" + "、".join(f"{FIELDS_BY_NAME[f].label_zh}（{f}）" for f in outcome.missing))
    return "\n".join(lines)


def _enterprise_facts(enterprise: str, uscc: str | None) -> dict:
    from qinqing.registry.schema import STORED_NAMES

    path = Path(enterprise)
    if path.exists():
        import duckdb

        from qinqing.matching.engines.duckdb import load_enterprises

        con = duckdb.connect()
        with registry_file(path, "--enterprise"):
            load_enterprises(con, path)
        rel = con.sql("SELECT * FROM enterprises")
        rows = rel.to_arrow_table().to_pylist()
        if uscc:
            rows = [r for r in rows if r["uscc"] == uscc]
        if not rows:
            typer.echo(f"文件 {path} 中没有找到企业 {uscc or ''}", err=True)
            raise typer.Exit(1)
        return {k: v for k, v in rows[0].items() if k in STORED_NAMES and v is not None}
    from qinqing.db import make_engine
    from qinqing.registry.store import get_enterprise

    row = get_enterprise(make_engine(), enterprise)
    if row is None:
        typer.echo(f"数据库中没有统一社会信用代码为 {enterprise} 的企业", err=True)
        raise typer.Exit(1)
    row = dict(row) if not isinstance(row, dict) else row
    return {k: v for k, v in row.items() if k in STORED_NAMES and v is not None}
