"""Where indicator values come from, pluggable by name.

Two kinds of source:

- a **table**: a CSV declared under the system's ``tables`` (its ``path`` relative to the configuration
  file, or given at run time: ``--data NAME=FILE``, or ``--data FILE`` when the system has one table); one
  row per unit (and period, when ``period_column`` is set);
- a **query**: a function a piece registers under a dotted name with :func:`register_query`; it gets a
  :class:`QueryContext` and the source's ``params`` and returns one row per unit: ``unit``, ``value`` (or
  ``numerator`` and ``denominator``), optionally ``name``, ``sample`` and ``records`` (the ids of the records
  the number came from, so that every number can be traced back). Workflow, appeals and matching register
  theirs when they land; the indices piece never reads another piece's tables directly.

``gather(system, period, ...)`` turns a system's sources into the engine's :class:`~qinqing.indices.engine.Inputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qinqing.errors import Place
from qinqing.indices.config import Node, Source, System
from qinqing.indices.engine import Inputs
from qinqing.indices.errors import DataMissing, SourceUnknown


@dataclass
class QueryContext:
    """What a query may use: the database ``engine`` (may be None), the ``period`` ("2025-03", "2025"),
    the system's unit level (``units``: "region", …) and free ``options`` from the caller (e.g. a
    results directory or the region level "city"/"county")."""

    period: str | None
    engine: Any = None
    units: str = "region"
    options: dict[str, Any] = field(default_factory=dict)


Query = Callable[[QueryContext, dict[str, Any]], pd.DataFrame]
QUERIES: dict[str, tuple[Query, str]] = {}


def register_query(name: str, fn: Query, *, description: str = "") -> None:
    """Make ``fn`` available to configurations as ``source: {query: name}``."""
    QUERIES[name] = (fn, description)


def queries() -> dict[str, str]:
    """Registered query names → their descriptions."""
    return {name: description for name, (_, description) in sorted(QUERIES.items())}


def read_table(path: Path, *, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataMissing(f"找不到数据表 {name} 的文件。", place=Place(file=str(path))) from None
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DataMissing(f"数据表 {name} 无法读取：{error}", place=Place(file=str(path))) from None


def _number(text: str, *, path: Path, row: int, column: str) -> float:
    text = text.strip().replace(",", "")
    if text in ("", "NA", "N/A", "..", "-", "—", "no practice"):
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise DataMissing(f"“{text}”不是数字。", place=Place(file=str(path), row=row, field=column)) from None


def gather(system: System, period: str | None = None, *, base_dir: Path | None = None,
           data: dict[str, Path] | None = None, engine: Any = None, options: dict[str, Any] | None = None,
           previous: pd.DataFrame | None = None) -> Inputs:
    """The raw values of every indicator of ``system`` for ``period``."""
    data = dict(data or {})
    tables: dict[str, tuple[pd.DataFrame, Path]] = {}
    for table_name, table in system.tables.items():
        path = data.get(table_name) or (Path(base_dir or ".") / table.path if table.path else None)
        if path is None:
            raise DataMissing(f"数据表 {table_name} 没有文件：请用 --data {table_name}=FILE 指定。")
        frame = read_table(Path(path), name=table_name)
        if table.unit_column not in frame.columns:
            raise DataMissing(f"数据表 {table_name} 没有单位列 {table.unit_column}。", place=Place(file=str(path)))
        frame = frame.copy()
        frame["__row"] = np.arange(2, len(frame) + 2)
        if table.period_column and period is not None:
            frame = frame[frame[table.period_column].astype(str) == str(period)]
        tables[table_name] = (frame, Path(path))
    context = QueryContext(period=period, engine=engine, units=system.units, options=options or {})
    names: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    samples: dict[str, pd.Series] = {}
    numerators: dict[str, pd.Series] = {}
    denominators: dict[str, pd.Series] = {}
    provenance: dict[tuple[str, str], Any] = {}
    for node in system.indicators():
        value, sample, prov, unit_names = _resolve(node, node.source, system, tables, context)  # type: ignore[arg-type]
        names.update(unit_names)
        if node.denominator is not None:
            den, _, den_prov, den_names = _resolve(node, node.denominator.source, system, tables, context)
            names.update(den_names)
            units = value.index.union(den.index)
            num, den = value.reindex(units), den.reindex(units)
            numerators[node.id], denominators[node.id] = num, den
            with np.errstate(divide="ignore", invalid="ignore"):
                value = (num / den.where(den != 0)) * node.denominator.per
            for unit in units:
                provenance[(unit, node.id)] = {"numerator": prov.get(unit), "denominator": den_prov.get(unit)}
        else:
            for unit, p in prov.items():
                provenance[(unit, node.id)] = p
        columns[node.id] = value
        if sample is not None:
            samples[node.id] = sample
    raw = pd.DataFrame(columns)
    raw.index = raw.index.astype(str)
    raw = raw.sort_index()
    def frame(d):
        return pd.DataFrame(d).reindex(index=raw.index, columns=raw.columns) if d else None
    return Inputs(raw=raw, names={u: names.get(u, u) for u in raw.index}, period=period,
                  sample=frame(samples), numerator=frame(numerators), denominator=frame(denominators),
                  provenance=provenance, previous=previous)


def _resolve(node: Node, source: Source, system: System, tables, context: QueryContext):
    if source.table is not None:
        frame, path = tables[source.table]
        table = system.tables[source.table]
        if source.column not in frame.columns:
            raise DataMissing(f"数据表 {source.table} 没有指标 {node.id} 的列 {source.column}。",
                              place=Place(file=str(path), field=source.column))
        units = frame[table.unit_column].astype(str).str.strip()
        values = [_number(t, path=path, row=r, column=source.column)  # type: ignore[arg-type]
                  for t, r in zip(frame[source.column], frame["__row"], strict=True)]
        series = pd.Series(values, index=units.to_numpy(), dtype=float)
        if series.index.duplicated().any():
            dup = series.index[series.index.duplicated()][0]
            hint = "请用 --period 指定期别。" if table.period_column else "每个单位只能有一行。"
            raise DataMissing(f"数据表 {source.table} 中单位 {dup} 出现多次：{hint}", place=Place(file=str(path)))
        sample = None
        if table.sample_column and table.sample_column in frame.columns:
            sample = pd.Series([_number(t, path=path, row=r, column=table.sample_column)
                                for t, r in zip(frame[table.sample_column], frame["__row"], strict=True)],
                               index=units.to_numpy(), dtype=float)
        names = dict(zip(units, frame[table.name_column])) if table.name_column else {}
        prov = {u: {"table": source.table, "file": path.name, "row": int(r), "column": source.column}
                for u, r in zip(units, frame["__row"], strict=True)}
        return series, sample, prov, names
    if source.query not in QUERIES:
        raise SourceUnknown(f"指标 {node.id} 的数据来源 {source.query} 尚未注册（已注册：{', '.join(QUERIES) or '无'}）。",
                            query=source.query)
    fn, _ = QUERIES[source.query]  # type: ignore[index]
    result = fn(context, dict(source.params))
    if "unit" not in result.columns:
        raise DataMissing(f"来源 {source.query} 没有返回 unit 列。")
    result = result.assign(unit=result["unit"].astype(str)).set_index("unit")
    if "value" in result.columns:
        series = result["value"].astype(float)
    elif {"numerator", "denominator"} <= set(result.columns):
        den = result["denominator"].astype(float)
        series = result["numerator"].astype(float) / den.where(den != 0)
    else:
        raise DataMissing(f"来源 {source.query} 须返回 value，或 numerator 与 denominator。")
    sample = result["sample"].astype(float) if "sample" in result.columns else None
    names = result["name"].astype(str).to_dict() if "name" in result.columns else {}
    prov = {}
    for unit, row in result.iterrows():
        entry = {"query": source.query, "params": dict(source.params)}
        if "numerator" in result.columns:
            entry["numerator"], entry["denominator"] = _jsonable(row["numerator"]), _jsonable(row["denominator"])
        if "records" in result.columns:
            entry["records"] = list(row["records"]) if isinstance(row["records"], list | tuple) else row["records"]
        prov[unit] = entry
    return series, sample, prov, names


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value) if isinstance(value, int | float | np.number) else value
