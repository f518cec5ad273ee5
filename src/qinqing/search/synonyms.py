"""Words that policies use interchangeably; a query word also finds its synonyms, at a lower weight.

A group holds nouns a reader would accept for one another in a policy's title or clauses. Generic verbs
("支持") are left out: nearly every policy 支持 something, so they would make every term match everything.
Only whole words count (jieba's tokens), so 开发 inside 开发区 never stands for 研发.
"""

from __future__ import annotations

SYNONYM_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "补助 补贴 资助 奖补 奖励 扶持资金",
        "研发 研究开发 研发费用 研发投入 科研",
        "贴息 利息 贷款",
        "稳岗 稳岗返还 失业保险",
        "高企 高新技术企业 高新",
        "技改 技术改造",
        "规上 规模以上 纳统 升规",
        "小巨人 专精特新",
        "上市 挂牌",
        "人才 引进 招用",
        "数字化 智能化 智能制造 数字化车间 智能工厂",
    )
)

SYNONYM_WEIGHT = 0.7

_BY_WORD: dict[str, frozenset[str]] = {}
for _group in SYNONYM_GROUPS:
    for _word in _group:
        _BY_WORD[_word] = _BY_WORD.get(_word, frozenset()) | _group


def synonyms(word: str) -> frozenset[str]:
    """The other words that stand for ``word`` (not including itself)."""
    return _BY_WORD.get(word, frozenset()) - {word}
