"""Search semantics (issue 16.4): every term must match (itself or a synonym), BM25 ranks, matches are marked."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.catalogue.parse import parse_policy
from qinqing.search import SearchDocument, SearchIndex, policy_document, query_terms, tokenize
from qinqing.search.bm25 import BM25Index
from qinqing.search.highlight import segments, snippet

ROOT = Path(__file__).resolve().parents[2]

CORPUS = [
    SearchDocument("rd", "企业研发费用补助", "对研发投入给予补助"),
    SearchDocument("award", "新增限额以上商贸企业奖励", "当年新增限额以上商贸企业给予奖励"),
    SearchDocument("rd_award", "科研平台奖励", "新建研发机构"),
    SearchDocument("jobs", "稳岗返还", "失业保险稳岗返还"),
    SearchDocument("zone", "开发区招商", "入驻开发区的企业给予支持"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("研发 补助", {"rd", "rd_award"}),  # 奖励 stands for 补助, 科研 for 研发; the 商贸 award has no 研发
        ("研发补助", {"rd", "rd_award"}),  # one string, two words: still both required
        ("补助", {"rd", "award", "rd_award"}),  # 奖励 ≈ 补助; 支持 is not a subsidy word
        ("研发", {"rd", "rd_award"}),  # 开发区 is not 研发
        ("稳岗 研发", set()),  # no policy has both
        ("稳岗", {"jobs"}),
        ("失业保险 稳岗返还", {"jobs"}),
        ("的 和", set()),  # stop words only: no terms, nothing found
        ("   ", set()),
    ],
)
def test_every_term_must_match(query, expected):
    assert {h.key for h in SearchIndex(CORPUS).search(query)} == expected


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("研发 补助", ["研发", "补助"]),
        ("研发费用补助", ["研发费用", "补助"]),
        ("专精特新小巨人的奖励", ["专精特新", "小巨人", "奖励"]),
        ("补助 补助", ["补助"]),
        ("C39 制造", ["c39", "制造"]),
    ],
)
def test_query_terms(query, terms):
    assert [t.word for t in query_terms(query)] == terms


def test_synonyms_are_alternatives_of_their_term_only():
    (term,) = query_terms("补助")
    assert "奖励" in term.synonyms and "补贴" in term.synonyms and "支持" not in term.synonyms


# Three documents [a b], [b], [c]: N = 3, average length 4/3.
# idf(a) = idf(c) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)) = ln(8/3); idf(b) = ln(1 + 1.5 / 2.5) = ln 1.6.
# tf = 1, k1 = 1.5, b = 0.75: length 2 → norm 0.25 + 0.75 * 2 / (4/3) = 1.375 → 2.5 / (1 + 1.5 * 1.375) = 2.5 / 3.0625;
#                            length 1 → norm 0.25 + 0.75 * 0.75 = 0.8125 → 2.5 / (1 + 1.5 * 0.8125) = 2.5 / 2.21875.
LONG = 2.5 / 3.0625
SHORT = 2.5 / 2.21875


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        # one term, "a" or its synonym "c" at 0.7: d0 by a, d2 by c, d1 not at all
        ([[("a", 1.0), ("c", 0.7)]], [math.log(8 / 3) * LONG, None, 0.7 * math.log(8 / 3) * SHORT]),
        # and "b" as well: only d0 has both; d1 has b but no a/c, d2 has c but no b
        ([[("a", 1.0), ("c", 0.7)], [("b", 1.0)]], [math.log(8 / 3) * LONG + math.log(1.6) * LONG, None, None]),
        # a term found nowhere leaves nothing
        ([[("z", 1.0)]], [None, None, None]),
    ],
)
def test_bm25_and_scores_by_hand(terms, expected):
    scores = BM25Index([["a", "b"], ["b"], ["c"]]).match_scores(terms)
    assert [None if s is None else pytest.approx(s) for s in scores] == expected


def test_own_words_rank_above_synonyms():
    hits = SearchIndex(CORPUS).search("研发 补助")
    assert [h.key for h in hits] == ["rd", "rd_award"]
    # rd holds 研发, 研发费用 (title) and 研发投入 (body): all forms of the one term 研发
    assert set(hits[0].matched) == {"研发", "研发费用", "研发投入", "补助"} and set(hits[1].matched) == {"研发", "科研", "奖励"}


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("企业研发费用补助", ["研发", "研发费用", "补助"],
         [("企业", False), ("研发费用", True), ("补助", True)]),  # the longest form wins where forms overlap
        ("C39制造业", ["c39"], [("C39", True), ("制造业", False)]),  # case-insensitive, original case kept
        ("稳岗返还", [], [("稳岗返还", False)]),
        ("补助补助", ["补助"], [("补助", True), ("补助", True)]),
        ("", ["补助"], []),
    ],
)
def test_highlight_segments(text, words, expected):
    assert segments(text, words) == expected


@pytest.mark.parametrize(
    ("text", "words", "width", "expected"),
    [
        ("一二三四五六七八九十研发甲乙丙丁戊己庚辛壬癸", ["研发"], 4, "…七八九十研发甲乙丙丁…"),
        ("研发在前", ["研发"], 4, "研发在前"),
        ("没有命中的文字", ["研发"], 4, ""),
    ],
)
def test_snippet_around_the_first_match(text, words, width, expected):
    assert snippet(text, words, width=width) == expected


def _shipped():
    policies = [parse_policy(p.read_text(encoding="utf-8"), p.stem) for p in sorted((ROOT / "policies").rglob("*.yaml"))
                if not p.name.endswith(".scenarios.yaml")]
    return SearchIndex(policy_document(p) for p in policies)


def test_shipped_catalogue_rd_subsidy_narrows():
    # 研发 appears (as 研发 or 研发费用) in exactly these three shipped policies, and each offers a 补助/资助/奖励.
    hits = _shipped().search("研发 补助")
    assert {h.key for h in hits} == {
        "hechuan-2017-rd-investment", "pudong-2024-little-giant-rd-grant", "pudong-2024-srdi-rd-grant"}
    assert all("研发" in h.matched or "研发费用" in h.matched for h in hits)


VOCABULARY = ["研发", "科研", "补助", "奖励", "资助", "稳岗", "失业保险", "开发区", "技术改造", "技改", "贴息", "招商", "平台"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6), min_size=1, max_size=8),
       st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3))
def test_search_finds_exactly_the_documents_holding_every_term(bodies, query_words):
    # The rule stated plainly, checked against the index (which narrows by postings before it scores):
    # a document matches when, for every query word, its text holds the word or its tokens a synonym.
    documents = [SearchDocument(f"d{i}", "", "".join(words)) for i, words in enumerate(bodies)]
    terms = query_terms(" ".join(query_words))
    expected = {
        d.key for d in documents
        if all(t.word in d.body.lower() or t.synonyms & set(tokenize(d.body)) for t in terms)
    }
    assert {h.key for h in SearchIndex(documents).search(" ".join(query_words))} == expected
