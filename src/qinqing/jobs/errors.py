"""Errors of the job runner, under the one root (``QinqingError``)."""

from __future__ import annotations

from qinqing.errors import QinqingError


class JobError(QinqingError):
    """Root of the job runner's errors."""

    status = 400
    code = "jobs.error"


class JobNotFound(JobError):
    status = 404
    code = "jobs.job_not_found"

    def __init__(self, job_id: int) -> None:
        super().__init__(f"未找到作业 {job_id}。", job_id=job_id)
