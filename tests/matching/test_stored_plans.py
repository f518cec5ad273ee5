"""Compile once: each published version's plan is compiled the first time it is read, stored beside
the version, and read back from then on — by this process and by the next one."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from qinqing.catalogue import CatalogueStore
from qinqing.catalogue.parse import parse_policy
from qinqing.matching import plans as stored_plans
from qinqing.matching.engines.plan import plan_from_json, plan_policy, plan_to_json

AS_OF = date(2025, 6, 30)
SHIPPED = sorted(p for p in Path(__file__).resolve().parents[2].joinpath("policies").rglob("*.yaml")
                 if ".scenarios." not in p.name)[:6]


def _publish(engine, paths) -> CatalogueStore:
    store = CatalogueStore(engine)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        entry = store.save(text, department="测试部门", author="t", filename=str(path))
        store.publish(entry.policy_id)
    return store


def test_the_first_read_compiles_and_the_second_reads(engine) -> None:
    store = _publish(engine, SHIPPED)
    first = stored_plans.published_plans(engine, AS_OF)
    assert first.compiled == len(SHIPPED) and not first.refused
    before = stored_plans.COMPILATIONS
    second = stored_plans.published_plans(engine, AS_OF)
    assert second.compiled == 0 and stored_plans.COMPILATIONS == before
    assert second.plans == first.plans
    # what is read back is what the compiler gives for the published text, with its version
    for plan in second.plans:
        entry = store.get(plan.policy_id, published=True)
        fresh = plan_policy(parse_policy(entry.yaml_text, entry.policy_id), AS_OF)
        assert plan_to_json(plan) == plan_to_json(fresh) and plan.version == entry.version


def test_a_new_version_is_the_only_one_compiled(engine) -> None:
    store = _publish(engine, SHIPPED)
    stored_plans.published_plans(engine, AS_OF)
    entry = store.get(SHIPPED[0].read_text(encoding="utf-8").split("id:", 1)[1].split()[0].strip('"'), published=True)
    changed = entry.yaml_text.replace(entry.title, entry.title + "（修订）", 1)
    store.save(changed, department="测试部门", author="t")
    store.publish(entry.policy_id)
    again = stored_plans.published_plans(engine, AS_OF)
    assert again.compiled == 1
    assert again.versions[entry.policy_id] == entry.version + 1


def test_another_compiler_compiles_again(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(engine, SHIPPED[:2])
    stored_plans.published_plans(engine, AS_OF)
    monkeypatch.setattr(stored_plans, "compiler_version", lambda: "another-compiler")
    assert stored_plans.published_plans(engine, AS_OF).compiled == 2


def test_a_plan_reading_as_of_is_kept_per_date(engine) -> None:
    text = SHIPPED[0].read_text(encoding="utf-8")
    policy = parse_policy(text)
    condition = policy.conditions[0]
    # a condition that reads the reference date
    reading = text.replace(f"expr: {condition.expr}", f"expr: ({condition.expr}) AND YEAR(as_of) >= 2020", 1)
    assert reading != text
    _publish_text(engine, reading)
    first = stored_plans.published_plans(engine, AS_OF)
    assert first.plans[0].reads_as_of and "2025-06-30" in " ".join(c.sql for c in first.plans[0].conditions)
    assert stored_plans.published_plans(engine, AS_OF).compiled == 0
    later = stored_plans.published_plans(engine, date(2026, 1, 1))
    assert later.compiled == 1 and "2026-01-01" in " ".join(c.sql for c in later.plans[0].conditions)


def _publish_text(engine, text: str) -> None:
    store = CatalogueStore(engine)
    entry = store.save(text, department="测试部门", author="t")
    store.publish(entry.policy_id)


def test_json_round_trip_of_every_shipped_policy() -> None:
    for path in SHIPPED:
        plan = plan_policy(parse_policy(path.read_text(encoding="utf-8"), str(path)), AS_OF)
        assert plan_from_json(plan_to_json(plan)) == plan


def test_a_restarted_process_compiles_nothing(tmp_path) -> None:
    """Two real processes on one SQLite catalogue: the first compiles every plan, the second none."""
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    from qinqing.db import make_engine, migrate

    migrate(url)
    _publish(make_engine(url), SHIPPED)
    script = ("import datetime, sys; from qinqing.db import make_engine; from qinqing.matching import plans; "
              f"r = plans.published_plans(make_engine({url!r}), datetime.date(2025, 6, 30)); "
              "print(len(r.plans), r.compiled, plans.COMPILATIONS)")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0] == [str(len(SHIPPED)), str(len(SHIPPED)), str(len(SHIPPED))]
    assert runs[1] == [str(len(SHIPPED)), "0", "0"]
