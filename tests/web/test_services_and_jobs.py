"""The pieces' services with their jobs, as the web and the CLI use them: publishing writes its event in
its own transaction; the re-match job brings the results store up to date, or finds it already is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from policy_texts import NEW_ABOVE_SCALE_BONUS, RD_SUBSIDY
from sqlalchemy import update
from web_support import AS_OF, ELIGIBLE, HLJ_DEPARTMENT

from qinqing import jobs
from qinqing.catalogue.errors import DraftChanged, PolicyInvalid
from qinqing.catalogue.events import PolicyPublished
from qinqing.catalogue.service import CatalogueService, Remit
from qinqing.events import outbox, recent
from qinqing.jobs.runner import Worker
from qinqing.matching.events import RunPublished
from qinqing.matching.service import MatchingService
from qinqing.registry.service import RegistryService
from qinqing.settings import Settings

NEGATIVE = RD_SUBSIDY.replace("expr: rd_expense * 0.1", "expr: employees * -1").replace("  cap: 50\n", "")


@pytest.fixture
def matching(web_engine, tmp_path):
    settings = Settings(database_url=web_engine.url.render_as_string(hide_password=False), reference_date=AS_OF,
                        results_dir=tmp_path / "results")
    with MatchingService(web_engine, settings) as service:
        yield service


@pytest.fixture
def catalogue(web_engine, matching):
    return CatalogueService.from_engine(web_engine, estimator=matching)


def _drain(web_engine, matching) -> list[jobs.JobView]:
    """Every pending event's jobs run to the end, as `qinqing worker` would; the jobs that ran."""
    worker = Worker(web_engine, matching.settings, resources={"results": matching.results})
    ran = worker.run_until_idle()
    with web_engine.connect() as connection:
        return [jobs.get_job(connection, i) for i in ran]


def _events(web_engine, type_name: str) -> list:
    with web_engine.connect() as connection:
        return [e.event for e in recent(connection, type=type_name, limit=100)]


def test_publishing_writes_its_event_and_a_refused_publication_writes_none(web_engine, catalogue):
    before = len(_events(web_engine, PolicyPublished.type))
    entry = catalogue.save(NEW_ABOVE_SCALE_BONUS, department=HLJ_DEPARTMENT, author="alice")
    with pytest.raises(DraftChanged):
        catalogue.publish(entry.policy_id, AS_OF, published_by="alice", version=entry.version + 1)
    with pytest.raises(PolicyInvalid):
        catalogue.save(NEGATIVE, department=HLJ_DEPARTMENT, author="alice")
    assert len(_events(web_engine, PolicyPublished.type)) == before
    catalogue.publish(entry.policy_id, AS_OF, published_by="alice",
                      remit=Remit(HLJ_DEPARTMENT, "230000"), version=entry.version)
    published = _events(web_engine, PolicyPublished.type)
    assert published[0] == PolicyPublished(policy_id="test-new-bonus", version=1, published_by="alice")
    assert len(published) == before + 1


def test_the_rematch_job_updates_the_store_and_a_full_run_makes_it_unnecessary(web_engine, catalogue, matching):
    assert {j.result["skipped"] for j in _drain(web_engine, matching)} == {"no run"}  # the seed: no run yet
    summary = matching.full_run(as_of=AS_OF)
    full = _events(web_engine, RunPublished.type)[0]
    assert full.kind == "full" and full.run_id == summary.run_id and full.catalogue_read_at is not None
    entry = catalogue.save(NEW_ABOVE_SCALE_BONUS, department=HLJ_DEPARTMENT, author="alice")
    catalogue.publish(entry.policy_id, AS_OF, published_by="alice")
    assert "test-new-bonus" not in {m.policy_id for m in matching.results.matches_for(ELIGIBLE)}
    [job] = _drain(web_engine, matching)
    assert job.status == "done" and job.subject == "policy:test-new-bonus" and job.result["eligible"] >= 1
    assert job.message.startswith("符合") and job.percent == 100
    assert "test-new-bonus" in {m.policy_id for m in matching.results.matches_for(ELIGIBLE)}
    latest = _events(web_engine, RunPublished.type)[0]
    assert latest.kind == "policy" and latest.policies == ("test-new-bonus",)

    # A publication that a later full run read is not re-matched again.
    catalogue.save(NEW_ABOVE_SCALE_BONUS.replace("追加奖励", "追加奖励（修订）"), department=HLJ_DEPARTMENT,
                   author="alice")
    catalogue.publish("test-new-bonus", AS_OF, published_by="alice")
    with web_engine.begin() as connection:  # as if published a minute before the full run read the catalogue
        connection.execute(update(outbox).where(outbox.c.dispatched_at.is_(None))
                           .values(created_at=datetime.now(UTC) - timedelta(minutes=1)))
    matching.full_run(as_of=AS_OF)
    [job] = _drain(web_engine, matching)
    assert job.result["skipped"] == "included"


def test_a_changed_enterprise_is_rematched_by_a_job(web_engine, matching):
    matching.full_run(as_of=AS_OF)
    _drain(web_engine, matching)
    RegistryService(web_engine).changed([ELIGIBLE, ELIGIBLE], source="edit")
    [job] = _drain(web_engine, matching)
    assert job.name == "matching.rematch_changed" and job.status == "done" and job.subject == f"enterprise:{ELIGIBLE}"
    latest = _events(web_engine, RunPublished.type)[0]
    assert latest.kind == "enterprise" and latest.enterprises == (ELIGIBLE,)


def test_the_nightly_full_run_is_registered() -> None:
    import qinqing.matching.service  # noqa: F401  (registers its jobs)

    schedule = jobs.REGISTRY.schedules["matching.nightly_full_run"]
    assert str(schedule.when) == "daily 02:00"
    assert jobs.REGISTRY.handlers["matching.rematch_published"].event_type == "catalogue.policy_published"


def test_a_bulk_publication_is_matched_by_one_full_run(web_engine, catalogue, matching, monkeypatch):
    """A catalogue load publishes thousands of policies at once: the first re-match job makes one full run
    instead of re-matching each policy against the registry; the other jobs find themselves included in
    it (those emitted within READ_MARGIN of its read, here all of them, re-match singly: cheap)."""
    from qinqing.matching import service as matching_service

    monkeypatch.setattr(matching_service, "FULL_RUN_FROM", 3)
    matching.full_run(as_of=AS_OF)
    _drain(web_engine, matching)
    for n in range(4):
        text = NEW_ABOVE_SCALE_BONUS.replace("id: test-new-bonus", f"id: test-new-bonus-{n}")
        entry = catalogue.save(text, department=HLJ_DEPARTMENT, author="loader")
        catalogue.publish(entry.policy_id, AS_OF, published_by="loader")
    ran = [j for j in _drain(web_engine, matching) if j.name == "matching.rematch_published"]
    assert len(ran) == 4 and all(j.status == "done" for j in ran)
    assert ran[0].result.get("full_run") is True
    assert not any(j.result.get("full_run") for j in ran[1:])  # the full run read every publication
    assert {f"test-new-bonus-{n}" for n in range(4)} <= {m.policy_id for m in matching.results.matches_for(ELIGIBLE)}
