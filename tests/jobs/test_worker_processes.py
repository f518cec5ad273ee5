"""The job runner as real processes: a worker killed with ``kill -9`` mid-job leaves the job to the next
worker, which finishes it exactly once; two workers on PostgreSQL share a queue without running any job
twice (``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from qinqing import jobs
from qinqing.jobs.tables import jobs as jobs_table

HERE = Path(__file__).parent
QINQING = str(Path(sys.executable).with_name("qinqing"))


def _worker(database_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "QINQING_DATABASE_URL": database_url,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([QINQING, "worker", "--import", "jobs_plugin", "--poll", "0.1", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_a_job_killed_mid_way_finishes_exactly_once_after_a_restart(engine, database_url, tmp_path) -> None:
    import jobs_plugin  # noqa: F401  (registers tests.slow here too, for its max_attempts)

    with engine.begin() as connection:
        job_id = jobs.enqueue(connection, "tests.slow", {"dir": str(tmp_path)})
    first = _worker(database_url, "--lease", "2")
    try:
        _wait_for(lambda: _lines(tmp_path / "started.log"), 60, "the first worker to start the job")
        first.send_signal(signal.SIGKILL)  # kill -9, mid-job
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    with engine.connect() as connection:
        view = jobs.get_job(connection, job_id)
    assert view.status == "running" and view.attempts == 1 and not _lines(tmp_path / "finished.log")

    second = _worker(database_url, "--lease", "2")
    try:
        def finished():
            with engine.connect() as connection:
                found = jobs.get_job(connection, job_id)
            return found if found.finished else None

        view = _wait_for(finished, 60, "the restarted worker to finish the job")
    finally:
        _stop(second)
    assert view.status == "done" and view.attempts == 2 and view.result == {"attempt": 2}
    assert [line.split()[:2] for line in _lines(tmp_path / "started.log")] == [[str(job_id), "1"], [str(job_id), "2"]]
    assert [line.split()[:2] for line in _lines(tmp_path / "finished.log")] == [[str(job_id), "2"]]  # once
    with engine.begin() as connection:  # and it stays done: nothing runs it a third time
        connection.execute(update(jobs_table).values(locked_until=datetime.now(UTC)))
    assert len(_lines(tmp_path / "finished.log")) == 1


@pytest.mark.slow
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_two_workers_on_postgresql_share_the_queue_and_run_each_job_once(engine, database_url, tmp_path) -> None:
    count = 40
    with engine.begin() as connection:
        ids = [jobs.enqueue(connection, "tests.quick", {"dir": str(tmp_path), "seconds": 0.15}) for _ in range(count)]
    workers = [_worker(database_url, "--exit-when-idle"), _worker(database_url, "--exit-when-idle")]
    try:
        for process in workers:
            process.wait(timeout=120)
    finally:
        for process in workers:
            _stop(process)
    for process in workers:
        assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
    finished = [line.split() for line in _lines(tmp_path / "finished.log")]
    by_job = Counter(int(job) for job, _pid in finished)
    assert sorted(by_job) == sorted(ids) and set(by_job.values()) == {1}  # every job, each once
    pids = Counter(pid for _job, pid in finished)
    assert len(pids) == 2, pids  # both workers took jobs
    with engine.connect() as connection:
        assert {jobs.get_job(connection, i).status for i in ids} == {"done"}
