"""A run's kept pairs spilled to disk by enterprise range, read back one range at a time.

Why: the results store keeps pairs sorted by enterprise (one enterprise's rows in one or two row
groups). A province run keeps hundreds of millions of pairs, arriving policy group by policy group
in no enterprise order; one global ``ORDER BY`` over them spills tens of GiB through DuckDB's
external sort and dominated the run. Enterprises are numbered before matching starts, so each
kept pair can be appended to the Arrow file of its enterprise range as it arrives (a radix pass,
no sort); at publish each range is put in enterprise order by a second radix pass (a range spans
at most 65,536 enterprises, so the offset within it is a 16-bit key), and the ranges, taken in
order, give the whole table in order — no comparison sort at all.
"""

from __future__ import annotations

import shutil
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


class RangeSpill:
    """Pairs numbered by enterprise (``ent`` in 0 … enterprises-1; larger ones go to the last range),
    appended in any order; ``ranges()`` yields them range by range, lowest enterprises first."""

    def __init__(self, directory: Path, enterprises: int) -> None:
        self.directory = directory
        self.count = max(1, min(MAX_RANGES, enterprises // MIN_RANGE), -(-enterprises // MAX_WIDTH))
        self.width = max(1, -(-enterprises // self.count))
        self.rows = 0
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}

    def append(self, pairs: pa.Table) -> None:
        """Append pairs with the columns of SPILL_SCHEMA."""
        if not pairs.num_rows:
            return
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
        self.rows += pairs.num_rows

    def ranges(self) -> Iterator[pa.Table]:
        """Each non-empty range's pairs in enterprise order (pairs of one enterprise in the order
        they were appended), range after range; a range's file is deleted once the next is asked for."""
        for writer in self._writers.values():
            writer.close()
        for r in sorted(self._writers):
            path = self._path(r)
            with pa.memory_map(str(path)) as source:
                part = pa.ipc.open_file(source).read_all()
                ent = part.column("ent").to_numpy()
                if r == self.count - 1 and len(ent) and ent.max() - r * self.width >= MAX_WIDTH:
                    order = np.argsort(ent, kind="stable")  # enterprises numbered beyond the registry's
                else:
                    order = np.argsort((ent - r * self.width).astype(np.uint16), kind="stable")
                # In row-group-sized batches: DuckDB scans an Arrow table's batches in parallel.
                yield pa.Table.from_batches(part.take(pa.array(order)).to_batches(max_chunksize=BATCH_ROWS))
            path.unlink()
        self._writers.clear()

    def discard(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except (OSError, pa.ArrowException):
                pass
        self._writers.clear()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _writer(self, r: int) -> pa.ipc.RecordBatchFileWriter:
        if r not in self._writers:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._writers[r] = pa.ipc.new_file(str(self._path(r)), SPILL_SCHEMA)
        return self._writers[r]

    def _path(self, r: int) -> Path:
        return self.directory / f"range-{r:03d}.arrow"
