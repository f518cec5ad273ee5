"""`qinqing registry …`: generate, import and inspect enterprise registries."""

from __future__ import annotations

import typer

app = typer.Typer(help="Enterprise registry: generate synthetic data, import exports, validate.", no_args_is_help=True)
