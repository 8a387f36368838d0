"""Snippets: the best passage of a text for a query, with its matches marked.

Pure functions. The query module supplies the surface forms of the query's
words (the index's own unstemmed words whose stem is a query term), so
finding matches is a plain text search of the stored text, not a
re-analysis of it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

SNIPPET_CHARS = 220
MAX_MATCHES = 60  # enough to find a good window; long reports can have hundreds


@dataclass(frozen=True)
class Snippet:
    """A passage and the character spans of its matches."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def html(self) -> str:
        """HTML-escaped text with matches in ``<mark>``; nothing else is markup."""
        out: list[str] = []
        last = 0
        for start, end in self.spans:
            out.append(html.escape(self.text[last:start]))
            out.append("<mark>" + html.escape(self.text[start:end]) + "</mark>")
            last = end
        out.append(html.escape(self.text[last:]))
        return "".join(out)

    def marked(self, before: str, after: str) -> str:
        """The text with each match wrapped in ``before``/``after`` (ANSI codes, say)."""
        return mark_spans(self.text, self.spans, before, after)


def mark_spans(text: str, spans: Iterable[tuple[int, int]], before: str, after: str) -> str:
    """``text`` with each ``(start, end)`` span wrapped in ``before`` and ``after``."""
    out: list[str] = []
    last = 0
    for start, end in spans:
        out += [text[last:start], before, text[start:end], after]
        last = end
    out.append(text[last:])
    return "".join(out)


class WordFinder:
    """Finds whole, case-insensitive occurrences of a set of words.

    ``str.find`` on a lower-cased copy, one word at a time: on report pages
    this is about 3x faster than one regular expression with an alternation.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted({w.lower() for w in words if w}, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self.words)

    def spans(self, text: str, limit: int, lowered: str | None = None) -> list[tuple[int, int]]:
        """Match spans in ``text``, in order; ``lowered`` is ``text.lower()`` if already made."""
        lowered = text.lower() if lowered is None else lowered
        if len(lowered) != len(text):  # a rare character whose lower case is longer
            pattern = "|".join(map(re.escape, self.words))
            found = [
                (m.start(), m.end())
                for m in re.finditer(rf"(?<!\w)(?:{pattern})(?!\w)", text, re.I)
            ]
            return found[:limit]
        found = []
        size = len(lowered)
        for word in self.words:
            start = lowered.find(word)
            while start >= 0:
                end = start + len(word)
                if (start == 0 or not lowered[start - 1].isalnum()) and (
                    end == size or not lowered[end].isalnum()
                ):
                    found.append((start, end))
                start = lowered.find(word, start + 1)
        found.sort()
        spans: list[tuple[int, int]] = []
        for start, end in found:
            if not spans or start >= spans[-1][1]:
                spans.append((start, end))
                if len(spans) >= limit:
                    break
        return spans


def _clip(text: str, start: int, end: int) -> tuple[int, int]:
    """Move a window's ends out to whitespace so no word is cut."""
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and start - space < 30 else start
    if end < len(text):
        space = text.find(" ", end)
        end = space if space >= 0 and space - end < 30 else end
    return start, end


def one_line(text: str) -> str:
    """The text on one line with single spaces, as snippets are cut from it."""
    line = text.replace("\n", " ")
    return line if "  " not in line else " ".join(line.split())


def make_snippet(
    text: str, finder: WordFinder | None, size: int = SNIPPET_CHARS, *, lowered: str | None = None
) -> Snippet:
    """The window of about ``size`` characters with the most distinct matched words.

    Ties go to more matches, then to the earlier window. Without matches the
    text's opening is returned. A caller that keeps the text already on one
    line (``one_line``) gives it with its lower case as ``lowered``.
    """
    flat = one_line(text) if lowered is None else text
    matches = finder.spans(flat, MAX_MATCHES, lowered) if finder else []
    if not matches:
        start, end = _clip(flat, 0, min(len(flat), size))
        return Snippet(flat[:end] + (" …" if end < len(flat) else ""))
    words = [flat[a:b].lower() for a, b in matches]
    in_window: dict[str, int] = {}
    best = (0, 0)  # (distinct words, matches); the earliest window wins ties
    best_index = 0
    right = -1
    for left in range(len(matches)):
        while right + 1 < len(matches) and matches[right + 1][1] - matches[left][0] <= size:
            right += 1
            in_window[words[right]] = in_window.get(words[right], 0) + 1
        score = (len(in_window), right - left + 1)
        if score > best:
            best, best_index = score, left
        count = in_window.get(words[left], 0) - 1
        if count > 0:
            in_window[words[left]] = count
        else:
            in_window.pop(words[left], None)
    first_start = matches[best_index][0]
    lead = min(first_start, size // 4)
    start, end = _clip(flat, first_start - lead, min(len(flat), first_start + size))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    shift = len(prefix) - start
    spans = tuple((a + shift, b + shift) for a, b in matches if a >= start and b <= end)
    return Snippet(prefix + flat[start:end] + suffix, spans)
