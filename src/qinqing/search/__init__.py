"""Chinese full-text search of policies: jieba tokens, every term required, BM25 ranking, synonyms, highlights."""

from qinqing.search.highlight import segments, snippet
from qinqing.search.index import Hit, SearchDocument, SearchIndex, Term, policy_document, query_terms
from qinqing.search.tokenize import tokenize

__all__ = ["Hit", "SearchDocument", "SearchIndex", "Term", "policy_document", "query_terms", "segments",
           "snippet", "tokenize"]
