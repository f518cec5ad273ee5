"""Tasks for the tests that run real worker processes (`qinqing worker --import jobs_plugin`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from qinqing import jobs


def slow(job: jobs.JobContext, payload: dict) -> dict:
    """Notes each start; the first attempt then waits to be killed; a later one finishes at once."""
    folder = Path(payload["dir"])
    with open(folder / "started.log", "a", encoding="utf-8") as log:
        log.write(f"{job.job_id} {job.attempt} {os.getpid()}\n")
    job.progress(1, 2, "开始")
    if job.attempt == 1:
        time.sleep(120)  # killed here
    with open(folder / "finished.log", "a", encoding="utf-8") as log:
        log.write(f"{job.job_id} {job.attempt} {os.getpid()}\n")
    return {"attempt": job.attempt}


def quick(job: jobs.JobContext, payload: dict) -> None:
    time.sleep(float(payload.get("seconds", 0.2)))
    with open(Path(payload["dir"]) / "finished.log", "a", encoding="utf-8") as log:
        log.write(f"{job.job_id} {os.getpid()}\n")


jobs.register_task("tests.slow", slow, max_attempts=3)
jobs.register_task("tests.quick", quick)
