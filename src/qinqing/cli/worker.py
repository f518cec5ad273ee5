"""`qinqing worker`: the job runner — outbox events to their handlers, scheduled jobs, time-limit clocks."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta

import typer


def register(app: typer.Typer) -> None:
    """Add `qinqing worker` and `qinqing jobs` to the top-level app."""

    @app.command()
    def worker(
        imports: list[str] = typer.Option([], "--import", help="Also import MODULE (it registers more jobs); "
                                          "give every worker the same modules (a worker hands each event to "
                                          "the handlers it knows)."),
        lease: float = typer.Option(60.0, min=1.0, help="Seconds a claimed job stays this worker's without a "
                                    "heartbeat; a job of a worker killed mid-way runs again after this."),
        poll: float = typer.Option(1.0, min=0.05, help="Seconds between looks for work when idle."),
        exit_when_idle: bool = typer.Option(False, "--exit-when-idle", help="Stop when no job is due."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every job."),
    ) -> None:
        """Run jobs until stopped (Ctrl+C or SIGTERM finish the current job first). Several workers may
        run at once, on one machine or several (PostgreSQL); each job runs once at a time."""
        from qinqing.db import make_engine, migrate
        from qinqing.jobs.plugins import load_plugins
        from qinqing.jobs.runner import Worker
        from qinqing.settings import get_settings

        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        settings = get_settings()
        migrate(settings.database_url)
        load_plugins(imports)
        runner = Worker(make_engine(settings.database_url), settings, lease=timedelta(seconds=lease),
                        poll_seconds=poll)

        def stop(_signum, _frame) -> None:
            runner.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(f"作业进程 {runner.worker_id} 已启动", err=True)
        runner.run_forever(exit_when_idle=exit_when_idle)

    @app.command("jobs")
    def jobs_list(limit: int = typer.Option(20, min=1, help="How many of the latest jobs."),
                  status: str = typer.Option(None, help="Only jobs in this state: queued | running | done | "
                                             "failed | cancelled.")) -> None:
        """The latest jobs with their state and progress."""
        from rich.console import Console
        from rich.table import Table

        from qinqing.db import make_engine, migrate
        from qinqing.jobs import recent_jobs
        from qinqing.settings import get_settings

        url = get_settings().database_url
        migrate(url)
        with make_engine(url).connect() as connection:
            found = recent_jobs(connection, status=status, limit=limit)
        table = Table(title="作业")
        for column in ("编号", "作业", "对象", "状态", "尝试", "进度", "说明"):
            table.add_column(column)
        for job in found:
            progress = f"{job.percent}%" if job.percent is not None else f"{job.progress_done}"
            table.add_row(str(job.id), job.name, job.subject or "", job.status_label,
                          f"{job.attempts}/{job.max_attempts}", progress, job.error or job.message or "")
        Console().print(table)
