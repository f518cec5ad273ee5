"""Time-limit clocks: each deadline is a row (its limit, source and calendar version) and queued jobs
that fire a 催办 warning before it expires and escalate after it (level 1 once the deadline day has ended:
催办通知书; level 2 when still overdue some working days later: 通报), as the 局-level rule cited in
``data/appeals.yaml`` has it. The rating clock closes an unrated appeal instead of escalating.

``qinqing.jobs`` runs the task ``appeals.clock`` at each moment and the schedule ``appeals.sweep`` every
15 minutes (catching anything a stopped worker missed); both call the idempotent ``fire``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qinqing import jobs
from qinqing.appeals.config import AppealsConfig, TimeLimit
from qinqing.appeals.tables import deadlines
from qinqing.appeals.views import aware
from qinqing.appeals.workdays import Deadline, add_hours

TASK = "appeals.clock"
SWEEP = "appeals.sweep"


@dataclass(frozen=True)
class Stage:
    name: str  # warn / escalate1 / escalate2 / expire
    at: datetime


def compute(config: AppealsConfig, limit: TimeLimit, start: datetime) -> Deadline:
    calendar = config.calendar
    if limit.hours is not None:
        return add_hours(start, limit.hours, calendar)
    return calendar.add_working_days(start, limit.working_days or 0)


def stages(config: AppealsConfig, row) -> list[Stage]:
    """The moments a deadline's clock fires, in order."""
    due, start = aware(row["due_at"]), aware(row["started_at"])
    if row["clock"] == "rating":
        return [Stage("expire", due)]
    calendar, reminders = config.calendar, config.reminders
    if row["working_days"] is not None:
        total = row["working_days"] + row["extended_days"]
        before = reminders.warn_working_days_before
        warn = (calendar.add_working_days(start, total - before).due_at if total > before
                else start + (due - start) / 2)
        later = [calendar.add_working_days(due, n).due_at if n else due for n in reminders.escalate_after_working_days]
    else:
        span = due - start
        warn = due - span * reminders.warn_fraction_of_hours
        later = [due + span * 2 * i for i in range(len(reminders.escalate_after_working_days))]  # 1×, then 3×
    result = [Stage("warn", warn)]
    result += [Stage(f"escalate{i + 1}", at) for i, at in enumerate(later)]
    return result


def start(connection: Connection, config: AppealsConfig, *, appeal_id: int, clock: str, limit: TimeLimit,
          at: datetime, department: str | None = None, assignment_id: int | None = None) -> int:
    """Start a clock: the deadline row and its queued jobs."""
    deadline = compute(config, limit, at)
    values = dict(appeal_id=appeal_id, assignment_id=assignment_id, clock=clock, department=department,
                  started_at=at, due_at=deadline.due_at.astimezone(UTC), hours=limit.hours, working_days=limit.working_days,
                  extended_days=0, calendar_version=deadline.calendar_version,
                  calendar_covered=deadline.covered, source=limit.source, status="open", ended_at=None,
                  warned_at=None, escalation_level=0)
    deadline_id = int(connection.execute(insert(deadlines).values(**values)).inserted_primary_key[0])
    schedule(connection, config, {**values, "id": deadline_id})
    return deadline_id


def schedule(connection: Connection, config: AppealsConfig, row) -> None:
    for stage in stages(config, row):
        jobs.enqueue(connection, TASK, {"deadline_id": row["id"], "stage": stage.name},
                     key=f"appeal-deadline:{row['id']}:{stage.name}", run_after=stage.at,
                     subject=f"appeal:{row['appeal_id']}")


def unschedule(connection: Connection, config: AppealsConfig, row) -> None:
    for stage in stages(config, row):
        jobs.cancel(connection, TASK, f"appeal-deadline:{row['id']}:{stage.name}")


def stop(connection: Connection, config: AppealsConfig, appeal_id: int, clocks: tuple[str, ...], at: datetime, *,
         cancelled: bool = False, department: str | None = None) -> None:
    """Stop the appeal's open clocks of these kinds: met (in time), late, or cancelled."""
    query = select(deadlines).where(deadlines.c.appeal_id == appeal_id, deadlines.c.status == "open",
                                    deadlines.c.clock.in_(clocks))
    if department is not None:
        query = query.where(deadlines.c.department == department)
    for row in connection.execute(query).mappings().all():
        status = "cancelled" if cancelled else ("met" if at <= aware(row["due_at"]) else "late")
        connection.execute(update(deadlines).where(deadlines.c.id == row["id"]).values(status=status, ended_at=at))
        unschedule(connection, config, row)


def extend(connection: Connection, config: AppealsConfig, deadline_id: int, working_days: int) -> datetime:
    """An approved 延期: the due date moves ``working_days`` further; the clock's jobs move with it."""
    row = connection.execute(select(deadlines).where(deadlines.c.id == deadline_id)).mappings().one()
    moved = config.calendar.add_working_days(aware(row["due_at"]), working_days)
    connection.execute(update(deadlines).where(deadlines.c.id == deadline_id).values(
        due_at=moved.due_at.astimezone(UTC), extended_days=row["extended_days"] + working_days, warned_at=None,
        escalation_level=0, calendar_version=moved.calendar_version,
        calendar_covered=bool(row["calendar_covered"]) and moved.covered))
    updated = connection.execute(select(deadlines).where(deadlines.c.id == deadline_id)).mappings().one()
    unschedule(connection, config, row)
    schedule(connection, config, updated)
    return moved.due_at


def _fire_task(job: jobs.JobContext, payload: dict) -> dict:
    from qinqing.appeals.service import AppealService

    return AppealService(job.engine).fire_clock(int(payload["deadline_id"]), str(payload["stage"]))


def _sweep(job: jobs.JobContext) -> dict:
    from qinqing.appeals.service import AppealService

    return AppealService(job.engine).sweep_clocks()


jobs.register_task(TASK, _fire_task)
jobs.register_schedule(SWEEP, "every 15m", _sweep)
