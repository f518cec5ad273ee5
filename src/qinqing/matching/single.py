"""One enterprise against every policy in its scope, in milliseconds (the portal, 算政策, re-match).

The catalogue is indexed once by region prefix (GB/T 2260: '', 2, 4, 6 digits); an enterprise's
candidates are the policies of its region's ancestors whose industries admit it (scope.in_scope).
Per (region, industry) the candidates' distinct conditions and amounts — the rules engine's own
DuckDB SQL, as in the fast path — are put into one query over a one-row relation, prepared once
and kept; a call runs it on one persistent in-memory connection and combines the three-valued
results per policy with numpy segment reductions (min over FALSE < NULL < TRUE is the status).
The derived fields the query reads (size_class, age_years, ratios) are bound as parameters like the
stored ones, computed in Python by registry.derived.derive from the row: computing size_class in
DuckDB from the GB/T 4754 code lists cost ~30 ms a call, the Python lookup microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from qinqing.matching.engines.kernel import combine_one
from qinqing.matching.engines.plan import PolicyPlan, plan_policies
from qinqing.matching.pairs import (ENCODED_SCHEMA, FAILED, GUARDED_KEYS, MISSING_BIT, ConditionNames, EncodedPairs,
                                    field_mask, fold)
from qinqing.matching.scope import in_scope
from qinqing.registry.derived import derive
from qinqing.rules.inputs import used_inputs

_SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "money": "DECIMAL(18,4)", "number": "DOUBLE",
              "boolean": "BOOLEAN", "date": "DATE"}
_TRUE, _NULL, _FALSE = 2, 1, 0  # ordered so that the minimum over a policy's conditions is its status


def _value(v: bool | None) -> int:
    return _TRUE if v is True else _FALSE if v is False else _NULL


@dataclass
class _Prepared:
    plans: np.ndarray  # global plan indices of the candidates
    flat: np.ndarray  # per candidate, its conditions' indices into the query's columns, concatenated
    offsets: np.ndarray  # segment starts in flat (every segment holds at least the sentinel TRUE)
    position: np.ndarray  # j of each flat entry within its policy (failed bit), -1 for the sentinel
    cond_masks: np.ndarray  # uint64 missing-mask of each condition column (fields it reads)
    amount_col: np.ndarray  # per candidate, index of its amount column or -1
    amount_masks: np.ndarray  # per candidate, missing-mask of its benefit's fields
    values: np.ndarray  # int8 per distinct condition: _TRUE/_NULL/_FALSE, the constant ones filled in
    variable: np.ndarray  # the distinct conditions the query computes, in its column order
    sql: str
    params: list[str]  # the fields bound, in order, as the query's parameters (stored and derived)
    guarded: tuple[tuple[int, str, str], ...]  # (bit, derived, stored) of the guarded keys read
    derived: frozenset[str]  # the derived fields among params, computed in Python (registry.derived.derive)
    inputs: tuple[tuple[str, str], ...]  # (stored field, SQL type) that derive reads for them


class EnterpriseMatcher:
    """Built once per catalogue (a few seconds for tens of thousands of policies); ``match`` is the
    per-request call. Thread-safe: one connection, one lock."""

    def __init__(self, policies: Sequence[Any], as_of: date, *, plans: Sequence[PolicyPlan] | None = None) -> None:
        self.as_of = as_of
        self.plans = list(plans) if plans is not None else plan_policies(policies, as_of)
        self.policy_ids = pa.array([p.policy_id for p in self.plans], pa.string())
        self.condition_ids = ConditionNames([tuple(c.id for c in p.conditions) for p in self.plans])
        self.by_prefix: dict[str, list[int]] = {}
        for i, p in enumerate(self.plans):
            self.by_prefix.setdefault(p.scope.region_prefix, []).append(i)
        self._con = duckdb.connect()
        self._lock = threading.Lock()
        self._prepared: dict[tuple, _Prepared] = {}

    def candidates(self, region_code: str | None, industry_code: str | None) -> list[int]:
        """Indices of the plans whose scope admits this region and industry (missing codes admit all)."""
        if region_code is None:
            prefixes = list(self.by_prefix)
        else:
            code = str(region_code)
            prefixes = ["", code[:2], code[:4], code]
        out = []
        for prefix in dict.fromkeys(prefixes):
            for i in self.by_prefix.get(prefix, ()):
                if in_scope(self.plans[i].scope, region_code, industry_code):
                    out.append(i)
        return sorted(out)

    def match(self, enterprise: pa.Table) -> EncodedPairs:
        """Every in-scope pair of one enterprise (a one-row table of stored fields), with every status;
        ``failed`` bits included. ``.decode()`` names them."""
        if enterprise.num_rows != 1:
            raise ValueError(f"应为一家企业的数据（1 行），收到 {enterprise.num_rows} 行")
        row = enterprise.slice(0, 1).to_pylist()[0]
        region, industry = row.get("region_code"), row.get("industry_code")
        # The whole region code is in the key: conditions reading only region_code are then constant
        # per prepared query (a region-less enterprise has some ten thousand regional policies in scope,
        # whose region conditions are all NULL) and are evaluated once, when it is prepared.
        key = (str(region) if region is not None else None, industry[:4] if industry else None)
        with self._lock:
            prep = self._prepared.get(key)
            if prep is None:
                prep = self._prepared[key] = self._prepare(region, industry)
            if prep.derived:
                computed = derive(self._typed(row, prep.inputs), self.as_of)
                args = [computed[f] if f in prep.derived else row.get(f) for f in prep.params]
            else:
                args = [row.get(f) for f in prep.params]
            values = self._con.execute(prep.sql, args).fetchall()[0]
        # Guarded keys (pairs.GUARDED_KEYS) in Python, by the rules engine's own used_inputs.
        guarded = sum(bit for bit, derived, stored in prep.guarded
                      if row.get(stored) is None and stored in used_inputs(derived, row))
        return self._combine(prep, int(values[0] or 0) | guarded, values[1:], row["uscc"])

    # -- internals --------------------------------------------------------------------------
    def _prepare(self, region: str | None, industry: str | None) -> _Prepared:
        cand = self.candidates(region, industry)
        distinct: dict[str, int] = {}
        masks: list[int] = []
        flat, offsets, position, amount_col, amount_masks = [], [], [], [], []
        amounts: dict[str, int] = {}
        for i in cand:
            plan = self.plans[i]
            offsets.append(len(flat))
            flat.append(-1)  # sentinel TRUE: a policy without conditions is eligible
            position.append(-1)
            for j, c in enumerate(plan.conditions):
                if c.sql not in distinct:
                    distinct[c.sql] = len(distinct)
                    masks.append(field_mask(c.fields))
                flat.append(distinct[c.sql])
                position.append(j)
            if plan.amount_sql is not None:
                amount_col.append(amounts.setdefault(plan.amount_sql, len(amounts)))
            else:
                amount_col.append(-1)
            amount_masks.append(field_mask(plan.amount_fields))
        conds = list(distinct)
        constant = [i for i, c in enumerate(conds) if masks[i] and masks[i] == field_mask({"region_code"})]
        values = np.full(len(conds), _NULL, np.int8)
        if constant:  # conditions of region_code alone: the same for every enterprise with this key
            got = self._con.execute(f"SELECT {', '.join(f'CAST(({conds[i]}) AS BOOLEAN)' for i in constant)} "
                                    "FROM (SELECT CAST(? AS VARCHAR) AS region_code)", [region]).fetchall()[0]
            values[constant] = [_value(v) for v in got]
        variable = np.array([i for i in range(len(conds)) if i not in set(constant)], np.int64)
        keys = sorted({f for i in cand for c in self.plans[i].conditions for f in c.fields}
                      | {f for i in cand for f in self.plans[i].amount_fields}, key=MISSING_BIT.get)
        plain = [f for f in keys if f not in GUARDED_KEYS]
        null_terms = " | ".join(
            f'(CASE WHEN "{f}" IS NULL THEN {1 << MISSING_BIT[f]}::UBIGINT ELSE 0::UBIGINT END)' for f in plain
        ) or "0::UBIGINT"
        select = [f"({null_terms})"] + [f"CAST(({conds[i]}) AS BOOLEAN)" for i in variable] + [
            f"CAST(({s}) AS DECIMAL(18,4))" for s in amounts]
        facts, params, derived, inputs = _facts_sql(set(plain))
        sql = f"SELECT {', '.join(select)} FROM ({facts})"
        flat_arr = np.array(flat, np.int64)
        return _Prepared(np.array(cand, np.int64), flat_arr, np.array(offsets, np.int64),
                         np.array(position, np.int64), np.array(masks + [0], np.uint64),
                         np.array(amount_col, np.int64), np.array(amount_masks, np.uint64), values, variable, sql,
                         params, tuple((1 << MISSING_BIT[k], *GUARDED_KEYS[k]) for k in keys if k in GUARDED_KEYS),
                         derived, inputs)

    def _typed(self, row: dict[str, Any], inputs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
        """The stored fields ``inputs`` of ``row`` as DuckDB's CAST to their types gives them to the SQL:
        a value already of its type's Python class, in range, is its own cast; any other (a float for
        money, a Decimal of more than 4 places, a string for a date, ...) is cast by DuckDB itself."""
        out, other = {}, []
        for name, sql_type in inputs:
            v = row.get(name)
            if v is None or _is_cast(v, sql_type):
                out[name] = v
            else:
                other.append((name, sql_type, v))
        if other:  # caller holds the lock
            got = self._con.execute("SELECT " + ", ".join(f"CAST(? AS {t})" for _, t, _ in other),
                                    [v for _, _, v in other]).fetchall()[0]
            out.update((name, g) for (name, _, _), g in zip(other, got))
        return out

    def _combine(self, prep: _Prepared, nullmask: int, values: tuple, uscc: str) -> EncodedPairs:
        k = len(prep.variable)
        cond = prep.values.copy()
        cond[prep.variable] = [_value(v) for v in values[:k]]
        n = len(prep.plans)
        status, missing, failed = np.empty(n, np.int8), np.empty(n, np.uint64), np.empty(n, np.uint64)
        combine_one(cond, prep.flat, prep.offsets, prep.position, prep.cond_masks, np.uint64(nullmask), status,
                    missing, failed)

        raw = values[k:]
        known = np.array([a is not None for a in raw] + [False], bool)  # the extra entry answers col = -1
        units = np.array([int(a.scaleb(4)) if a is not None else 0 for a in raw] + [0], np.int64)
        valid = (status == 0) & known[prep.amount_col]
        amount = np.where(valid, units[prep.amount_col], 0)
        no_amount = (status == 0) & ~valid & (prep.amount_col >= 0)
        missing = fold(np.where(no_amount, prep.amount_masks & np.uint64(nullmask), missing))
        table = pa.table({"row": np.zeros(len(prep.plans), np.int32), "pol": prep.plans.astype(np.int32),
                          "status": status, "amount": pa.array(amount, pa.int64(), mask=~valid),
                          "missing": missing}, schema=ENCODED_SCHEMA).append_column(FAILED, pa.array(failed))
        return EncodedPairs(table, pa.array([uscc], pa.string()), self.policy_ids, self.condition_ids)


_BIGINT = (-(1 << 63), (1 << 63) - 1)
_MONEY_LIMIT = Decimal(10) ** 14  # DECIMAL(18,4): 14 digits before the point


def _is_cast(v: Any, sql_type: str) -> bool:
    """Whether CAST(v AS sql_type) in DuckDB is ``v`` itself (same Python value back)."""
    t = type(v)
    if sql_type == "VARCHAR":
        return t is str
    if sql_type == "BIGINT":
        return t is int and _BIGINT[0] <= v <= _BIGINT[1]
    if sql_type == "DECIMAL(18,4)":
        return (t is Decimal and v.is_finite() and v.as_tuple().exponent >= -4 and abs(v) < _MONEY_LIMIT
                and not (v.is_zero() and v.is_signed()))  # -0 is cast to 0
    if sql_type == "DATE":
        return t is date
    if sql_type == "DOUBLE":
        return t is float
    if sql_type == "BOOLEAN":
        return t is bool
    return False


@cache
def _derived_types() -> dict[str, str]:
    """DuckDB's type of each derived field's SQL (age_years is INTEGER there, not BIGINT), so that a
    field computed in Python is bound with the very type the SQL gave it."""
    from qinqing.registry.derived import derived_sql
    from qinqing.registry.schema import FIELDS_BY_NAME, STORED_FIELDS

    every = derived_sql(date(2000, 1, 1))
    cols = ", ".join(f'CAST(NULL AS {_SQL_TYPES[f.type.value]}) AS "{f.name}"' for f in STORED_FIELDS)
    types = ", ".join(f'typeof({e.sql(dialect="duckdb")})' for e in every.values())
    got = duckdb.connect().execute(f"SELECT {types} FROM (SELECT {cols})").fetchall()[0]
    assert all(FIELDS_BY_NAME[n].derived for n in every)
    return dict(zip(every, got))


def _facts_sql(read: set[str]) -> tuple[str, list[str], frozenset[str], tuple[tuple[str, str], ...]]:
    """One row of facts from bound parameters: the fields read, each cast to its type. A derived field
    read is a parameter too, computed in Python by registry.derived.derive (the same definition as its
    SQL, tests/registry/test_derived.py) from its stored inputs typed as the SQL would (``_typed``);
    returns the SQL, the fields bound in order, the derived ones among them and those inputs."""
    from qinqing.registry.derived import DERIVED_NAMES
    from qinqing.registry.schema import FIELDS_BY_NAME, STORED_FIELDS
    from qinqing.rules.inputs import stored_inputs

    derived = frozenset(n for n in read if n in DERIVED_NAMES)
    inputs = set().union(*(stored_inputs(n) for n in derived)) if derived else set()
    params = [f.name for f in STORED_FIELDS if f.name in read] + [n for n in DERIVED_NAMES if n in derived]
    types = {n: _derived_types()[n] if n in derived else _SQL_TYPES[FIELDS_BY_NAME[n].type.value] for n in params}
    cols = ", ".join(f'CAST(? AS {types[n]}) AS "{n}"' for n in params) or "1 AS _"
    typed_inputs = tuple((f.name, _SQL_TYPES[f.type.value]) for f in STORED_FIELDS if f.name in inputs)
    return f"SELECT {cols}", params, derived, typed_inputs
