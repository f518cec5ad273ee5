"""The web application (a reader that stays up) and a CLI incremental run (a writer in another
process) share one results store: neither fails, and the reader sees the writer's rows."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from datetime import date
from decimal import Decimal

import pyarrow as pa

from qinqing.matching.results import MATCH_SCHEMA, ResultStore

FIRST = [("A", "p1", "eligible", Decimal("50"), [], []), ("A", "p2", "unknown", None, [], ["employees"]),
         ("C", "p2", "eligible", Decimal("12.5"), [], [])]


def pairs(rows):
    cols = list(zip(*rows))
    return pa.table([pa.array(list(c), type=f.type) for c, f in zip(cols, MATCH_SCHEMA)], schema=MATCH_SCHEMA)


def publish(store, rows):
    writer = store.begin_run(date(2024, 6, 1), "test")
    writer.add(pairs(rows))
    return writer.publish(policies=2, enterprises=2, pairs_evaluated=4)

WRITER = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    import pyarrow as pa
    from qinqing.matching.results import MATCH_SCHEMA, ResultStore
    def pairs(rows):
        cols = list(zip(*rows))
        return pa.table([pa.array(list(c), type=f.type) for c, f in zip(cols, MATCH_SCHEMA)], schema=MATCH_SCHEMA)
    store = ResultStore(sys.argv[1])
    for i in range(int(sys.argv[2])):
        store.replace_pairs(uscc=["A"], pairs=pairs([("A", "p1", "eligible", Decimal(i), [], [])]))
    print("done", flush=True)
    """
)

READER = textwrap.dedent(
    """
    import sys, time
    from qinqing.matching.results import ResultStore
    store = ResultStore(sys.argv[1])
    end = time.monotonic() + float(sys.argv[2])
    n = 0
    while time.monotonic() < end:
        assert store.matches_for("C")[0].policy_id == "p2"
        n += 1
    print(n, flush=True)
    """
)


def _python(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=os.getcwd())


def test_incremental_run_in_another_process_while_this_one_reads(tmp_path):
    store = ResultStore(tmp_path)
    publish(store, FIRST)
    assert len(store.matches_for("A")) == 2  # the reader now holds the file
    writer = _python(WRITER, str(tmp_path), "5")
    while writer.poll() is None:  # keep reading as a busy web application would
        assert store.matches_for("C")[0].status == "eligible"
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert [(m.policy_id, m.amount) for m in store.matches_for("A")] == [("p1", 4)]


def test_this_process_writes_while_another_keeps_reading(tmp_path):
    store = ResultStore(tmp_path)
    publish(store, FIRST)
    reader = _python(READER, str(tmp_path), "3")
    time.sleep(1.0)  # the reader is querying in a loop
    for i in range(3):
        store.replace_pairs(uscc=["A"], pairs=pairs_of(i))
    out, err = reader.communicate()
    assert reader.returncode == 0, err
    assert int(out) > 10
    assert [m.amount for m in store.matches_for("A")] == [2]


def pairs_of(i):
    return pairs([("A", "p1", "eligible", Decimal(i), [], [])])
