"""`qinqing serve` runs the job runner beside the app (one process) or in the supervising process (several),
and not at all with --no-jobs."""

from __future__ import annotations

import pytest
from web_support import AS_OF

from qinqing.settings import Settings
from qinqing.web import serve as serving


@pytest.mark.parametrize("workers, jobs", [(1, True), (2, True), (1, False)])
def test_serve_runs_the_jobs_while_it_serves(monkeypatch, tmp_path, workers, jobs) -> None:
    import threading

    import uvicorn

    from qinqing.db import migrate

    url = f"sqlite:///{tmp_path / 'q.db'}"
    migrate(url)
    seen: dict[str, object] = {}

    def runners() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("qinqing-worker-")}

    # Other tests' servers may still run their runners in this process (the e2e session server): count ours.
    before = runners()

    def fake_run(app, **kwargs) -> None:
        seen["runners"] = runners() - before
        seen["factory"] = kwargs.get("factory", False)

    import os

    monkeypatch.setattr(uvicorn, "run", fake_run)
    settings = Settings(database_url=url, results_dir=tmp_path / "results", reference_date=AS_OF,
                        secret_key="test-secret")
    environment = dict(os.environ)
    try:
        serving.serve(settings, workers=workers, jobs=jobs)
    finally:  # several workers get the settings through the environment: leave this process's as it was
        os.environ.clear()
        os.environ.update(environment)
    assert len(seen["runners"]) == (1 if jobs else 0)
    assert seen["factory"] is (workers > 1)
    assert not runners() - before  # stopped after
