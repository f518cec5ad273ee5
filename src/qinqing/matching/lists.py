"""Push lists (matches new since the previous run) and 免申即享 payout candidates, with exports.

A push is owed for a pair eligible in the current run that was not eligible in the previous one.
A payout candidate is an eligible pair of a 免申即享 policy with nothing missing: every condition
was decided by data, so it can be paid without an application.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from qinqing.errors import Place
from qinqing.matching.errors import UnsupportedExport
from qinqing.matching.results import ResultStore
from qinqing.registry.spreadsheet import safe_row, write_xlsx_row, xlsx_workbook

AUTO_GRANT = "免申即享"
HEADERS_ZH = {
    "uscc": "统一社会信用代码",
    "policy_id": "政策编号",
    "title": "政策名称",
    "status": "匹配结果",
    "amount": "预计金额（万元）",
    "missing": "缺少的数据",
    "run_id": "匹配批次",
}
STATUS_ZH = {"eligible": "符合", "unknown": "待补充数据", "ineligible": "不符合"}


def push_list(store: ResultStore) -> pa.Table:
    """Eligible pairs of the current run that were not eligible in the previous run (all, if none)."""
    return store.new_since_previous()


def auto_grant_candidates(store: ResultStore, policies: Sequence[Any]) -> pa.Table:
    """Eligible pairs of 免申即享 policies with every condition known, with their amounts."""
    ids = [p.id for p in policies if getattr(p, "mode", None) == AUTO_GRANT]
    return store.eligible(ids, complete=True)


def export(table: pa.Table, out: str | Path, titles: dict[str, str] | None = None) -> Path:
    """Write a list to .xlsx or .csv (by extension) with Chinese headers.

    Text cells go through registry.spreadsheet (formula-like text is written with a leading
    apostrophe, XLSX text is never a formula); amounts stay number cells."""
    out = Path(out)
    titles = titles or {}
    columns = ["uscc", "policy_id", "title", "status", "amount", "missing", "run_id"]
    rows = []
    for r in table.to_pylist():
        rows.append([r["uscc"], r["policy_id"], titles.get(r["policy_id"], ""), STATUS_ZH.get(r["status"], r["status"]),
                     float(r["amount"]) if r["amount"] is not None else None, "、".join(r["missing"] or []),
                     r["run_id"]])
    header = [HEADERS_ZH[c] for c in columns]
    if out.suffix.lower() == ".csv":
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens UTF-8 Chinese correctly
            writer = csv.writer(fh)
            writer.writerow(safe_row(header))
            writer.writerows(safe_row(row) for row in rows)
    elif out.suffix.lower() == ".xlsx":
        book = xlsx_workbook(out)
        sheet = book.add_worksheet("名单")
        write_xlsx_row(sheet, 0, header)
        for i, row in enumerate(rows, start=1):
            write_xlsx_row(sheet, i, row)
        book.close()
    else:
        raise UnsupportedExport(f"不支持的导出格式：{out.suffix or '（无扩展名）'}（请使用 .xlsx 或 .csv）", place=Place(file=str(out)))
    return out
