"""Amounts as people read them: exact decimals written out plainly."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | int | str) -> str:
    """Without trailing zeros or exponent: Decimal('50.0000') → '50', Decimal('1E+1') → '10'."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
