"""An officer's remit: the policies a department may publish on its own authority.

A policy published by an officer must be issued in the name of the officer's department, apply within
the officer's region, and have the level of its region (国家 ↔ 100000, 省 ↔ a province, 市 ↔ a city,
区县 ↔ a county). Anything wider is published only after a supervisor approves that very version.
"""

from __future__ import annotations

from qinqing.catalogue.errors import Problem
from qinqing.registry.standards import regions
from qinqing.rules.model import NATIONAL_REGION, Policy

LEVEL_OF_REGION = {"province": "省", "city": "市", "county": "区县"}


def region_level(code: str) -> str | None:
    """The policy level (国家 / 省 / 市 / 区县) a region code stands for."""
    if code == NATIONAL_REGION:
        return "国家"
    return LEVEL_OF_REGION.get(regions.level(code) or "")


def remit_problems(policy: Policy, department: str | None, region: str | None) -> list[Problem]:
    """Why ``policy`` lies outside the remit of an officer of ``department`` in ``region``."""
    problems: list[Problem] = []
    if department and policy.issuer != department:
        problems.append(Problem(f"发布机关应为本部门“{department}”，实为“{policy.issuer}”。", path="issuer"))
    if region and not _within(policy.region, region):
        problems.append(Problem(
            f"政策适用地区 {_name(policy.region)} 超出本部门所辖地区 {_name(region)}。", path="region"))
    expected = region_level(policy.region)
    if expected is not None and policy.level != expected:
        problems.append(Problem(
            f"政策层级“{policy.level}”与适用地区 {_name(policy.region)} 不符（应为“{expected}”）。", path="level"))
    return problems


def _within(code: str, ancestor: str) -> bool:
    if ancestor == NATIONAL_REGION:
        return True
    return code != NATIONAL_REGION and regions.within(code, ancestor)


def _name(code: str) -> str:
    if code == NATIONAL_REGION:
        return "全国（100000）"
    return f"{regions.full_name(code) or '未知地区'}（{code}）"
