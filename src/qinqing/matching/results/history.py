"""The run history in the database: every published run, what it was computed from, and its counts.

A ``ResultStore`` given a ``RunHistory`` records each run before it becomes current (a run the
database refused is not published), so the history holds every published run, for ever; pruning
removes run files, never history rows. The counts are those the run was published with; incremental
changes to the current run afterwards are not history (the next full run records them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, delete, insert, select

from qinqing.matching.results.schema import (
    PolicyCount,
    PolicyVersion,
    RegionCount,
    RunInfo,
    RunProvenance,
    RunRecord,
)
from qinqing.matching.results.tables import run_policies, run_regions, runs


class RunHistory:
    """Reads and appends the ``matching_runs`` tables (migrations/matching) on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, info: RunInfo, provenance: RunProvenance, policy_counts: Sequence[PolicyCount],
               region_counts: Sequence[RegionCount], published_at: datetime | None = None) -> None:
        """Append one run (again: its earlier rows are replaced, so a retried publish records it once)."""
        published_at = published_at or datetime.now(UTC)
        versions = {v.policy_id: v for v in provenance.policies}
        counts = {c.policy_id: c for c in policy_counts}
        zero = PolicyCount("", 0, 0, 0, Decimal(0))
        with self.engine.begin() as conn:
            for table in (run_regions, run_policies, runs):
                conn.execute(delete(table).where(table.c.run_id == info.run_id))
            conn.execute(insert(runs).values(
                run_id=info.run_id, as_of=info.as_of, engine=info.engine, note=info.note,
                started_at=_aware(info.started_at), finished_at=_aware(info.finished_at), published_at=published_at,
                policies=info.policies, enterprises=info.enterprises, pairs_evaluated=info.pairs_evaluated,
                eligible=sum(int(c.eligible) for c in policy_counts), unknown=sum(int(c.unknown) for c in policy_counts),
                amount_total=sum((Decimal(c.amount_total or 0) for c in policy_counts), Decimal(0)),
                format_version=provenance.format_version, catalogue_revision=provenance.catalogue_revision,
                registry_rows=provenance.registry_rows, registry_hash=provenance.registry_hash,
                fields=json.dumps(list(provenance.fields), ensure_ascii=False)))
            rows = []
            for policy_id in sorted(set(versions) | set(counts)):
                v, c = versions.get(policy_id, PolicyVersion(policy_id)), counts.get(policy_id, zero)
                rows.append({"run_id": info.run_id, "policy_id": policy_id, "version": v.version,
                             "plan_hash": v.plan_hash, "eligible": int(c.eligible), "unknown": int(c.unknown),
                             "ineligible": int(c.ineligible), "amount_total": Decimal(c.amount_total or 0)})
            if rows:
                conn.execute(insert(run_policies), rows)
            if region_counts:
                conn.execute(insert(run_regions), [
                    {"run_id": info.run_id, "region_code": r.region_code, "registered": int(r.registered),
                     "enterprises": int(r.enterprises), "eligible": int(r.eligible), "unknown": int(r.unknown),
                     "amount_total": Decimal(r.amount_total or 0)} for r in region_counts])

    def run_ids(self) -> list[str]:
        """Every recorded run, in publish order."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(runs.c.run_id).order_by(runs.c.published_at, runs.c.run_id)).scalars())

    def run(self, run_id: str) -> RunRecord | None:
        """One recorded run with its counts; None when it was never recorded."""
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
            if row is None:
                return None
            policy_rows = conn.execute(select(run_policies).where(run_policies.c.run_id == run_id)
                                       .order_by(run_policies.c.policy_id)).mappings().all()
            region_rows = conn.execute(select(run_regions).where(run_regions.c.run_id == run_id)
                                       .order_by(run_regions.c.region_code)).mappings().all()
        info = RunInfo(row["run_id"], row["as_of"], row["engine"], _local(row["started_at"]), _local(row["finished_at"]),
                       row["policies"], row["enterprises"], row["pairs_evaluated"], row["note"])
        provenance = RunProvenance(row["catalogue_revision"],
                                   tuple(PolicyVersion(p["policy_id"], p["version"], p["plan_hash"])
                                         for p in policy_rows if p["version"] is not None or p["plan_hash"]),
                                   row["registry_rows"], row["registry_hash"], row["format_version"],
                                   tuple(json.loads(row["fields"])))
        published = row["published_at"]
        published = published if published.tzinfo is not None else published.replace(tzinfo=UTC)  # SQLite: naive UTC
        return RunRecord(info, provenance, published,
                         {p["policy_id"]: PolicyCount(p["policy_id"], p["eligible"], p["unknown"], p["ineligible"],
                                                      _decimal(p["amount_total"])) for p in policy_rows},
                         [RegionCount(r["region_code"], r["registered"], r["enterprises"], r["eligible"],
                                      r["unknown"], _decimal(r["amount_total"])) for r in region_rows])

    def policy_series(self, policy_id: str) -> list[tuple[str, int | None, PolicyCount]]:
        """(run id, policy version, counts) of one policy in every recorded run, in publish order."""
        query = (select(run_policies, runs.c.published_at).join(runs, runs.c.run_id == run_policies.c.run_id)
                 .where(run_policies.c.policy_id == policy_id).order_by(runs.c.published_at, runs.c.run_id))
        with self.engine.connect() as conn:
            return [(r["run_id"], r["version"], PolicyCount(policy_id, r["eligible"], r["unknown"], r["ineligible"],
                                                            _decimal(r["amount_total"])))
                    for r in conn.execute(query).mappings()]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()


def _local(moment: datetime) -> datetime:
    """A run's own times are naive local times (as in its file); a database may hand them back aware."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def _decimal(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001")) if value is not None else Decimal(0)
