"""Verifying the chain: recompute every row's hash, follow the links, compare the head.

Each problem names the row and one of four kinds:

- ``content``: the row's stored hash is not the hash of its content (the row was edited, or moved
  to another position, since the position is part of the hash);
- ``link``: the row's ``prev_hash`` is not the previous row's hash (a row before it was deleted,
  inserted or moved);
- ``sequence``: positions are missing before this row (rows were deleted);
- ``head``: the head table disagrees with the last row (rows were cut off the end, or appended
  without going through ``record``).

A chain whose rows were all rewritten consistently, head included, verifies again: that is what
the exported head hash is for. ``anchor`` checks that a head exported earlier, ``(seq, hash)``, is
still the hash of row ``seq``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from qinqing.audit.chain import GENESIS_HASH, entry_from_row, entry_hash
from qinqing.audit.tables import audit_log
from qinqing.audit.trail import HEAD_QUERY, _connection

KIND_LABELS = {
    "content": "内容与哈希不符（被修改或移动）",
    "link": "与上一行的链接断开（前面有行被删除、插入或移动）",
    "sequence": "序号不连续（有行被删除）",
    "head": "链头与最后一行不符（末尾有行被删除或绕过记录接口追加）",
    "anchor": "与先前导出的链头不符",
}


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str
    detail: str

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Verification:
    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {problem.kind for problem in self.problems}


def verify(bind: Engine | Connection, *, anchor: tuple[int, str] | None = None,
           max_problems: int = 1000) -> Verification:
    """Walk the whole chain in order and report what does not hold (see the module docstring).
    ``head_seq``/``head_hash`` are those of the last row read (what to export)."""
    result = Verification()
    previous_seq, previous_hash = 0, GENESIS_HASH
    anchor_seen = anchor is None or anchor[0] == 0 and anchor[1] == GENESIS_HASH

    def problem(seq: int, kind: str, detail: str) -> None:
        if len(result.problems) < max_problems:
            result.problems.append(Problem(seq, kind, detail))

    with _connection(bind) as connection:
        ordered = select(audit_log).order_by(audit_log.c.seq)
        rows = connection.execution_options(yield_per=2000).execute(ordered)
        for row in rows:
            entry = entry_from_row(row)
            result.rows += 1
            if entry.seq != previous_seq + 1:
                if entry.seq > previous_seq + 1:
                    problem(entry.seq, "sequence", f"缺少第 {previous_seq + 1}–{entry.seq - 1} 行")
                else:
                    problem(entry.seq, "sequence", f"序号 {entry.seq} 不大于上一行的 {previous_seq}")
            if entry.prev_hash != previous_hash:
                problem(entry.seq, "link",
                        f"prev_hash {entry.prev_hash[:12]}… ≠ 上一行 {previous_hash[:12]}…")
            expected = entry_hash(entry)
            if expected != entry.row_hash:
                problem(entry.seq, "content", f"存储的哈希 {entry.row_hash[:12]}… ≠ 重算 {expected[:12]}…")
            if anchor is not None and entry.seq == anchor[0]:
                anchor_seen = True
                if entry.row_hash != anchor[1]:
                    problem(entry.seq, "anchor",
                            f"第 {entry.seq} 行哈希 {entry.row_hash[:12]}… ≠ 导出的 {anchor[1][:12]}…")
            previous_seq, previous_hash = entry.seq, entry.row_hash
        stored = connection.execute(HEAD_QUERY).first()
    result.head_seq, result.head_hash = previous_seq, previous_hash
    if stored is None:
        problem(previous_seq, "head", "链头表为空")
    elif (int(stored[0]), stored[1]) != (previous_seq, previous_hash):
        problem(previous_seq, "head",
                f"链头记为第 {stored[0]} 行 {stored[1][:12]}…，"
                f"最后一行是第 {previous_seq} 行 {previous_hash[:12]}…")
    if not anchor_seen and anchor is not None:
        problem(anchor[0], "anchor", f"导出的链头第 {anchor[0]} 行已不存在")
    return result
