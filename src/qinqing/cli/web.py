"""`qinqing serve`: run the web platform on the configured database."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        results: str = typer.Option("", help="Matching results store directory (default: QINQING_RESULTS_DIR)."),
        workers: int = typer.Option(0, help="Worker processes (0: one per CPU core, at most 4)."),
        migrate: bool = typer.Option(True, help="Bring the database schema up to date first."),
        jobs: bool = typer.Option(True, help="Run the job runner in this process (re-matching after publishing, "
                                  "the nightly run); --no-jobs when `qinqing worker` runs apart."),
    ) -> None:
        """Serve the web platform (pages and /api) on the configured database (QINQING_DATABASE_URL)."""
        from qinqing.db import migrate as run_migrations
        from qinqing.settings import get_settings
        from qinqing.web.serve import serve as run

        settings = get_settings()
        if results:
            settings = settings.model_copy(update={"results_dir": Path(results)})
        if migrate:
            run_migrations(settings.database_url)
        typer.echo(f"亲清 qinqing: http://{host}:{port}  (API: http://{host}:{port}/api/docs)")
        run(settings, host, port, workers or None, jobs=jobs)
