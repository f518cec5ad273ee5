"""Two processes appending at once never fork the chain: the head row lock serialises them."""

from __future__ import annotations

import multiprocessing
import time

from qinqing import audit
from qinqing.db import make_engine

PER_WRITER = 40


def _writer(url: str, name: str, start, hold_first: float) -> None:
    engine = make_engine(url)
    start.wait()
    for number in range(PER_WRITER):
        with engine.begin() as connection:
            audit.record(connection, actor=f"system:{name}", action="run.publish", object_type="run",
                         object_id=f"{name}-{number}")
            if number == 0:
                time.sleep(hold_first)  # hold the head lock while the other writer tries to append
    engine.dispose()


def test_two_processes_append_concurrently_and_the_chain_verifies(engine, database_url):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_writer, args=(database_url, name, start, hold))
               for name, hold in (("a", 0.5), ("b", 0.0))]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(timeout=120)
    assert [writer.exitcode for writer in writers] == [0, 0]
    result = audit.verify(engine)
    assert result.ok, result.problems
    assert result.rows == result.head_seq == 2 * PER_WRITER
    actors = [entry.actor for entry in audit.trail(engine, "run", "a-0") + audit.trail(engine, "run", "b-0")]
    assert sorted(actors) == ["system:a", "system:b"]
