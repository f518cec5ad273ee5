"""The import's fast path decides nothing on its own: every row it takes, RowValidator would take alike."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.registry.columns import map_headers
from qinqing.registry.importer import _checked
from qinqing.registry.schema import STORED_FIELDS, FieldType
from qinqing.registry.standards import uscc
from qinqing.registry.validate import RowValidator

AS_OF = date(2024, 6, 30)
VALID_USCC = ["91350100M000100Y43", "914403001922038216", "91440300708461136T"]

# Cells as exports spell them: plain forms the fast path takes, and every kind of near miss.
_TYPED_CELLS: dict[FieldType, st.SearchStrategy[Any]] = {
    FieldType.MONEY: st.sampled_from(["0", "12.5", "1234.5678", "1234.56789", "-3", "1,234.5", "１２", " 7", "7 ",
                                      "1e3", "99999999999999", "100000000000000", "", "abc", "+5", ".5"]),
    FieldType.INTEGER: st.sampled_from(["0", "20", "007", "1900", "2024", "2025", "1899", "10000000", "10000001",
                                        "-1", "3.0", "3.5", "", " 12", "１２"]),
    FieldType.NUMBER: st.sampled_from(["0", "0.05", "1", "1.5", "5%", "-0.1", "", "0.1 ", "12.75"]),
    FieldType.BOOLEAN: st.sampled_from(["是", "否", "Y", "n", "TRUE", "False", "1", "0", "√", "×", "yes ", "maybe", ""]),
    FieldType.DATE: st.sampled_from(["2020-02-29", "2021-02-29", "2021/3/5", "20210305", "2030-01-01", "1899-12-31",
                                     "2024-06-30", "2024-07-01", "", "2021-3-5", "2021年3月5日"]),
    FieldType.STRING: st.sampled_from(["杭州甲科技有限公司", " 乙公司", "丙\u3000", "", "x"]),
}
_SPECIAL_CELLS: dict[str, st.SearchStrategy[Any]] = {
    "uscc": st.one_of(
        st.sampled_from(VALID_USCC + ["91350100m000100y43", " 91350100M000100Y43", "91350100M000100Y44",
                                      "9135010OM000100Y43", "", "９1350100M000100Y43"]),
        st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=19),
    ),
    "region_code": st.sampled_from(["330106", "110101", "330103", "999999", "33010", "３30106", " 330106", ""]),
    "industry_code": st.sampled_from(["C3911", "3911", "c3911", "C1310", "I6510", "C39", "Z", " C3911", ""]),
    "smart_factory_level": st.sampled_from(["未来工厂", "智能工厂", "数字化车间", "工厂", ""]),
}


def _cell(name: str, type_: FieldType) -> st.SearchStrategy[Any]:
    return _SPECIAL_CELLS.get(name, _TYPED_CELLS[type_])


_FIELDS = [f for f in STORED_FIELDS]
_HEADERS = [f.name for f in _FIELDS]
_rows = st.lists(st.tuples(*(_cell(f.name, f.type) for f in _FIELDS)).map(list), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows=_rows)
def test_fast_path_agrees_with_row_validator(rows: list[list[Any]]) -> None:
    column_map = map_headers("probe.csv", _HEADERS)
    validator = RowValidator(column_map, AS_OF)
    chunk = [(number, values) for number, values in enumerate(rows, start=2)]
    names = [c.field.name for c in column_map.columns]
    for (number, values), (got_number, got_values, got_problems) in zip(chunk, _checked(chunk, column_map, validator, AS_OF)):
        record, problems = validator.validate(number, values)
        assert got_number == number
        assert got_problems == problems
        if not problems:
            assert got_values == tuple(record[name] for name in names)
            for got, expected in zip(got_values, (record[name] for name in names)):
                assert type(got) is type(expected)  # Decimal stays Decimal, bool stays bool


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(VALID_USCC),
    position=st.integers(0, 17),
    replacement=st.sampled_from(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa*")),
)
def test_vectorised_uscc_check_equals_check(code: str, position: int, replacement: str) -> None:
    damaged = code[:position] + replacement + code[position + 1 :]
    codes = [damaged, code, damaged[:17], damaged + "0", None, 42, "一" * 18]
    assert uscc.valid_mask(codes).tolist() == [uscc.check(c) is None if isinstance(c, str) else False for c in codes]


def test_typed_parquet_values_take_the_fast_path_unchanged() -> None:
    headers = ["uscc", "revenue", "employees", "established_on", "is_listed", "layoff_rate"]
    column_map = map_headers("probe.parquet", headers)
    row = [VALID_USCC[0], Decimal("12.3400"), 20, date(2020, 1, 2), True, 0.05]
    ((_, values, problems),) = _checked([(2, row)], column_map, RowValidator(column_map, AS_OF), AS_OF)
    assert problems == []
    assert values == tuple(row)
