"""How `qinqing` ends on a domain error: its Chinese message and place on stderr, a non-zero status, no
traceback.

Every command runs inside ``QinqingGroup.invoke``; a ``QinqingError`` that no command handled itself
becomes ``错误：<place>：<message>`` and exit status 1, or 75 (EX_TEMPFAIL: try again) for a 503 such as
a results store that another process holds, so a scheduler can tell "retry later" from "refused".
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from qinqing.errors import QinqingError

EXIT_REFUSED = 1
EXIT_TRY_AGAIN = 75  # sysexits.h EX_TEMPFAIL


class QinqingGroup(TyperGroup):
    """The top-level group: a QinqingError raised by any command is printed and ends the command."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 (click's signature)
        try:
            return super().invoke(ctx)
        except QinqingError as error:
            typer.echo(f"错误：{error}", err=True)
            raise typer.Exit(EXIT_TRY_AGAIN if error.status == 503 else EXIT_REFUSED) from None
