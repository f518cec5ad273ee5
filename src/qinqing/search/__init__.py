"""Chinese full-text search of policies: jieba tokens, BM25 ranking, synonym expansion."""

from qinqing.search.index import Hit, SearchDocument, SearchIndex, policy_document
from qinqing.search.tokenize import tokenize

__all__ = ["Hit", "SearchDocument", "SearchIndex", "policy_document", "tokenize"]
