"""SQL LIKE without backtracking: ``%`` any run of characters, ``_`` exactly one, everything else itself.

Case-sensitive and with no escape character, as DuckDB and Spark read the patterns the checker admits
(check.py refuses backslashes and ``ESCAPE``). A regular expression of ``.*`` per ``%`` backtracks:
19 ``%`` made one evaluation take seconds (review issue 12). Here the pattern is cut at each ``%`` into
segments; the first must match at the start, the last at the end, and each one between at its leftmost
place after the previous one, which is optimal because a ``%`` on both sides absorbs whatever lies
between. The cost is at most len(text) × len(pattern) character comparisons.
"""

from __future__ import annotations

from collections.abc import Callable

ANY_RUN, ANY_ONE = "%", "_"


def like_matcher(pattern: str) -> Callable[[str], bool]:
    """A function telling whether a text matches ``pattern``."""
    if ANY_RUN not in pattern:
        segment = pattern
        return lambda text: len(text) == len(segment) and _matches_at(text, 0, segment)
    first, *middle, last = pattern.split(ANY_RUN)
    middle = [m for m in middle if m]
    least = len(first) + len(last) + sum(map(len, middle))

    def match(text: str) -> bool:
        if len(text) < least or not _matches_at(text, 0, first):
            return False
        end = len(text) - len(last)
        if not _matches_at(text, end, last):
            return False
        at = len(first)
        for segment in middle:
            found = _find(text, segment, at, end)
            if found < 0:
                return False
            at = found + len(segment)
        return True

    return match


def like(text: str, pattern: str) -> bool:
    """``text LIKE pattern``."""
    return like_matcher(pattern)(text)


def _matches_at(text: str, at: int, segment: str) -> bool:
    """Whether ``segment`` (literal characters and ``_``) matches ``text[at:at + len(segment)]``."""
    if ANY_ONE not in segment:
        return text.startswith(segment, at)
    part = text[at : at + len(segment)]
    return len(part) == len(segment) and all(p == ANY_ONE or p == t for p, t in zip(segment, part))


def _find(text: str, segment: str, start: int, end: int) -> int:
    """The leftmost place in [start, end - len(segment)] where ``segment`` matches, or -1."""
    if ANY_ONE not in segment:
        return text.find(segment, start, end)
    # Anchor on the longest literal piece, so most places are skipped by str.find, not compared one by one.
    pieces = [(len(p[1]), -i, p) for i, p in enumerate(_pieces(segment))]
    if not pieces:  # only underscores: any place with room
        return start if end - start >= len(segment) else -1
    _, _, (offset, literal) = max(pieces)
    at = start
    while at + len(segment) <= end:
        hit = text.find(literal, at + offset, end - (len(segment) - offset - len(literal)))
        if hit < 0:
            return -1
        at = hit - offset
        if _matches_at(text, at, segment):
            return at
        at += 1
    return -1


def _pieces(segment: str) -> list[tuple[int, str]]:
    """The runs of literal characters in ``segment``, each with its offset."""
    out, start = [], None
    for i, ch in enumerate(segment + ANY_ONE):
        if ch == ANY_ONE:
            if start is not None:
                out.append((start, segment[start:i]))
                start = None
        elif start is None:
            start = i
    return out
