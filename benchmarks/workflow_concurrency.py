"""兑政策 under load: K processes × N operations of approvals and payments against one budget on PostgreSQL
(the issue's full size, 8 × 200), the same harness and invariant checks as tests/workflow/test_concurrency.py,
printing approvals/s.

    QINQING_TEST_POSTGRES_URL=postgresql+psycopg://user@host/postgres python benchmarks/workflow_concurrency.py [K] [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "workflow"))

from test_concurrency import check_invariants, prepare, run_workers, sweep

from qinqing.db import make_engine, migrate


def main() -> None:
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    ops = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    server = os.environ["QINQING_TEST_POSTGRES_URL"]
    name = f"qinqing_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        engine = make_engine(url)
        n = max(12, ops // 2)
        first, second = prepare(engine, n)
        with tempfile.TemporaryDirectory() as tmp:
            results, seconds = run_workers(url, processes, ops, Path(tmp))
        during = check_invariants(engine, first, second)
        started = time.perf_counter()
        sweep(engine)
        after = check_invariants(engine, first, second)
        seen: dict[str, int] = {}
        for r in results:
            for k, v in r.items():
                seen[k] = seen.get(k, 0) + v
        attempts = sum(v for k, v in seen.items() if not k.startswith("batch"))
        print(f"{processes} processes × {ops} operations, {n} enterprises, 2 policies of one exclusion group")
        print(f"  concurrent phase: {seconds:.1f} s, {attempts} approval requests ({attempts / seconds:.1f}/s), "
              f"outcomes {seen}")
        print(f"  awarded during: {during['first_awards']} + {during['second_awards']}; after the sweep "
              f"({time.perf_counter() - started:.1f} s): {after['first_awards']} + {after['second_awards']}; "
              "invariants hold")
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
