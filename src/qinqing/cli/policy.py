"""`qinqing policy …`: check policy files."""

from __future__ import annotations

import typer

app = typer.Typer(help="Policy files: check them against the schema and the expression language.", no_args_is_help=True)
