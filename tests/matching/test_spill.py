"""RangeSpill: pairs appended in any order come back in enterprise order, none lost or changed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.matching.spill import MAX_WIDTH, SPILL_SCHEMA, RangeSpill


def _pairs(ents: list[int], start: int = 0) -> pa.Table:
    n = len(ents)
    return pa.table({"ent": pa.array(ents, pa.int32()), "pol": pa.array(range(start, start + n), pa.int32()),
                     "status": pa.array([i % 2 for i in range(n)], pa.int8()),
                     "amount": pa.array([None if i % 3 else i * 10_000 for i in range(n)], pa.int64()),
                     "missing": pa.array([1 << (i % 40) for i in range(n)], pa.uint64())}, schema=SPILL_SCHEMA)


@pytest.mark.parametrize("enterprises, ranges, width", [
    (0, 1, 1),            # no registry numbering: one range
    (4_095, 1, 4_095),    # below MIN_RANGE: one range
    (50_000, 12, 4_167),  # 50,000 // 4,096 = 12 ranges of ceil(50,000 / 12)
    (3_000_000, 128, 23_438),  # a province: MAX_RANGES
    (20_000_000, 306, 65_360),  # beyond 128 × 65,536: more ranges, each at most MAX_WIDTH
])
def test_range_layout(tmp_path, enterprises, ranges, width):
    spill = RangeSpill(tmp_path / "s", enterprises)
    assert (spill.count, spill.width) == (ranges, width)
    assert spill.width <= MAX_WIDTH


@settings(max_examples=40, deadline=None)
@given(chunks=st.lists(st.lists(st.integers(0, 60_000), max_size=300), max_size=6))
def test_ranges_give_every_pair_back_in_enterprise_order(tmp_path_factory, chunks):
    spill = RangeSpill(tmp_path_factory.mktemp("spill") / "s", 50_000)  # 12 ranges; ents ≥ 50,000 go to the last
    sent, start = [], 0
    for chunk in chunks:
        t = _pairs(chunk, start)
        spill.append(t)
        sent.append(t)
        start += len(chunk)
    back = pa.concat_tables(list(spill.ranges()), promote_options="none") if spill.rows else _pairs([])
    ent = back.column("ent").to_numpy()
    assert (np.diff(ent) >= 0).all()
    # Same rows (pol is unique per appended row); within one enterprise, the order appended.
    want = pa.concat_tables(sent).to_pylist() if sent else []
    assert sorted(back.to_pylist(), key=lambda r: r["pol"]) == sorted(want, key=lambda r: r["pol"])
    for e in set(ent.tolist()):
        pols = back.filter(pa.compute.equal(back.column("ent"), e)).column("pol").to_pylist()
        assert pols == sorted(pols)


def test_files_removed_after_reading_and_on_discard(tmp_path):
    spill = RangeSpill(tmp_path / "s", 50_000)
    spill.append(_pairs([1, 20_000, 49_999]))
    spill.flush()  # written by a background thread
    assert len(list((tmp_path / "s").glob("*.arrow"))) == 3
    assert [p.column("ent").to_pylist() for p in spill.ranges()] == [[1], [20_000], [49_999]]
    assert list((tmp_path / "s").glob("*.arrow")) == []
    spill.append(_pairs([5]))
    spill.discard()
    assert not (tmp_path / "s").exists()


def test_an_error_on_the_writer_thread_is_raised_to_the_caller(tmp_path):
    (tmp_path / "s").write_text("a file where the spill directory should be")
    spill = RangeSpill(tmp_path / "s", 50_000)
    spill.append(_pairs([1, 2]))
    with pytest.raises(FileExistsError):
        spill.flush()
    spill.discard()


def test_ranges_stopped_early_leave_no_thread_behind(tmp_path):
    import threading

    spill = RangeSpill(tmp_path / "s", 50_000)
    spill.append(_pairs(list(range(0, 50_000, 1_000))))
    ranges = spill.ranges()
    first = next(ranges)
    assert first.column("ent").to_pylist() == [0, 1_000, 2_000, 3_000, 4_000]
    ranges.close()  # the caller gave up (an insert failed, say) while the next range was ready
    assert not [t for t in threading.enumerate() if t.name.startswith("range-spill")]
    spill.discard()
    assert not (tmp_path / "s").exists()


def test_discard_drops_what_is_still_queued(tmp_path):
    spill = RangeSpill(tmp_path / "s", 50_000)
    for i in range(20):
        spill.append(_pairs([i * 100, 40_000 + i]))
    spill.discard()
    assert not (tmp_path / "s").exists()
    spill.append(_pairs([7]))  # usable again afterwards
    assert [p.column("ent").to_pylist() for p in spill.ranges()] == [[7]]
