"""Chinese names for what officers and enterprises read: a policy file's keys, conditions numbered 条件一/二…"""

from __future__ import annotations

import re
from typing import Any

from qinqing.rules.labels import KEY_LABELS

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

