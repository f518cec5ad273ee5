"""Each denial, proven through the API and through the pages."""

from __future__ import annotations

import pytest
from web_support import ELIGIBLE, OTHER, UNKNOWN

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"


@pytest.mark.parametrize(
    ("user", "method", "path"),
    [
        # an enterprise sees only its own profile and matches
        ("ent_eligible", "get", f"/api/enterprises/{UNKNOWN}"),
        ("ent_eligible", "get", f"/api/enterprises/{UNKNOWN}/matches"),
        ("ent_eligible", "get", f"/enterprises/{UNKNOWN}"),
        ("ent_eligible", "get", f"/enterprises/{UNKNOWN}/policies"),
        ("ent_unknown", "get", f"/api/enterprises/{ELIGIBLE}/matches"),
        # an enterprise is not an officer
        ("ent_eligible", "get", "/api/officer/policies"),
        ("ent_eligible", "get", "/officer/policies"),
        ("ent_eligible", "get", f"/officer/policies/{HLJ_POLICY}/edit"),
        # an officer edits only its own department's policies
        ("officer_zj", "get", f"/officer/policies/{HLJ_POLICY}/edit"),
        ("officer_zj", "get", f"/officer/policies/{HLJ_POLICY}/preview"),
        ("officer_zj", "get", f"/api/officer/policies/{HLJ_POLICY}/preview"),
        ("officer_zj", "post", f"/officer/policies/{HLJ_POLICY}/publish"),
        ("officer_zj", "post", f"/api/officer/policies/{HLJ_POLICY}/publish"),
        # a supervisor reads but does not edit
        ("supervisor", "get", "/officer/policies"),
        ("supervisor", "post", f"/api/officer/policies/{HLJ_POLICY}/publish"),
    ],
)
def test_denied(client_for, user, method, path):
    client = client_for(user)
    if method == "post":
        from web_support import csrf_of

        token = csrf_of(client.get("/policies").text)
        response = client.post(path, data={"csrf_token": token}) if not path.startswith("/api") else client.post(
            path, headers={"X-CSRF-Token": token})
    else:
        response = client.get(path)
    assert response.status_code == 403, response.text[:500]
    if path.startswith("/api"):
        assert response.json()["error"]["code"] == "accounts.forbidden"
    else:
        assert "data-code=\"accounts.forbidden\"" in response.text


def test_officer_cannot_take_over_another_departments_policy_by_saving_it(client_for, web_engine):
    from web_support import csrf_of

    from qinqing.catalogue import CatalogueStore

    client = client_for("officer_zj")
    text = CatalogueStore(web_engine).get(HLJ_POLICY).yaml_text.replace("50万元", "500万元")
    response = client.post("/api/officer/policies", json={"yaml": text},
                           headers={"X-CSRF-Token": csrf_of(client.get("/policies").text)})
    assert response.status_code == 403
    assert CatalogueStore(web_engine).get(HLJ_POLICY).draft_version == 1


@pytest.mark.parametrize("user", ["officer_hlj", "supervisor", "admin"])
def test_staff_may_read_any_enterprise(client_for, user):
    assert client_for(user).get(f"/api/enterprises/{OTHER}").status_code == 200


def test_enterprise_reads_its_own(client_for):
    client = client_for("ent_eligible")
    assert client.get(f"/api/enterprises/{ELIGIBLE}").status_code == 200
    assert client.get(f"/enterprises/{ELIGIBLE}/policies").status_code == 200
