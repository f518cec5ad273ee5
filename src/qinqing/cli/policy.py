"""`qinqing policy …`: check policy files."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Policy files: check them against the schema and the expression language.", no_args_is_help=True)


@app.command("check")
def check(paths: list[Path] = typer.Argument(..., help="Policy files or directories (recursing to *.yaml, scenarios excluded).")) -> None:
    """Report every error of every policy file with its place; exit 1 if there is any."""
    from qinqing.rules import check_files, policy_files

    errors = check_files(paths)
    for error in errors:
        typer.echo(str(error), err=True)
    checked = len(policy_files([p for p in paths if p.exists()]))
    if errors:
        files = len({e.span.file for e in errors if e.span})
        typer.echo(f"检查了 {checked} 个政策文件：{files} 个文件共 {len(errors)} 处错误", err=True)
        raise typer.Exit(1)
    typer.echo(f"检查了 {checked} 个政策文件，没有发现错误")
