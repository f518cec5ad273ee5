"""One catalogue (issue 10): every matching command reads the published catalogue in the database, so a
policy published on the web survives `run full` and `run enterprise`; files enter through
`qinqing catalogue load`; unpublished files are evaluated only under an option that says so; the
commands honour QINQING_DATABASE_URL and QINQING_RESULTS_DIR."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from qinqing.cli import app
from qinqing.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
HLJ = ROOT / "policies" / "heilongjiang"
SEED_ID = "hlj-2021-new-above-scale-industrial"
runner = CliRunner()

# Entered the above-scale list in 2021 → eligible for the seed policy (50 万元) on 2021-12-01.
ENTERPRISE = {"uscc": "91230102MA1BXXXX01", "name": "甲公司", "region_code": "230102", "industry_code": "C3911",
              "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
              "in_abnormal_list": False, "in_safety_blacklist": False}  # fmt: skip

# The seed policy under another id, as an officer would publish it on the web (not in policies/).
WEB_POLICY = (HLJ / f"{SEED_ID}.yaml").read_text(encoding="utf-8").replace(f"id: {SEED_ID}", "id: web-only-bonus")


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """A database and results store named only by QINQING_* variables, as an operator sets them."""
    monkeypatch.setenv("QINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    monkeypatch.setenv("QINQING_RESULTS_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("QINQING_REFERENCE_DATE", "2021-12-01")
    get_settings.cache_clear()
    registry = tmp_path / "registry.parquet"
    pq.write_table(pa.Table.from_pylist([ENTERPRISE]), registry)
    yield tmp_path, registry
    get_settings.cache_clear()


def _ok(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _store_policies(tmp_path: Path, uscc: str) -> set[str]:
    from qinqing.matching.results import ResultStore

    store = ResultStore(tmp_path / "store")
    try:
        return {m.policy_id for m in store.matches_for(uscc)}
    finally:
        store.close()


def test_a_web_published_policy_survives_run_full_and_run_enterprise(platform):
    tmp_path, registry = platform
    out = _ok(["catalogue", "load", str(HLJ)])
    assert "新增 2 项" in out
    from qinqing.catalogue import CatalogueStore
    from qinqing.db import make_engine

    store = CatalogueStore(make_engine())
    store.save(WEB_POLICY, department="黑龙江省工业和信息化厅", author="officer")  # what the web editor does
    store.publish("web-only-bonus")
    _ok(["run", "full", "--enterprises", str(registry)])
    assert {SEED_ID, "web-only-bonus"} <= _store_policies(tmp_path, ENTERPRISE["uscc"])
    assert (tmp_path / "store").is_dir() and not Path("results").exists()  # QINQING_RESULTS_DIR, not ./results
    _ok(["run", "enterprise", ENTERPRISE["uscc"], "--enterprises", str(registry)])
    assert {SEED_ID, "web-only-bonus"} <= _store_policies(tmp_path, ENTERPRISE["uscc"])
    _ok(["run", "policy", "web-only-bonus", "--enterprises", str(registry)])
    assert "web-only-bonus" in _store_policies(tmp_path, ENTERPRISE["uscc"])


def test_catalogue_load_reports_what_it_did_and_refuses_a_bad_file(platform, tmp_path):
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / "good.yaml").write_text(WEB_POLICY, encoding="utf-8")
    (drafts / "bad.yaml").write_text(WEB_POLICY.replace("web-only-bonus", "web-negative")
                                     .replace('expr: "50"', "expr: employees * -1").replace("  cap: 50\n", ""),
                                     encoding="utf-8")
    result = runner.invoke(app, ["catalogue", "load", str(drafts)])
    assert result.exit_code == 1, result.output
    assert "新增 1 项，更新 0 项，未变 0 项，拒绝 1 个文件" in result.output
    assert "bad.yaml" in result.output and "负" in result.output
    listed = _ok(["catalogue", "list"])
    assert "web-only-bonus" in listed and "web-negative" not in listed


def test_an_empty_catalogue_says_how_to_fill_it(platform):
    _tmp, registry = platform
    result = runner.invoke(app, ["run", "full", "--enterprises", str(registry)])
    assert result.exit_code == 1 and "qinqing catalogue load" in result.output


def test_match_reads_the_catalogue_and_drafts_only_by_name(platform, tmp_path):
    _tmp, registry = platform
    _ok(["catalogue", "load", str(HLJ)])
    out = tmp_path / "m.csv"
    published = _ok(["match", "--enterprises", str(registry), "--out", str(out), "--include-expired"])
    assert "2 项政策" in published  # both Heilongjiang policies, one of them not in force on the day
    draft_dir = tmp_path / "d"
    draft_dir.mkdir()
    (draft_dir / "p.yaml").write_text(WEB_POLICY, encoding="utf-8")
    drafted = _ok(["match", "--draft-policies", str(draft_dir), "--enterprises", str(registry), "--out", str(out)])
    assert "1 项政策" in drafted
    explained = _ok(["explain", "--enterprise", str(registry), "--policy", SEED_ID])
    assert "结论：符合" in explained


def test_preview_of_a_catalogue_draft_or_a_named_draft_file(platform, tmp_path):
    _tmp, registry = platform
    _ok(["catalogue", "load", str(HLJ)])
    by_id = _ok(["preview", SEED_ID, "--enterprises", str(registry)])
    assert "符合 1" in by_id
    file = tmp_path / "draft.yaml"
    file.write_text(WEB_POLICY, encoding="utf-8")
    by_file = _ok(["preview", "--draft-file", str(file), "--enterprises", str(registry)])
    assert "web-only-bonus" in by_file
    neither = runner.invoke(app, ["preview", "--enterprises", str(registry)])
    assert neither.exit_code == 2


def test_a_run_with_one_broken_policy_publishes_the_rest(tmp_path):
    """A published version that no longer compiles (the language changed since) is skipped and named."""
    from datetime import date

    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import load_policies

    policies, _ = load_policies([HLJ])
    good = policies[0]
    broken = good.model_copy(update={"id": "broken", "conditions": (
        good.conditions[0].model_copy(update={"expr": "is_above_scale >>> 1"}),)})
    store = ResultStore(tmp_path / "store")
    summary = full_run([*policies, broken], pa.Table.from_pylist([ENTERPRISE]), store, date(2021, 12, 1))
    in_force = [p for p in policies if p.valid_on(date(2021, 12, 1))]
    assert list(summary.refused) == ["broken"] and summary.policies == len(in_force)
    assert SEED_ID in {m.policy_id for m in store.matches_for(ENTERPRISE["uscc"])}
    store.close()


def test_demo_deletes_nothing_it_did_not_create(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--workdir", str(mine), "--no-serve", "--n", "10",
                                 "--policies", str(HLJ)])
    assert result.exit_code == 2, result.output
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_a_cli_full_run_is_kept_in_the_database_with_its_plans(platform):
    """run full records the run, each policy's version and plan hash, and its counts (issue 10.5); a second
    run compiles no plan (they were stored by the first)."""
    import sqlalchemy as sa

    from qinqing.db import make_engine
    from qinqing.matching import plans

    tmp_path, registry = platform
    _ok(["catalogue", "load", str(HLJ)])
    _ok(["run", "full", "--enterprises", str(registry)])
    compiled = plans.COMPILATIONS
    _ok(["run", "full", "--enterprises", str(registry)])
    assert plans.COMPILATIONS == compiled
    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM matching_runs")).scalar()
        hashed = conn.execute(sa.text("SELECT count(*) FROM matching_run_policies WHERE plan_hash IS NOT NULL")).scalar()
    assert runs == 2 and hashed > 0
