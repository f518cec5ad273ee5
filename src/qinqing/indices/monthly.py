"""The monthly computation, registered with the job runner (``qinqing.jobs``).

Every day at 03:00 (China time) the job computes, for each built-in index whose sources are all registered
queries, the last completed month when it is not stored yet, then applies the index's 督办 rule; so it runs
once per month in effect, and a missed day is caught up the next. Indices fed by imported tables are
computed with ``qinqing indices compute … --save`` instead. Idempotent: a stored month is skipped, a case is
never opened twice.
"""

from __future__ import annotations

from datetime import date

from qinqing import jobs
from qinqing.indices.load import load_system
from qinqing.indices.service import IndicesService
from qinqing.indices.sources import QUERIES

ACTOR = "system:indices.monthly"


def last_completed_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def ready(system) -> bool:
    sources = [n.source for n in system.indicators()] + [n.denominator.source for n in system.indicators()
                                                         if n.denominator]
    return all(s.query is not None and s.query in QUERIES for s in sources)


def compute_month(service: IndicesService, period: str, *, level: str = "city") -> dict:
    summary: dict[str, str] = {}
    for index_id, path in sorted(service.builtin().items()):
        system = load_system(path)
        if system.period != "month" or not ready(system):
            summary[index_id] = "skipped: sources not registered" if system.period == "month" else "skipped"
            continue
        if any(period in entry["periods"] for entry in service.indices() if entry["id"] == index_id):
            summary[index_id] = "already computed"
            continue
        service.compute_period(system, path.read_text(encoding="utf-8"), period, actor=ACTOR,
                               options={"level": level})
        opened = service.supervise(index_id, period, actor=ACTOR)
        summary[index_id] = f"computed; {len(opened)} cases opened"
    return summary


def monthly(job: jobs.JobContext) -> dict:
    from qinqing.settings import get_settings

    period = last_completed_month(get_settings().today())
    job.progress(0, 1, f"计算 {period} 的指数")
    summary = compute_month(IndicesService(job.engine), period)
    job.progress(1, 1, "完成")
    return {"period": period, **summary}


jobs.register_schedule("indices.monthly", "daily 03:00", monthly, max_attempts=2)
