"""The web layer's services: each checks who may act and shapes page data; the work is the pieces' services
(``registry.service``, ``catalogue.service``, ``matching.service``, ``accounts.service``), the same the CLI
and the jobs call. Routes only translate HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts import AccountService
from qinqing.catalogue import CatalogueStore
from qinqing.catalogue.service import CatalogueService
from qinqing.jobs.plugins import load_plugins
from qinqing.jobs.runner import Worker
from qinqing.matching.service import MatchingService
from qinqing.registry.service import RegistryService
from qinqing.settings import Settings
from qinqing.web.services.editor import EditorService
from qinqing.web.services.library import PolicyLibrary
from qinqing.web.services.matches import MatchService
from qinqing.web.services.profile import ProfileService
from qinqing.web.services.supervision import SupervisionService
from qinqing.web.services.users import UserAdminService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    accounts: AccountService
    catalogue: CatalogueService
    library: PolicyLibrary
    profiles: ProfileService
    matches: MatchService
    editor: EditorService
    supervision: SupervisionService
    users: UserAdminService
    results: Any | None
    registry: RegistryService
    matching: MatchingService
    worker: Worker  # runs the jobs in this process when started (``qinqing serve`` single-process, tests)

    def today(self) -> date:
        return self.settings.today()


def open_results(root: str | Path | None) -> Any | None:
    """The matching results store at ``root`` when one is configured."""
    if not root:
        return None
    from qinqing.matching.results import ResultStore

    return ResultStore(root)


def build_services(settings: Settings, engine: Engine, results_dir: str | Path | None = None) -> Services:
    accounts = AccountService.from_settings(engine, settings)
    store = CatalogueStore(engine)
    registry = RegistryService(engine)
    results = open_results(results_dir)
    if results_dir:
        settings = settings.model_copy(update={"results_dir": Path(results_dir)})
    matching = MatchingService(engine, settings, results=results, catalogue=store, registry=registry)
    catalogue = CatalogueService(store, estimator=matching)
    library = PolicyLibrary(store)
    profiles = ProfileService(engine)
    matches = MatchService(library, profiles, results)
    load_plugins()
    worker = Worker(engine, settings, resources={"results": results} if results is not None else {},
                    poll_seconds=0.5)
    editor = EditorService(catalogue, matching, on_publish=lambda _entry: worker.wake())
    supervision = SupervisionService(engine, library, results)
    users = UserAdminService(engine, accounts)
    return Services(settings, engine, accounts, catalogue, library, profiles, matches, editor, supervision, users,
                    results, registry, matching, worker)
