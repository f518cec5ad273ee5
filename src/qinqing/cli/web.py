"""`qinqing serve`: run the web platform on the configured database."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        results: str = typer.Option("", help="Matching results store directory (default: QINQING_RESULTS_DIR)."),
        migrate: bool = typer.Option(True, help="Bring the database schema up to date first."),
    ) -> None:
        """Serve the web platform (pages and /api) on the configured database (QINQING_DATABASE_URL)."""
        import uvicorn

        from qinqing.db import migrate as run_migrations
        from qinqing.settings import get_settings
        from qinqing.web.app import create_app

        settings = get_settings()
        if migrate:
            run_migrations(settings.database_url)
        typer.echo(f"亲清 qinqing: http://{host}:{port}  (API: http://{host}:{port}/api/docs)")
        uvicorn.run(create_app(settings, results_dir=results or None), host=host, port=port, log_level="warning")
