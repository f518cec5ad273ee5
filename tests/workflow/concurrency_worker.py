"""One process of the concurrency test: approvals, payment batches and bank returns against a shared database,
with replayed idempotency keys and duplicate bank-file deliveries. ``--hang`` makes the process stop inside
its first ledger transaction (after its row locks) and wait to be killed with SIGKILL.

    python concurrency_worker.py URL SEED OPS [--hang MARKER]

Prints one JSON line: the counts of what it saw."""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FINANCE, OFFICER, TODAY

from qinqing.db import make_engine
from qinqing.workflow import WorkflowService, ledger
from qinqing.workflow.errors import IdempotencyInFlight
from qinqing.workflow.payments import ReturnLine
from qinqing.workflow.tables import applications


def main() -> None:
    url, seed, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hang = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--hang" else None
    engine = make_engine(url, pool_size=2)
    svc = WorkflowService(engine, today=lambda: TODAY)
    rng = random.Random(seed)
    with engine.connect() as conn:
        ids = [r for r in conn.execute(applications.select().with_only_columns(applications.c.id)).scalars()]
    if hang:
        real = ledger.post

        def stuck(conn, batch):
            result = real(conn, batch)  # rows written and locks held, transaction still open
            Path(hang).write_text("in transaction")
            time.sleep(120)
            return result

        ledger.post = stuck
    seen: Counter[str] = Counter()
    keys: list[tuple[int, str]] = []
    order = ids[:]
    rng.shuffle(order)
    for n in range(ops):
        roll = rng.random()
        try:
            if roll < 0.75:
                if keys and rng.random() < 0.2:  # a client retrying a request it sent before
                    app_id, key = rng.choice(keys)
                else:
                    app_id, key = order[n % len(order)], f"approve-{seed}-{n}"
                    keys.append((app_id, key))
                result = svc.review(OFFICER, app_id, "approve", idempotency_key=key)
                seen["replayed" if result.replayed else str(result.status)] += 1
            else:
                batch = svc.create_payment_batch(FINANCE, idempotency_key=f"batch-{seed}-{n}")
                seen[f"batch {batch.status}"] += 1
                if batch.ok:
                    lines = [ReturnLine(p["transfer_key"], "paid" if rng.random() < 0.8 else "failed",
                                        message="测试失败") for p in batch.body["payments"]]
                    for attempt in range(2):  # the bank file delivered twice
                        svc.import_bank_return(FINANCE, lines, idempotency_key=f"return-{seed}-{n}-{attempt}")
        except IdempotencyInFlight:
            seen["in flight"] += 1
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
