"""Saving, publishing and approving policies are recorded in the audit trail, in the change's transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from qinqing import audit
from qinqing.catalogue.errors import CatalogueError
from qinqing.catalogue.load import load_directory
from qinqing.catalogue.store import CatalogueStore

SEED = Path(__file__).resolve().parents[2] / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"


def test_save_and_publish_are_recorded_with_chained_states(engine):
    store = CatalogueStore(engine)
    text = SEED.read_text(encoding="utf-8")
    saved = store.save(text, department="省工信厅", author="officer:wang")
    store.publish(saved.policy_id, expected_version=saved.version, published_by="officer:wang",
                  reason="预算已确认")
    store.approve_remit(saved.policy_id, saved.version, approved_by="supervisor:li", reason="跨区域政策")
    store.approve_remit(saved.policy_id, saved.version, approved_by="supervisor:li", reason="again")  # no-op
    rows = audit.trail(engine, "policy", saved.policy_id)
    assert [(r.actor, r.action, r.reason) for r in rows] == [
        ("officer:wang", "policy.save", None), ("officer:wang", "policy.publish", "预算已确认"),
        ("supervisor:li", "policy.remit_approve", "跨区域政策"),
    ]
    assert rows[0].before_hash is None and rows[1].before_hash == rows[0].after_hash != rows[1].after_hash
    assert audit.verify(engine).ok


def test_a_refused_save_records_nothing(engine):
    store = CatalogueStore(engine)
    store.save(SEED.read_text(encoding="utf-8"), department="省工信厅", author="officer:wang")
    with pytest.raises(CatalogueError):
        store.save(SEED.read_text(encoding="utf-8"), department="省财政厅", author="officer:zhao")
    assert audit.head(engine)[0] == 1


def test_catalogue_load_records_each_policy_it_saves_and_publishes(engine):
    report = load_directory(CatalogueStore(engine), SEED)
    (policy_id,) = report.loaded
    assert [r.action for r in audit.trail(engine, "policy", policy_id)] == ["policy.save", "policy.publish"]
    load_directory(CatalogueStore(engine), SEED)  # unchanged: nothing written, nothing recorded
    assert audit.head(engine)[0] == 2
