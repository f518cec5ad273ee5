"""The operations the CLI, the web and the monthly job call: compute and store a period, read rankings and
history, open 督办 cases and walk them through 整改 (report → acceptance or return → publication).

Every state change of a case is written to the audit trail (``qinqing.audit.record``) in the same
transaction as the change.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from qinqing import audit
from qinqing.indices import tables
from qinqing.indices.config import System
from qinqing.indices.engine import Inputs, Result, compute, ranks_of
from qinqing.indices.errors import CaseNotFound, CaseStateConflict, IndexNotFound, RunNotFound
from qinqing.indices.load import builtin_paths, load_system, parse_system
from qinqing.indices.sources import gather
from qinqing.indices.tiers import PeriodRanks, assign_tiers, supervision_candidates
from qinqing.indices.uncertainty import monte_carlo

audit.register_labels(
    actions={"indices_case.open": "列入督办", "indices_case.report": "提交整改报告",
             "indices_case.accept": "验收通过", "indices_case.return": "退回整改", "indices_case.publish": "公示整改"},
    object_types={"indices_case": "督办事项"},
)

STATES = {"open": "督办中", "reported": "整改报告已提交", "accepted": "已验收", "published": "已公示"}


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Computed:
    run_id: int
    result: Result
    tiers: dict[str, Any]
    intervals: pd.DataFrame | None


class IndicesService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- configurations ---------------------------------------------------------------------------------
    @staticmethod
    def builtin() -> dict[str, Path]:
        return {load_system(path).id: path for path in builtin_paths()}

    def system_for(self, index_id: str) -> tuple[System, str]:
        """The configuration of the last stored run of ``index_id`` (or a built-in one), with its text."""
        with self.engine.connect() as connection:
            row = connection.execute(select(tables.runs.c.config_text).where(tables.runs.c.index_id == index_id)
                                     .order_by(tables.runs.c.period.desc()).limit(1)).first()
        if row is not None:
            return parse_system(row.config_text), row.config_text
        path = self.builtin().get(index_id)
        if path is None:
            raise IndexNotFound(f"没有指数 {index_id}。", index_id=index_id)
        text = path.read_text(encoding="utf-8")
        return parse_system(text, filename=str(path)), text

    # --- computing --------------------------------------------------------------------------------------
    def compute_period(self, system: System, config_text: str, period: str, inputs: Inputs | None = None, *,
                       actor: str, base_dir: Path | None = None, data: dict[str, Path] | None = None,
                       options: dict[str, Any] | None = None, uncertainty: bool = True) -> Computed:
        """Compute ``system`` for ``period`` (from ``inputs``, or its sources) and store it, replacing a
        previous computation of the same period. Tiers take the previous period's tiers for hysteresis."""
        previous = self._previous_run(system.id, period)
        if inputs is None:
            inputs = gather(system, period, base_dir=base_dir, data=data, engine=self.engine, options=options,
                            previous=self._previous_raw(previous) if previous else None)
        result = compute(system, inputs)
        root = result.root
        ranks = result.ranks[root]
        scores = result.scores[root]
        samples = apply_min_sample(system, result)
        ranks = result.ranks[root]
        intervals = None
        if uncertainty and system.uncertainty is not None and len(result.units) > 1:
            small = {u for u in result.units if samples is not None and u in result.excluded_units}
            intervals = monte_carlo(system, inputs, exclude=small).summary()
        tiers = {}
        if system.tiers is not None:
            prior = self._tiers_of(previous) if previous else {}
            tiers = assign_tiers(system.tiers, result.units, scores.to_dict(), ranks.to_dict(), prior, samples)
        summary = {
            "weights": {node: {"method": w.method, "weights": [float(x) for x in w.weights],
                               "details": _jsonable(w.details)} for node, w in result.weights.items()},
            "dropped_indicators": result.dropped_indicators,
            "excluded_units": result.excluded_units,
            "tree": [{"id": n.id, "name": n.name, "indicator": n.is_indicator, "unit": n.unit}
                     for n in system.tree.walk()],
        }
        ranked = int(np.sum(~np.isnan(ranks.to_numpy())))
        with self.engine.begin() as connection:
            connection.execute(delete(tables.runs).where(tables.runs.c.index_id == system.id,
                                                         tables.runs.c.period == period))
            run_id = connection.execute(insert(tables.runs).values(
                index_id=system.id, index_name=system.name, period=period, version=system.version,
                config_text=config_text, config_hash=hashlib.sha256(config_text.encode()).hexdigest(),
                computed_at=_now(), computed_by=actor, units=len(result.units),
                seed=system.uncertainty.seed if (intervals is not None and system.uncertainty) else None,
                summary=json.dumps(summary, ensure_ascii=False))).inserted_primary_key[0]
            self._store(connection, run_id, result, tiers, intervals, samples, ranked)
        return Computed(run_id=run_id, result=result, tiers=tiers, intervals=intervals)

    def _store(self, connection: Connection, run_id: int, result: Result, tiers, intervals, samples, ranked):
        root = result.root
        unit_rows, node_rows, value_rows = [], [], []
        indicator_ids = list(result.raw.columns)
        for unit in result.units:
            tier = tiers.get(unit) if tiers else None
            interval = intervals.loc[unit] if intervals is not None and unit not in result.excluded_units else None
            rank = result.ranks.at[unit, root]
            unit_rows.append({
                "run_id": run_id, "unit": unit, "name": result.names.get(unit, unit),
                "score": _f(result.scores.at[unit, root]), "rank": None if np.isnan(rank) else int(rank),
                "ranked": ranked, "tier": tier.tier if tier else None,
                "tier_reason": tier.reason if tier else "",
                "rank_median": _f(interval["rank_median"]) if interval is not None else None,
                "rank_low": _f(interval["rank_low"]) if interval is not None else None,
                "rank_high": _f(interval["rank_high"]) if interval is not None else None,
                "sample": _f(samples.get(unit)) if samples else None,
                "excluded": result.excluded_units.get(unit, ""),
                "imputed": int((result.imputed.loc[unit] != "").sum()),
            })
            for node in result.scores.columns:
                r = result.ranks.at[unit, node]
                node_rows.append({"run_id": run_id, "unit": unit, "node_id": node,
                                  "score": _f(result.scores.at[unit, node]),
                                  "rank": None if np.isnan(r) else int(r)})
            inputs = result.inputs
            for ind in indicator_ids:
                value_rows.append({
                    "run_id": run_id, "unit": unit, "indicator_id": ind,
                    "raw": _f(result.raw.at[unit, ind]), "value": _f(result.values.at[unit, ind]),
                    "numerator": _f(inputs.numerator.at[unit, ind]) if inputs.numerator is not None
                    and ind in inputs.numerator.columns else None,
                    "denominator": _f(inputs.denominator.at[unit, ind]) if inputs.denominator is not None
                    and ind in inputs.denominator.columns else None,
                    "normalised": _f(result.scores.at[unit, ind]) if ind in result.scores.columns else None,
                    "imputed": result.imputed.at[unit, ind],
                    "sample": _f(inputs.sample.at[unit, ind]) if inputs.sample is not None
                    and ind in inputs.sample.columns else None,
                    "provenance": json.dumps(_jsonable(inputs.provenance.get((unit, ind))), ensure_ascii=False),
                })
        for table, rows in ((tables.unit_results, unit_rows), (tables.node_scores, node_rows),
                            (tables.values, value_rows)):
            for start in range(0, len(rows), 2000):
                connection.execute(insert(table), rows[start:start + 2000])

    # --- reading ----------------------------------------------------------------------------------------
    def indices(self) -> list[dict]:
        """Every index with stored runs, and the built-in ones: id, name, periods computed, latest period."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(tables.runs.c.index_id, tables.runs.c.index_name,
                                             tables.runs.c.period)).all()
        out: dict[str, dict] = {}
        for row in rows:
            entry = out.setdefault(row.index_id, {"id": row.index_id, "name": row.index_name, "periods": []})
            entry["periods"].append(row.period)
        for index_id, path in self.builtin().items():
            out.setdefault(index_id, {"id": index_id, "name": load_system(path).name, "periods": []})
        for entry in out.values():
            entry["periods"].sort()
            entry["latest"] = entry["periods"][-1] if entry["periods"] else None
        return sorted(out.values(), key=lambda e: e["id"])

    def run(self, index_id: str, period: str | None = None) -> dict:
        query = select(tables.runs).where(tables.runs.c.index_id == index_id)
        query = query.where(tables.runs.c.period == period) if period else query.order_by(tables.runs.c.period.desc())
        with self.engine.connect() as connection:
            row = connection.execute(query.limit(1)).mappings().first()
        if row is None:
            raise RunNotFound(f"指数 {index_id} 没有{'第 ' + period + ' 期的' if period else ''}计算结果。",
                              index_id=index_id, period=period)
        return dict(row) | {"summary": json.loads(row["summary"])}

    def ranking(self, run_id: int) -> list[dict]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(tables.unit_results).where(tables.unit_results.c.run_id == run_id)
                                      .order_by(tables.unit_results.c.rank.is_(None), tables.unit_results.c.rank,
                                                tables.unit_results.c.unit)).mappings().all()
        return [dict(r) for r in rows]

    def unit_detail(self, run_id: int, unit: str) -> dict:
        with self.engine.connect() as connection:
            nodes = connection.execute(select(tables.node_scores).where(
                tables.node_scores.c.run_id == run_id, tables.node_scores.c.unit == unit)).mappings().all()
            values = connection.execute(select(tables.values).where(
                tables.values.c.run_id == run_id, tables.values.c.unit == unit)).mappings().all()
        return {"nodes": {r["node_id"]: dict(r) for r in nodes},
                "values": [dict(r) | {"provenance": json.loads(r["provenance"] or "null")} for r in values]}

    def history(self, index_id: str) -> list[PeriodRanks]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(tables.runs.c.period, tables.unit_results.c.unit, tables.unit_results.c.rank,
                       tables.unit_results.c.rank_low, tables.unit_results.c.tier)
                .join(tables.unit_results, tables.unit_results.c.run_id == tables.runs.c.id)
                .where(tables.runs.c.index_id == index_id).order_by(tables.runs.c.period)).all()
        periods: dict[str, PeriodRanks] = {}
        for row in rows:
            entry = periods.setdefault(row.period, PeriodRanks(row.period, {}, {}))
            if row.rank is not None:
                entry.ranks[row.unit] = float(row.rank)
                if row.rank_low is not None:
                    entry.best_plausible[row.unit] = float(row.rank_low)  # type: ignore[index]
        return list(periods.values())

    def _previous_run(self, index_id: str, period: str) -> int | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(tables.runs.c.id).where(
                tables.runs.c.index_id == index_id, tables.runs.c.period < period)
                .order_by(tables.runs.c.period.desc()).limit(1)).first()
        return None if row is None else row.id

    def _tiers_of(self, run_id: int) -> dict[str, str | None]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(tables.unit_results.c.unit, tables.unit_results.c.tier)
                                      .where(tables.unit_results.c.run_id == run_id)).all()
        return {r.unit: r.tier for r in rows}

    def _previous_raw(self, run_id: int) -> pd.DataFrame:
        with self.engine.connect() as connection:
            rows = connection.execute(select(tables.values.c.unit, tables.values.c.indicator_id,
                                             tables.values.c.raw).where(tables.values.c.run_id == run_id)).all()
        frame = pd.DataFrame(rows, columns=["unit", "indicator", "raw"])
        if frame.empty:
            return pd.DataFrame()
        return frame.pivot(index="unit", columns="indicator", values="raw").astype(float)

    # --- supervision ------------------------------------------------------------------------------------
    def supervise(self, index_id: str, period: str | None = None, *, actor: str) -> list[dict]:
        """Open a 督办 case for every unit the system's rule picks at ``period`` (default: the latest);
        a unit already opened for that period is not opened twice. Returns the cases opened now."""
        system, _ = self.system_for(index_id)
        rule = system.supervision
        if rule is None:
            return []
        history = [p for p in self.history(index_id) if period is None or p.period <= period]
        if not history:
            raise RunNotFound(f"指数 {index_id} 没有计算结果，无法判定督办。", index_id=index_id)
        current = history[-1].period
        run = self.run(index_id, current)
        names = {r["unit"]: r["name"] for r in self.ranking(run["id"])}
        candidates = supervision_candidates(rule, history, names)
        opened = []
        with self.engine.begin() as connection:
            existing = {r.unit for r in connection.execute(select(tables.cases.c.unit).where(
                tables.cases.c.index_id == index_id, tables.cases.c.opened_period == current))}
            for unit, reason in sorted(candidates.items()):
                if unit in existing:
                    continue
                now = _now()
                case_id = connection.execute(insert(tables.cases).values(
                    index_id=index_id, unit=unit, unit_name=names.get(unit, unit), opened_period=current,
                    reason=reason, state="open", opened_at=now, opened_by=actor, updated_at=now)
                ).inserted_primary_key[0]
                audit.record(connection, actor=actor, action="indices_case.open", object_type="indices_case",
                             object_id=case_id, before=None,
                             after={"state": "open", "index": index_id, "unit": unit, "period": current},
                             reason=reason)
                opened.append(self._case(connection, case_id))
        return opened

    def cases(self, index_id: str | None = None, state: str | None = None) -> list[dict]:
        query = select(tables.cases).order_by(tables.cases.c.opened_period.desc(), tables.cases.c.unit)
        if index_id:
            query = query.where(tables.cases.c.index_id == index_id)
        if state:
            query = query.where(tables.cases.c.state == state)
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(query).mappings().all()]

    def case(self, case_id: int) -> dict:
        with self.engine.connect() as connection:
            return self._case(connection, case_id)

    def submit_report(self, case_id: int, *, actor: str, report: str) -> dict:
        """The unit's rectification report (整改报告); allowed while the case is open."""
        report = (report or "").strip()
        if not report:
            raise CaseStateConflict("请填写整改报告。")
        return self._transition(case_id, actor=actor, action="indices_case.report", allowed={"open"},
                                new_state="reported", reason=report[:200],
                                values={"report": report, "reported_at": _now(), "reported_by": actor})

    def review(self, case_id: int, *, actor: str, accept: bool, note: str) -> dict:
        """The supervisor's acceptance (验收) of the report, or its return for more rectification."""
        note = (note or "").strip()
        if not note:
            raise CaseStateConflict("请填写验收意见。")
        return self._transition(case_id, actor=actor, action="indices_case.accept" if accept else "indices_case.return",
                                allowed={"reported"}, new_state="accepted" if accept else "open", reason=note,
                                values={"reviewed_at": _now(), "reviewed_by": actor, "review_note": note,
                                        "accepted": accept})

    def publish(self, case_id: int, *, actor: str, published_on: date) -> dict:
        """Publish the accepted rectification (公示), on ``published_on``."""
        return self._transition(case_id, actor=actor, action="indices_case.publish", allowed={"accepted"},
                                new_state="published", reason=f"公示日期 {published_on.isoformat()}",
                                values={"published_on": published_on})

    def _transition(self, case_id: int, *, actor: str, action: str, allowed: set[str], new_state: str,
                    reason: str, values: dict) -> dict:
        with self.engine.begin() as connection:
            case = self._case(connection, case_id, lock=True)
            if case["state"] not in allowed:
                raise CaseStateConflict(
                    f"督办事项 {case_id} 当前为“{STATES.get(case['state'], case['state'])}”，不能执行此操作。",
                    case_id=case_id, state=case["state"])
            changed = connection.execute(update(tables.cases).where(
                tables.cases.c.id == case_id, tables.cases.c.state == case["state"])
                .values(state=new_state, updated_at=_now(), **values))
            if changed.rowcount != 1:
                raise CaseStateConflict(f"督办事项 {case_id} 已被他人修改，请刷新后重试。", case_id=case_id)
            audit.record(connection, actor=actor, action=action, object_type="indices_case", object_id=case_id,
                         before={"state": case["state"]}, after={"state": new_state}, reason=reason)
            return self._case(connection, case_id)

    @staticmethod
    def _case(connection: Connection, case_id: int, lock: bool = False) -> dict:
        query = select(tables.cases).where(tables.cases.c.id == case_id)
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).mappings().first()
        if row is None:
            raise CaseNotFound(f"没有督办事项 {case_id}。", case_id=case_id)
        return dict(row)


def apply_min_sample(system: System, result: Result) -> dict[str, float] | None:
    """Each unit's sample (the tiers' ``sample_indicator``, or the smallest over the indicators) when the
    tiers set a minimum; units under it are flagged in ``result.excluded_units`` and their ranks removed
    (not ranked, not coloured, not supervised). None when no minimum applies."""
    sample = result.inputs.sample
    if sample is None or system.tiers is None or system.tiers.min_sample is None:
        return None
    if system.tiers.sample_indicator:
        column = sample.get(system.tiers.sample_indicator)
        if column is None:
            return None
        samples = column.to_dict()
    else:
        samples = sample.min(axis=1, skipna=True).to_dict()
    minimum = system.tiers.min_sample
    small = [u for u in result.units if not (samples.get(u) is not None and samples[u] >= minimum)]
    for unit in small:
        result.excluded_units.setdefault(unit, f"样本不足（最少 {minimum}）")
    mask = np.array([u not in small for u in result.units])
    for column in result.ranks.columns:
        result.ranks[column] = ranks_of(result.scores[column].to_numpy(), mask)
    return samples


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
