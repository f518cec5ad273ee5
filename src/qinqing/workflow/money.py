"""Money in the workflow: an integer number of 分 (fen). Policies state amounts in 万元 (Decimal, at
most 4 places = 1 元); one 万元 is 1,000,000 分. Floats are refused.

>>> fen(Decimal("50"))
50000000
>>> fen("0.0001")
100
>>> wan(123456789), wan(50000000)
(Decimal('123.456789'), Decimal('50'))
>>> yuan(123456789)
'1,234,567.89'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from qinqing.workflow.errors import InvalidAmount

FEN_PER_WAN = 1_000_000


def fen(amount_wan: Decimal | int | str) -> int:
    """万元 → 分, exactly; a float, a fraction of a 分 or a non-finite value raises InvalidAmount."""
    if isinstance(amount_wan, float | bool):
        raise InvalidAmount(f"金额不能是浮点数：{amount_wan!r}")
    try:
        value = Decimal(amount_wan) * FEN_PER_WAN
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(f"金额无效：{amount_wan!r}") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise InvalidAmount(f"金额须精确到分：{amount_wan} 万元")
    return int(value)


def wan(amount_fen: int) -> Decimal:
    """分 → 万元 (exact)."""
    return Decimal(amount_fen) / FEN_PER_WAN


def yuan(amount_fen: int) -> str:
    """分 as 元 text with thousands separators: 123456789 → '1,234,567.89'."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
