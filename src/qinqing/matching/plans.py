"""The published catalogue as compiled plans, each policy version compiled once and kept.

A run, a web worker or a preview needs the fast path's plan of every published version
(engines/plan.py). Compiling 46,000 policies costs minutes, and parsing their YAML a minute more, so a
plan is compiled the first time a version is read, stored in the catalogue's database beside the
version (``catalogue.compiled``, keyed by ``plan.compiler_version()``, a hash of the code that
compiles) and read back from then on: a restart with unchanged policies parses and compiles nothing.
A plan that holds the reference date (a policy reading ``as_of``) is stored per date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy.engine import Engine

from qinqing.catalogue import CatalogueStore
from qinqing.catalogue.compiled import CompiledForm, load_compiled, save_compiled
from qinqing.matching.engines.plan import (
    PolicyPlan,
    compiler_version,
    plan_from_json,
    plan_policy,
    plan_to_json,
)

PLAN_KIND = "fast-path-plan"
Progress = Callable[[int, int], None]


@dataclass
class PublishedPlans:
    """Plans of every published version (expired ones included: runs select by date), the versions
    that could not be planned (policy id → Chinese reason), and how many were compiled now."""

    plans: list[PolicyPlan]
    refused: dict[str, str] = field(default_factory=dict)
    compiled: int = 0
    revision: tuple[int, int] = (0, 0)  # CatalogueStore.revision() when read

    @property
    def versions(self) -> dict[str, int]:
        return {p.policy_id: p.version for p in self.plans if p.version is not None}


COMPILATIONS = 0  # plans compiled by this process (tests count them: a restart must compile none)


def published_plans(engine: Engine, as_of: date, *, progress: Progress | None = None) -> PublishedPlans:
    """The plan of every published version as of ``as_of``, from the store where it is there;
    the others are compiled now and stored for the next reader."""
    global COMPILATIONS
    from qinqing.catalogue.errors import CatalogueError
    from qinqing.catalogue.parse import parse_policy
    from qinqing.rules import RuleError

    store = CatalogueStore(engine)
    revision = store.revision()
    entries = store.published()
    compiler = compiler_version()
    stored = load_compiled(engine, PLAN_KIND, compiler)
    day = as_of.isoformat()
    plans: list[PolicyPlan] = []
    refused: dict[str, str] = {}
    new: list[CompiledForm] = []
    for done, entry in enumerate(entries, 1):
        text = stored.get((entry.policy_id, entry.version, "")) or stored.get((entry.policy_id, entry.version, day))
        if text is not None:
            plans.append(plan_from_json(text, entry.version))
        else:
            try:
                plan = replace(plan_policy(parse_policy(entry.yaml_text, entry.policy_id), as_of), version=entry.version)
            except CatalogueError as error:
                refused[entry.policy_id] = f"已发布的版本无法解析：{error.message}"
                continue
            except (RuleError, RecursionError) as error:
                refused[entry.policy_id] = getattr(error, "message", None) or str(error) or type(error).__name__
                continue
            COMPILATIONS += 1
            plans.append(plan)
            new.append(CompiledForm(entry.policy_id, entry.version, day if plan.reads_as_of else "", plan_to_json(plan)))
        if progress is not None and (done % 1000 == 0 or done == len(entries)):
            progress(done, len(entries))
    save_compiled(engine, PLAN_KIND, compiler, new)
    return PublishedPlans(plans, refused, len(new), revision)
