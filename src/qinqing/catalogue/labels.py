"""Chinese names for what officers and enterprises read: a policy file's keys, conditions numbered 条件一/二…"""

from __future__ import annotations

import re
from typing import Any

KEY_LABELS = {
    "id": "政策编号", "title": "政策名称", "issuer": "发布机关", "document": "文件名称/文号", "level": "层级",
    "region": "适用地区", "industries": "适用行业", "support_type": "扶持方式", "mode": "兑现方式",
    "valid_from": "有效期起", "valid_to": "有效期止", "budget": "资金预算", "source": "来源", "url": "原文链接",
    "publisher": "发布单位", "retrieved": "采集日期", "conditions": "申报条件", "clause": "原文条款",
    "expr": "表达式", "benefit": "扶持标准", "cap": "最高金额", "materials": "申报材料", "note": "备注",
    "rounding": "取整方式", "digits": "小数位数",
}
_PART = re.compile(r"[A-Za-z_]+|\d+")
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九; other numbers in digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def condition_label(index: int) -> str:
    """条件一, 条件二, … for the condition at ``index`` (0-based)."""
    return "条件" + chinese_number(index + 1)


def path_label(path: str | tuple[Any, ...] | list[Any] | None) -> str:
    """``conditions.0.expr`` (or ``$.conditions[0].expr``) → ``申报条件 › 条件一 › 表达式``."""
    if path is None:
        return ""
    parts = [str(p) for p in path] if isinstance(path, (tuple, list)) else _PART.findall(path)
    shown: list[str] = []
    for i, part in enumerate(parts):
        if part.isdigit():
            shown.append(condition_label(int(part)) if i and parts[i - 1] == "conditions" else f"第{int(part) + 1}项")
        else:
            shown.append(KEY_LABELS.get(part, part))
    return " › ".join(shown)

