"""`verify` notices an edited, deleted, inserted or reordered row; the database refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from audit_support import append_rows, tamper
from sqlalchemy.exc import DBAPIError

from qinqing import audit
from qinqing.audit.chain import row_hash

INSERT = ("INSERT INTO audit_log (seq, recorded_at, actor, action, object_type, object_id, prev_hash, "
          "row_hash) VALUES ({seq}, :recorded_at, :actor, :action, :object_type, :object_id, :prev_hash, "
          ":row_hash)")


def test_an_untouched_trail_verifies(engine, trail_of_five):
    result = audit.verify(engine)
    assert result.ok and result.rows == 5
    assert (result.head_seq, result.head_hash) == (5, trail_of_five[-1].row_hash)


def test_an_edited_row_is_found(engine, trail_of_five):
    tamper(engine, "UPDATE audit_log SET actor = 'officer:li' WHERE seq = 3")
    result = audit.verify(engine)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "content")]


def test_an_edited_row_with_its_hash_recomputed_breaks_the_next_link(engine, trail_of_five):
    third = trail_of_five[2]
    forged = row_hash(seq=3, recorded_at=third.recorded_at, actor="officer:li", action=third.action,
                      object_type=third.object_type, object_id=third.object_id, before_hash=third.before_hash,
                      after_hash=third.after_hash, reason=third.reason, prev_hash=third.prev_hash)
    tamper(engine, "UPDATE audit_log SET actor = 'officer:li', row_hash = :forged WHERE seq = 3",
           forged=forged)
    assert [(p.seq, p.kind) for p in audit.verify(engine).problems] == [(4, "link")]


def test_a_deleted_row_is_found(engine, trail_of_five):
    tamper(engine, "DELETE FROM audit_log WHERE seq = 2")
    assert {(p.seq, p.kind) for p in audit.verify(engine).problems} == {(3, "sequence"), (3, "link")}


def test_rows_cut_off_the_end_are_found_by_the_head(engine, trail_of_five):
    tamper(engine, "DELETE FROM audit_log WHERE seq >= 4")
    assert [(p.seq, p.kind) for p in audit.verify(engine).problems] == [(3, "head")]


def test_an_inserted_row_is_found(engine, trail_of_five):
    # A well-formed row linked to row 2, the rows after it moved up one place to make room.
    second = trail_of_five[1]
    fields = dict(seq=3, recorded_at=second.recorded_at, actor="officer:li", action="policy.publish",
                  object_type="policy", object_id="p1", before_hash=None, after_hash=None, reason=None,
                  prev_hash=second.row_hash)
    tamper(engine,
           "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3",
           "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100",
           INSERT.format(seq=3),
           **fields, row_hash=row_hash(**fields))
    kinds = {(p.seq, p.kind) for p in audit.verify(engine).problems}
    assert (4, "link") in kinds and {(4, "content"), (5, "content"), (6, "content")} <= kinds


def test_a_row_appended_behind_records_back_is_found_by_the_head(engine, trail_of_five):
    last = trail_of_five[-1]
    fields = dict(seq=6, recorded_at=last.recorded_at, actor="officer:li", action="policy.publish",
                  object_type="policy", object_id="p1", before_hash=None, after_hash=None, reason=None,
                  prev_hash=last.row_hash)
    tamper(engine,
           INSERT.format(seq=6),
           **fields, row_hash=row_hash(**fields))
    assert [(p.seq, p.kind) for p in audit.verify(engine).problems] == [(6, "head")]


def test_reordered_rows_are_found(engine, trail_of_five):
    tamper(engine,
           "UPDATE audit_log SET seq = 100 WHERE seq = 2",
           "UPDATE audit_log SET seq = 2 WHERE seq = 3",
           "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    kinds = {(p.seq, p.kind) for p in audit.verify(engine).problems}
    assert {(2, "content"), (3, "content"), (2, "link"), (3, "link"), (4, "link")} <= kinds


def test_a_rewritten_chain_is_caught_by_the_exported_head(engine, trail_of_five):
    exported = audit.head(engine)
    assert audit.verify(engine, anchor=exported).ok
    assert audit.verify(engine, anchor=(3, trail_of_five[2].row_hash)).ok
    assert [p.kind for p in audit.verify(engine, anchor=(3, "0" * 64)).problems] == ["anchor"]
    tamper(engine, "DELETE FROM audit_log WHERE seq >= 5", "UPDATE audit_head SET seq = 4, row_hash = :h",
           h=trail_of_five[3].row_hash)
    assert audit.verify(engine).ok  # consistent on its own …
    # … but not with the export
    assert [p.kind for p in audit.verify(engine, anchor=exported).problems] == ["anchor"]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
    "UPDATE audit_log SET reason = NULL",
    "DELETE FROM audit_log WHERE seq = 1",
    "DELETE FROM audit_log",
    "DELETE FROM audit_head",
    "UPDATE audit_head SET seq = 0, row_hash = '" + "0" * 64 + "'",
    "UPDATE audit_head SET seq = 9",
])
def test_the_database_refuses_to_rewrite_the_trail(engine, statement):
    append_rows(engine, 2)
    with pytest.raises(DBAPIError, match="audit_(log|head)"), engine.begin() as connection:
        connection.execute(sa.text(statement))
    assert audit.verify(engine).ok and audit.head(engine)[0] == 2


def test_postgresql_refuses_truncate(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    append_rows(engine, 1)
    for table in ("audit_log", "audit_head"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(f"TRUNCATE {table} CASCADE"))
    assert audit.verify(engine).ok
