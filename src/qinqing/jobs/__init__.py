"""The job runner: consumes the events outbox at least once, runs scheduled jobs and tasks, stores progress.

A piece plugs in with three registrations, made at import time of its own module (the host — ``qinqing
worker``, the web's in-process runner, the demo — imports every piece's module that registers, see
``qinqing.jobs.plugins``)::

    from qinqing import jobs

    def rematch_published(job: jobs.JobContext, event: PolicyPublished) -> dict:
        job.progress(0, 1, "正在重新匹配")
        ...                                    # idempotent: it may run more than once for one event
        return {"eligible": 120}               # optional JSON-able summary, kept with the job

    jobs.register_handler(PolicyPublished, rematch_published)         # every such event, at least once
    jobs.register_schedule("matching.nightly", "daily 02:00", nightly) # fn(job); or "every 15m", timedelta
    jobs.register_task("appeals.deadline", deadline_passed)          # fn(job, payload), run when enqueued

    with engine.begin() as connection:         # a time-limit clock: a task due at the deadline
        jobs.enqueue(connection, "appeals.deadline", {"appeal": 42}, key="appeal:42", run_after=deadline)
        jobs.cancel(connection, "appeals.deadline", "appeal:42")     # when it no longer applies

Each event becomes one job per handler registered for its type; each schedule slot one job however many
workers run; a job killed mid-way (its worker died: the lease ran out) runs again, and is marked done once.
Handlers, scheduled jobs and tasks must therefore be idempotent. ``get_job``, ``jobs_for(subject)`` and
``JobView.as_json()`` give the stored progress to pages.

API (stable): ``register_handler``, ``register_schedule``, ``register_task``, ``enqueue``, ``cancel``,
``get_job``, ``jobs_for``, ``recent_jobs``, ``workers_running``, ``JobContext``, ``JobView``; the runner is ``Worker``
(``qinqing.jobs.runner``).
"""

from __future__ import annotations

from datetime import timedelta

from qinqing.events import Event
from qinqing.jobs.context import JobContext
from qinqing.jobs.queue import JobView, cancel, enqueue, get_job, jobs_for, recent_jobs, workers_running
from qinqing.jobs.registry import (
    DEFAULT_MAX_ATTEMPTS,
    REGISTRY,
    Daily,
    EventHandler,
    Every,
    Handler,
    Registry,
    Schedule,
    ScheduledJob,
    Task,
    TaskFunction,
)


def register_handler(event_type: str | type[Event], fn: EventHandler, *, name: str | None = None,
                     max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Handler:
    """Run ``fn(job, event)`` for every event of ``event_type``, at least once. ``name`` (default: the
    function's dotted name) identifies the handler in the queue; keep it stable."""
    return REGISTRY.register_handler(event_type, fn, name=name, max_attempts=max_attempts)


def register_schedule(name: str, when: str | timedelta | Every | Daily, fn: ScheduledJob, *,
                      max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Schedule:
    """Run ``fn(job)`` at ``when``: ``"daily 02:00"`` (China time), ``"hourly"``, ``"every 15m"`` or a
    timedelta. A slot missed while no worker ran is run once when one starts."""
    return REGISTRY.register_schedule(name, when, fn, max_attempts=max_attempts)


def register_task(name: str, fn: TaskFunction, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Task:
    """Make ``fn(job, payload)`` runnable by ``enqueue(connection, name, payload, ...)``."""
    return REGISTRY.register_task(name, fn, max_attempts=max_attempts)


__all__ = [
    "REGISTRY", "Daily", "Every", "JobContext", "JobView", "Registry", "cancel", "enqueue", "get_job",
    "jobs_for", "recent_jobs", "register_handler", "register_schedule", "register_task", "workers_running",
]
