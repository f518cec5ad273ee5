"""Indices: indicator systems as configuration → normalise → weight → aggregate → rank → tier → supervise.

Public verbs: ``load_system`` (YAML → ``System``), ``gather`` (a system's sources → ``Inputs``), ``compute``
(``Inputs`` → ``Result``), ``register_query`` (a piece's named data source). The service
(``qinqing.indices.service``) stores runs, tiers and the supervision cases that the CLI and web use.
"""

from qinqing.indices import queries as _queries  # noqa: F401  (registers the piece's own sources)
from qinqing.indices.config import System, system_schema
from qinqing.indices.engine import Inputs, Result, compute
from qinqing.indices.load import builtin_paths, load_system, parse_system
from qinqing.indices.sources import gather, register_query

__all__ = ["Inputs", "Result", "System", "builtin_paths", "compute", "gather", "load_system", "parse_system",
           "register_query", "system_schema"]
