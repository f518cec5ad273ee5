"""Serving the application with uvicorn, in one process or several worker processes.

Several workers share nothing in memory: each opens its own database engine and its own read-only
connections to the matching results store (the store lets readers of many processes take turns with
a writer), and keeps its own caches, each keyed on what the database or the store says has changed.
What they must share — the key that signs session cookies — goes to them through the environment.
"""

from __future__ import annotations

import os
import secrets

from qinqing.settings import Settings

MAX_DEFAULT_WORKERS = 4


def default_workers(settings: Settings) -> int:
    """One worker per CPU core (at most four); one for an in-memory SQLite database, which a process owns."""
    url = settings.database_url
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite:/")):
        return 1
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def worker_environment(settings: Settings) -> dict[str, str]:
    """QINQING_* variables that rebuild ``settings`` in a worker process, with a shared secret key."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is not None and value != "":
            env[f"QINQING_{name.upper()}"] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    env.setdefault("QINQING_SECRET_KEY", secrets.token_urlsafe(32))
    return env


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          log_level: str = "warning", jobs: bool = True) -> None:
    """Serve the platform for ``settings``; ``workers`` None: :func:`default_workers`.

    With ``jobs`` the job runner (re-matching after publishing, scheduled runs, clocks) runs in this
    process: on a thread beside the app, sharing its results store, or, with several web workers, on a
    thread of the supervising process. Without it, run ``qinqing worker`` apart (as many as needed)."""
    import uvicorn

    workers = default_workers(settings) if workers is None or workers < 1 else workers
    if workers == 1:
        from qinqing.web.app import create_app

        app = create_app(settings)
        runner = app.state.services.worker if jobs else None
        if runner is not None:
            runner.start()
        try:
            uvicorn.run(app, host=host, port=port, log_level=log_level)
        finally:
            if runner is not None:
                runner.stop()
        return
    runner = _own_worker(settings) if jobs else None
    if runner is not None:
        runner.start()
    try:
        os.environ.update(worker_environment(settings))
        uvicorn.run("qinqing.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level)
    finally:
        if runner is not None:
            runner.stop()


def _own_worker(settings: Settings):
    """A job runner with its own engine (its jobs open their own results store)."""
    from qinqing.db import make_engine
    from qinqing.jobs.plugins import load_plugins
    from qinqing.jobs.runner import Worker

    load_plugins()
    return Worker(make_engine(settings.database_url), settings, poll_seconds=0.5)
