"""A policy's region and industries, as the implicit conditions ``region`` and ``industries``."""

from __future__ import annotations

from qinqing.rules.model import NATIONAL_REGION, Condition, Policy


def region_prefix(code: str) -> str:
    """The region_code prefix shared by every place within ``code`` (GB/T 2260 digits: 2 province, 2 city, 2 county)."""
    from qinqing.registry.standards import regions

    level = regions.level(code)
    if level == "province" or (level is None and code.endswith("0000")):
        return code[:2]
    if level == "city" or (level is None and code.endswith("00")):
        return code[:4]
    return code


def implicit_conditions(policy: Policy) -> list[Condition]:
    """Conditions that the policy's scope adds before its own, in this order: region, industries."""
    out = []
    if policy.region != NATIONAL_REGION:
        prefix = region_prefix(policy.region)
        out.append(
            Condition(
                id="region",
                clause=f"注册地在本政策适用地域（{_region_name(policy.region)}，行政区划代码 {policy.region}）内",
                expr=f"STARTS_WITH(region_code, '{prefix}')" if len(prefix) < 6 else f"region_code = '{prefix}'",
            )
        )
    if policy.industries:
        listed = "、".join(policy.industries)
        expr = " OR ".join(f"STARTS_WITH(industry_code, '{p}')" for p in policy.industries)
        out.append(Condition(id="industries", clause=f"所属行业在本政策适用范围内（国民经济行业分类 {listed}）", expr=expr))
    return out


def _region_name(code: str) -> str:
    from qinqing.registry.standards import regions

    return regions.full_name(code) or code
