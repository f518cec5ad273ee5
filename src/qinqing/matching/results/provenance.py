"""What a run was computed from: the registry snapshot and the policies' versions and plan hashes.

``registry_snapshot`` hashes the registry as a set of rows: one pass of DuckDB's ``hash`` over every
row (columns taken in name order), summed modulo 2^64, then hashed with the column names and types
and the row count. It does not depend on row order or chunking, costs one parallel scan (well under a
second for 3,000,000 rows), and is the same for the same content under the same DuckDB release (the
method is named in the value, ``rowsum64-duckdb<major.minor>:…``, since DuckDB does not promise its
``hash`` across releases). Equal hashes mean equal registries with overwhelming probability; a
different hash means a different registry, or another DuckDB release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from qinqing.matching.results.schema import PolicyVersion, RunProvenance

_METHOD = "rowsum64-duckdb" + ".".join(duckdb.__version__.split(".")[:2])


def registry_snapshot(enterprises: pa.Table) -> tuple[int, str]:
    """(row count, content hash) of a registry table; see the module docstring."""
    names = sorted(enterprises.column_names)
    con = duckdb.connect()
    try:
        con.register("registry", enterprises)
        if names:
            columns = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
            rows, total = con.execute(f"SELECT count(*), coalesce(sum(hash({columns})::HUGEINT), 0) % "
                                      "18446744073709551616 FROM registry").fetchall()[0]
        else:
            rows, total = enterprises.num_rows, 0
    finally:
        con.close()
    schema = ";".join(f"{n}:{enterprises.schema.field(n).type}" for n in names)
    digest = hashlib.blake2b(f"{schema}|{rows}|{int(total)}".encode(), digest_size=16).hexdigest()
    return int(rows), f"{_METHOD}:{digest}"


def policy_versions(matched: Sequence[Any], originals: Sequence[Any] = ()) -> tuple[PolicyVersion, ...]:
    """Per policy (or plan) matched: its id, its catalogue version and its plan hash, where it carries them
    (``version``, and ``digest`` on a plan, as the catalogue and the compiler set them); what a plan lacks
    is taken from the policy of the same id in ``originals`` (the policies the plans were made from)."""
    by_id = {_id(p): p for p in originals}
    out = []
    for p in matched:
        policy_id = _id(p)
        version = _first(p, by_id.get(policy_id), "version")
        digest = _first(p, by_id.get(policy_id), "digest")
        out.append(PolicyVersion(policy_id, int(version) if version is not None else None,
                                 str(digest) if digest is not None else None))
    return tuple(sorted(out, key=lambda v: v.policy_id))


def provenance_of(matched: Sequence[Any], enterprises: pa.Table | None, *, originals: Sequence[Any] = (),
                  catalogue_revision: str | int | None = None) -> RunProvenance:
    """The provenance of a run of ``matched`` (policies or plans) over ``enterprises`` (the registry table)."""
    rows, digest = registry_snapshot(enterprises) if enterprises is not None else (None, None)
    return RunProvenance(None if catalogue_revision is None else str(catalogue_revision),
                         policy_versions(matched, originals), rows, digest)


def _id(p: Any) -> str:
    return getattr(p, "policy_id", None) or p.id


def _first(p: Any, original: Any, name: str) -> Any:
    value = getattr(p, name, None)
    return value if value is not None or original is None else getattr(original, name, None)
