"""The `qinqing` command: thin wrappers that parse arguments, call the pieces and show progress.

Each group lives in its own module; this file only assembles them.
"""

from __future__ import annotations

import typer

from qinqing.cli import appeals, audit, catalogue, demo, indices, match, policy, registry, run, web, worker, workflow
from qinqing.cli.errors import QinqingGroup

app = typer.Typer(
    name="qinqing",
    help="亲清 qinqing: enterprise registry, policy rules, matching and the web platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=QinqingGroup,  # a QinqingError: its message and place, exit 1 (cli/errors.py)
)
app.add_typer(registry.app, name="registry")
app.add_typer(policy.app, name="policy")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(audit.app, name="audit")
app.add_typer(indices.app, name="indices")
app.add_typer(appeals.app, name="appeals")
app.add_typer(workflow.app, name="workflow")
match.register(app)
run.register(app)
web.register(app)
demo.register(app)
worker.register(app)

__all__ = ["app"]
