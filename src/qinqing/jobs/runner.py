"""The worker: turns outbox events into jobs, starts scheduled slots, claims jobs and runs them.

One loop, the same on SQLite (the demo, one process or a few) and PostgreSQL (several workers on several
machines):

1. **dispatch** — every outbox row not yet dispatched becomes one job per handler registered for its type
   (``dedup`` = handler + event id, unique, so two workers dispatching the same row make one job);
2. **schedules** — a schedule whose ``next_due`` has passed moves it on with a compare-and-set and queues
   one job for that slot (unique per slot);
3. **claim** — one statement, ``UPDATE jobs SET status='running', locked_by=me, locked_until=now+lease …
   WHERE id = (SELECT id … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING *``: a queued job that is due, or a
   running one whose lease ran out (its worker died — ``kill -9``, a lost machine);
4. **run** — the handler runs while a heartbeat thread extends the lease and stores progress; the job is
   marked ``done`` only by the worker that still holds it (``WHERE locked_by = me``), so it finishes once
   even when a slow worker loses its lease to another. An error re-queues it with a growing delay until
   ``max_attempts``, then marks it ``failed`` with the error.

Delivery is at least once: a job whose worker died after the handler's work but before ``done`` runs
again. Handlers are idempotent (re-matching a policy, a payment keyed by its application).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Engine

from qinqing.events import decode, dumps, outbox
from qinqing.jobs.context import JobContext
from qinqing.jobs.queue import new_job_values
from qinqing.jobs.registry import REGISTRY, Registry
from qinqing.jobs.tables import jobs, schedules, workers
from qinqing.settings import Settings, get_settings

log = logging.getLogger("qinqing.jobs")

DEFAULT_LEASE = timedelta(seconds=60)
PROGRESS_EVERY = 0.5  # seconds between stored progress updates of a running job
DISPATCH_BATCH = 200
BEAT_EVERY = 10.0  # seconds between a running worker's jobs_workers heartbeats


@dataclass(frozen=True)
class Outcome:
    """What one ``run_once`` did: the job it ran (None when there was nothing to do) and how it ended."""

    job_id: int | None
    status: str | None


class Worker:
    """One worker: ``run_once`` does one pass (dispatch, schedules, at most one job); ``run_until_idle``
    drains the queue (tests, the demo); ``run_forever`` polls until stopped; ``start`` runs it on a thread
    of this process (the web's single-process mode)."""

    def __init__(self, engine: Engine, settings: Settings | None = None, *, registry: Registry | None = None,
                 resources: Mapping[str, Any] | None = None, worker_id: str | None = None,
                 lease: timedelta = DEFAULT_LEASE, poll_seconds: float = 1.0) -> None:
        self.engine = engine
        self.settings = settings or get_settings()
        self.registry = registry or REGISTRY
        self.resources = dict(resources or {})
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._reaped_at = float("-inf")

    # -- the loop ---------------------------------------------------------------------------------------

    def run_once(self) -> Outcome:
        self.dispatch()
        self.start_due_schedules()
        row = self.claim()
        if row is None:
            return Outcome(None, None)
        return Outcome(int(row["id"]), self.execute(row))

    def run_until_idle(self, *, timeout: float = 300.0, max_jobs: int | None = None) -> list[int]:
        """Run jobs until none is due (or ``max_jobs`` ran); returns their ids. A job due later (a clock)
        does not keep it waiting."""
        deadline = time.monotonic() + timeout
        ran: list[int] = []
        while time.monotonic() < deadline and (max_jobs is None or len(ran) < max_jobs):
            outcome = self.run_once()
            if outcome.job_id is None:
                return ran
            ran.append(outcome.job_id)
        return ran

    def run_forever(self, *, exit_when_idle: bool = False) -> None:
        log.info("worker %s started", self.worker_id)
        started, beaten = datetime.now(UTC), float("-inf")
        while not self._stop.is_set():
            if time.monotonic() - beaten >= BEAT_EVERY:
                beaten = time.monotonic() if self._beat(started) else beaten
            try:
                outcome = self.run_once()
            except Exception:  # the database went away for a moment: log and try again
                log.exception("worker %s: pass failed", self.worker_id)
                outcome = Outcome(None, None)
            if outcome.job_id is None:
                if exit_when_idle:
                    return
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        self._gone()
        log.info("worker %s stopped", self.worker_id)

    def start(self) -> threading.Thread:
        """Run the loop on a daemon thread of this process."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=f"qinqing-worker-{self.worker_id}",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def wake(self) -> None:
        """Look for work now instead of at the next poll (after emitting an event in this process)."""
        self._wake.set()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Finish the current job and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the steps --------------------------------------------------------------------------------------

    def dispatch(self) -> int:
        """Make the jobs of every undispatched outbox event; returns how many events were dispatched."""
        handled = self.registry.event_types()
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.type, outbox.c.subject).where(outbox.c.dispatched_at.is_(None))
                .order_by(outbox.c.id).limit(DISPATCH_BATCH).with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            for event_id, event_type, subject in rows:
                if event_type not in handled:
                    continue
                for handler in self.registry.handlers_for(event_type):
                    _insert_once(connection, {
                        "kind": "event", "name": handler.name, "key": None,
                        "dedup": f"{handler.name}|event:{event_id}", "event_id": event_id, "payload": "{}",
                        "subject": subject, **new_job_values(now, now, handler.max_attempts)})
            connection.execute(update(outbox).where(outbox.c.id.in_([r[0] for r in rows]),
                                                    outbox.c.dispatched_at.is_(None)).values(dispatched_at=now))
        return len(rows)

    def start_due_schedules(self) -> int:
        """Queue one job for each schedule slot that has come; returns how many were queued."""
        queued = 0
        for schedule in self.registry.schedules.values():
            now = datetime.now(UTC)
            with self.engine.begin() as connection:
                row = connection.execute(select(schedules).where(schedules.c.name == schedule.name)).mappings().first()
                if row is None:  # first sight: the first slot is the next one, nothing is caught up
                    _insert_schedule_once(connection, schedule.name, schedule.when.next_after(now))
                    continue
                due = _aware(row["next_due"])
                if due > now:
                    continue
                moved = connection.execute(update(schedules).where(
                    schedules.c.name == schedule.name, schedules.c.next_due == row["next_due"]
                ).values(next_due=schedule.when.next_after(now)))
                if moved.rowcount != 1:
                    continue  # another worker took this slot
                job_id = _insert_once(connection, {
                    "kind": "schedule", "name": schedule.name, "key": due.isoformat(),
                    "dedup": f"{schedule.name}|{due.isoformat()}", "event_id": None, "payload": "{}",
                    "subject": f"schedule:{schedule.name}", **new_job_values(now, now, schedule.max_attempts)})
                if job_id is not None:
                    connection.execute(update(schedules).where(schedules.c.name == schedule.name)
                                       .values(last_job_id=job_id))
                    queued += 1
        return queued

    def claim(self) -> Any | None:
        """Take one due job (or one whose worker's lease ran out) for this worker; None when there is none."""
        names = self._names()
        if not names:
            return None
        now = datetime.now(UTC)
        if time.monotonic() - self._reaped_at >= min(self.lease.total_seconds(), 60.0):
            self._fail_exhausted(now, names)
            self._reaped_at = time.monotonic()
        claimable = and_(jobs.c.name.in_(names), jobs.c.attempts < jobs.c.max_attempts, or_(
            and_(jobs.c.status == "queued", jobs.c.run_after <= now),
            and_(jobs.c.status == "running", jobs.c.locked_until < now),
        ))
        with self.engine.connect() as connection:  # read first: an idle poll takes no write lock (SQLite)
            if connection.execute(select(jobs.c.id).where(claimable).limit(1)).first() is None:
                return None
        candidate = (select(jobs.c.id).where(claimable).order_by(jobs.c.run_after, jobs.c.id).limit(1)
                     .with_for_update(skip_locked=True).scalar_subquery())
        with self.engine.begin() as connection:
            row = connection.execute(
                update(jobs).where(jobs.c.id == candidate, claimable).values(
                    status="running", locked_by=self.worker_id, locked_until=now + self.lease,
                    attempts=jobs.c.attempts + 1, started_at=now, error=None)
                .returning(*jobs.c)
            ).mappings().first()
        return row

    def execute(self, row: Any) -> str:
        """Run a claimed job to its end; returns its final status for this attempt (done, queued, failed, lost)."""
        job_id = int(row["id"])
        reporter = _Reporter(self, job_id)
        context = JobContext(
            job_id=job_id, name=row["name"], attempt=int(row["attempts"]), engine=self.engine,
            settings=self.settings, resources=self.resources, subject=row["subject"],
            scheduled_for=datetime.fromisoformat(row["key"]) if row["kind"] == "schedule" else None,
            _report=reporter.report)
        heartbeat = threading.Thread(target=reporter.beat, name=f"qinqing-job-{job_id}-heartbeat", daemon=True)
        heartbeat.start()
        try:
            result = self._call(row, context)
        except Exception as error:  # a job's failure is stored with it, never the worker's end
            reporter.stop()
            heartbeat.join()
            return self._failed(row, error)
        reporter.stop()
        heartbeat.join()
        done, total, message = reporter.latest()
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            finished = connection.execute(update(jobs).where(
                jobs.c.id == job_id, jobs.c.locked_by == self.worker_id, jobs.c.status == "running"
            ).values(status="done", finished_at=now, locked_until=None, result=_result_text(result),
                     progress_done=total if total is not None else max(done, 1),
                     progress_total=total if total is not None else max(done, 1),
                     message=message)).rowcount
        if finished != 1:
            log.warning("job %s: lease lost to another worker; its result is theirs", job_id)
            return "lost"
        return "done"

    # -- inside -----------------------------------------------------------------------------------------

    def _beat(self, started: datetime) -> bool:
        """Say this worker runs (``jobs_workers``); False when the database could not be reached."""
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as connection:
                statement = _dialect_insert(connection, workers).values(
                    worker_id=self.worker_id, host=socket.gethostname()[:255], pid=os.getpid(), started_at=started,
                    seen_at=now)
                connection.execute(statement.on_conflict_do_update(index_elements=["worker_id"],
                                                                   set_={"seen_at": now}))
                # Rows of workers gone for a day are dropped (a killed worker cannot remove its own).
                connection.execute(workers.delete().where(workers.c.seen_at < now - timedelta(days=1)))
            return True
        except Exception:
            log.exception("worker %s: heartbeat failed", self.worker_id)
            return False

    def _gone(self) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(workers.delete().where(workers.c.worker_id == self.worker_id))
        except Exception:
            log.exception("worker %s: could not remove its heartbeat row", self.worker_id)

    def _names(self) -> list[str]:
        return [*self.registry.handlers, *self.registry.schedules, *self.registry.tasks]

    def _call(self, row: Any, context: JobContext) -> Any:
        kind, name = row["kind"], row["name"]
        if kind == "event":
            with self.engine.connect() as connection:
                stored = connection.execute(select(outbox.c.type, outbox.c.payload, outbox.c.created_at)
                                            .where(outbox.c.id == row["event_id"])).first()
            if stored is None:
                raise LookupError(f"event {row['event_id']} is no longer in the outbox")
            event = decode(stored[0], json.loads(stored[1]))
            context.emitted_at = _aware(stored[2])
            return self.registry.handlers[name].fn(context, event)
        if kind == "schedule":
            return self.registry.schedules[name].fn(context)
        return self.registry.tasks[name].fn(context, json.loads(row["payload"]))

    def _failed(self, row: Any, error: Exception) -> str:
        attempts, limit = int(row["attempts"]), int(row["max_attempts"])
        text = _error_text(error)
        log.warning("job %s (%s) attempt %s failed: %s", row["id"], row["name"], attempts, text.splitlines()[0])
        now = datetime.now(UTC)
        final = attempts >= limit
        values: dict[str, Any] = {"error": text, "locked_until": None}
        if final:
            values.update(status="failed", finished_at=now)
        else:
            values.update(status="queued", run_after=now + _backoff(attempts), locked_by=None)
        with self.engine.begin() as connection:
            connection.execute(update(jobs).where(jobs.c.id == row["id"], jobs.c.locked_by == self.worker_id,
                                                  jobs.c.status == "running").values(**values))
        return "failed" if final else "queued"

    def _fail_exhausted(self, now: datetime, names: list[str]) -> None:
        """A running job whose lease ran out with no attempt left (its workers kept dying) is failed."""
        exhausted = and_(jobs.c.name.in_(names), jobs.c.status == "running", jobs.c.locked_until < now,
                         jobs.c.attempts >= jobs.c.max_attempts)
        with self.engine.connect() as connection:
            if connection.execute(select(jobs.c.id).where(exhausted).limit(1)).first() is None:
                return
        with self.engine.begin() as connection:
            connection.execute(update(jobs).where(
                jobs.c.name.in_(names), jobs.c.status == "running", jobs.c.locked_until < now,
                jobs.c.attempts >= jobs.c.max_attempts,
            ).values(status="failed", finished_at=now, locked_until=None,
                     error="作业多次中断（执行它的进程停止），不再重试。"))

    def _store_progress(self, job_id: int, done: int, total: int | None, message: str | None) -> bool:
        """Extend the lease and store progress; False when this worker no longer holds the job."""
        with self.engine.begin() as connection:
            return connection.execute(update(jobs).where(
                jobs.c.id == job_id, jobs.c.locked_by == self.worker_id, jobs.c.status == "running"
            ).values(locked_until=datetime.now(UTC) + self.lease, progress_done=done, progress_total=total,
                     message=message)).rowcount == 1


class _Reporter:
    """A running job's progress, kept in memory and stored by the heartbeat (and at most every
    PROGRESS_EVERY seconds when the job reports)."""

    def __init__(self, worker: Worker, job_id: int) -> None:
        self.worker = worker
        self.job_id = job_id
        self._lock = threading.Lock()
        self._state: tuple[int, int | None, str | None] = (0, None, None)
        self._stored_at = 0.0
        self._done = threading.Event()

    def report(self, done: int, total: int | None, message: str | None) -> None:
        with self._lock:
            self._state = (done, total, message if message is not None else self._state[2])
            due = time.monotonic() - self._stored_at >= PROGRESS_EVERY
        if due:
            self._store()

    def latest(self) -> tuple[int, int | None, str | None]:
        with self._lock:
            return self._state

    def beat(self) -> None:
        interval = max(0.2, self.worker.lease.total_seconds() / 3)
        while not self._done.wait(interval):
            self._store()

    def stop(self) -> None:
        self._done.set()

    def _store(self) -> None:
        with self._lock:
            done, total, message = self._state
            self._stored_at = time.monotonic()
        try:
            self.worker._store_progress(self.job_id, done, total, message)
        except Exception:  # progress is best effort; the lease is retried at the next beat
            log.exception("job %s: storing progress failed", self.job_id)


def _insert_once(connection: Connection, values: dict[str, Any]) -> int | None:
    """Insert a job unless one with the same ``dedup`` exists; its id, or None when it existed."""
    statement = _dialect_insert(connection, jobs).values(**values).on_conflict_do_nothing(
        index_elements=["dedup"]).returning(jobs.c.id)
    return connection.execute(statement).scalar()


def _insert_schedule_once(connection: Connection, name: str, due: datetime) -> None:
    connection.execute(_dialect_insert(connection, schedules).values(name=name, next_due=due, last_job_id=None)
                       .on_conflict_do_nothing(index_elements=["name"]))


def _dialect_insert(connection: Connection, table: Any) -> Any:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"the job runner supports SQLite and PostgreSQL, not {connection.dialect.name}")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


def _error_text(error: Exception) -> str:
    message = getattr(error, "message", None)
    if message:  # a QinqingError: its Chinese message and code
        code = getattr(error, "code", "")
        return f"{message}（{code}）" if code else str(message)
    return "".join(traceback.format_exception_only(type(error), error)).strip()[:4000]


def _result_text(result: Any) -> str | None:
    if result is None:
        return None
    try:
        return dumps(result)
    except TypeError:
        return dumps(str(result))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


__all__ = ["DEFAULT_LEASE", "Outcome", "Worker"]
