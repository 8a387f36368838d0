"""Snippets: the best passage of a text for a query, with its matches marked.

Pure functions. The query module supplies the surface forms of the query's
words (the index's own unstemmed words whose stem is a query term), so
finding matches is a plain text search of the stored text, not a
re-analysis of it.

Snippets never cut a word. A snippet is a window of the text (about
``size`` characters from its first match, with some text before it), and
each edge of the window that falls inside the text moves to a boundary:

1. A *space boundary* (``is_space_boundary``): the text's start or end, or
   a position next to whitespace. Words in this sense are runs of
   non-whitespace, so "well-being", "https://example.org/a/b", "1,628" and
   "(asthma)" are each one word. The edge moves *out* (widening the window)
   to the nearest space boundary at most ``EDGE_REACH`` characters away; if
   there is none, *in* (narrowing it) by at most ``EDGE_REACH`` characters,
   never past the first match.
2. Failing that (a very long token, or text in a script written without
   spaces), a *break boundary* (``is_break_boundary``), out then in, within
   the same reach: a position between two characters that are not both word
   characters (letters, digits, combining marks), or next to a character of
   a script written without spaces (CJK ideographs, kana), so a CJK text is
   cut between characters and a URL after a "/". A combining mark stays with
   its letter, a zero-width joiner with its neighbours, and a "." "," or
   apostrophe between two word characters joins them ("1,628", "3.5",
   "don't").
3. The exception: an edge more than ``EDGE_REACH`` characters from either
   kind of boundary lies inside one enormous "word" (a run of over
   ``2 * EDGE_REACH`` letters and digits, say a 20 KB token of base64), and
   there the window is cut where it is.

So a snippet is never longer than its window plus ``EDGE_REACH`` at each end
(plus the ellipses), however long the text's words are. Leading and trailing
whitespace is dropped. An ellipsis is shown only where text was left out:
"… " or " …" (with a space) where the cut is at a space boundary, and a bare
"…" attached to the text where the cut is inside a word (cases 2 and 3).
Match spans are positions in the snippet's text, ellipsis included, and
only whole matches inside the window are marked.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

SNIPPET_CHARS = 220
MAX_MATCHES = 60  # enough to find a good window; long reports can have hundreds
EDGE_REACH = 30  # how far a window's edge may move, out or in, to a word boundary
_NON_SPACE = re.compile(r"\S")
_SPACE = re.compile(r"\s")
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)  # match(): up to the last whitespace
_JOINERS = frozenset(".,'\u2019")  # between two word characters: "1,628", "don't"
_ZWJ = "\u200d"


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
    A combining mark next to an occurrence makes it part of a longer word
    ("cafe" is not found in a decomposed "café").
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
                # a letter, digit or combining mark beside it makes it part of a longer word
                if (start == 0 or not _is_word_char(lowered[start - 1])) and (
                    end == size or not _is_word_char(lowered[end])
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


def _is_mark(char: str) -> bool:
    """A combining mark: it belongs to the letter before it."""
    return not char.isascii() and unicodedata.category(char)[0] == "M"


def _is_word_char(char: str) -> bool:
    """A letter, digit or combining mark."""
    return char.isalnum() or _is_mark(char)


def _is_spaceless(char: str) -> bool:
    """A character of a script written without spaces: CJK ideographs and kana."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF66 <= code <= 0xFF9F  # half-width katakana
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B and later
    )


def is_space_boundary(text: str, index: int) -> bool:
    """Whether ``index`` is the text's start or end, or next to whitespace."""
    return index <= 0 or index >= len(text) or text[index - 1].isspace() or text[index].isspace()


def is_break_boundary(text: str, index: int) -> bool:
    """Whether a cut at ``index`` falls between words in the wider sense.

    Space boundaries are break boundaries. So is a position between two
    characters that are not both word characters, or next to a character of
    a script written without spaces, unless the second is a combining mark,
    either is a zero-width joiner, or it splits a "." "," or apostrophe from
    word characters on both sides of it.
    """
    if is_space_boundary(text, index):
        return True
    before, after = text[index - 1], text[index]
    if _ZWJ in (before, after):
        return False
    if _is_mark(after):
        return False
    if _is_spaceless(before) or _is_spaceless(after):
        return True
    before_word, after_word = _is_word_char(before), _is_word_char(after)
    if before_word and after_word:
        return False
    if before in _JOINERS and after_word:
        return not (index >= 2 and _is_word_char(text[index - 2]))
    if after in _JOINERS and before_word:
        return not (index + 1 < len(text) and _is_word_char(text[index + 1]))
    return True


def _move_start(text: str, start: int, limit: int) -> int:
    """``start`` moved to a boundary: out (left), then in, but not past ``limit``."""
    low = max(0, start - EDGE_REACH)
    space = _LAST_SPACE.match(text, max(0, low - 1), start)
    if space:  # just after the last whitespace before the start
        return space.end()
    if low == 0:
        return 0
    high = min(limit, start + EDGE_REACH)
    space = _SPACE.search(text, start, high + 1)
    if space:
        return space.start()
    for candidate in chain(range(start - 1, low - 1, -1), range(start + 1, high + 1)):
        if is_break_boundary(text, candidate):
            return candidate
    return start


def _move_end(text: str, end: int, limit: int) -> int:
    """``end`` moved to a boundary: out (right), then in, but not before ``limit``."""
    size = len(text)
    high = min(size, end + EDGE_REACH)
    space = _SPACE.search(text, end, high + 1)
    if space:
        return space.start()
    if high == size:
        return size
    low = max(limit, end - EDGE_REACH)
    space = _LAST_SPACE.match(text, max(0, low - 1), end)
    if space:
        return space.end()
    for candidate in chain(range(end + 1, high + 1), range(end - 1, low - 1, -1)):
        if is_break_boundary(text, candidate):
            return candidate
    return end


def _cut(
    text: str, start: int, end: int, keep: tuple[int, int], matches: list[tuple[int, int]]
) -> Snippet:
    """The window ``start:end`` with its edges moved to boundaries (module docstring).

    ``keep`` is a span the edges may not move into (the first match), or ``(0, 0)``.
    """
    size = len(text)
    if not is_space_boundary(text, start):
        start = _move_start(text, start, keep[0])
    if start < end and not is_space_boundary(text, end):  # start >= 0, so end > 0
        floor = keep[1] if start < keep[1] <= end else start + 1
        end = _move_end(text, end, floor)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    prefix = suffix = ""
    if start > 0 and _NON_SPACE.search(text, 0, start):
        prefix = "… " if text[start - 1].isspace() else "…"
    if end < size and _NON_SPACE.search(text, end):
        suffix = " …" if text[end].isspace() else "…"
    shift = len(prefix) - start
    spans = tuple((a + shift, b + shift) for a, b in matches if a >= start and b <= end)
    return Snippet(prefix + text[start:end] + suffix, spans)


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
        return _cut(flat, 0, min(len(flat), size), (0, 0), [])
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
    first = matches[best_index]
    lead = min(first[0], size // 4)
    return _cut(flat, first[0] - lead, min(len(flat), first[0] + size), first, matches)
