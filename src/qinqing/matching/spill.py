"""A run's kept pairs spilled to disk by enterprise range, read back one range at a time.

Why: the results store keeps pairs sorted by enterprise (one enterprise's rows in one or two row
groups). A province run keeps hundreds of millions of pairs, arriving policy group by policy group
in no enterprise order; one global ``ORDER BY`` over them spills tens of GiB through DuckDB's
external sort and dominated the run. Enterprises are numbered before matching starts, so each
kept pair can be appended to the Arrow file of its enterprise range as it arrives (a radix pass,
no sort); at publish each range is put in enterprise order by a second radix pass (a range spans
at most 65,536 enterprises, so the offset within it is a 16-bit key), and the ranges, taken in
order, give the whole table in order — no comparison sort at all.

Both passes run on a background thread: matching is mostly one core (the kernel, small queries),
so the spilling overlaps it on the other; at publish the next range is read and ordered while the
caller inserts the previous one. numpy's sorts and takes, Arrow's IPC writes and DuckDB's inserts
release the GIL. Queues of one or two items keep memory bounded.
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

SPILL_SCHEMA = pa.schema([("ent", pa.int32()), ("pol", pa.int32()), ("status", pa.int8()),
                          ("amount", pa.int64()), ("missing", pa.uint64())])
MAX_RANGES = 128  # a 3-million-enterprise province: ~23,000 enterprises, a few million pairs per range
MIN_RANGE = 4096  # enterprises per range at least: a small registry is one range
BATCH_ROWS = 122_880  # DuckDB's row group
MAX_WIDTH = 1 << 16  # enterprises per range at most: the offset within a range is a 16-bit sort key
_QUEUED_BATCHES = 2  # appended batches waiting for the writer thread (~30 MB each from the fast path)
_DONE = object()


class RangeSpill:
    """Pairs numbered by enterprise (``ent`` in 0 … enterprises-1; larger ones go to the last range),
    appended in any order; ``ranges()`` yields them range by range, lowest enterprises first.

    An error on the writer thread (a full disk, say) is raised by the next ``append``, ``flush``
    or ``ranges``."""

    def __init__(self, directory: Path, enterprises: int) -> None:
        self.directory = directory
        self.count = max(1, min(MAX_RANGES, enterprises // MIN_RANGE), -(-enterprises // MAX_WIDTH))
        self.width = max(1, -(-enterprises // self.count))
        self.rows = 0
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._queue: queue.Queue[object] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._discarding = False

    def append(self, pairs: pa.Table) -> None:
        """Queue pairs with the columns of SPILL_SCHEMA for the writer thread; the arrays must not
        be changed afterwards (the fast path hands over fresh buffers per batch)."""
        self._raise_error()
        if not pairs.num_rows:
            return
        if self._thread is None:
            self._queue = queue.Queue(_QUEUED_BATCHES)
            self._thread = threading.Thread(target=self._write_queued, name="range-spill", daemon=True)
            self._thread.start()
        self._queue.put(pairs)
        self.rows += pairs.num_rows

    def flush(self) -> None:
        """Wait until every appended pair is in its range's file."""
        self._stop_writer()
        self._raise_error()

    def ranges(self) -> Iterator[pa.Table]:
        """Each non-empty range's pairs in enterprise order (pairs of one enterprise in the order
        they were appended), range after range, the next one prepared while the caller uses this
        one; a range's file is deleted once it has been read."""
        self.flush()
        for writer in self._writers.values():
            writer.close()
        order = sorted(self._writers)
        self._writers.clear()
        ready: queue.Queue[object] = queue.Queue(1)
        stop = threading.Event()

        def offer(item: object) -> bool:
            """Hand an item to the caller unless it has stopped reading."""
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def prepare() -> None:
            try:
                for r in order:
                    if not offer(self._read_ordered(r)):
                        return
            except BaseException as exc:  # raised on the caller's thread below
                offer(exc)
                return
            offer(_DONE)

        thread = threading.Thread(target=prepare, name="range-spill-read", daemon=True)
        thread.start()
        try:
            while (item := ready.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join()

    def discard(self) -> None:
        """Drop everything: queued pairs, open files and the directory."""
        self._discarding = True  # the writer thread skips what is still queued
        self._stop_writer()
        for writer in self._writers.values():
            try:
                writer.close()
            except (OSError, pa.ArrowException):
                pass
        self._writers.clear()
        self._error, self._discarding = None, False
        shutil.rmtree(self.directory, ignore_errors=True)

    def _stop_writer(self) -> None:
        """Let the writer thread finish what is queued (or skip it, when discarding) and end."""
        if self._thread is not None:
            self._queue.put(_DONE)
            self._thread.join()
            self._thread = self._queue = None

    def _write_queued(self) -> None:
        while (pairs := self._queue.get()) is not _DONE:
            if self._error is None and not self._discarding:
                try:
                    self._write(pairs)
                except BaseException as exc:  # raised on the caller's thread by _raise_error
                    self._error = exc

    def _write(self, pairs: pa.Table) -> None:
        pairs = pa.table([pairs.column(f.name).cast(f.type) for f in SPILL_SCHEMA], schema=SPILL_SCHEMA)
        ent = pairs.column("ent").to_numpy()
        which = np.minimum(ent // self.width, self.count - 1).astype(np.uint16)
        order = np.argsort(which, kind="stable")  # numpy sorts 16-bit keys by radix: linear
        sizes = np.bincount(which, minlength=self.count)
        grouped = pairs.take(pa.array(order))
        start = 0
        for r in np.flatnonzero(sizes):
            self._writer(int(r)).write_table(grouped.slice(start, int(sizes[r])))
            start += int(sizes[r])

    def _read_ordered(self, r: int) -> pa.Table:
        path = self._path(r)
        with pa.memory_map(str(path)) as source:
            part = pa.ipc.open_file(source).read_all().combine_chunks()
            ent = part.column("ent").to_numpy()
            if r == self.count - 1 and len(ent) and ent.max() - r * self.width >= MAX_WIDTH:
                order = np.argsort(ent, kind="stable")  # enterprises numbered beyond the registry's
            else:
                order = np.argsort((ent - r * self.width).astype(np.uint16), kind="stable")
            # In row-group-sized batches: DuckDB scans an Arrow table's batches in parallel.
            ordered = pa.Table.from_batches(part.take(pa.array(order)).to_batches(max_chunksize=BATCH_ROWS))
        path.unlink()
        return ordered

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _writer(self, r: int) -> pa.ipc.RecordBatchFileWriter:
        if r not in self._writers:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._writers[r] = pa.ipc.new_file(str(self._path(r)), SPILL_SCHEMA)
        return self._writers[r]

    def _path(self, r: int) -> Path:
        return self.directory / f"range-{r:03d}.arrow"
