"""Demo accounts for `qinqing demo`: enterprise users for a few sample enterprises, an officer, a supervisor
and an admin, all with one printed password."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts import AccountService, Role
from qinqing.accounts.authz import ROLE_LABELS
from qinqing.accounts.errors import UserExists
from qinqing.catalogue import CatalogueStore
from qinqing.registry.service import RegistryService

DEMO_PASSWORD = "qinqing-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str  # the role's value ("enterprise"…)
    note: str  # the enterprise, or the department

    @property
    def role_label(self) -> str:
        """The role as people call it (企业用户, 政策部门, 督查人员, 系统管理员)."""
        return ROLE_LABELS[Role(self.role)]

    def line(self) -> str:
        return f"{self.role_label:<6} {self.username:<12} {self.password:<14} {self.note}"


def sample_enterprises(engine: Engine, results: Any | None = None, count: int = 3) -> list[str]:
    """Enterprises worth showing: most eligible (then unknown) matches in the results store, else the first ones."""
    if results is not None and results.current_run() is not None:
        found = results.top_enterprises(count)
        if found:
            return found
    return RegistryService(engine).first_usccs(count)


def busiest_department(engine: Engine) -> tuple[str, str] | None:
    """(department, region) owning the most policies in the catalogue, for the demo officer."""
    drafts = CatalogueStore(engine).drafts()
    if not drafts:
        return None
    department, _ = Counter(e.department for e in drafts).most_common(1)[0]
    region = next(e.region_code for e in drafts if e.department == department)
    return department, region


def demo_seed(engine: Engine, usccs: Sequence[str] | None = None, *, results: Any | None = None,
              officer_department: str | None = None, officer_region: str | None = None,
              password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """Create the demo accounts (existing ones are kept) and return their logins.

    ``usccs``: the enterprises to make users for (default: :func:`sample_enterprises`). The officer
    belongs to ``officer_department``/``officer_region`` (default: the department owning most catalogue
    policies), so it can edit and publish those policies.
    """
    accounts = AccountService(engine)
    usccs = list(usccs) if usccs is not None else sample_enterprises(engine, results)
    if officer_department is None:
        officer_department, officer_region = busiest_department(engine) or ("演示政策部门", officer_region or "100000")
    names = RegistryService(engine).names(usccs)
    wanted = [
        (f"ent{i}", Role.ENTERPRISE, names.get(uscc) or uscc, {"uscc": uscc}, f"{uscc} {names.get(uscc) or ''}".strip())
        for i, uscc in enumerate(usccs, start=1)
    ]
    wanted += [
        ("officer", Role.OFFICER, f"{officer_department}（演示）",
         {"department": officer_department, "region_code": officer_region or "100000"}, officer_department),
        ("supervisor", Role.SUPERVISOR, "营商办督查员", {}, "营商办"),
        ("admin", Role.ADMIN, "系统管理员", {}, "全部"),
    ]
    logins = []
    for username, role, display, binding, note in wanted:
        try:
            accounts.create_user(username, password, role, display, **binding)
        except UserExists:
            pass
        logins.append(DemoLogin(username, password, role.value, note))
    return logins
