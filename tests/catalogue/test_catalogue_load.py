"""catalogue load: files admitted (in worker processes for a large directory) and written in batches;
a refused file — bad text, or a policy owned by another department, which rolls its batch back — is
reported and every other file is kept; a second load of the same files writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qinqing.catalogue import CatalogueStore, load
from qinqing.catalogue.tables import versions

SHIPPED = sorted(p for p in (Path(__file__).resolve().parents[2] / "policies").rglob("*.yaml")
                 if ".scenarios." not in p.name)[:8]


@pytest.mark.parametrize("workers", [1, 2])
def test_one_refused_file_costs_no_other(engine, tmp_path, monkeypatch, workers) -> None:
    monkeypatch.setattr(load, "PARALLEL_FROM", 2)  # use the worker processes even for a few files
    monkeypatch.setattr(load, "BATCH", 3)
    for path in SHIPPED:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "zz-broken.yaml").write_text("id: broken\ntitle: 缺项\n", encoding="utf-8")
    store = CatalogueStore(engine)
    owned = SHIPPED[4].read_text(encoding="utf-8")
    store.save(owned, department="另一个部门", author="t")  # saving it under its issuer must be refused
    report = load.load_directory(store, tmp_path, workers=workers)
    refused = {Path(p).name for p in report.errors}
    assert refused == {"zz-broken.yaml", SHIPPED[4].name}
    assert len(report.added) == len(SHIPPED) - 1 and not report.changed
    assert {e.policy_id for e in store.published()} == set(report.added)

    again = load.load_directory(store, tmp_path, workers=workers)
    assert not again.added and not again.changed and len(again.unchanged) == len(SHIPPED) - 1
    with engine.connect() as conn:
        assert conn.execute(versions.select()).fetchall().__len__() == len(SHIPPED)  # 7 loaded + the other's draft
