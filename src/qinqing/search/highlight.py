"""Where a result's matched words are: text cut into (piece, matched) segments, and a snippet around the
first match. Matching ignores case; the text keeps its own."""

from __future__ import annotations

from collections.abc import Iterable


def segments(text: str, words: Iterable[str]) -> list[tuple[str, bool]]:
    """``text`` as consecutive pieces, each marked True where it is one of ``words`` (longest first).

    >>> segments("研发费用补助", ["研发", "补助"])
    [('研发', True), ('费用', False), ('补助', True)]
    """
    forms = sorted({w.lower() for w in words if w}, key=len, reverse=True)
    lowered = text.lower()
    out: list[tuple[str, bool]] = []
    plain_start = i = 0
    while i < len(text):
        form = next((f for f in forms if lowered.startswith(f, i)), None)
        if form is None:
            i += 1
            continue
        if plain_start < i:
            out.append((text[plain_start:i], False))
        out.append((text[i:i + len(form)], True))
        i += len(form)
        plain_start = i
    if plain_start < len(text):
        out.append((text[plain_start:], False))
    return out


def snippet(text: str, words: Iterable[str], width: int = 40) -> str:
    """Up to ``width`` characters either side of the first matched word ("…" where cut); "" without one."""
    lowered = text.lower()
    positions = [(lowered.find(w.lower()), w) for w in words if w and w.lower() in lowered]
    if not positions:
        return ""
    start, word = min(positions, key=lambda p: (p[0], -len(p[1])))
    left = max(0, start - width)
    right = min(len(text), start + len(word) + width)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
