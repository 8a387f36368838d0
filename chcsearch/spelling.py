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
from .index import term_text
from .plan import _OPERATORS, _WORD, CHECK_EVERY, FIELD_BOOSTS, QueryPlan, _stems

if TYPE_CHECKING:
    from .query import _Generation

_FIELD_PREFIX = re.compile(r"(?<![\w:])(\w+):")


#: A known word is taken for a misspelling ("hart failure") only when it is this rare, a
#: word one edit away is at least REAL_WORD_RATIO times as common, and that word, unlike
#: it, shares documents with the query's other words.
REAL_WORD_MAX_DF = 2
REAL_WORD_RATIO = 50
#: Documents a correction must share with the query's other words to count as fitting.
FITS_DOCS = 1


class SpellIndex:
    """The index's spelling words with their document counts, and their deletes.

    Symmetric deletes (as SymSpell does): every word is filed under itself and each
    form with one letter left out; a word's candidates are the words filed under it
    and its own forms with one or two letters left out, then checked with
    ``edit_distance``. That finds every word one edit away, and the words two edits away
    that need at most one letter left out of them (filing two-letter deletes would find
    the rest, at 8 times the time and memory: 0.6 s more for the CHC site's 12,000
    words). Built once per generation, when a query first needs it: about 0.15 s for the
    CHC site (reading its words from the index, 0.08 s of it filing their deletes).
    """

    def __init__(self, words: Iterable[str], frequency: Callable[[str], int]) -> None:
        self._frequency = frequency
        self._counts: dict[str, int] = {}
        self.deletes: dict[str, list[str]] = {}
        for word in words:
            for form in {word, *_deletes(word)}:
                self.deletes.setdefault(form, []).append(word)

    def count(self, word: str) -> int:
        """In how many documents the word is (read from the index once, then kept)."""
        found = self._counts.get(word)
        if found is None:
            found = self._counts[word] = self._frequency(word)
        return found

    def candidates(self, word: str) -> list[tuple[int, str]]:
        """Words within 1 edit (2 from 5 letters) sharing the first letter or swapping the
        first two, as ``(distance, word)``, closest then commonest first."""
        limit = 1 if len(word) <= 4 else 2
        forms = {word, *_deletes(word)}
        if limit > 1:
            forms |= {two for one in _deletes(word) for two in _deletes(one)}
        found: dict[str, int] = {}
        for form in forms:
            for candidate in self.deletes.get(form, ()):
                if candidate == word or candidate in found:
                    continue
                if candidate[0] != word[0] and candidate[:2] != word[1::-1]:
                    continue
                distance = edit_distance(word, candidate, limit)
                if distance <= limit:
                    found[candidate] = distance
        return sorted(
            ((d, c) for c, d in found.items()), key=lambda dc: (dc[0], -self.count(dc[1]), dc[1])
        )


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def spell_index(gen: _Generation, deadline: Deadline = NEVER) -> SpellIndex:
    """The generation's ``SpellIndex``, built on first use and kept on it."""
    if gen.spell is None:
        reader = gen.searcher.reader()
        words: set[str] = set()
        for fieldname in SPELLING_FIELDS:
            if fieldname not in reader.schema.names():
                continue
            for n, term in enumerate(reader.lexicon(fieldname)):
                if not n % 4096:
                    deadline.check()
                text = term_text(term)
                if text.isalpha():
                    words.add(text)
        gen.spell = SpellIndex(sorted(words), lambda word: spelling_count(gen, word))
    return gen.spell


def spelling_count(gen: _Generation, word: str) -> int:
    """In how many documents the (unstemmed, lower-case) word is, by the spelling fields."""
    reader = gen.searcher.reader()
    return int(max(reader.doc_frequency(f, word) for f in SPELLING_FIELDS))


SPELLING_FIELDS = (S.SPELL_BODY, S.SPELL_TITLE)


def is_known(gen: _Generation, word: str) -> bool:
    """Whether the index has one of the word's stems in a scored field (a stop word: yes)."""
    reader = gen.searcher.reader()
    stems = list(_stems(word))
    if not stems:
        return True  # a stop word: nothing to correct
    return any(reader.doc_frequency(f, s) for s in stems for f in FIELD_BOOSTS)


def _documents(gen: _Generation, word: str) -> frozenset[int]:
    """The documents with the word (any of its stems) in a title or the text."""
    found: set[int] = set()
    for stem in _stems(word):
        for fieldname in (S.BODY, S.TITLE):
            found |= gen.engine.docset(fieldname, stem)
    return frozenset(found)


def _shared(gen: _Generation, word: str, others: frozenset[int]) -> int:
    """How many documents have the word and at least one of the other words."""
    return len(_documents(gen, word) & others)


#: Queries longer than this are descriptions: only their unknown words are corrected.
REAL_WORD_MAX_QUERY = 12
#: Unknown words looked up in one query (each reads candidates and their documents).
MAX_CORRECTED = 32


def misspellings(gen: _Generation, plan: QueryPlan, deadline: Deadline = NEVER) -> dict[str, str]:
    """Words of the query to correct, each with its correction; only on strong evidence:

    - a word the index does not have is replaced by the closest, then commonest, word it
      has that shares a document with the query's other words (with no other words: the
      closest, then commonest, at one edit; an unknown code ``G40`` becomes ``G40*``);
    - a word the index has is replaced only when it is rare (in at most
      ``REAL_WORD_MAX_DF`` documents), a word one edit away is ``REAL_WORD_RATIO`` times
      as common, and only that word shares documents with the other words ("hart
      failure" → "heart failure"; "insect", "through", "too" stay). Stop words and the
      words of queries longer than ``REAL_WORD_MAX_QUERY`` are never taken for errors.
    """
    words = list(dict.fromkeys(w for w in _query_words(plan.text)))
    known = {w: is_known(gen, w) for w in words}
    content = [w for w in words if known[w] and _stems(w)]
    documents: dict[str, frozenset[int]] = {}
    content_lower = {w.lower() for w in content}
    every_content: list[frozenset[int] | None] = []  # for words outside content: built once

    def others_of(word: str) -> frozenset[int] | None:
        """The documents with any other word of the query (None: it has no other words)."""
        if word in content_lower:
            return union_without(word)
        if not every_content:
            every_content.append(union_without(word))
        return every_content[0]

    def union_without(word: str) -> frozenset[int] | None:
        found: set[int] = set()
        any_other = False
        for other in content:
            if other.lower() != word:
                if other not in documents:
                    deadline.check()
                    documents[other] = _documents(gen, other)
                found |= documents[other]
                any_other = True
        return frozenset(found) if any_other else None

    corrections: dict[str, str] = {}
    spell: SpellIndex | None = None
    tried = 0
    for word in words:
        deadline.check()
        lower = word.lower()
        better = None
        if not known[word]:
            tried += 1
            if tried > MAX_CORRECTED:
                break
            spell = spell or spell_index(gen, deadline)
            better = _unknown(gen, spell, lower, others_of(lower))
            if better is None and (any(c.isdigit() for c in word) or len(word) >= 4):
                # the start of words the index has (typed so far, or a code): their prefix
                better = code_prefix(gen, word)
        elif (
            len(words) <= REAL_WORD_MAX_QUERY
            and len(lower) >= 3
            and lower.isalpha()
            and _stems(lower)  # a stop word is never a misspelling
            and 0 < spelling_count(gen, lower) <= REAL_WORD_MAX_DF
        ):
            others = others_of(lower)
            if others is not None and not _shared(gen, lower, others):
                spell = spell or spell_index(gen, deadline)
                better = _real_word(gen, spell, lower, others)
        if better:
            corrections[word] = better
    return corrections


def _unknown(
    gen: _Generation, spell: SpellIndex, word: str, others: frozenset[int] | None
) -> str | None:
    found = spell.candidates(word)
    if others is None:
        return found[0][1] if found and found[0][0] == 1 else None
    fitting = [(d, -_shared(gen, c, others), -spell.count(c), c) for d, c in found]
    fitting = [f for f in fitting if -f[1] >= FITS_DOCS]
    return min(fitting)[3] if fitting else None


def _real_word(
    gen: _Generation, spell: SpellIndex, word: str, others: frozenset[int]
) -> str | None:
    count = spell.count(word)
    best = None
    for distance, candidate in spell.candidates(word):
        if distance > 1 or spell.count(candidate) < REAL_WORD_RATIO * max(count, 1):
            continue
        shared = _shared(gen, candidate, others)
        if shared >= FITS_DOCS and (best is None or shared > best[0]):
            best = (shared, candidate)
    return best[1] if best else None


def code_prefix(gen: _Generation, word: str) -> str | None:
    """``G40*`` for an unknown code such as ``G40`` when the index has ``g40x``; ``epilep*``
    for a word being typed (``epilep``) that begins words the index has."""
    reader = gen.searcher.reader()
    stems = _stems(word)
    if len(stems) == 1 and any(True for _ in reader.expand_prefix(S.BODY, stems[0])):
        return word + "*"
    return None


def corrected_text(text: str, corrections: dict[str, str]) -> str:
    """``text`` with each corrected word replaced."""
    return _WORD.sub(lambda m: corrections.get(m.group(), m.group()), text)


def _query_words(text: str) -> list[str]:
    """The plain words of a query: no operators, field names or wildcard terms."""
    without_fields = _FIELD_PREFIX.sub(" ", text)
    words: list[str] = []
    for token in without_fields.replace("(", " ").replace(")", " ").replace('"', " ").split():
        bare = token.lstrip("+-").split("^", 1)[0]  # a boost (word^2) is not a word
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
