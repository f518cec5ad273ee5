"""Tables of the job runner (created by the alembic branch in qinqing/migrations/jobs, with the outbox).

``jobs`` holds one row per unit of work — an event handed to one handler, a scheduled slot, a task such
as a time-limit clock — with its state, lease and progress; ``jobs_schedules`` the next due time of each
scheduled job, so that several workers start each slot once; ``jobs_workers`` a heartbeat row per
running worker, so that a page can say when none runs.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from qinqing.events import ID, metadata

jobs = Table(
    "jobs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # event | schedule | task
    Column("name", String(200), nullable=False),  # the handler's, schedule's or task's registered name
    Column("key", String(300), nullable=True),  # a task's key (a clock's object); a schedule's slot
    Column("dedup", String(512), nullable=True, unique=True),  # one job per (handler, event) and per slot
    Column("event_id", ID, ForeignKey("events_outbox.id", ondelete="CASCADE"), nullable=True),
    Column("payload", Text, nullable=False),  # JSON
    Column("subject", String(256), nullable=True),
    Column("status", String(16), nullable=False),  # queued | running | done | failed | cancelled
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("locked_by", String(128), nullable=True),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("progress_done", BigInteger, nullable=False),
    Column("progress_total", BigInteger, nullable=True),
    Column("message", Text, nullable=True),  # progress text, in Chinese, for the pages
    Column("error", Text, nullable=True),
    Column("result", Text, nullable=True),  # JSON summary returned by the handler
    Index("ix_jobs_status_run_after", "status", "run_after"),
    Index("ix_jobs_subject", "subject", "id"),
    Index("ix_jobs_name_key", "name", "key"),
)

schedules = Table(
    "jobs_schedules",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("next_due", DateTime(timezone=True), nullable=False),
    Column("last_job_id", ID, nullable=True),
)

workers = Table(
    "jobs_workers",
    metadata,
    Column("worker_id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
