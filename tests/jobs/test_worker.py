"""The job runner in one process: events to handlers at least once and without duplicates, schedules,
tasks and clocks, retries, leases and progress (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from qinqing import jobs
from qinqing.catalogue.events import PolicyPublished
from qinqing.events import emit, outbox
from qinqing.jobs.registry import Daily, Every, Registry, parse_when
from qinqing.jobs.runner import Worker
from qinqing.jobs.tables import jobs as jobs_table
from qinqing.jobs.tables import schedules


def _published(engine, policy_id: str = "p1") -> int:
    with engine.begin() as connection:
        return emit(connection, PolicyPublished(policy_id=policy_id, version=1, published_by="alice"))


def _job(engine, job_id: int) -> jobs.JobView:
    with engine.connect() as connection:
        found = jobs.get_job(connection, job_id)
    assert found is not None
    return found


def test_each_event_reaches_each_handler_once(engine) -> None:
    registry, seen = Registry(), []
    registry.register_handler(PolicyPublished, lambda job, event: seen.append(("a", event.policy_id)), name="a")
    registry.register_handler("catalogue.policy_published", lambda job, e: seen.append(("b", e.policy_id)), name="b")
    worker, other = Worker(engine, registry=registry), Worker(engine, registry=registry)
    _published(engine, "p1")
    _published(engine, "p2")
    assert worker.dispatch() == 2
    with engine.begin() as connection:  # a second worker dispatching the same rows makes no second job
        connection.execute(update(outbox).values(dispatched_at=None))
    assert other.dispatch() == 2
    ran = worker.run_until_idle()
    assert len(ran) == 4 and sorted(seen) == [("a", "p1"), ("a", "p2"), ("b", "p1"), ("b", "p2")]
    assert worker.run_until_idle() == []
    view = _job(engine, ran[0])
    assert view.status == "done" and view.subject.startswith("policy:") and view.attempts == 1


def test_progress_and_result_are_stored(engine) -> None:
    registry = Registry()
    seen_progress = []

    def handler(job, event):
        job.progress(1, 4, "读取企业库")
        with engine.connect() as connection:
            seen_progress.append(jobs.get_job(connection, job.job_id).message)
        return {"eligible": 3}

    registry.register_handler(PolicyPublished, handler, name="h")
    _published(engine)
    [job_id] = Worker(engine, registry=registry).run_until_idle()
    view = _job(engine, job_id)
    assert seen_progress == ["读取企业库"]  # stored while the job ran, for the pages
    assert view.result == {"eligible": 3} and view.percent == 100 and view.message == "读取企业库"
    with engine.connect() as connection:
        assert [j.id for j in jobs.jobs_for(connection, "policy:p1")] == [job_id]
    assert view.as_json()["progress"] == {"done": 4, "total": 4, "percent": 100, "message": "读取企业库"}


def test_a_failing_job_is_retried_later_then_failed(engine) -> None:
    registry, calls = Registry(), []

    def flaky(job, event):
        calls.append(job.attempt)
        raise ValueError("boom")

    registry.register_handler(PolicyPublished, flaky, name="flaky", max_attempts=2)
    _published(engine)
    worker = Worker(engine, registry=registry)
    [job_id] = worker.run_until_idle()
    view = _job(engine, job_id)
    assert view.status == "queued" and view.run_after > datetime.now(UTC) and "boom" in view.error
    assert worker.run_until_idle() == []  # not due yet
    with engine.begin() as connection:
        connection.execute(update(jobs_table).values(run_after=datetime.now(UTC) - timedelta(seconds=1)))
    assert worker.run_until_idle() == [job_id]
    view = _job(engine, job_id)
    assert calls == [1, 2] and view.status == "failed" and view.finished


def test_a_job_whose_worker_died_is_taken_over_and_finished_once(engine) -> None:
    registry, calls = Registry(), []
    registry.register_handler(PolicyPublished, lambda job, e: calls.append(job.attempt), name="h")
    _published(engine)
    dead = Worker(engine, registry=registry, lease=timedelta(seconds=30))
    dead.dispatch()
    row = dead.claim()  # claimed, then the process "dies" without running it
    assert row is not None
    alive = Worker(engine, registry=registry)
    assert alive.run_until_idle() == []  # its lease still runs
    with engine.begin() as connection:
        connection.execute(update(jobs_table).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert alive.run_until_idle() == [row["id"]]
    assert calls == [2]
    assert dead.execute(row) == "lost"  # the first worker comes back: its finish does not count
    view = _job(engine, row["id"])
    assert view.status == "done" and view.attempts == 2 and calls == [2, 1]


def test_a_worker_runs_only_the_jobs_it_knows(engine) -> None:
    _published(engine)
    knows = Registry()
    knows.register_handler(PolicyPublished, lambda job, e: None, name="known")
    Worker(engine, registry=knows).dispatch()
    assert Worker(engine, registry=Registry()).run_until_idle() == []
    assert len(Worker(engine, registry=knows).run_until_idle()) == 1


def test_tasks_are_clocks_that_can_be_moved_and_cancelled(engine) -> None:
    registry, fired = Registry(), []
    registry.register_task("tests.deadline", lambda job, payload: fired.append(payload["appeal"]))
    later = datetime.now(UTC) + timedelta(days=3)
    with engine.begin() as connection:
        first = jobs.enqueue(connection, "tests.deadline", {"appeal": 1}, key="appeal:1", run_after=later,
                             registry=registry)
        again = jobs.enqueue(connection, "tests.deadline", {"appeal": 1}, key="appeal:1",
                             run_after=datetime.now(UTC) - timedelta(seconds=1), registry=registry)
        jobs.enqueue(connection, "tests.deadline", {"appeal": 2}, key="appeal:2", run_after=later)
        jobs.enqueue(connection, "tests.deadline", {"appeal": 3}, key="appeal:3")
        assert jobs.cancel(connection, "tests.deadline", "appeal:3") == 1
    assert first == again  # the clock of appeal 1 was moved, not doubled
    worker = Worker(engine, registry=registry)
    assert worker.run_until_idle() == [first] and fired == [1]
    with pytest.raises(ValueError, match="timezone"), engine.begin() as connection:
        jobs.enqueue(connection, "tests.deadline", {}, run_after=datetime(2030, 1, 1))


def test_a_schedule_slot_runs_once_however_many_workers(engine) -> None:
    registry, slots = Registry(), []
    registry.register_schedule("tests.nightly", "daily 02:00", lambda job: slots.append(job.scheduled_for))
    one, two = Worker(engine, registry=registry), Worker(engine, registry=registry)
    assert one.start_due_schedules() == 0  # first sight: the next 02:00, nothing caught up
    with engine.connect() as connection:
        due = connection.execute(select(schedules.c.next_due)).scalar()
    assert due is not None
    with engine.begin() as connection:
        connection.execute(update(schedules).values(next_due=datetime.now(UTC) - timedelta(minutes=1)))
    assert one.start_due_schedules() + two.start_due_schedules() == 1
    assert len(one.run_until_idle()) == 1 and two.run_until_idle() == [] and len(slots) == 1
    with engine.connect() as connection:
        assert connection.execute(select(schedules.c.next_due)).scalar() is not None


def test_schedule_spellings() -> None:
    assert parse_when("every 15m") == Every(timedelta(minutes=15))
    assert parse_when("hourly") == Every(timedelta(hours=1))
    assert parse_when(timedelta(seconds=5)) == Every(timedelta(seconds=5))
    nightly = parse_when("daily 02:00")
    assert isinstance(nightly, Daily)
    at = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)  # 04:00 on 1 July in China
    assert nightly.next_after(at) == datetime(2025, 7, 1, 18, 0, tzinfo=UTC)
    for bad in ("daily 25:00", "every 0m", "weekly", "every 5x"):
        with pytest.raises(ValueError):
            parse_when(bad)


def test_a_job_name_is_registered_for_one_function() -> None:
    registry = Registry()
    registry.register_task("tests.one", test_schedule_spellings)
    registry.register_task("tests.one", test_schedule_spellings)  # again (a re-import): allowed
    with pytest.raises(ValueError, match="already registered"):
        registry.register_task("tests.one", test_a_job_name_is_registered_for_one_function)


def test_the_in_process_worker_thread_runs_and_stops(engine) -> None:
    registry, seen = Registry(), []
    registry.register_handler(PolicyPublished, lambda job, e: seen.append(e.policy_id), name="h")
    worker = Worker(engine, registry=registry, poll_seconds=0.05)
    worker.start()
    try:
        _published(engine, "p9")
        worker.wake()
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while not seen and datetime.now(UTC) < deadline:
            import time

            time.sleep(0.05)
        with engine.connect() as connection:
            assert jobs.workers_running(connection) == 1  # its heartbeat row
    finally:
        worker.stop()
    assert seen == ["p9"]
    with engine.connect() as connection:
        assert jobs.workers_running(connection) == 0  # removed when it stopped


def test_a_job_whose_workers_kept_dying_is_failed_not_retried_forever(engine) -> None:
    registry = Registry()
    registry.register_handler(PolicyPublished, lambda job, e: None, name="h", max_attempts=1)
    _published(engine)
    dying = Worker(engine, registry=registry)
    dying.dispatch()
    row = dying.claim()  # attempt 1 of 1, then the process dies
    with engine.begin() as connection:
        connection.execute(update(jobs_table).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert Worker(engine, registry=registry).run_until_idle() == []
    view = _job(engine, row["id"])
    assert view.status == "failed" and "中断" in view.error
