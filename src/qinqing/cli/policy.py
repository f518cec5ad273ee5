"""`qinqing policy …`: check policy files."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Policy files: check them against the schema and the expression language.", no_args_is_help=True)


@app.command("check")
def check(paths: list[Path] = typer.Argument(..., help="Policy files or directories (recursing to *.yaml, scenarios excluded).")) -> None:
    """Report every error of every policy file with its place, then run the checks publishing runs
    (compile for every engine, amount range, dry run); exit 1 if there is any problem."""
    from qinqing.rules import check_files, policy_files

    errors = check_files(paths)
    for error in errors:
        typer.echo(str(error), err=True)
    checked = len(policy_files([p for p in paths if p.exists()]))
    if not errors:
        refused = _admission(paths)
        if refused:
            typer.echo(f"检查了 {checked} 个政策文件：{refused} 个文件未通过发布前检查（编译、金额范围、试运行）", err=True)
            raise typer.Exit(1)
    if errors:
        files = len({e.span.file for e in errors if e.span})
        typer.echo(f"检查了 {checked} 个政策文件：{files} 个文件共 {len(errors)} 处错误", err=True)
        raise typer.Exit(1)
    typer.echo(f"检查了 {checked} 个政策文件，没有发现错误")


def _admission(paths: list[Path]) -> int:
    """The catalogue's admission checks on files that pass the language checks; prints each problem."""
    from qinqing.catalogue.admission import admission_problems
    from qinqing.rules import load_policies

    policies, _ = load_policies(paths)
    refused = 0
    for policy in policies:
        problems = admission_problems(policy)
        refused += bool(problems)
        for problem in problems:
            where = f"（{problem.path}）" if problem.path else ""
            typer.echo(f"{policy.path or policy.id}: {problem.message}{where}", err=True)
    return refused
