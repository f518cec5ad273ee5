"""The job queue's rows: enqueue and cancel tasks inside a caller's transaction, read jobs and their progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from qinqing.events import dumps
from qinqing.jobs.registry import DEFAULT_MAX_ATTEMPTS, REGISTRY, Registry
from qinqing.jobs.tables import jobs, workers

STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败", "cancelled": "已取消"}
FINISHED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class JobView:
    """A job as the pages and the API show it."""

    id: int
    kind: str
    name: str
    key: str | None
    subject: str | None
    status: str
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress_done: int
    progress_total: int | None
    message: str | None
    error: str | None
    result: Any

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def percent(self) -> int | None:
        """0–100 when the total is known."""
        if self.status == "done":
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, int(100 * self.progress_done / self.progress_total)))

    def as_json(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "id": self.id, "kind": self.kind, "name": self.name, "key": self.key, "subject": self.subject,
            "status": self.status, "status_label": self.status_label, "finished": self.finished,
            "attempts": self.attempts, "max_attempts": self.max_attempts,
            "created_at": iso(self.created_at), "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at), "run_after": iso(self.run_after),
            "progress": {"done": self.progress_done, "total": self.progress_total, "percent": self.percent,
                         "message": self.message},
            "error": self.error, "result": self.result,
        }


def enqueue(connection: Connection, task: str, payload: dict[str, Any] | None = None, *, key: str | None = None,
            run_after: datetime | None = None, subject: str | None = None,
            registry: Registry | None = None) -> int:
    """Queue the registered task ``task`` inside the caller's transaction; returns the job's id.

    ``run_after`` defers it (a time-limit clock: the deadline). With ``key`` (the object the task is about,
    e.g. ``"appeal:42"``), a task of that name and key still queued is moved to the new time and payload
    instead of queuing a second one; ``cancel`` stops it."""
    if not connection.in_transaction():
        raise RuntimeError("enqueue needs the caller's transaction (engine.begin())")
    known = (registry or REGISTRY).tasks.get(task)
    now = datetime.now(UTC)
    when = run_after or now
    if when.tzinfo is None:
        raise ValueError("run_after needs a timezone (datetime.now(UTC) + …)")
    text = dumps(payload or {})
    if key is not None:
        existing = connection.execute(
            select(jobs.c.id).where(jobs.c.kind == "task", jobs.c.name == task, jobs.c.key == key,
                                    jobs.c.status == "queued").with_for_update()
        ).scalar()
        if existing is not None:
            connection.execute(update(jobs).where(jobs.c.id == existing).values(
                payload=text, run_after=when, subject=subject))
            return int(existing)
    result = connection.execute(insert(jobs).values(
        kind="task", name=task, key=key, dedup=None, event_id=None, payload=text, subject=subject,
        **new_job_values(now, when, known.max_attempts if known else DEFAULT_MAX_ATTEMPTS)))
    return int(result.inserted_primary_key[0])


def cancel(connection: Connection, task: str, key: str) -> int:
    """Cancel the queued tasks of that name and key (a clock that no longer runs); returns how many."""
    result = connection.execute(update(jobs).where(
        jobs.c.kind == "task", jobs.c.name == task, jobs.c.key == key, jobs.c.status == "queued"
    ).values(status="cancelled", finished_at=datetime.now(UTC)))
    return int(result.rowcount or 0)


def get_job(connection: Connection, job_id: int) -> JobView | None:
    row = connection.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return view(row) if row is not None else None


def jobs_for(connection: Connection, subject: str, *, limit: int = 10) -> list[JobView]:
    """The latest jobs about ``subject`` (e.g. ``"policy:zj-001"``), newest first."""
    rows = connection.execute(
        select(jobs).where(jobs.c.subject == subject).order_by(jobs.c.id.desc()).limit(limit)
    ).mappings().all()
    return [view(r) for r in rows]


def recent_jobs(connection: Connection, *, status: str | None = None, limit: int = 50) -> list[JobView]:
    query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(jobs.c.status == status)
    return [view(r) for r in connection.execute(query).mappings().all()]


WORKER_SEEN_WITHIN = timedelta(seconds=45)  # a running worker beats every 10 s


def workers_running(connection: Connection, *, within: timedelta = WORKER_SEEN_WITHIN) -> int:
    """How many workers were seen lately (``Worker.run_forever`` beats; ``run_until_idle`` does not)."""
    since = datetime.now(UTC) - within
    return len(connection.execute(select(workers.c.worker_id).where(workers.c.seen_at >= since)).all())


def new_job_values(now: datetime, run_after: datetime, max_attempts: int) -> dict[str, Any]:
    return {"status": "queued", "attempts": 0, "max_attempts": max_attempts, "run_after": run_after,
            "locked_by": None, "locked_until": None, "created_at": now, "started_at": None,
            "finished_at": None, "progress_done": 0, "progress_total": None, "message": None, "error": None,
            "result": None}


def view(row: Any) -> JobView:
    return JobView(
        id=int(row["id"]), kind=row["kind"], name=row["name"], key=row["key"], subject=row["subject"],
        status=row["status"], attempts=int(row["attempts"]), max_attempts=int(row["max_attempts"]),
        run_after=_aware(row["run_after"]), created_at=_aware(row["created_at"]),
        started_at=_aware(row["started_at"]), finished_at=_aware(row["finished_at"]),
        progress_done=int(row["progress_done"]), progress_total=row["progress_total"], message=row["message"],
        error=row["error"], result=json.loads(row["result"]) if row["result"] else None,
    )


def _aware(moment: Any) -> Any:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
