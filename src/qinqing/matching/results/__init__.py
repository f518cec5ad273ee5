"""The match results store: one DuckDB file per run, a pointer naming the current one, and the run history.

Why this shape: a province run writes hundreds of millions of rows, which a columnar file takes in
seconds, while the portal asks for one enterprise's matches, which the file answers from the zone
maps of a table sorted by enterprise in a few milliseconds. The package, by job:

    layout.py       the files under the root, publishing (atomic pointer swap) and the pruning rule
    turns.py        readers and writers of different processes taking turns on a run file
    schema.py       what a run file holds (format 2: provenance and its own missing-field table)
    writer.py       ``RunWriter``: one run's pairs into an unpublished file, then published
    incremental.py  ``replace_pairs``: some enterprises' or policies' rows of the current run
    queries.py      the named queries other pieces ask (no SQL crosses the package)
    provenance.py   the registry snapshot and the policies' versions and plan hashes
    history.py      ``RunHistory``: every published run and its counts in the database, for ever
    store.py        ``ResultStore``, the one entry point

``from qinqing.matching.results import ResultStore, StoreError, ...`` is the public import.
"""

from qinqing.matching.results.errors import NoRun, RunNotFound, StoreBusy, StoreError
from qinqing.matching.results.history import RunHistory
from qinqing.matching.results.incremental import ScopeOf
from qinqing.matching.results.provenance import policy_versions, provenance_of, registry_snapshot
from qinqing.matching.results.schema import (
    COUNT_SCHEMA,
    FORMAT_VERSION,
    KEPT_STATUSES,
    MATCH_SCHEMA,
    Match,
    PolicyCount,
    PolicyVersion,
    RegionCount,
    RunInfo,
    RunProvenance,
    RunRecord,
)
from qinqing.matching.results.store import ResultStore, new_run_id
from qinqing.matching.results.turns import IDLE_SECONDS, WAIT_SECONDS
from qinqing.matching.results.writer import WRITER_MEMORY, RunWriter

__all__ = [
    "COUNT_SCHEMA", "FORMAT_VERSION", "IDLE_SECONDS", "KEPT_STATUSES", "MATCH_SCHEMA", "WAIT_SECONDS",
    "WRITER_MEMORY", "Match", "NoRun", "PolicyCount", "PolicyVersion", "RegionCount", "ResultStore", "RunHistory",
    "RunInfo", "RunNotFound", "RunProvenance", "RunRecord", "RunWriter", "ScopeOf", "StoreBusy", "StoreError",
    "new_run_id", "policy_versions", "provenance_of", "registry_snapshot",
]
