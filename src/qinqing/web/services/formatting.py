"""How pages write numbers: money, counts, percentages and measured quantities, in one place.

Amounts are stored in 万元 (docs/policy-format.md). A page shows them as a reader writes them:

- at or above 10,000 万元 in 亿元, below 1 万元 in 元, otherwise in 万元;
- at most two decimals, trailing zeros dropped, thousands separators ("27,645.42 万元" → "2.76 亿元",
  "0.0691 万元" → "691 元");
- the exact stored value on hover (``title``) — the ``money`` Jinja filter wraps the display in a span.

Counts get thousands separators ("19,995 家"); years never do. Ratios (0.1234) are shown as percentages
("12.3%"); measured quantities are rounded to what a reader can use (``measure``). The functions are
registered as Jinja filters by ``install`` (web/app.py); exports keep the exact values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup

WAN_PER_YI = Decimal(10_000)  # 1 亿元 = 10,000 万元
YUAN_PER_WAN = Decimal(10_000)  # 1 万元 = 10,000 元
NONE = "—"


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _round(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def grouped(d: Decimal, places: int = 2) -> str:
    """``d`` rounded to at most ``places`` decimals, trailing zeros dropped, with thousands separators.

    >>> grouped(Decimal("27645.4200")), grouped(Decimal("50.0000")), grouped(Decimal("-1234.5"))
    ('27,645.42', '50', '-1,234.5')
    """
    text = f"{_round(d, places):,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def money_text(value_wan: Any) -> str:
    """An amount in 万元 as a reader writes it, with its unit.

    >>> money_text(Decimal("27645.42")), money_text("0.0691"), money_text(44.9986), money_text(None)
    ('2.76 亿元', '691 元', '45 万元', '—')
    """
    d = _decimal(value_wan)
    if d is None:
        return NONE
    if d == 0:
        return "0 元"
    wan = _round(d, 2)
    if abs(wan) >= WAN_PER_YI:
        return f"{grouped(d / WAN_PER_YI)} 亿元"
    if abs(d) >= 1 or abs(wan) >= 1:
        return f"{grouped(wan)} 万元"
    yuan = _round(d * YUAN_PER_WAN, 2)
    return f"{grouped(yuan)} 元"


def money_exact(value_wan: Any) -> str:
    """The stored amount in 万元, every digit kept, with thousands separators: "27,645.4200 万元" → "27,645.42 万元"."""
    d = _decimal(value_wan)
    if d is None:
        return NONE
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} 万元"


def money(value_wan: Any) -> Markup:
    """``money_text`` in a span whose ``title`` is the exact stored value (the Jinja filter ``money``)."""
    if _decimal(value_wan) is None:
        return Markup(NONE)
    return Markup('<span class="money" title="{}">{}</span>').format(
        f"精确值：{money_exact(value_wan)}", money_text(value_wan))


def number(value: Any, unit: str = "") -> str:
    """A count or a plain quantity with thousands separators (at most two decimals), and its unit.

    >>> number(19995, "家"), number(1234567), number(None, "家")
    ('19,995 家', '1,234,567', '—')
    """
    d = _decimal(value)
    if d is None:
        return NONE
    text = grouped(d)
    return f"{text} {unit}" if unit else text


def percent(ratio: Any, places: int = 1) -> str:
    """A ratio as a percentage: 0.1234 → "12.3%", 0.5 → "50%".

    >>> percent(0.1234), percent(Decimal("0.5")), percent(-0.02), percent(None)
    ('12.3%', '50%', '-2%', '—')
    """
    d = _decimal(ratio)
    if d is None:
        return NONE
    return f"{grouped(d * 100, places)}%"


def measure(value: Any, unit: str = "") -> str:
    """A measured quantity rounded to what a reader uses: from 100 up whole numbers, from 1 two decimals,
    below 1 three significant digits; thousands separators; the unit after a space.

    >>> measure(899.972395, "吨标准煤"), measure(5240.4, "吨标准煤"), measure(12.3456, "吨"), measure(0.0012345, "吨")
    ('900 吨标准煤', '5,240 吨标准煤', '12.35 吨', '0.00123 吨')
    """
    d = _decimal(value)
    if d is None:
        return NONE
    size = abs(d)
    if size >= 100:
        places = 0
    elif size >= 1 or size == 0:
        places = 2
    else:
        places = 2 - size.adjusted()  # adjusted(): the exponent of the first significant digit (0.0012 → -3)
    text = grouped(d, places)
    return f"{text} {unit}" if unit else text


def field_value(unit: str, value: Any) -> str:
    """A registry value by its field's unit (registry.schema): 万元 as money, 比例 as a percentage, years as
    they are (no separator), 人 as a count, other units as measures."""
    if value is None:
        return NONE
    if isinstance(value, (bool, str)) or _decimal(value) is None:
        return str(value)
    if unit == "万元":
        return money_text(value)
    if unit == "比例":
        return percent(value)
    if unit == "年":
        return str(value)
    if unit == "人":
        return number(value, "人")
    return measure(value, unit)


FILTERS = {"money": money, "money_text": money_text, "money_exact": money_exact, "number": number,
           "percent": percent, "measure": measure}


def install(env) -> None:
    """Register the filters on a Jinja environment: ``{{ amount | money }}``, ``{{ n | number("家") }}``…"""
    env.filters.update(FILTERS)
