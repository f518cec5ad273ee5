"""What matching does for the CLI, the web and the jobs: full runs and re-matches of the published
catalogue against the stored registry, previews; and the jobs that keep the results store current.

Jobs registered here (``qinqing.jobs.plugins`` imports this module in every worker):

- ``catalogue.policy_published`` → ``matching.rematch_published``: re-match that policy (skipped when the
  current run is a full run that read the catalogue after the publication, or when there is no run yet);
- ``registry.enterprise_changed`` → ``matching.rematch_changed``: re-match those enterprises;
- schedule ``matching.nightly_full_run`` (daily 02:00, China time): a full run.

Each emits ``matching.run_published`` when the results store changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import Engine

from qinqing import audit, jobs
from qinqing.catalogue.events import PolicyPublished
from qinqing.catalogue.store import CatalogueStore
from qinqing.events import emit, recent
from qinqing.matching.events import RunPublished
from qinqing.registry.events import EnterpriseChanged
from qinqing.registry.service import RegistryService
from qinqing.settings import Settings

Progress = Callable[[int, int | None, str | None], None]  # (done, total, message), as JobContext.progress
READ_MARGIN = timedelta(seconds=2)  # a publication this close before a full run read the catalogue is redone
# (its transaction may have committed after the read: the event's time is taken inside it)


class MatchingService:
    """Runs over the published catalogue (``CatalogueStore``) and the stored registry
    (``RegistryService``), into the results store at ``settings.results_dir`` unless one is given."""

    def __init__(self, engine: Engine, settings: Settings, *, results: Any | None = None,
                 catalogue: CatalogueStore | None = None, registry: RegistryService | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.catalogue = catalogue or CatalogueStore(engine)
        self.registry = registry or RegistryService(engine)
        self._results = results
        self._owns_results = results is None

    @classmethod
    def for_job(cls, job: jobs.JobContext) -> MatchingService:
        """The service of a job: the host's results store when it shares one (the web's), else its own."""
        return cls(job.engine, job.settings, results=job.resources.get("results"))

    @property
    def results(self) -> Any:
        if self._results is None:
            from qinqing.matching.results import ResultStore
            from qinqing.matching.results.history import RunHistory

            # Every run it publishes is recorded in the database for ever (per-policy and per-region counts).
            self._results = ResultStore(self.settings.results_dir, history=RunHistory(self.engine),
                                        keep=self.settings.results_keep)
        return self._results

    def close(self) -> None:
        """Close the results store when this service opened it."""
        if self._owns_results and self._results is not None:
            self._results.close()
            self._results = None

    def __enter__(self) -> MatchingService:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------------

    def published(self) -> tuple[list[Any], dict[str, Any]]:
        """The published catalogue parsed, and the versions that no longer parse (by policy id)."""
        return self.catalogue.published_policies()

    def published_plans(self, as_of: date, *, progress: Callable[[int, int], None] | None = None) -> Any:
        """The published catalogue as the fast path's stored plans (``matching.plans.published_plans``:
        each version compiled the first time it is read, then kept); ``PublishedPlans`` with the
        versions that could not be planned."""
        from qinqing.matching.plans import published_plans

        return published_plans(self.engine, as_of, progress=progress)

    def active_plans(self, as_of: date, *, progress: Callable[[int, int], None] | None = None
                     ) -> tuple[list[Any], dict[str, str]]:
        """The stored plans of the published policies in force on ``as_of``, and the versions that could
        not be planned (policy id → reason)."""
        result = self.published_plans(as_of, progress=progress)
        return self.in_force(result.plans, as_of), dict(result.refused)

    @staticmethod
    def in_force(plans: Sequence[Any], as_of: date) -> list[Any]:
        """The plans (or policies) valid on ``as_of``."""
        from qinqing.matching.scope import is_active

        return [p for p in plans if is_active(p, as_of)]

    def published_policy(self, policy_id: str) -> Any:
        """The published version of ``policy_id`` parsed; ``PolicyNotFound`` when it has none."""
        from qinqing.catalogue.parse import parse_policy

        entry = self.catalogue.get(policy_id, published=True)
        return parse_policy(entry.yaml_text, policy_id)

    def registry_file(self, path: Any, usccs: Sequence[str] | None = None) -> pa.Table:
        """A registry file (CSV or Parquet) as an Arrow table typed as the schema says (type inference
        would turn region codes into numbers); only the enterprises ``usccs`` when given. A file the
        engines cannot read raises their error (``RegistryError``)."""
        import duckdb
        import pyarrow.compute as pc

        from qinqing.matching.engines.duckdb import load_enterprises

        con = duckdb.connect()
        load_enterprises(con, path)
        table = con.sql("SELECT * FROM enterprises").to_arrow_table()
        if usccs is not None:
            table = table.filter(pc.is_in(table.column("uscc"), pa.array(list(usccs))))
        return table

    # -- runs -----------------------------------------------------------------------------------------

    def full_run(self, *, as_of: date | None = None, policies: Sequence[Any] | None = None,
                 enterprises: pa.Table | None = None, engine: str = "vectorised", include_expired: bool = False,
                 progress: Callable[[int, int], None] | None = None, note: str = "") -> Any:
        """Every published policy (or ``policies``) × every stored enterprise (or ``enterprises``) into a
        new run, published atomically; ``matching.run.RunSummary``."""
        from qinqing.matching.run import full_run

        day = as_of or self.settings.today()
        read_at = datetime.now(UTC)
        revision = None
        if policies is None:
            revision = "{}:{}".format(*self.catalogue.revision())
            if engine == "vectorised":
                policies = self.published_plans(day).plans
            else:
                policies, _ = self.published()
        table = enterprises if enterprises is not None else self.registry.table()
        summary = full_run(policies, table, self.results, day, progress=progress, engine=engine,
                           include_expired=include_expired, note=note, catalogue_revision=revision)
        self._published_run(RunPublished(run_id=summary.run_id, kind="full", as_of=day, pairs=summary.pairs_evaluated,
                                         catalogue_read_at=read_at))
        return summary

    def rematch_policy(self, policy_id: str | None = None, *, policy: Any | None = None, as_of: date | None = None,
                       enterprises: pa.Table | None = None, progress: Progress | None = None) -> Any | None:
        """Re-match one published policy (``policy`` to give it parsed) against the registry, in the current
        run; None when there is no run yet (the first full run will include it)."""
        from qinqing.matching.run import rematch_policy

        report = progress or _silent
        if self.results.current_run() is None:
            return None
        report(0, 3, "读取政策与企业库")
        policy = policy if policy is not None else self.published_policy(policy_id or "")
        day = as_of or self.settings.today()
        table = enterprises if enterprises is not None else self.registry.table()
        report(1, 3, f"匹配 {table.num_rows:,} 家企业")
        summary = rematch_policy(policy, table, self.results, day)
        report(3, 3, f"符合 {summary.eligible:,} 家，待补充数据 {summary.unknown:,} 家")
        self._published_run(RunPublished(run_id=summary.run_id, kind="policy", as_of=day, policies=(policy.id,),
                                         pairs=summary.pairs_evaluated))
        return summary

    def rematch_enterprises(self, usccs: Sequence[str], *, as_of: date | None = None,
                            enterprises: pa.Table | None = None, plans: Sequence[Any] | None = None,
                            progress: Progress | None = None) -> Any | None:
        """Re-match these enterprises (their stored rows, or ``enterprises``) against every published policy
        in force (or the compiled ``plans``); None when there is no run yet."""
        from qinqing.matching.run import rematch_enterprise

        report = progress or _silent
        if self.results.current_run() is None:
            return None
        day = as_of or self.settings.today()
        if plans is None:
            plans, _ = self.active_plans(day)
        table = enterprises if enterprises is not None else self.registry.table(list(usccs))
        report(0, 1, f"匹配 {table.num_rows:,} 家企业")
        summary = rematch_enterprise(table, plans, self.results, day)
        report(1, 1, f"符合 {summary.eligible:,} 家，待补充数据 {summary.unknown:,} 家")
        self._published_run(RunPublished(run_id=summary.run_id, kind="enterprise", as_of=day,
                                         enterprises=tuple(table.column("uscc").to_pylist()),
                                         pairs=summary.pairs_evaluated))
        return summary

    def preview(self, policy: Any, *, as_of: date | None = None, enterprises: pa.Table | None = None,
                sample_size: int = 20) -> tuple[Any, int]:
        """A draft's reach over the registry (``matching.preview.Preview``) and the registry's size;
        nothing is stored."""
        from qinqing.matching.preview import preview

        table = enterprises if enterprises is not None else self.registry.table()
        return preview(policy, table, as_of or self.settings.today(), sample_size=sample_size), table.num_rows

    def estimated_total(self, policy: Any, as_of: date) -> Decimal:
        """What the policy would pay over the registry (万元): the catalogue's budget check."""
        result, _ = self.preview(policy, as_of=as_of, sample_size=0)
        return Decimal(result.amount_total)

    def included_in_full_run(self, emitted_at: datetime | None) -> str | None:
        """The current run's id when it is a full run that read the catalogue after ``emitted_at``."""
        run = self.results.current_run()
        if run is None or emitted_at is None:
            return None
        with self.engine.connect() as connection:
            for stored in recent(connection, type=RunPublished.type, subject=f"run:{run.run_id}", limit=20):
                event = stored.event
                if (isinstance(event, RunPublished) and event.kind == "full" and event.catalogue_read_at is not None
                        and event.catalogue_read_at - READ_MARGIN > emitted_at):
                    return run.run_id
        return None

    def _published_run(self, event: RunPublished) -> None:
        if event.run_id is None:
            return
        with self.engine.begin() as connection:
            emit(connection, event)
            audit.record(connection, actor="system:matching", action="run.publish", object_type="run",
                         object_id=event.run_id, after=event.payload(), reason=f"{event.kind} run")


def _silent(done: int, total: int | None, message: str | None) -> None:
    return None


def _summary_json(summary: Any) -> dict[str, Any]:
    return {"run_id": summary.run_id, "eligible": summary.eligible, "unknown": summary.unknown,
            "pairs_evaluated": summary.pairs_evaluated, "seconds": round(summary.seconds, 3)}


def rematch_published(job: jobs.JobContext, event: PolicyPublished) -> dict[str, Any]:
    """After a publication: re-match the policy's published version (the newest, whatever the event's)."""
    with MatchingService.for_job(job) as service:
        included = service.included_in_full_run(job.emitted_at)
        if included is not None:
            job.progress(1, 1, f"已包含在全量匹配批次 {included} 中，无需重新匹配")
            return {"skipped": "included", "run_id": included}
        run = service.results.current_run()
        if run is not None and service.catalogue.published_since(_aware(run.started_at)) >= FULL_RUN_FROM:
            # A catalogue load published many policies: one full run (which the other re-match jobs
            # then find they are included in) instead of re-matching each against the whole registry.
            summary = service.full_run(progress=lambda done, total: job.progress(done, total, "批量发布后全量匹配中"),
                                       note="after bulk publication")
            return {"full_run": True, **_summary_json(summary)}
        summary = service.rematch_policy(event.policy_id, progress=job.progress)
        if summary is None:
            job.progress(1, 1, "尚无匹配批次：首次全量匹配时将包含此政策")
            return {"skipped": "no run"}
        return _summary_json(summary)


FULL_RUN_FROM = 50  # publications since the current run from which one full run replaces single re-matches


def _aware(moment: datetime) -> datetime:
    """A run's times are naive local times (as in its file); publications are stored in UTC."""
    return (moment if moment.tzinfo is not None else moment.astimezone()).astimezone(UTC)


def rematch_changed(job: jobs.JobContext, event: EnterpriseChanged) -> dict[str, Any]:
    with MatchingService.for_job(job) as service:
        summary = service.rematch_enterprises(event.usccs, progress=job.progress)
        if summary is None:
            return {"skipped": "no run"}
        return _summary_json(summary)


def nightly_full_run(job: jobs.JobContext) -> dict[str, Any]:
    with MatchingService.for_job(job) as service:
        summary = service.full_run(progress=lambda done, total: job.progress(done, total, "全量匹配中"),
                                   note="nightly")
        return _summary_json(summary)


jobs.register_handler(PolicyPublished, rematch_published, name="matching.rematch_published", max_attempts=5)
jobs.register_handler(EnterpriseChanged, rematch_changed, name="matching.rematch_changed", max_attempts=5)
jobs.register_schedule("matching.nightly_full_run", "daily 02:00", nightly_full_run, max_attempts=2)
