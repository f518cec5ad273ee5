"""What end users read instead of identifiers: 条件一/二…, a field's 中文名 and the department holding it,
industry names, and a Chinese account of each derived variable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from qinqing.catalogue.labels import chinese_number, condition_label, path_label  # noqa: F401 (re-exported)
from qinqing.registry.schema import ALL_FIELDS, FIELDS_BY_NAME
from qinqing.registry.standards import industries

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The schema's ``meaning`` is written for developers (English); pages show these instead.
# tests/web/test_labels.py fails when a derived field has no entry here.
DERIVED_EXPLAINED = {
    "size_class": "按《中小企业划型标准规定》（工信部联企业〔2011〕300号），由所属行业、从业人员、营业收入和资产总额划分；缺少其中所需数据时为未知",
    "age_years": "自成立日期至基准日的整年数",
    "revenue_growth": "营业收入 ÷ 上年营业收入 − 1",
    "rd_growth": "研发费用 ÷ 上年研发费用 − 1",
    "rd_intensity": "研发费用 ÷ 营业收入",
    "output_growth": "工业总产值 ÷ 上年工业总产值 − 1",
}


@dataclass(frozen=True)
class FieldLabel:
    name: str  # kept for data attributes and the API, never shown as text
    label: str
    department: str


def field_label(name: str) -> FieldLabel:
    f = FIELDS_BY_NAME.get(name)
    if f is None:
        return FieldLabel(name, name, "主管部门")
    return FieldLabel(name, f.label_zh, f.department)


def fields_read(expr: str) -> list[FieldLabel]:
    """The registry fields an expression mentions, in schema order, with their 中文名 and department."""
    names = set(_IDENTIFIER.findall(expr or ""))
    return [FieldLabel(f.name, f.label_zh, f.department) for f in ALL_FIELDS if f.name in names]


def derived_explained(name: str) -> str:
    return DERIVED_EXPLAINED.get(name, "")


STATUSES = ("有效", "未生效", "已过期")


def validity_status(valid_from: date, valid_to: date | None, today: date) -> str:
    """未生效 before ``valid_from``, 已过期 after ``valid_to`` (both days included in 有效), else 有效."""
    if today < valid_from:
        return "未生效"
    if valid_to is not None and today > valid_to:
        return "已过期"
    return "有效"


def industry_label(code: str) -> str:
    """"C39" → "计算机、通信和其他电子设备制造业（C39）"; unknown codes as they are."""
    name = industries.name(code)
    return f"{name}（{code}）" if name else code
