"""The web layer's services: each checks authorisation and does the work; routes only translate HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts import AccountService
from qinqing.catalogue import CatalogueStore
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
    catalogue: CatalogueStore
    library: PolicyLibrary
    profiles: ProfileService
    matches: MatchService
    editor: EditorService
    supervision: SupervisionService
    users: UserAdminService
    results: Any | None

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
    catalogue = CatalogueStore(engine)
    library = PolicyLibrary(catalogue)
    profiles = ProfileService(engine)
    results = open_results(results_dir)
    matches = MatchService(library, profiles, results)
    editor = EditorService(engine, catalogue, on_publish=_rematcher(engine, results, settings))
    supervision = SupervisionService(engine, library, results)
    users = UserAdminService(engine, accounts)
    return Services(settings, engine, accounts, catalogue, library, profiles, matches, editor, supervision, users,
                    results)


def _rematcher(engine: Engine, results: Any | None, settings: Settings):
    """After publishing: re-match only that policy into the results store (when there is a store)."""
    if results is None:
        return None

    def rematch(policy) -> None:
        if results.current_run() is None:
            return  # no run yet: the first full run will include the policy
        from qinqing.matching.run import rematch_policy
        from qinqing.registry.store import to_arrow

        rematch_policy(policy, to_arrow(engine), results, settings.today())

    return rematch
