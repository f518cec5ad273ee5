"""Chinese tokenisation for policy search: jieba's search mode, a domain dictionary, stop words."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

# Terms of the field that jieba's general dictionary splits apart; kept whole so that they match as one.
DOMAIN_WORDS = (
    "专精特新", "小巨人", "单项冠军", "规上", "规模以上", "限上", "纳统", "升规", "免申即享", "即申即享",
    "稳岗返还", "贴息", "奖补", "高企", "高新技术企业", "科技型中小企业", "研发费用", "技术改造", "技改",
    "首台套", "数字化车间", "智能工厂", "未来工厂", "失信被执行人", "经营异常名录", "研究开发", "研发投入",
    "扶持资金",
)

_STOP_TEXT = (
    "的 了 和 与 及 或 在 对 为 于 以 按 给予 其 等 是 有 个 将 并 由 从 中 上 下 不 万元 元 每 户 家 年 "
    "企业 政策 关于 若干 措施 通知 办法 实施 细则"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    jieba.setLogLevel(logging.WARNING)
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word, freq=200_000)
    return tokenizer


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``: jieba search mode (words and their sub-words), lower-cased, no stop words.

    >>> tokenize("研发费用补助")
    ['研发', '费用', '研发费用', '补助']
    """
    tokens = []
    for token in _tokenizer().cut_for_search(text):
        token = token.strip().lower()
        if token and _KEEP.search(token) and token not in STOP_WORDS:
            tokens.append(token)
    return tokens


def words(text: str) -> list[str]:
    """The words of a query: jieba's precise mode (no sub-words), lower-cased, no stop words, each once.

    >>> words("研发费用补助 补助")
    ['研发费用', '补助']
    """
    found: dict[str, None] = {}
    for token in _tokenizer().cut(text):
        token = token.strip().lower()
        if token and _KEEP.search(token) and token not in STOP_WORDS:
            found[token] = None
    return list(found)
