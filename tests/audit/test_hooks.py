"""The pieces record their state-changing actions in the trail, in the change's own transaction."""

from __future__ import annotations

from qinqing import audit
from qinqing.accounts.authz import Role
from qinqing.accounts.service import AccountService

PASSWORD = "correct-horse-battery-9"


def _actions(engine, object_type, object_id):
    return [(e.actor, e.action) for e in audit.trail(engine, object_type, object_id)]


def test_user_changes_are_recorded(engine):
    accounts = AccountService(engine)
    user = accounts.create_user("Wang", PASSWORD, Role.OFFICER, "王", department="省工信厅",
                                region_code="230000",
                                actor="admin")
    accounts.set_password(user.user_id, PASSWORD + "x", actor="admin")
    issued = accounts.issue(user, "batch")
    accounts.revoke_token_id(user.user_id, issued.record.id, actor="admin")
    accounts.revoke_token_id(user.user_id, issued.record.id, actor="admin")  # again: no change, no row
    accounts.set_active(user.user_id, False, actor="admin")
    accounts.set_active(user.user_id, True, actor="admin")
    assert _actions(engine, "user", "wang") == [
        ("admin", "user.create"), ("admin", "user.password_reset"), ("wang", "user.token_create"),
        ("admin", "user.token_revoke"), ("admin", "user.deactivate"), ("admin", "user.activate"),
    ]
    deactivated, activated = audit.trail(engine, "user", "wang")[-2:]
    assert deactivated.after_hash == activated.before_hash != activated.after_hash
    assert audit.verify(engine).ok


def test_a_refused_user_change_records_nothing(engine):
    accounts = AccountService(engine)
    accounts.create_user("wang", PASSWORD, Role.ADMIN)
    try:
        accounts.create_user("WANG", PASSWORD, Role.ADMIN)
    except Exception:
        pass
    assert _actions(engine, "user", "wang") == [("system", "user.create")]


def test_a_registry_import_is_one_row_in_its_transaction(engine, tmp_path):
    from qinqing.registry.importer import import_file

    path = tmp_path / "企业.csv"
    path.write_text("统一社会信用代码,企业名称,行政区划代码\n91330106MA27Q1A13M,杭州甲科技有限公司,330106\n"
                    "not-a-code,乙,330106\n", encoding="utf-8")
    result = import_file(path, engine, actor="officer:wang")
    assert (result.stored, result.rejected) == (1, 1)
    (row,) = audit.trail(engine, "registry", "enterprises")
    assert (row.actor, row.action) == ("officer:wang", "registry.import")
    assert row.after_hash == audit.state_hash({"file": "企业.csv", "read": 2, "stored": 1, "rejected": 1})
    import_file(path, None)  # validating only records nothing
    assert audit.head(engine)[0] == 1


def test_a_published_run_is_recorded_with_its_event(engine, database_url, tmp_path):
    from datetime import date
    from pathlib import Path

    from qinqing.catalogue.load import load_directory
    from qinqing.catalogue.store import CatalogueStore
    from qinqing.matching.service import MatchingService
    from qinqing.registry.store import upsert_enterprises
    from qinqing.settings import Settings

    root = Path(__file__).resolve().parents[2]
    seed = root / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"
    load_directory(CatalogueStore(engine), seed)
    upsert_enterprises(engine, [{"uscc": "91230102MA1BXXXX01", "name": "哈尔滨示例制造有限公司",
                                 "region_code": "230102", "industry_code": "C3911"}])
    settings = Settings(database_url=database_url, reference_date=date(2021, 12, 1),
                        results_dir=tmp_path / "r")
    with MatchingService(engine, settings) as matching:
        summary = matching.full_run()
    (row,) = audit.trail(engine, "run", summary.run_id)
    assert (row.actor, row.action, row.reason) == ("system:matching", "run.publish", "full run")
    assert audit.verify(engine).ok
