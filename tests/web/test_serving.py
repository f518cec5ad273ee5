"""Serving fast and in several processes: the cached results-store reads, worker settings, the session cookie."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from web_support import AS_OF, ELIGIBLE, ENTERPRISES, HLJ

from qinqing.settings import Settings
from qinqing.web.serve import default_workers, worker_environment
from qinqing.web.services.results_cache import CachedMatches


@pytest.fixture
def store_with_run(tmp_path):
    from qinqing.matching.results import MATCH_SCHEMA, ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import parse_policy_text

    policies = [parse_policy_text(p.read_text(encoding="utf-8"), p.stem) for p in sorted(HLJ.glob("*.yaml"))
                if not p.name.endswith(".scenarios.yaml")]
    table = pa.Table.from_pylist([{k: v for k, v in e.items()} for e in ENTERPRISES])
    store = ResultStore(tmp_path / "results")
    full_run(policies, table, store, AS_OF)
    yield store, MATCH_SCHEMA
    store.close()


def test_cached_matches_are_served_until_the_run_changes(store_with_run):
    store, schema = store_with_run
    cached = CachedMatches(store)
    first = cached.matches_for(ELIGIBLE)
    assert [m.policy_id for m in first] == ["hlj-2021-new-above-scale-industrial"]
    assert cached.matches_for(ELIGIBLE) is first  # second read: from memory
    # An incremental run (here: the enterprise's rows replaced by none) changes the run's file.
    store.replace_pairs(uscc=[ELIGIBLE], pairs=schema.empty_table())
    assert cached.matches_for(ELIGIBLE) == []


def test_no_run_means_no_matches_and_nothing_cached(tmp_path):
    from qinqing.matching.results import ResultStore

    cached = CachedMatches(ResultStore(tmp_path / "empty"))
    assert cached.fingerprint() is None and cached.matches_for(ELIGIBLE) is None


def test_nothing_is_cached_while_a_writer_holds_the_store(store_with_run):
    store, _ = store_with_run
    cached = CachedMatches(store)
    (store.root / "WRITING").write_text("0")  # a pid that is no process: readers do not wait for it
    try:
        assert cached.fingerprint() is None
    finally:
        (store.root / "WRITING").unlink()


@pytest.mark.parametrize(("url", "expected_one"), [
    ("sqlite:///:memory:", True),
    ("sqlite://", True),
    ("sqlite:////srv/qinqing.db", False),
    ("postgresql://db/qinqing", False),
])
def test_default_workers(url, expected_one):
    workers = default_workers(Settings(database_url=url))
    assert (workers == 1) if expected_one else (1 <= workers <= 4)


def test_workers_rebuild_the_same_settings_and_share_one_secret():
    settings = Settings(database_url="sqlite:////srv/q.db", results_dir="/srv/results",
                        reference_date=date(2025, 6, 30), secret_key="")
    env = worker_environment(settings)
    assert env["QINQING_DATABASE_URL"] == "sqlite:////srv/q.db"
    assert env["QINQING_RESULTS_DIR"] == "/srv/results"
    assert env["QINQING_REFERENCE_DATE"] == "2025-06-30"
    assert len(env["QINQING_SECRET_KEY"]) >= 32  # generated once, so every worker signs the same cookies
    assert worker_environment(settings.model_copy(update={"secret_key": "k"}))["QINQING_SECRET_KEY"] == "k"


def test_a_visitor_gets_a_session_cookie_and_token_clients_do_not(client_for):
    anonymous = client_for()
    response = anonymous.get("/login")
    assert "qinqing_session=" in response.headers.get("set-cookie", "")
    assert "HttpOnly" in response.headers["set-cookie"] and "SameSite=lax" in response.headers["set-cookie"]
    again = anonymous.get("/login")
    assert "set-cookie" not in again.headers  # an unchanged session is not sent again
