"""Appending to the trail, its canonical serialisation, and the tables the migration creates."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from audit_support import append_rows

from qinqing import audit
from qinqing.audit.chain import canonical_row, row_hash, state_hash
from qinqing.audit.tables import audit_head, audit_log


def test_rows_chain_from_the_genesis_hash(engine):
    first, second = append_rows(engine, 2)
    assert first.seq == 1 and first.prev_hash == audit.GENESIS_HASH
    assert second.seq == 2 and second.prev_hash == first.row_hash
    assert audit.head(engine) == (2, second.row_hash)
    assert [e.row_hash for e in audit.trail(engine, "policy", "p1")] == [first.row_hash, second.row_hash]
    assert audit.verify(engine).ok


def test_the_row_hash_is_the_documented_serialisation():
    moment = datetime(2026, 12, 5, 9, 30, 1, 250, tzinfo=UTC)
    fields = dict(seq=7, recorded_at=moment, actor="officer:王", action="policy.publish",
                  object_type="policy", object_id="zj-001", before_hash=None, after_hash="ab" * 32,
                  reason="预算确认", prev_hash="cd" * 32)
    written = ('["qinqing-audit/1",7,"2026-12-05T09:30:01.000250Z","officer:王","policy.publish","policy",'
               '"zj-001",null,"' + "ab" * 32 + '","预算确认","' + "cd" * 32 + '"]')
    assert canonical_row(**fields) == written.encode("utf-8")
    assert row_hash(**fields) == hashlib.sha256(written.encode("utf-8")).hexdigest()
    naive = dict(fields, recorded_at=moment.replace(tzinfo=None))  # SQLite hands datetimes back naive, in UTC
    assert row_hash(**naive) == row_hash(**fields)


def test_state_hash_is_canonical_json():
    assert state_hash(None) is None
    assert state_hash({"b": 1, "a": [Decimal("1.50"), "是"]}) == hashlib.sha256(
        json.dumps({"a": ["1.50", "是"], "b": 1}, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    assert state_hash({"a": 1, "b": 2}) == state_hash({"b": 2, "a": 1})
    with pytest.raises(TypeError):
        state_hash({"x": object()})


def test_a_row_is_written_only_if_the_callers_transaction_commits(engine):
    append_rows(engine, 1)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        audit.record(connection, actor="a", action="policy.publish", object_type="policy", object_id="p2")
        raise RuntimeError("the change failed")
    assert audit.head(engine)[0] == 1
    assert audit.trail(engine, "policy", "p2") == []
    assert audit.verify(engine).ok


@pytest.mark.parametrize("bad", [{"actor": ""}, {"action": " "}, {"object_type": ""}, {"object_id": ""},
                                 {"action": "x" * 65}, {"object_id": "x" * 257}])
def test_record_refuses_missing_or_overlong_fields(engine, bad):
    fields = dict(actor="a", action="policy.publish", object_type="policy", object_id="p1") | bad
    with pytest.raises(audit.AuditUsageError), engine.begin() as connection:
        audit.record(connection, **fields)


def test_record_needs_an_open_transaction(engine):
    with engine.connect() as connection:
        with pytest.raises(audit.AuditUsageError):
            audit.record(connection, actor="a", action="policy.publish", object_type="policy", object_id="p1")


def test_migrated_tables_match_the_table_definitions(engine):
    inspector = sa.inspect(engine)
    for table in (audit_log, audit_head):
        assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.columns]
    with engine.connect() as connection:
        assert connection.execute(sa.select(audit_head)).all() == [(1, 0, audit.GENESIS_HASH)]


def test_labels_fall_back_to_the_action_name():
    assert audit.action_label("policy.publish") == "发布"
    assert audit.action_label("unknown.thing") == "unknown.thing"
    audit.register_labels(actions={"test.thing": "测试"}, object_types={"test": "测试对象"})
    assert audit.action_label("test.thing") == "测试" and audit.object_type_label("test") == "测试对象"
