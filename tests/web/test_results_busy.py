"""我的政策 and 督政策 over a results store another process is writing: a 503 with Retry-After once the
wait is over, never a silent fallback to direct evaluation; with no run yet, direct evaluation."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from web_support import AS_OF, ENTERPRISES


@pytest.fixture
def published(web_engine, results_dir):
    from qinqing.catalogue import CatalogueStore
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import parse_policy_text

    policies = [parse_policy_text(e.yaml_text, e.policy_id) for e in CatalogueStore(web_engine).published()]
    store = ResultStore(results_dir, keep=1)
    full_run(policies, pa.Table.from_pylist(ENTERPRISES), store, AS_OF)
    store.close()


def test_no_run_yet_is_direct_evaluation(client_for):
    response = client_for("ent_eligible").get("/api/my/matches")
    assert response.status_code == 200 and response.json()["source"] == "direct evaluation"


@pytest.mark.parametrize("path", ["/api/my/matches", "/api/supervision/overview"])
def test_a_busy_store_is_a_503_with_retry_after(published, client_for, results_dir, monkeypatch, path):
    from qinqing.matching.results import turns

    client = client_for("ent_eligible" if "my" in path else "supervisor")
    assert client.get(path).status_code == 200
    monkeypatch.setattr(turns, "WAIT_SECONDS", 0.2)
    (results_dir / "WRITING").write_text(str(os.getpid()))  # a live writer that does not finish in time
    try:
        response = client.get(path)
    finally:
        (results_dir / "WRITING").unlink()
    assert response.status_code == 503
    assert response.headers.get("retry-after") == "30"
    assert response.json()["error"]["code"] == "matching.results_busy"
    assert client.get(path).status_code == 200
