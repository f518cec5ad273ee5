"""Cell values from exports → typed field values, or a Chinese reason why not.

Each parser takes what a reader gives (text from CSV, numbers/dates from Excel, typed values
from Parquet) and returns the value in the field's type, or None for an empty cell. An empty
cell is NULL ("unknown"), never 0 or false.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from qinqing.registry.errors import RegistryError
from qinqing.registry.schema import FieldType


class ValueProblem(RegistryError):
    """A cell that cannot be read as its field's type; ``reason`` is shown to the user."""

    code = "registry.invalid_value"
    status = 422

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


TRUE_WORDS = frozenset({"是", "y", "yes", "true", "t", "1", "√"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "f", "0", "×"})
MONEY_QUANTUM = Decimal("0.0001")
MONEY_LIMIT = Decimal("1e14")  # DECIMAL(18,4) holds 14 integer digits
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's phantom 1900-02-29

_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d*)?$|^[+-]?\.\d+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float):
        return math.isnan(raw)
    return isinstance(raw, str) and not raw.strip()


def _text(raw: Any) -> str:
    # NFKC turns full-width digits, commas and letters (１２，３４５) into their ASCII forms.
    return unicodedata.normalize("NFKC", str(raw)).strip()


def parse_string(raw: Any) -> str | None:
    if is_empty(raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel stores codes typed as numbers, e.g. 330106.0
    if isinstance(raw, (date, bool)):
        raise ValueProblem(f"应为文字，实为{type(raw).__name__}值“{raw}”")
    return str(raw).strip()


def parse_boolean(raw: Any) -> bool | None:
    if is_empty(raw):
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float, Decimal)) and raw in (0, 1):
        return bool(raw)
    word = _text(raw).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem(f"应为是/否（也可写Y/N、true/false、1/0），实为“{raw}”")


def _decimal(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool) or isinstance(raw, (date, datetime)):
        raise ValueProblem(f"应为{what}，实为“{raw}”")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        if math.isinf(raw):
            raise ValueProblem(f"应为{what}，实为“{raw}”")
        value = Decimal(repr(raw))  # the shortest decimal that round-trips, not the binary expansion
    else:
        text = _text(raw).replace(" ", "")
        if _NUMBER.match(text):
            value = Decimal(text.replace(",", ""))
        elif _SCIENTIFIC.match(text):
            value = Decimal(text)
        else:
            raise ValueProblem(f"应为{what}，实为“{raw}”")
    if not value.is_finite():
        raise ValueProblem(f"应为{what}，实为“{raw}”")
    return value


def parse_money(raw: Any) -> Decimal | None:
    """万元 with up to 4 decimals (more are rounded half-even); thousands separators allowed."""
    if is_empty(raw):
        return None
    value = _decimal(raw, "金额数字（单位万元，如1,234.5）")
    try:
        value = value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise ValueProblem(f"金额超出范围（绝对值须小于1e14万元），实为“{raw}”") from None
    if abs(value) >= MONEY_LIMIT:
        raise ValueProblem(f"金额超出范围（绝对值须小于1e14万元），实为“{raw}”")
    return value


def parse_integer(raw: Any) -> int | None:
    if is_empty(raw):
        return None
    value = _decimal(raw, "整数")
    if value != value.to_integral_value():
        raise ValueProblem(f"应为整数，实为“{raw}”")
    return int(value)


def parse_number(raw: Any) -> float | None:
    """A measured quantity or ratio; "5%" reads as 0.05."""
    if is_empty(raw):
        return None
    if isinstance(raw, str) and _text(raw).endswith("%"):
        return float(_decimal(_text(raw)[:-1], "数字或百分数") / 100)
    return float(_decimal(raw, "数字"))


def parse_date(raw: Any) -> date | None:
    """2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日, 20210305, or an Excel date (cell or serial)."""
    if is_empty(raw):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise ValueProblem(f"日期无法识别：“{raw}”")
    if isinstance(raw, (int, float)):
        return _excel_serial(raw)
    text = _text(raw)
    match = _DATE_PARTS.match(text) or _DATE_COMPACT.match(text)
    if match is None:
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return _excel_serial(float(text))
        raise ValueProblem(f"日期无法识别：“{raw}”，应写作2021-03-05、2021/3/5或20210305")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueProblem(f"不是有效的日期：“{raw}”") from None


def _excel_serial(serial: float) -> date:
    if not 1 <= serial < 2958466 or serial != int(serial):
        raise ValueProblem(f"日期无法识别：“{serial}”（不是Excel日期序号）")
    return EXCEL_EPOCH + timedelta(days=int(serial))


PARSERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.STRING: parse_string,
    FieldType.INTEGER: parse_integer,
    FieldType.MONEY: parse_money,
    FieldType.NUMBER: parse_number,
    FieldType.BOOLEAN: parse_boolean,
    FieldType.DATE: parse_date,
}
