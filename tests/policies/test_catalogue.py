"""The policy catalogue: every policy file loads, and every hand-worked scenario holds.

Scenarios live beside each policy (``<id>.scenarios.yaml``). A case gives enterprise facts
(fields not listed are missing) and the outcome worked out by hand from the clauses:
``status`` always; ``amount`` (万元) for eligible cases (``null`` when every condition holds but a
field the formula reads is missing — that field is then listed in ``missing``); ``failed`` / ``missing`` as sets.
When ``failed`` or ``missing`` is not written, eligible and unknown cases must have no failed
condition, and eligible cases no missing field.

A case whose hand-worked outcome the engine gets wrong today carries ``known_issue: <why>``; it runs
as a strict xfail, so the fix shows up as a failure asking for the marker to be removed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qinqing.registry.schema import FIELDS_BY_NAME, FieldType
from qinqing.rules import evaluate, load_policy

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
SCENARIO_SUFFIX = ".scenarios.yaml"
POLICY_FILES = sorted(p for p in POLICY_DIR.rglob("*.yaml") if not p.name.endswith(SCENARIO_SUFFIX))
SCENARIO_FILES = sorted(POLICY_DIR.rglob("*" + SCENARIO_SUFFIX))
NATIONAL_PREFIX = "10"  # region 100000 = the whole country, not a province

MIN_POLICIES = 40
MIN_PROVINCES = 8
MIN_CASES = 4


def _policy_path(scenario_file: Path) -> Path:
    return scenario_file.with_name(scenario_file.name.removesuffix(SCENARIO_SUFFIX) + ".yaml")


def _facts(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Scenario facts as the engine receives them: money as exact decimals."""
    facts: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in FIELDS_BY_NAME:
            raise AssertionError(f"{where}: unknown field {name!r} in facts")
        if value is not None and FIELDS_BY_NAME[name].type is FieldType.MONEY:
            value = Decimal(str(value))
        facts[name] = value
    return facts


def _cases() -> list[Any]:
    params = []
    for scenario_file in SCENARIO_FILES:
        doc = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            marks = [pytest.mark.xfail(strict=True, reason=case["known_issue"])] if "known_issue" in case else []
            params.append(
                pytest.param(scenario_file, doc["as_of"], case, id=f"{doc['policy']}::{case['name']}", marks=marks)
            )
    return params


@pytest.fixture(scope="module")
def policies() -> dict[Path, Any]:
    return {path: load_policy(path) for path in POLICY_FILES}


@pytest.mark.parametrize("scenario_file, as_of, case", _cases())
def test_scenario(policies: dict[Path, Any], scenario_file: Path, as_of: dt.date, case: dict[str, Any]) -> None:
    policy = policies[_policy_path(scenario_file)]
    where = f"{scenario_file.relative_to(POLICY_DIR)} / {case['name']}"
    expect = case["expect"]
    outcome = evaluate(policy, _facts(case.get("facts") or {}, where), as_of)

    assert outcome.status == expect["status"], f"{where}: trace {outcome.trace}"
    if expect["status"] == "eligible" and expect["amount"] is not None:
        assert outcome.amount is not None, where
        assert Decimal(str(outcome.amount)) == Decimal(str(expect["amount"])), where
    else:  # not eligible, or eligible while a field the amount needs is missing
        assert outcome.amount is None, where
    default_failed = [] if expect["status"] in ("eligible", "unknown") else None
    failed = expect.get("failed", default_failed)
    if failed is not None:
        assert set(outcome.failed) == set(failed), where
    missing = expect.get("missing", [] if expect["status"] == "eligible" else None)
    if missing is not None:
        assert set(outcome.missing) == set(missing), where


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_policy_loads_with_id_of_its_file(path: Path) -> None:
    assert load_policy(path).id == path.stem


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_policy_has_enough_scenarios(path: Path) -> None:
    scenario_file = path.with_name(path.stem + SCENARIO_SUFFIX)
    assert scenario_file.exists(), f"{path.name} has no {scenario_file.name}"
    doc = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
    assert doc["policy"] == path.stem
    assert len(doc["cases"]) >= MIN_CASES
    names = [case["name"] for case in doc["cases"]]
    assert len(names) == len(set(names)), "case names must be unique"


def test_every_scenario_file_has_a_policy() -> None:
    orphans = [f.name for f in SCENARIO_FILES if not _policy_path(f).exists()]
    assert orphans == []


def test_policy_ids_are_unique() -> None:
    ids = Counter(load_policy(path).id for path in POLICY_FILES)
    assert [i for i, n in ids.items() if n > 1] == []


def test_catalogue_size() -> None:
    regions = [str(load_policy(path).region) for path in POLICY_FILES]
    provinces = {code[:2] for code in regions if not code.startswith(NATIONAL_PREFIX)}
    assert len(regions) >= MIN_POLICIES
    assert len(provinces) >= MIN_PROVINCES


def test_readme_lists_every_policy() -> None:
    readme = (POLICY_DIR / "README.md").read_text(encoding="utf-8")
    unlisted = [p.stem for p in POLICY_FILES if p.stem not in readme]
    assert unlisted == []
