"""One formatter for numbers on pages (issue 16.5): money in 元 / 万元 / 亿元, counts, percentages, measures;
the examples are the issue's own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from jinja2 import Environment

from qinqing.web.services import formatting
from qinqing.web.services.formatting import (
    field_value,
    measure,
    money,
    money_exact,
    money_text,
    number,
    percent,
)


@pytest.mark.parametrize(
    ("wan", "shown"),
    [
        (Decimal("0.0691"), "691 元"),  # 0.0691 万元 = 691 元
        (Decimal("0.5080"), "5,080 元"),
        (Decimal("0.00001"), "0.1 元"),
        (Decimal("44.9986"), "45 万元"),  # two decimals at most: 45.00 → 45
        (Decimal("262.017"), "262.02 万元"),
        (Decimal("50.0000"), "50 万元"),
        (Decimal(1), "1 万元"),
        (Decimal("0.999999"), "1 万元"),  # 9,999.99 元 rounds up to 1 万元, not "10,000 元"
        (Decimal("9999.99"), "9,999.99 万元"),
        (Decimal("9999.996"), "1 亿元"),  # rounds to 10,000.00 万元
        (Decimal(10000), "1 亿元"),
        (Decimal("27645.42"), "2.76 亿元"),
        (Decimal(123456789), "12,345.68 亿元"),
        (Decimal("-262.017"), "-262.02 万元"),
        (Decimal(0), "0 元"),
        (0.0691, "691 元"),  # floats by their decimal text
        ("262.017", "262.02 万元"),
        (None, "—"),
    ],
)
def test_money_text(wan, shown):
    assert money_text(wan) == shown


@pytest.mark.parametrize(
    ("wan", "exact"),
    [(Decimal("27645.4200"), "27,645.42 万元"), (Decimal("0.0691"), "0.0691 万元"), (Decimal("50.0000"), "50 万元"),
     (Decimal("899.972395"), "899.972395 万元")],
)
def test_money_exact_keeps_every_digit(wan, exact):
    assert money_exact(wan) == exact


def test_money_filter_shows_the_exact_value_on_hover():
    assert str(money(Decimal("27645.42"))) == '<span class="money" title="精确值：27,645.42 万元">2.76 亿元</span>'
    assert str(money(None)) == "—"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(19995, "家", "19,995 家"), (0, "家", "0 家"), (1234567, "", "1,234,567"), (319, "项", "319 项"),
     (Decimal("12.345"), "", "12.35"), (None, "家", "—")],
)
def test_number(value, unit, shown):
    assert number(value, unit) == shown


@pytest.mark.parametrize(
    ("ratio", "shown"),
    [(0.1234, "12.3%"), (Decimal("0.5"), "50%"), (1.5, "150%"), (0.00049, "0%"), (0.0005, "0.1%"), (None, "—")],
)
def test_percent(ratio, shown):
    assert percent(ratio) == shown


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (899.972395, "吨标准煤", "900 吨标准煤"),  # the 年节能量
        (5240.4, "吨标准煤", "5,240 吨标准煤"),
        (100, "吨", "100 吨"),
        (99.996, "吨", "100 吨"),
        (12.3456, "吨", "12.35 吨"),
        (0.0012345, "吨", "0.00123 吨"),  # three significant digits below 1
        (0.5, "吨", "0.5 吨"),
        (0, "吨", "0 吨"),
    ],
)
def test_measure(value, unit, shown):
    assert measure(value, unit) == shown


@pytest.mark.parametrize(
    ("unit", "value", "shown"),
    [
        ("万元", Decimal("27645.42"), "2.76 亿元"),
        ("万元", 0.0691, "691 元"),
        ("比例", 0.253, "25.3%"),
        ("年", 2021, "2021"),  # a year has no thousands separator
        ("人", 1200, "1,200 人"),
        ("吨标准煤", 899.972395, "900 吨标准煤"),
        ("", "C3911", "C3911"),
        ("万元", None, "—"),
    ],
)
def test_field_value_by_unit(unit, value, shown):
    assert field_value(unit, value) == shown


def test_filters_in_a_template():
    env = Environment(autoescape=True)
    formatting.install(env)
    out = env.from_string('{{ a | money }}；{{ n | number("家") }}；{{ r | percent }}；{{ e | measure("吨标准煤") }}').render(
        a=Decimal("0.0691"), n=19995, r=0.5, e=899.972395)
    assert out == '<span class="money" title="精确值：0.0691 万元">691 元</span>；19,995 家；50%；900 吨标准煤'
