"""Build small policies in tests."""

from __future__ import annotations

import yaml

from qinqing.rules import Policy, parse_policy_text

BASE = {
    "id": "test-policy",
    "title": "测试政策",
    "issuer": "测试机关",
    "document": "测试文件",
    "level": "国家",
    "region": "100000",
    "support_type": "奖励",
    "mode": "申报",
    "valid_from": "2023-01-01",
    "source": {"url": "https://example.org/p", "publisher": "测试", "retrieved": "2024-01-01"},
}


def policy_text(conditions: dict[str, str], benefit: dict | None = None, **extra) -> str:
    data = {**BASE, **extra, "conditions": [{"id": k, "clause": f"条款 {k}", "expr": v} for k, v in conditions.items()]}
    if benefit is not None:
        data["benefit"] = {"clause": "奖励条款", **benefit}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def make_policy(conditions: dict[str, str], benefit: dict | None = None, **extra) -> Policy:
    return parse_policy_text(policy_text(conditions, benefit, **extra), "test.yaml")
