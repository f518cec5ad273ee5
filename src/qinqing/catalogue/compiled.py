"""Compiled forms of published policy versions, kept beside the versions they were compiled from.

The catalogue does not know what a compiled form is: a later piece (matching's plans) names its
``kind`` and its ``compiler`` (a hash of the code that compiles), hands in JSON text, and reads it
back. Rows are never updated: a new compiler writes new rows, and old ones are simply not read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from qinqing.catalogue.tables import compiled


@dataclass(frozen=True)
class CompiledForm:
    policy_id: str
    version: int
    as_of: str  # "" when valid whatever the reference date, else YYYY-MM-DD
    payload: str

    @property
    def digest(self) -> str:
        return digest_of(self.payload)


def digest_of(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load_compiled(engine: Engine, kind: str, compiler: str) -> dict[tuple[str, int, str], str]:
    """Every stored form of ``kind`` made by ``compiler``: (policy_id, version, as_of) → payload."""
    query = select(compiled.c.policy_id, compiled.c.version, compiled.c.as_of, compiled.c.payload).where(
        compiled.c.kind == kind, compiled.c.compiler == compiler)
    with engine.connect() as conn:
        return {(p, v, a): payload for p, v, a, payload in conn.execute(query)}


def save_compiled(engine: Engine, kind: str, compiler: str, forms: Iterable[CompiledForm]) -> int:
    """Store ``forms``; one already stored is left as it is (the same compiler and version give the
    same text). Returns how many rows were written."""
    rows = [{"policy_id": f.policy_id, "version": f.version, "kind": kind, "compiler": compiler, "as_of": f.as_of,
             "digest": f.digest, "payload": f.payload, "created_at": datetime.now(UTC)} for f in forms]
    if not rows:
        return 0
    keys = select(compiled.c.policy_id, compiled.c.version, compiled.c.as_of).where(
        compiled.c.kind == kind, compiled.c.compiler == compiler)
    with engine.connect() as conn:  # the keys only: the payloads were read already by the caller
        stored = {(p, v, a) for p, v, a in conn.execute(keys)}
    rows = [r for r in rows if (r["policy_id"], r["version"], r["as_of"]) not in stored]
    written = 0
    for start in range(0, len(rows), 5_000):
        chunk = rows[start:start + 5_000]
        try:
            with engine.begin() as conn:
                conn.execute(insert(compiled), chunk)
            written += len(chunk)
        except IntegrityError:  # another process stored some of them meanwhile: keep theirs
            for row in chunk:
                try:
                    with engine.begin() as conn:
                        conn.execute(insert(compiled), [row])
                    written += 1
                except IntegrityError:
                    pass
    return written
