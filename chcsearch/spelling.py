"""Spelling: "did you mean" from the index's own words.

``misspellings`` finds the words of a planned query the index does not know
and the best correction of each (``correction``: the closest, then
commonest, word of the generation's spelling vocabulary, by
``edit_distance``; ``code_prefix``: ``G40*`` for an unknown code).
``corrected_text`` puts them into the query text. ``suggest`` and
``edit_distance`` are pure.

Not here: running the corrected query, or completions for what someone is
typing (``Searcher.suggest`` in ``chcsearch.query``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from . import schema as S
from .deadline import NEVER, Deadline
from .plan import _OPERATORS, _WORD, CHECK_EVERY, FIELD_BOOSTS, QueryPlan, _stems

if TYPE_CHECKING:
    from .query import _Generation

_FIELD_PREFIX = re.compile(r"(?<![\w:])(\w+):")


def is_known(gen: _Generation, word: str) -> bool:
    """Whether the index has one of the word's stems in a scored field (a stop word: yes)."""
    reader = gen.searcher.reader()
    stems = list(_stems(word))
    if not stems:
        return True  # a stop word: nothing to correct
    return any(reader.doc_frequency(f, s) for s in stems for f in FIELD_BOOSTS)


def misspellings(gen: _Generation, plan: QueryPlan, deadline: Deadline = NEVER) -> dict[str, str]:
    """Words of the query the index does not know, with their best correction."""
    corrections: dict[str, str] = {}
    for word in _query_words(plan.text):
        deadline.check()
        if word not in corrections and not is_known(gen, word):
            better = correction(gen, word.lower(), deadline)
            if better is None and any(c.isdigit() for c in word):
                better = code_prefix(gen, word)
            if better:
                corrections[word] = better
    return corrections


def code_prefix(gen: _Generation, word: str) -> str | None:
    """``G40*`` for an unknown code such as ``G40`` when the index has ``g40x``."""
    reader = gen.searcher.reader()
    stems = _stems(word)
    if len(stems) == 1 and any(True for _ in reader.expand_prefix(S.BODY, stems[0])):
        return word + "*"
    return None


def correction(gen: _Generation, word: str, deadline: Deadline = NEVER) -> str | None:
    """The best correction of an unknown (lower-case) word from the index's spelling words.

    The spelling vocabulary is read once per generation and kept on it.
    """
    reader = gen.searcher.reader()
    if gen.vocabulary is None:  # kept only once complete
        words: set[str] = set()
        for fieldname in ("spell_body", "spell_title"):
            if fieldname in reader.schema.names():
                for n, term in enumerate(reader.lexicon(fieldname)):
                    if not n % 4096:
                        deadline.check()
                    text = term.decode("utf-8") if isinstance(term, bytes) else term
                    if text.isalpha():
                        words.add(text)
        by_letter: dict[str, list[str]] = {}
        for text in sorted(words):
            by_letter.setdefault(text[0], []).append(text)
        gen.vocabulary = by_letter

    def frequency(candidate: str) -> int:
        return sum(reader.doc_frequency(f, candidate) for f in ("spell_body", "spell_title"))

    # suggest() keeps candidates that share the first letter or swap the first two
    letters = {word[0], word[1]} if len(word) > 1 else {word[0]}
    candidates = [w for letter in letters for w in gen.vocabulary.get(letter, ())]
    return suggest(word, candidates, frequency, deadline=deadline)


def corrected_text(text: str, corrections: dict[str, str]) -> str:
    """``text`` with each corrected word replaced."""
    return _WORD.sub(lambda m: corrections.get(m.group(), m.group()), text)


def _query_words(text: str) -> list[str]:
    """The plain words of a query: no operators, field names or wildcard terms."""
    without_fields = _FIELD_PREFIX.sub(" ", text)
    words: list[str] = []
    for token in without_fields.replace("(", " ").replace(")", " ").replace('"', " ").split():
        bare = token.lstrip("+-")
        if bare in _OPERATORS or "*" in bare or "?" in bare:
            continue
        words.extend(w for w in _WORD.findall(bare) if not w.isdigit())
    return words


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def suggest(
    word: str,
    vocabulary: Iterable[str],
    frequency: Callable[[str], int],
    *,
    deadline: Deadline | None = None,
) -> str | None:
    """The closest, then commonest, word of the vocabulary (at most 2 edits; 1 for short words).

    Candidates must share the first letter (or swap the first two) and be of a
    close length; only the closest few are looked up for their frequency.
    ``deadline`` is checked as the candidates are read.
    """
    limit = 1 if len(word) <= 4 else 2
    found: list[tuple[int, str]] = []
    check = (deadline or NEVER).check
    for n, candidate in enumerate(vocabulary):
        if not n % CHECK_EVERY:
            check()
        if abs(len(candidate) - len(word)) > limit or candidate == word:
            continue
        if candidate[0] != word[0] and (len(word) < 2 or candidate[:2] != word[1::-1]):
            continue
        distance = edit_distance(word, candidate, limit)
        if distance <= limit:
            found.append((distance, candidate))
    if not found:
        return None
    closest = min(d for d, _ in found)
    return min((-frequency(c), c) for d, c in found if d == closest)[1]
