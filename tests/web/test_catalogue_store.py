"""The catalogue store: versions, draft/published, ownership, directory loading, and its migrations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from web_support import HLJ, HLJ_DEPARTMENT
from policy_texts import RD_SUBSIDY

from qinqing.accounts.tables import metadata as accounts_metadata
from qinqing.catalogue import CatalogueStore, load_directory
from qinqing.catalogue.errors import PolicyInvalid, PolicyNotFound, PolicyOwnedElsewhere
from qinqing.catalogue.tables import metadata as catalogue_metadata


def test_versions_draft_and_publish(web_engine):
    store = CatalogueStore(web_engine)
    first = store.save(RD_SUBSIDY, department=HLJ_DEPARTMENT, author="t")
    assert (first.draft_version, first.published_version, first.status_label) == (1, None, "草稿")
    assert "test-rd-subsidy" not in {e.policy_id for e in store.published()}
    store.publish("test-rd-subsidy")
    second = store.save(RD_SUBSIDY.replace("最高不超过50万元", "最高不超过60万元"), department=HLJ_DEPARTMENT, author="t")
    assert (second.draft_version, second.published_version) == (2, 1)
    assert second.status_label == "已发布（有未发布的修改）"
    assert "60万元" not in store.get("test-rd-subsidy", published=True).yaml_text
    assert store.publish("test-rd-subsidy").version == 2


def test_a_policy_stays_with_its_department(web_engine):
    store = CatalogueStore(web_engine)
    store.save(RD_SUBSIDY, department=HLJ_DEPARTMENT, author="t")
    with pytest.raises(PolicyOwnedElsewhere):
        store.save(RD_SUBSIDY, department="浙江省经济和信息化厅", author="t")


def test_invalid_text_reports_line_and_column(web_engine):
    with pytest.raises(PolicyInvalid) as error:
        CatalogueStore(web_engine).save(RD_SUBSIDY.replace("rd_expense >= 100", "rd_expens >= 100"),
                                        department=HLJ_DEPARTMENT, author="t")
    (problem,) = error.value.problems
    assert (problem.line, problem.column) == (16, 11) and "rd_expens" in problem.message


def test_unknown_policy(web_engine):
    with pytest.raises(PolicyNotFound):
        CatalogueStore(web_engine).publish("nope")


def test_loading_a_directory_twice_adds_no_versions(web_engine, tmp_path):
    store = CatalogueStore(web_engine)
    report = load_directory(store, HLJ)
    assert report.loaded == [] and len(report.unchanged) == 2 and not report.errors
    (tmp_path / "bad.yaml").write_text("id: [", encoding="utf-8")
    (tmp_path / "x.scenarios.yaml").write_text("not: a policy", encoding="utf-8")
    (tmp_path / "rd.yaml").write_text(RD_SUBSIDY, encoding="utf-8")
    report = load_directory(store, tmp_path)
    assert report.loaded == ["test-rd-subsidy"] and list(report.errors) == [str(tmp_path / "bad.yaml")]


def test_migrations_create_the_tables_as_declared(database_url):
    from qinqing.db import make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    inspector = sa.inspect(engine)
    for metadata in (accounts_metadata, catalogue_metadata):
        for table in metadata.tables.values():
            reflected = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert set(reflected) == set(table.columns.keys()), table.name
            for column in table.columns:
                assert reflected[column.name]["nullable"] == column.nullable, (table.name, column.name)
    engine.dispose()
