"""Scoring engines: BM25F over postings kept in memory, behind one interface.

``Engine`` is what the ``Searcher`` asks of an engine, and the value algebra
an engine implements. ``_Engine`` keeps values as dictionaries
``{docnum: score}``; ``chcsearch.engine_array._ArrayEngine`` keeps them as
numpy arrays, for large indexes. ``make_engine`` chooses between them
(``ARRAY_ENGINE_DOCS``); both give the same results. Held here too: the
word-coverage bonus (``coordination``), the page bonus, and ranking and
grouping of results.

Not here: planning (``chcsearch.plan``), opening generations, wildcard
expansion, spelling, stored fields and hits (``chcsearch.query``,
``chcsearch.spelling``). numpy is imported by the array engine only, when one
is made.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from typing import Any, Protocol

from . import schema as S
from .deadline import NEVER, Deadline
from .plan import CHECK_EVERY, FIELD_BOOSTS, _positive_leaves
from .results import SearchRequest

from whoosh import query as wq

#: BM25 length normalisation per field: short fields normalise less.
FIELD_B = {"title_B": 0.3, "headings_B": 0.5, "context_B": 0.3, "resource_titles_B": 0.3}
#: Proximity: the best PROXIMITY_DOCS documents of a query of 2 to PROXIMITY_MAX_WORDS
#: words score up to (1 + PROXIMITY_WEIGHT) times more when its words stand together.
PROXIMITY_WEIGHT = 0.3
PROXIMITY_DOCS = 200
PROXIMITY_MAX_WORDS = 12
PROXIMITY_WINDOW = 8
PROXIMITY_FIELDS = (S.BODY, S.TITLE)
#: Coordination: a document's score × (words matched / words in the query) ** power, the
#: power 1 for queries of up to COORD_FULL_WORDS words, falling to 0 (no effect) at
#: COORD_NONE_WORDS: short queries want all their words, long ones are descriptions.
COORD_FULL_WORDS = 5
COORD_NONE_WORDS = 9
PAGE_BONUS = 1.3  # a site page that matches outranks an equally matching report page
# numpy is imported only for indexes this large: a new process answers a small
# site's query without its 150 ms import
ARRAY_ENGINE_DOCS = 10_000
TABLE_BUDGET = 2_000_000  # document entries of the score tables an engine keeps (~200 MB)


Scores = dict[int, float]


class _Tables:
    """Score tables kept between queries, least recently used first out.

    Bounded by the number of entries they hold in all (a document's score in
    a table costs about 100 bytes), so a long-running server does not grow
    with every new word it is asked for. A table is put only once it is
    complete, and is never changed afterwards.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self._tables: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        found = self._tables.get(key)
        if found is None:
            return None
        self._tables.move_to_end(key)
        return found[0]

    def put(self, key: Any, table: Any, size: int) -> Any:
        """Keep ``table``, which holds about ``size`` document entries."""
        replaced = self._tables.pop(key, None)
        if replaced is not None:
            self.held -= replaced[1]
        self._tables[key] = (table, size + 1)
        self.held += size + 1
        while self.held > self.budget and len(self._tables) > 1:
            _, (_, dropped) = self._tables.popitem(last=False)
            self.held -= dropped
        return table


Page = list[tuple[Any, list[tuple[int, float]]]]
Ranked = tuple[Page, int, dict[str, Any], dict[str, Any]]


class Engine(Protocol):
    """What the ``Searcher`` asks of a scoring engine, and the value algebra behind it.

    A *value* is a set of live documents with a score each, in the engine's
    own form: ``{docnum: score}`` in ``_Engine``, a (mask, scores) pair of
    arrays over all documents in ``_ArrayEngine``. Values are never changed
    in place (term tables are shared between queries). ``matches`` walks a
    query once and combines values with the underscored methods below;
    another form of value needs only those. Engines give the same results.
    """

    #: the deadline of the search running now (the Searcher's lock keeps it to one)
    deadline: Deadline
    #: whether that search groups results (``-word`` then drops whole groups)
    group_exclusion: bool
    #: section path → title
    section_titles: dict[str, str]
    #: documents in the index (deleted ones included)
    doc_count: int
    #: (title, URL, breadcrumb) of every page, for suggestions
    pages: list[tuple[str, str, str]]
    #: the document of each page, by its ``src_path``
    page_doc: dict[str, int]
    #: each document's kind (``page``, ``pdf``)
    kind: list[str]

    # ---- what the Searcher calls ---------------------------------------------------

    def matches(self, q: wq.Query, *, words: bool = False) -> Any:
        """The value of every live document ``q`` matches; with ``words``, scaled by
        the share of the query's words each matches (``coordination``)."""

    def docset(self, fieldname: str, text: str) -> frozenset[int]:
        """The live documents containing a term (any field, scored or not)."""

    def term_score(self, fieldname: str, text: str, docnum: int) -> float | None:
        """One document's score for one term (for ``--explain``)."""

    def allowed(self, value: Any, filt: wq.Query | None) -> Any:
        """``value`` without the documents the filter query does not match."""

    def in_years(self, value: Any, low: int, high: int) -> Any:
        """``value`` without the documents whose year is unknown or outside ``low``-``high``."""

    def by_authors(self, value: Any, names: list[set[str]]) -> Any:
        """Documents where one author's name has every word of one of ``names``."""

    def with_page_bonus(self, value: Any) -> Any:
        """``value`` with site pages' scores multiplied by ``PAGE_BONUS``."""

    def with_proximity(self, value: Any, q: wq.Query) -> Any:
        """``value`` with its best documents' scores raised where the query's words stand
        close together, in order (see ``proximity``)."""

    def rank(self, value: Any, request: SearchRequest) -> Ranked:
        """The requested page of results, the number of results, and facet counts."""

    # ---- the value algebra ---------------------------------------------------------

    def _term(self, fieldname: str, text: str, boost: float) -> Any:
        """A term's BM25 scores in one field, times ``boost``."""

    def _none(self) -> Any:
        """No documents."""

    def _all(self) -> Any:
        """Every live document, scored 0."""

    def _pairs(self, pairs: list[tuple[int, float]]) -> Any:
        """The value of (docnum, score) pairs."""

    def _docs(self, value: Any) -> Iterable[int]:
        """The documents of a value."""

    def _top(self, value: Any, count: int) -> list[int]:
        """The ``count`` best documents of a value, by score then document number."""

    def _rescaled(self, value: Any, factors: dict[int, float]) -> Any:
        """``value`` with the scores of the documents in ``factors`` multiplied by them."""

    def _scale(self, value: Any, boost: float) -> Any:
        """Every score times ``boost``."""

    def _keep(self, value: Any, docs: Iterable[int]) -> Any:
        """``value`` with only the documents in ``docs``."""

    def _union(self, results: list[Any], *, coordinate: bool) -> Any:
        """Documents of any result, scores summed; with ``coordinate``, times
        ``coordination`` of how many results each document is in."""

    def _intersect(self, results: list[Any]) -> Any:
        """Documents of every result, scores summed."""

    def _minus(self, value: Any, excluded: Any) -> Any:
        """``value`` without the documents of ``excluded``."""

    def _maybe(self, value: Any, extra: Any) -> Any:
        """``value`` with the scores of ``extra`` added where it has them."""

    def _require(self, value: Any, required: Any) -> Any:
        """``value`` with only the documents of ``required``; scores of ``value``."""

    def _best(self, results: list[Any]) -> Any:
        """Documents of any result, each with its highest score."""

    def _excluded(self, q: wq.Query) -> Any:
        """What ``-word`` (``NOT q``) takes away: documents, or whole groups."""


class _Engine:
    """BM25 scoring over postings read from Whoosh once and kept in memory.

    Whoosh's own matchers cost 5-40 ms for a multi-word OR query over five
    fields on the real corpus; here each (field, term) is read from the index
    once and kept as ``{docnum: BM25 score}``, and a query is a few
    dictionary merges. Phrases and any query type not handled here are
    matched by Whoosh and scored from the same term scores.

    ``matches`` walks the query once; the set algebra it needs (union with
    the bonus for matching more words, intersection, difference, …) are the
    methods below, which ``_ArrayEngine`` provides with numpy arrays for
    large indexes. A "value" is what they pass around: here a dictionary
    ``{docnum: score}`` that callers never change (tables are shared).
    """

    K1 = 1.5

    def __init__(self, searcher: Any, data: dict[str, Any]) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.doc_count: int = data["doc_count"]
        live: list[bool] = data["live"]
        self.live = None if all(live) else live
        self._lengths: dict[str, list[int]] = data["lengths"]
        self._avg = {
            f: (sum(v) / self.doc_count if self.doc_count else 1.0)
            for f, v in self._lengths.items()
        }
        # term scores, documents and positions by term
        self._tables = _Tables(TABLE_BUDGET)
        #: the deadline of the search running now (the Searcher's lock keeps it to one)
        self.deadline: Deadline = NEVER
        #: whether that search groups results (``-word`` then drops whole groups)
        self.group_exclusion = True
        self.group: list[str] = data[S.GROUP]
        self.section: list[str] = [s or "" for s in data[S.SECTION]]
        self.kind: list[str] = data[S.KIND]
        self.section_titles: dict[str, str] = data["section_titles"]
        self.year: list[int | None] = data.get("year") or [None] * self.doc_count
        self.title: list[str] = data.get("title") or [""] * self.doc_count
        #: per document, the words of each author's name (None: no authors)
        self.authors: list[list[list[str]] | None] = data.get("authors") or [None] * self.doc_count
        #: (title, URL, breadcrumb) of every page, for suggestions
        self.pages: list[tuple[str, str, str]] = [(p[0], p[1], p[2]) for p in data.get("pages", [])]
        #: the document of each page, by its ``src_path`` (a page is its own group)
        self.page_doc = {
            self.group[d]: d
            for d in range(self.doc_count)
            if self.kind[d] == "page" and self._alive(d)
        }
        #: site pages' document numbers (they get the page bonus)
        self.page_docs = frozenset(self.page_doc.values())
        #: the documents of each group, in document order (a result's parts)
        self.group_docs: dict[str, list[int]] = {}
        for d in range(self.doc_count):
            if self._alive(d):
                self.group_docs.setdefault(self.group[d], []).append(d)
        #: the section of each group, when all its documents share one (else None)
        sections_of: dict[str, str] | None = {}
        for key, docs in self.group_docs.items():
            found = {self.section[d] for d in docs}
            if len(found) != 1:
                sections_of = None
                break
            sections_of[key] = found.pop()  # type: ignore[index]
        self.group_section = sections_of

    def _alive(self, docnum: int) -> bool:
        return self.live is None or self.live[docnum]

    # ---- postings ---------------------------------------------------------------

    def _bm25(self, fieldname: str, text: str) -> tuple[list[int], list[float]] | None:
        """Live documents containing a scored term, and the term's BM25 score in each."""
        if fieldname not in FIELD_BOOSTS or (fieldname, text) not in self.reader:
            return None
        lengths = self._lengths[fieldname]
        avg = self._avg[fieldname] or 1.0
        b = FIELD_B.get(f"{fieldname}_B", 0.75)
        df = self.reader.doc_frequency(fieldname, text)
        idf = math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))
        k1 = self.K1
        docs: list[int] = []
        scores: list[float] = []
        for docnum, tf in self.reader.postings(fieldname, text).items_as("weight"):
            if self._alive(docnum):
                docs.append(docnum)
                scores.append(idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[docnum] / avg)))
        return docs, scores

    def docset(self, fieldname: str, text: str) -> frozenset[int]:
        """The live documents containing a term (any field, scored or not)."""
        key = ("docs", fieldname, text)
        ids: frozenset[int] | None = self._tables.get(key)
        if ids is None:
            self.deadline.check()
            ids = frozenset()
            if (fieldname, text) in self.reader:
                ids = frozenset(
                    d for d in self.reader.postings(fieldname, text).all_ids() if self._alive(d)
                )
            self._tables.put(key, ids, len(ids))
        return ids

    def term(self, fieldname: str, text: str) -> Scores:
        """BM25 score of one term in one field, for every document containing it."""
        key = ("term", fieldname, text)
        cached: Scores | None = self._tables.get(key)
        if cached is None:
            self.deadline.check()
            found = self._bm25(fieldname, text)
            if found is None:
                cached = dict.fromkeys(self.docset(fieldname, text), 0.0)
            else:
                cached = dict(zip(*found, strict=True))
            self._tables.put(key, cached, len(cached))
        return cached

    def term_score(self, fieldname: str, text: str, docnum: int) -> float | None:
        """One document's score for one term (for ``--explain``)."""
        return self.term(fieldname, text).get(docnum)

    def _word_positions(self, fieldname: str, text: str) -> dict[int, Any]:
        key = ("positions", fieldname, text)
        found: dict[int, Any] | None = self._tables.get(key)
        if found is None:
            self.deadline.check()
            found = {}
            if (fieldname, text) in self.reader:
                for docnum, positions in self.reader.postings(fieldname, text).items_as(
                    "positions"
                ):
                    found[docnum] = positions
            self._tables.put(key, found, len(found))
        return found

    def _phrase_docs(self, fieldname: str, words: list[str], slop: int) -> set[int]:
        """Documents where the words occur in order, each within ``slop`` of the one before."""
        if not words:
            return set()
        candidates = set(self.docset(fieldname, words[0]))
        for word in words[1:]:
            candidates &= self.docset(fieldname, word)
        found = set()
        check = self.deadline.check
        for n, docnum in enumerate(candidates):
            if not n % CHECK_EVERY:
                check()
            starts = list(self._word_positions(fieldname, words[0])[docnum])
            for word in words[1:]:
                following = self._word_positions(fieldname, word)[docnum]
                starts = [p for p in following if any(0 < p - s <= slop for s in starts)]
                if not starts:
                    break
            if starts:
                found.add(docnum)
        return found

    # ---- the query walk ------------------------------------------------------------

    def matches(self, q: wq.Query, *, words: bool = False) -> Any:
        """The value (documents and scores) of every live document the query matches.

        With ``words``, ``q`` is the query's top level: if it is an OR, its
        children are the query's words, and a document's score is scaled by
        the share of them it matches (see ``coordination``). Each node
        checks ``self.deadline``.
        """
        self.deadline.check()
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text, q.boost)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return self._none()
        if isinstance(q, wq.Every):
            return self._all()
        if isinstance(q, wq.Not):
            return self._minus(self._all(), self._excluded(q.query))
        if isinstance(q, (wq.Or, wq.And)):
            # Stop words leave empty groups behind; they neither match nor count as missed.
            positives = [c for c in q.children() if not isinstance(c, wq.Not) and not _empty(c)]
            results = [self.matches(c) for c in positives]
            if isinstance(q, wq.And):
                value = self._intersect(results) if results else self._all()
            else:
                value = self._union(results, coordinate=words and len(results) > 1)
            for child in q.children():
                if isinstance(child, wq.Not):
                    value = self._minus(value, self._excluded(child.query))
            return self._scale(value, q.boost)
        if isinstance(q, wq.AndNot):
            return self._minus(self.matches(q.a), self._excluded(q.b))
        if isinstance(q, wq.AndMaybe):
            return self._maybe(self.matches(q.a), self.matches(q.b))
        if isinstance(q, wq.Require):
            return self._require(self.matches(q.a), self.matches(q.b))
        if isinstance(q, wq.DisjunctionMax):
            return self._scale(self._best([self.matches(c) for c in q.children()]), q.boost)
        if isinstance(q, wq.Phrase):
            words_ = list(q.words)
            found = self._phrase_docs(q.fieldname, words_, q.slop)
            parts = [self._keep(self._term(q.fieldname, w, q.boost), found) for w in words_]
            return self._union(parts, coordinate=False)
        # Anything else Whoosh can match (a wildcard that was not expanded, say).
        results = self.searcher.search(q, limit=None)
        return self._pairs([(docnum, score) for score, docnum in results.top_n])

    def _excluded(self, q: wq.Query) -> Any:
        """What ``-word`` (``NOT q``) takes away. With grouped results, whole groups: a group
        goes when its page matches ``q`` (its title, headings, text or the titles of the
        reports it links), or, for a report no page links, when ``q``'s words are in the
        report's title. Otherwise (``flat``) the documents that match ``q``."""
        value = self.matches(q)
        if not self.group_exclusion:
            return value
        titles = [
            leaf.text
            for leaf in _positive_leaves(q)
            if isinstance(leaf, wq.Term) and leaf.fieldname == S.TITLE
        ]
        drop = set()
        for docnum in self._docs(value):
            key = self.group[docnum]
            if docnum in self.page_docs or (
                key not in self.page_doc
                and any(self.term_score(S.TITLE, text, docnum) for text in titles)
            ):
                drop.add(key)
        if not drop:
            return value
        whole = [(d, 0.0) for key in drop for d in self.group_docs.get(key, ())]
        return self._union([value, self._pairs(whole)], coordinate=False)

    # ---- values: dictionaries ------------------------------------------------------

    def _docs(self, value: Scores) -> Iterable[int]:
        return value.keys()

    def _term(self, fieldname: str, text: str, boost: float) -> Scores:
        base = self.term(fieldname, text)
        if boost == 1:
            return base
        key = ("boosted", fieldname, text, boost)
        boosted: Scores | None = self._tables.get(key)
        if boosted is None:
            boosted = {d: s * boost for d, s in base.items()}
            self._tables.put(key, boosted, len(boosted))
        return boosted

    def _none(self) -> Scores:
        return {}

    def _all(self) -> Scores:
        return {d: 0.0 for d in range(self.doc_count) if self._alive(d)}

    def _pairs(self, pairs: list[tuple[int, float]]) -> Scores:
        return dict(pairs)

    def _scale(self, value: Scores, boost: float) -> Scores:
        return value if boost == 1 else {d: s * boost for d, s in value.items()}

    def _keep(self, value: Scores, docs: Iterable[int]) -> Scores:
        return {d: value[d] for d in docs if d in value}

    def _union(self, results: list[Scores], *, coordinate: bool) -> Scores:
        # Start from the largest result (a copy made in C) and add the others,
        # so that the Python loop runs over the smaller results only.
        if len(results) == 1 and not coordinate:
            return results[0]  # score tables are never changed in place (see _scale)
        results = sorted(results, key=len, reverse=True)
        scores = dict(results[0]) if results else {}
        counts: Counter[int] = Counter()
        for result in results[1:]:
            get = scores.get
            for docnum, score in result.items():
                scores[docnum] = get(docnum, 0.0) + score
            if coordinate:
                counts.update(result.keys())  # counted in C
        if coordinate:
            counts.update(results[0].keys())
            total = len(results)
            factor = [coordination(n, total) for n in range(total + 1)]
            scores = {d: s * factor[counts[d]] for d, s in scores.items()}
        return scores

    def _intersect(self, results: list[Scores]) -> Scores:
        results = sorted(results, key=len)
        scores = results[0]  # each step below makes a new dict
        for other in results[1:]:
            scores = {d: s + other[d] for d, s in scores.items() if d in other}
        return scores

    def _minus(self, value: Scores, excluded: Scores) -> Scores:
        return {d: s for d, s in value.items() if d not in excluded} if excluded else value

    def _maybe(self, value: Scores, extra: Scores) -> Scores:
        return {d: s + extra.get(d, 0.0) for d, s in value.items()}

    def _require(self, value: Scores, required: Scores) -> Scores:
        return {d: s for d, s in value.items() if d in required}

    def _best(self, results: list[Scores]) -> Scores:
        best: Scores = {}
        for result in results:
            for docnum, score in result.items():
                if score > best.get(docnum, -1.0):
                    best[docnum] = score
        return best

    # ---- filters, bonus, ranking -------------------------------------------------

    def allowed(self, value: Any, filt: wq.Query | None) -> Any:
        """``value`` without the documents the filter query does not match."""
        return value if filt is None else self._require(value, self.matches(filt))

    def in_years(self, value: Scores, low: int, high: int) -> Scores:
        years = self.year
        return {d: s for d, s in value.items() if (y := years[d]) is not None and low <= y <= high}

    def by_authors(self, value: Scores, names: list[set[str]]) -> Scores:
        """Documents where one author's name has every word of one of ``names``."""
        authors = self.authors
        return {
            d: s
            for d, s in value.items()
            if any(w <= set(a) for a in authors[d] or () for w in names if w)
        }

    def with_proximity(self, value: Any, q: wq.Query) -> Any:
        words = query_stems(q)
        if not 2 <= len(words) <= PROXIMITY_MAX_WORDS:
            return value
        factors = {}
        for docnum in self._top(value, PROXIMITY_DOCS):
            closeness = self.proximity(docnum, words)
            if closeness:
                factors[docnum] = 1.0 + PROXIMITY_WEIGHT * closeness
        return self._rescaled(value, factors) if factors else value

    def proximity(self, docnum: int, words: list[str]) -> float:
        """How close the query's words stand in a document's text, 0 to 1: for each pair of
        words next to each other in the query, 1 / the fewest words between them in the
        text, plus one (1 for a phrase), half that when they stand in the other order, 0
        beyond ``PROXIMITY_WINDOW``; averaged over the pairs."""
        total = 0.0
        for field in PROXIMITY_FIELDS:
            found = [self._word_positions(field, word).get(docnum) for word in words]
            best = 0.0
            for first, second in itertools.pairwise(found):
                if first is None or second is None:
                    continue
                best += _pair_closeness(first, second)
            total = max(total, best / (len(words) - 1))
        return total

    def _top(self, value: Scores, count: int) -> list[int]:
        return [d for _, d in heapq.nsmallest(count, ((-s, d) for d, s in value.items()))]

    def _rescaled(self, value: Scores, factors: dict[int, float]) -> Scores:
        return {d: s * factors.get(d, 1.0) for d, s in value.items()}

    def with_page_bonus(self, value: Scores) -> Scores:
        bonus = self.page_docs.intersection(value)
        if not bonus:
            return value
        scores = dict(value)  # the engine's own tables are never changed
        for docnum in bonus:
            scores[docnum] *= PAGE_BONUS
        return scores

    def rank(self, value: Scores, request: SearchRequest) -> Ranked:
        """The requested page of results, the number of results, and facet counts.

        A result is a group (a page and its reports' pages), or a document with
        ``flat``; results rank by their best document's score, then that
        document's number. Counting results per section and kind, and finding
        the best ones, is done with set and heap operations that run in C.
        Facet values are sets of results or, where each result sits in one
        section, counts.
        """
        scores = value
        flat = request.flat
        group = self.group
        first = request.offset
        wanted = first + request.limit
        by_section: dict[str, Any]
        by_kind: dict[str, Any]
        if flat:
            total = len(scores)
            by_section = Counter(map(self.section.__getitem__, scores))
            by_kind = Counter(map(self.kind.__getitem__, scores))
        else:
            keys = list(map(group.__getitem__, scores))
            groups = set(keys)
            total = len(groups)
            if self.group_section is not None:
                by_section = Counter(map(self.group_section.__getitem__, groups))
            else:
                by_section = {}
                pairs = set(zip(keys, map(self.section.__getitem__, scores), strict=True))
                for key, section in pairs:
                    by_section.setdefault(section, set()).add(key)
            kinds = set(zip(keys, map(self.kind.__getitem__, scores), strict=True))
            by_kind = Counter(kind for _, kind in kinds)
        self.deadline.check()
        if request.sort == "relevance":
            ordered = _best_results(scores, None if flat else group, wanted, self.deadline)
        else:
            ordered = self._sorted_results(scores, request)
        page: Page = []
        for key in ordered[first:wanted]:
            if flat:
                members = [(key, scores[key])]
            else:
                members = [(d, scores[d]) for d in self.group_docs.get(key, ()) if d in scores]
                members.sort(key=lambda item: (-item[1], item[0]))
            page.append((key, members))
        return page, total, by_section, by_kind

    def _sorted_results(self, scores: Scores, request: SearchRequest) -> list[Any]:
        """Every result, ordered by date (newest first) or title, then as by relevance."""
        best: dict[Any, float] = {}
        lead: dict[Any, int] = {}
        group = self.group
        check = self.deadline.check
        for n, (docnum, score) in enumerate(scores.items()):
            if not n % 4096:
                check()
            key = docnum if request.flat else group[docnum]
            top = best.get(key)
            if top is None or score > top or (score == top and docnum < lead[key]):
                best[key] = score
                lead[key] = docnum
        return _order_results(self, best, lead, request.sort)


def _order_results(
    engine: _Engine, best: dict[Any, float], lead: dict[Any, int], sort: str
) -> list[Any]:
    if sort == "date":
        year = engine.year
        return sorted(best, key=lambda k: (-(year[lead[k]] or 0), -best[k], lead[k]))
    title = engine.title
    return sorted(best, key=lambda k: (title[lead[k]].casefold(), -best[k], lead[k]))


def _best_results(
    scores: Scores, group: list[str] | None, wanted: int, deadline: Deadline = NEVER
) -> list[Any]:
    """The first ``wanted`` results in order: by best score, then lowest document number.

    ``group`` maps a document to its result (None: each document is one). Takes
    the highest-scoring documents with ``heapq.nlargest`` (in C), more of them
    until they hold enough results. Documents tied at the cut-off score are
    looked for only when the ones above it do not make up the page, so that
    the order is exactly that of sorting every document.
    """
    if not scores or wanted <= 0:
        return []
    take = max(4 * wanted, 64)

    def results_of(docs: list[int]) -> dict[Any, None]:
        docs.sort(key=lambda d: (-scores[d], d))
        found: dict[Any, None] = {}
        for docnum in docs:
            found.setdefault(docnum if group is None else group[docnum], None)
            if len(found) >= wanted:
                break
        return found

    while True:
        deadline.check()
        top = heapq.nlargest(take, scores, key=scores.__getitem__)
        if len(top) == len(scores):
            return list(results_of(top))
        cutoff = scores[top[-1]]
        above = [d for d in top if scores[d] > cutoff]
        found = results_of(above)
        if len(found) >= wanted:
            return list(found)
        found = results_of(above + [d for d, s in scores.items() if s == cutoff])
        if len(found) >= wanted:
            return list(found)
        take *= 4


def _empty(q: wq.Query) -> bool:
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return True
    return isinstance(q, wq.CompoundQuery) and all(_empty(c) for c in q.children())


def query_stems(q: wq.Query) -> list[str]:
    """The words of a plain-words query, in order (a group per word: ``_words_query``), else []."""
    if not isinstance(q, wq.Or):
        return []
    words = []
    for group in q.subqueries:
        if not isinstance(group, wq.Or):
            return []
        terms = [t for t in group.subqueries if isinstance(t, wq.Term)]
        if len(terms) != len(group.subqueries) or len({t.text for t in terms}) > 1:
            return []
        if terms:  # an empty group is a stop word
            words.append(terms[0].text)
    return words


def _pair_closeness(first: Any, second: Any) -> float:
    """1 / (1 + the fewest words between two words' positions), in order; half out of order."""
    best = 0.0
    following = sorted(second)
    for p in first:
        at = bisect.bisect_right(following, p)
        if at < len(following):
            gap = following[at] - p
            if gap <= PROXIMITY_WINDOW:
                best = max(best, 1.0 / gap)
        if at > 0 and following[at - 1] < p:
            gap = p - following[at - 1]
            if gap <= PROXIMITY_WINDOW:
                best = max(best, 0.5 / gap)
        if best == 1.0:
            break
    return best


def coordination(matched: int, total: int) -> float:
    """The bonus for matching more of a query's words: 1 when all match (see
    ``COORD_FULL_WORDS``)."""
    power = (COORD_NONE_WORDS - total) / (COORD_NONE_WORDS - COORD_FULL_WORDS)
    return float((matched / total) ** min(1.0, max(0.0, power)))


def make_engine(searcher: Any, data: dict[str, Any], kind: str = "auto") -> Engine:
    """The engine for a Whoosh ``searcher`` and its generation's query data.

    ``kind``: ``auto`` (arrays from ``ARRAY_ENGINE_DOCS`` documents up),
    ``dict`` or ``array``.
    """
    large = data["doc_count"] >= ARRAY_ENGINE_DOCS
    kind = kind if kind != "auto" else "array" if large else "dict"
    if kind == "array":
        from .engine_array import _ArrayEngine  # imports numpy when it makes one

        return _ArrayEngine(searcher, data)
    return _Engine(searcher, data)
