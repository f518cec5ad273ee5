"""The modules that register the pieces' event handlers, scheduled jobs and tasks.

Every host of a worker — ``qinqing worker``, the web's in-process worker, the demo — imports these
before it runs, so that all workers know the same jobs. A new piece adds its module here (the one that
calls ``jobs.register_*`` at import time, by convention its ``service.py``); a deployment adds its own
with ``qinqing worker --import MODULE``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

PLUGINS: tuple[str, ...] = (
    "qinqing.matching.service",
    "qinqing.indices.monthly",
    "qinqing.appeals.clocks",
    "qinqing.workflow.service",
)


def load_plugins(extra: Iterable[str] = ()) -> list[str]:
    """Import every plugin module (``PLUGINS`` then ``extra``); returns their names."""
    names = [*PLUGINS, *extra]
    for name in names:
        importlib.import_module(name)
    return names
