"""Query stage: plan a query, run it against the index, group, facet and snip.

``build_query`` is pure: it turns a ``SearchRequest`` into a ``QueryPlan``
(the parsed Whoosh query and the filter) without touching an index.
``Searcher`` runs plans: it rewrites what needs the index (prefix
expansion with a cap, spelling), scores with BM25F over weighted fields,
groups a page with the pages of the reports it links, counts facets and
makes snippets. Whoosh is imported here and in ``chcsearch.index`` only.

The query language: plain words are OR-ed, with a bonus for documents that
match more of them; ``"phrases"``, ``+required``, ``-excluded``,
``AND``/``OR``/``NOT`` and parentheses; ``title:``, ``section:`` (a subtree),
``level:`` (a numbering subtree) and ``kind:`` prefixes; ``word*`` prefix
wildcards (at most 50 expansions, the commonest). A query whose syntax cannot
be read, or that nests or combines more than the limits below, is searched as
its plain words, and the results say so.

What a search may cost is bounded by work, not only by counts: wildcards
expand within a budget of index words read (``QueryBudget``), a wildcard
needs 2 letters before it (else ``QueryRefusedError``), boosts are clamped,
and every long loop checks the search's ``Deadline``. A search stopped by
its deadline leaves the caches as if it never ran.
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import itertools
import json
import math
import re
import threading
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from . import schema as S
from .deadline import NEVER, Deadline
from .errors import ChcSearchError, IndexDamagedError, QueryRefusedError
from .index import (
    QUERY_DATA_FILE,
    Generation,
    IndexStore,
    open_whoosh,
    query_data,
    text_analyzer,
    whoosh_schema,
)
from .results import FacetValue, Hit, Part, SearchRequest, SearchResults, Snip
from .snippets import WordFinder, make_snippet, one_line

from whoosh import qparser
from whoosh import query as wq
from whoosh.lang.porter import stem

#: Field weights for BM25F: a word in a title counts most, then headings and
#: the titles of linked resources, then the breadcrumb context, then body text.
FIELD_BOOSTS: dict[str, float] = {
    S.TITLE: 3.0,
    S.HEADINGS: 1.5,
    S.RESOURCE_TITLES: 1.5,
    S.CONTEXT: 1.0,
    S.BODY: 1.0,
}
#: BM25 length normalisation per field: short fields normalise less.
FIELD_B = {"title_B": 0.3, "headings_B": 0.5, "context_B": 0.3, "resource_titles_B": 0.3}
COORD_POWER = 1.0  # score × (words matched / words in the query) ** COORD_POWER
PAGE_BONUS = 1.3  # a site page that matches outranks an equally matching report page
MAX_QUERY_CHARS = 1000
MAX_WORDS = 32
MAX_EXPANSIONS = 50
MAX_PARTS = 5
MAX_DEPTH = 8  # nesting of parentheses
MAX_PHRASES = 8
MAX_OPERATORS = 16  # AND, OR, NOT and +/- words
MAX_BOOST = 10.0  # word^N: N is clamped to [0, MAX_BOOST]
SURFACE_CACHE = 4096  # query terms whose surface words a generation keeps
STORED_CACHE = 512  # documents whose stored fields a Searcher keeps (a few MB)
# numpy is imported only for indexes this large: a new process answers a small
# site's query without its 150 ms import
ARRAY_ENGINE_DOCS = 10_000
TABLE_BUDGET = 2_000_000  # document entries of the score tables an engine keeps (~200 MB)
SECTION_ALIAS = "section"
LEVEL_ALIAS = "level"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INNER_HYPHEN = re.compile(r"(?<=[^\W_])[-‐‑–](?=[^\W_])")
_QUESTION_MARK = re.compile(r"(?<=[^\W_])\?+(?=\s|$)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_FIELD_PREFIX = re.compile(r"(?<![\w:])(\w+):")
_QUOTED = re.compile(r'"[^"]*"')
_WILDCARD = re.compile(r"[*?]")
_LETTER = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class QueryBudget:
    """What one search may spend reading the term index for wildcards and completions.

    A wildcard is expanded from the sorted term list, reading at most
    ``prefix_scan`` words for one wildcard in one field and ``query_scan``
    for the whole query, and becomes at most ``prefix_terms`` words (the
    commonest of those read) and ``query_terms`` for the whole query. A
    query with many wildcards shares the query budget equally among them,
    so each still gets its commonest words. The same budgets bound the
    surface words found for highlighting and ``Searcher.suggest``.
    """

    prefix_scan: int = 2_000
    query_scan: int = 10_000
    prefix_terms: int = MAX_EXPANSIONS
    query_terms: int = 1_000

    def share(self, wildcards: int) -> tuple[int, int]:
        """Words read and words kept for each of ``wildcards`` wildcard terms of one query."""
        n = max(wildcards, 1)
        return (
            max(1, min(self.prefix_scan, self.query_scan // n)),
            max(1, min(self.prefix_terms, self.query_terms // n)),
        )


DEFAULT_BUDGET = QueryBudget()
CHECK_EVERY = 256  # loop iterations between deadline checks where a check per item would cost


@dataclass(frozen=True)
class QueryPlan:
    """A request turned into a Whoosh query and filter, before the index is consulted."""

    request: SearchRequest
    text: str
    query: wq.Query
    filter: wq.Query | None
    fell_back: bool
    notes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _parser() -> qparser.QueryParser:
    schema = whoosh_schema()
    parser = qparser.MultifieldParser(
        list(FIELD_BOOSTS),
        schema,
        fieldboosts=FIELD_BOOSTS,
        group=qparser.OrGroup,
    )
    for plugin in (qparser.SingleQuotePlugin, qparser.RangePlugin, qparser.EveryPlugin):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(qparser.PlusMinusPlugin())
    parser.add_plugin(
        qparser.FieldAliasPlugin({S.ANCESTORS: [SECTION_ALIAS], S.LEVEL_PATH: [LEVEL_ALIAS]})
    )
    return parser


def _well_formed(text: str) -> bool:
    """False for syntax the parser would misread: unbalanced quotes or brackets, dangling operators."""
    if text.count('"') % 2:
        return False
    depth = 0
    for char in re.sub(r'"[^"]*"', "", text):
        depth += char == "("
        depth -= char == ")"
        if depth < 0:
            return False
    if depth:
        return False
    tokens = re.sub(r'"[^"]*"', " x ", text).replace("(", " ").replace(")", " ").split()
    if not tokens:
        return True
    binary = _OPERATORS - {"NOT"}
    if tokens[0] in binary or tokens[-1] in _OPERATORS:
        return False
    for previous, current in itertools.pairwise(tokens):
        if previous in _OPERATORS and current in binary:
            return False
    for token in tokens:
        bare = token.lstrip("+-")
        if not bare or bare.endswith(":") or not re.search(r"[^\W_]", bare):
            return False
        if "*" in bare or "?" in bare:
            stem_part = bare.split(":", 1)[-1]
            if len(stem_part.strip("*?")) < 2:
                return False
    return True


#: Words that shape a question but say nothing about its subject. They are
#: dropped from plain queries that have other words, so that "how much funding
#: did CHC receive" is scored on funding, CHC and receive.
QUESTION_WORDS = frozenset(
    {
        "what",
        "whats",
        "how",
        "much",
        "many",
        "did",
        "does",
        "do",
        "doing",
        "done",
        "who",
        "whom",
        "whose",
        "which",
        "where",
        "why",
        "would",
        "could",
        "should",
        "was",
        "were",
        "there",
        "their",
        "they",
        "them",
        "i",
        "me",
        "my",
        "our",
        "about",
        "any",
        "some",
        "been",
        "has",
        "had",
    }
)


def _drop_question_words(text: str) -> str:
    if '"' in text or any(op in text.split() for op in _OPERATORS) or ":" in text:
        return text
    words = text.split()
    kept = [w for w in words if w.lower().strip("+-") not in QUESTION_WORDS]
    return " ".join(kept) if kept and len(kept) < len(words) else text


def _plain_words(text: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(text)[:MAX_WORDS])


def build_query(request: SearchRequest) -> QueryPlan:
    """Plan a search: parse the query text and build the filter. No index is read.

    Never raises for bad syntax: such a query, or one beyond the limits of
    nesting, phrases and operators, is planned as its plain words, with a
    note and ``fell_back`` set. Raises ``QueryRefusedError`` for a wildcard
    with fewer than 2 letters before it, which would read the whole index.
    """
    notes: list[str] = []
    # folded as PDF text is (repair.py): "ﬁnance" and mathematical letters find plain words
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFKC", request.text)).split())
    # Punctuation people type that the parser would read as syntax: a hyphen
    # inside a word (log-Gaussian is two words, not "log NOT Gaussian") and a
    # question mark ending a word (a question, not a wildcard).
    text = _INNER_HYPHEN.sub(" ", text)
    text = _QUESTION_MARK.sub("", text)
    text = _drop_question_words(text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
        notes.append(f"the query was cut to its first {MAX_QUERY_CHARS:,} characters")
    if len(_WORD.findall(text)) > MAX_WORDS:
        text = _plain_words(text)
        notes.append(f"the query was cut to its first {MAX_WORDS} words")
    fell_back = False
    parsed: wq.Query | None = _words_query(text)
    reason: str | None = None
    if parsed is None:
        _refuse_leading_wildcards(text)
        reason = _beyond_limits(text)
        if reason is None and not _well_formed(text):
            reason = "the query's syntax could not be read"
        if reason is None:
            # the parser has no error type of its own; any failure means fall back
            try:
                parsed = _parser().parse(text, normalize=False)
            except Exception:
                reason = "the query's syntax could not be read"
    if parsed is None:
        fell_back = True
        plain = _plain_words(text)
        notes.append(f"{reason}, so its words were searched: {plain}")
        text = plain
        parsed = _words_query(plain) or _parser().parse(plain, normalize=False)
    elif "^" in text:
        parsed, clamped = _clamp_boosts(parsed)
        if clamped:
            notes.append(f"boosts (word^N) were limited to 0–{MAX_BOOST:g}")
    parsed = _once(parsed)
    parsed, field_filters = _hoist_filters(parsed)
    filt = build_filter(request)
    if field_filters is not None:
        filt = field_filters if filt is None else wq.And([filt, field_filters])
    return QueryPlan(request, text, parsed, filt, fell_back, tuple(notes))


def _once(q: wq.Query) -> wq.Query:
    """The query with repeated parts of an OR or AND kept once: a word given twice counts once."""
    if isinstance(q, (wq.Or, wq.And)):
        kept: list[wq.Query] = []
        for child in (_once(c) for c in q.subqueries):
            if child not in kept:
                kept.append(child)
        if len(kept) != len(q.subqueries):
            return q.__class__(kept, boost=q.boost)
        if any(a is not b for a, b in zip(kept, q.subqueries, strict=True)):
            return q.__class__(kept, boost=q.boost)
    return q


def _refuse_leading_wildcards(text: str) -> None:
    """Raise ``QueryRefusedError`` for a wildcard word with fewer than 2 letters before ``*`` or ``?``.

    Such a word would read the whole vocabulary. Words of wildcards alone
    (``*``, ``*:*``) are syntax the fallback drops, not refused.
    """
    unquoted = _QUOTED.sub(" ", text)
    for token in unquoted.replace("(", " ").replace(")", " ").replace('"', " ").split():
        if "*" not in token and "?" not in token:
            continue
        bare = token.lstrip("+-").split(":", 1)[-1]
        if not _LETTER.search(bare):
            continue
        head = _WILDCARD.split(bare, maxsplit=1)[0]
        if len(head) < 2:
            raise QueryRefusedError(
                f"{token!r} has a wildcard with fewer than 2 letters before it, which would read "
                "every word of the index; put at least 2 letters before * or ? (for example co*)"
            )


def _beyond_limits(text: str) -> str | None:
    """Why the query is too complex to parse (nesting, phrases, operators), or None. Linear."""
    phrases = text.count('"') // 2
    if phrases > MAX_PHRASES:
        return f"the query has {phrases} phrases (at most {MAX_PHRASES})"
    unquoted = _QUOTED.sub(" ", text)
    depth = deepest = 0
    for char in unquoted:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_DEPTH:
        return f"the query nests parentheses {deepest} deep (at most {MAX_DEPTH})"
    tokens = unquoted.replace("(", " ").replace(")", " ").split()
    operators = sum(1 for t in tokens if t in _OPERATORS or t[0] in "+-")
    if operators > MAX_OPERATORS:
        return f"the query has {operators} operators (at most {MAX_OPERATORS})"
    return None


def _clamp_boosts(q: wq.Query) -> tuple[wq.Query, bool]:
    """The query with every boost within [0, ``MAX_BOOST``] (NaN becomes 1), and whether any changed."""
    changed = False

    def clamp(node: wq.Query) -> wq.Query:
        nonlocal changed
        if not node.is_leaf():
            node = node.apply(clamp)
        boost = getattr(node, "boost", 1.0)
        if not 0.0 <= boost <= MAX_BOOST:  # NaN fails both comparisons
            node = node.copy()
            node.boost = 1.0 if math.isnan(boost) else min(max(boost, 0.0), MAX_BOOST)
            changed = True
        return node

    return clamp(q), changed


#: Fields that narrow a search rather than score it: ``section:``, ``level:``, ``kind:``.
FILTER_FIELDS = frozenset({S.ANCESTORS, S.LEVEL_PATH, S.KIND, S.SECTION, S.SOURCE, S.GROUP, S.ID})


def _hoist_filters(q: wq.Query) -> tuple[wq.Query, wq.Query | None]:
    """Move top-level terms on filter fields out of the scored query into a filter.

    ``stroke section:hub`` then means stroke *within* hub, as people expect,
    not stroke *or* anything in hub. Values of one field are OR-ed.
    """
    children = list(q.children()) if isinstance(q, (wq.Or, wq.And)) else [q]
    keep: list[wq.Query] = []
    by_field: dict[str, list[wq.Query]] = {}
    for child in children:
        if isinstance(child, wq.Term) and child.fieldname in FILTER_FIELDS:
            by_field.setdefault(child.fieldname, []).append(wq.Term(child.fieldname, child.text))
        else:
            keep.append(child)
    if not by_field:
        return q, None
    filters = [wq.Or(terms) if len(terms) > 1 else terms[0] for terms in by_field.values()]
    if not keep:
        rest: wq.Query = wq.Every()
    elif len(keep) == 1:
        rest = keep[0]
    else:
        rest = (
            q.__class__(keep, boost=q.boost)
            if isinstance(q, wq.And)
            else wq.Or(keep, boost=q.boost)
        )
    return rest, wq.And(filters) if len(filters) > 1 else filters[0]


_PLAIN_QUERY = re.compile(r"[^\W_]+(?:\s+[^\W_]+)*")


def _words_query(text: str) -> wq.Query | None:
    """The query for plain words, built directly: what the parser builds, without its cost.

    Whoosh's query parser takes 1-2 ms, a fifth of a whole search; most
    queries are just words. Returns None for anything else, and for words
    the analyzer splits in two, which go to the parser.
    """
    if not _PLAIN_QUERY.fullmatch(text) or any(word in _OPERATORS for word in text.split()):
        return None
    groups: list[wq.Query] = []
    seen: set[str] = set()
    for word in text.split():
        stems = _stems(word)
        if len(stems) > 1:
            return None
        if stems and stems[0] in seen:
            continue  # a word given twice counts once ("bone bone" is "bone")
        seen.update(stems)
        groups.append(
            wq.Or([wq.Term(field, stems[0], boost=boost) for field, boost in FIELD_BOOSTS.items()])
            if stems
            else wq.Or([])
        )
    return wq.Or(groups)


def build_filter(request: SearchRequest) -> wq.Query | None:
    """The filter for a request's sections, levels and kinds: terms, never parsed text."""
    parts: list[wq.Query] = []
    for fieldname, raw in (
        (S.ANCESTORS, [s.strip("/") for s in request.sections]),
        (S.LEVEL_PATH, [lv.strip().strip(".") for lv in request.levels]),
        (S.KIND, list(request.kinds)),
        (S.TAGS, [t.strip().lower() for t in request.tags]),
    ):
        values = [v for v in raw if v]
        if values:
            terms: list[wq.Query] = [wq.Term(fieldname, S.keyword_term(v)) for v in values]
            parts.append(wq.Or(terms) if len(terms) > 1 else terms[0])
    people: list[wq.Query] = []
    for name in request.authors:
        words = [wq.Term(S.AUTHOR_TERMS, S.keyword_term(w)) for w in S.author_terms(name)]
        if words:
            people.append(wq.And(words) if len(words) > 1 else words[0])
    if people:
        parts.append(wq.Or(people) if len(people) > 1 else people[0])
    if not parts:
        return None
    return wq.And(parts) if len(parts) > 1 else parts[0]


# ----------------------------------------------------------------------------------------
# Searching


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

    K1 = 1.2

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


class _ArrayEngine(_Engine):
    """The same engine with numpy arrays, for indexes of many documents.

    A value is a pair of arrays over all documents: which match, and their
    scores. A union of terms is then a few vector additions, and ranking
    and facet counts are sorts and counts in C: at 48,000 documents a
    common word matches 30,000 of them, which dictionaries merge in 50–100
    ms and arrays in 1–3. Term tables are kept as (document numbers, scores)
    arrays, 12 bytes a document instead of 100. Results are the same as the
    dictionary engine's (a test compares them query for query).
    """

    def __init__(self, searcher: Any, data: dict[str, Any]) -> None:
        super().__init__(searcher, data)
        import numpy as np

        self.np = np
        n = self.doc_count
        self._live = np.ones(n, dtype=bool) if self.live is None else np.array(self.live, bool)
        keys = list(self.group_docs)
        index = {key: i for i, key in enumerate(keys)}
        self._group_keys = keys
        self._group_id = np.array([index.get(g, -1) for g in self.group], dtype=np.int64)
        sections = sorted(set(self.section))
        section_index = {s: i for i, s in enumerate(sections)}
        self._sections = sections
        self._section_id = np.array([section_index[s] for s in self.section], dtype=np.int64)
        kinds = sorted(set(self.kind))
        kind_index = {k: i for i, k in enumerate(kinds)}
        self._kinds = kinds
        self._kind_id = np.array([kind_index[k] for k in self.kind], dtype=np.int64)
        self._years = np.array([y or 0 for y in self.year], dtype=np.int64)
        self._pages = np.zeros(n, dtype=bool)
        self._pages[np.fromiter(self.page_docs, dtype=np.int64)] = True

    # postings as arrays

    def _term_arrays(self, fieldname: str, text: str) -> tuple[Any, Any]:
        np = self.np
        key = ("array", fieldname, text)
        cached = self._tables.get(key)
        if cached is None:
            self.deadline.check()
            found = self._bm25(fieldname, text)
            if found is None:
                ids = np.fromiter(sorted(self.docset(fieldname, text)), dtype=np.int64)
                cached = (ids, np.zeros(ids.size))
            else:
                cached = (np.array(found[0], dtype=np.int64), np.array(found[1]))
            for array in cached:
                array.flags.writeable = False  # shared by every later query
            self._tables.put(key, cached, cached[0].size // 8 + 1)
        return cached  # type: ignore[no-any-return]

    def term_score(self, fieldname: str, text: str, docnum: int) -> float | None:
        ids, scores = self._term_arrays(fieldname, text)
        at = int(self.np.searchsorted(ids, docnum))
        return float(scores[at]) if at < ids.size and ids[at] == docnum else None

    # values: (mask, scores) arrays over all documents

    def _term(self, fieldname: str, text: str, boost: float) -> Any:
        np = self.np
        ids, scores = self._term_arrays(fieldname, text)
        mask = np.zeros(self.doc_count, dtype=bool)
        mask[ids] = True
        dense = np.zeros(self.doc_count)
        dense[ids] = scores * boost if boost != 1 else scores
        return mask, dense

    def _docs(self, value: Any) -> Iterable[int]:
        return (int(d) for d in self.np.flatnonzero(value[0]))

    def _none(self) -> Any:
        return self.np.zeros(self.doc_count, dtype=bool), self.np.zeros(self.doc_count)

    def _all(self) -> Any:
        return self._live.copy(), self.np.zeros(self.doc_count)

    def _pairs(self, pairs: list[tuple[int, float]]) -> Any:
        np = self.np
        mask, dense = self._none()
        if pairs:
            docs = np.array([d for d, _ in pairs], dtype=np.int64)
            mask[docs] = True
            dense[docs] = [s for _, s in pairs]
        return mask, dense

    def _scale(self, value: Any, boost: float) -> Any:
        return value if boost == 1 else (value[0], value[1] * boost)

    def _keep(self, value: Any, docs: Iterable[int]) -> Any:
        np = self.np
        keep = np.zeros(self.doc_count, dtype=bool)
        keep[np.fromiter(docs, dtype=np.int64)] = True
        mask = value[0] & keep
        return mask, self.np.where(mask, value[1], 0.0)

    def _union(self, results: list[Any], *, coordinate: bool) -> Any:
        np = self.np
        if not results:
            return self._none()
        mask = np.zeros(self.doc_count, dtype=bool)
        dense = np.zeros(self.doc_count)
        counts = np.zeros(self.doc_count, dtype=np.int64)
        for found, scores in results:
            mask |= found
            dense += scores
            if coordinate:
                counts += found
        if coordinate:
            total = len(results)
            factor = np.array([coordination(n, total) for n in range(total + 1)])
            dense = dense * factor[counts]
        return mask, dense

    def _intersect(self, results: list[Any]) -> Any:
        mask = results[0][0].copy()
        dense = results[0][1].copy()
        for found, scores in results[1:]:
            mask &= found
            dense += scores
        return mask, self.np.where(mask, dense, 0.0)

    def _minus(self, value: Any, excluded: Any) -> Any:
        mask = value[0] & ~excluded[0]
        return mask, self.np.where(mask, value[1], 0.0)

    def _maybe(self, value: Any, extra: Any) -> Any:
        return value[0], value[1] + self.np.where(value[0], extra[1], 0.0)

    def _require(self, value: Any, required: Any) -> Any:
        mask = value[0] & required[0]
        return mask, self.np.where(mask, value[1], 0.0)

    def _best(self, results: list[Any]) -> Any:
        np = self.np
        if not results:
            return self._none()
        mask = np.zeros(self.doc_count, dtype=bool)
        best = np.full(self.doc_count, -np.inf)
        for found, scores in results:
            mask |= found
            best = np.maximum(best, np.where(found, scores, -np.inf))
        return mask, np.where(mask, best, 0.0)

    # filters, bonus, ranking

    def in_years(self, value: Any, low: int, high: int) -> Any:
        years = self._years  # 0 where a document has no year
        mask = value[0] & (years >= max(low, 1)) & (years <= high)
        return mask, self.np.where(mask, value[1], 0.0)

    def by_authors(self, value: Any, names: list[set[str]]) -> Any:
        docs = self.np.flatnonzero(value[0]).tolist()
        kept = super().by_authors(dict.fromkeys(docs, 0.0), names)
        return self._keep(value, kept)

    def with_page_bonus(self, value: Any) -> Any:
        bonus = value[0] & self._pages
        if not bonus.any():
            return value
        return value[0], self.np.where(bonus, value[1] * PAGE_BONUS, value[1])

    def rank(self, value: Any, request: SearchRequest) -> Ranked:
        np = self.np
        self.deadline.check()
        mask, dense = value
        docs = np.flatnonzero(mask)
        scores = dense[docs]
        first = request.offset
        wanted = first + request.limit
        # every matching document, best first, then by document number
        order = np.lexsort((docs, -scores))
        docs, scores = docs[order], scores[order]
        if request.flat:
            keys = docs
            lead_at = np.arange(docs.size)
        else:
            groups = self._group_id[docs]
            # the first (best) document of each group, groups in that order
            _, lead_at = np.unique(groups, return_index=True)
            lead_at.sort()
            keys = groups
        total = int(lead_at.size)
        leads = docs[lead_at]
        by_section: dict[str, Any]
        by_kind: dict[str, Any]
        if request.flat:
            by_section = self._counts(self._sections, self._section_id[docs])
            by_kind = self._counts(self._kinds, self._kind_id[docs])
        else:
            if self.group_section is not None:
                by_section = self._counts(self._sections, self._section_id[leads])
            else:  # results that span sections: sets, so that none counts twice
                pairs = np.unique(keys * len(self._sections) + self._section_id[docs])
                by_section = {}
                for pair in pairs.tolist():
                    key, at = divmod(pair, len(self._sections))
                    by_section.setdefault(self._sections[at], set()).add(key)
            by_kind = self._pair_counts(self._kinds, keys, self._kind_id[docs])
        if request.sort == "relevance":
            chosen = lead_at[first:wanted]
            ordered = [int(keys[i]) for i in chosen]
        else:
            best = {int(keys[i]): float(scores[i]) for i in lead_at}
            lead = {int(keys[i]): int(docs[i]) for i in lead_at}
            ordered = _order_results(self, best, lead, request.sort)[first:wanted]
        page: Page = []
        for key in ordered:
            if request.flat:
                page.append((key, [(key, float(dense[key]))]))
                continue
            name = self._group_keys[key]
            members = [(d, float(dense[d])) for d in self.group_docs[name] if mask[d]]
            members.sort(key=lambda item: (-item[1], item[0]))
            page.append((name, members))
        return page, total, by_section, by_kind

    def _counts(self, names: list[str], ids: Any) -> dict[str, int]:
        counts = self.np.bincount(ids, minlength=len(names))
        return {names[i]: int(c) for i, c in enumerate(counts) if c}

    def _pair_counts(self, names: list[str], keys: Any, ids: Any) -> dict[str, int]:
        pairs = self.np.unique(keys * len(names) + ids)
        return self._counts(names, pairs % len(names))


def _empty(q: wq.Query) -> bool:
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return True
    return isinstance(q, wq.CompoundQuery) and all(_empty(c) for c in q.children())


def coordination(matched: int, total: int) -> float:
    """The bonus for matching more of a query's words: 1 when all match."""
    return float((matched / total) ** COORD_POWER)


@dataclass
class _Generation:
    """One opened index generation and what is derived from it once."""

    name: str
    index: Any
    searcher: Any
    engine: _Engine
    #: a query term's surface words, and how many index words finding them read
    surfaces: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    stored: dict[int, dict[str, Any]] = field(default_factory=dict)
    vocabulary: dict[str, list[str]] | None = (
        None  # spelling words by first letter, loaded when needed
    )
    #: every numbering level and level prefix indexed, read when a level filter is given
    levels: frozenset[str] | None = None


class Searcher:
    """Search an index; keeps it open and follows newer generations by itself.

    Threads: one ``Searcher`` may be shared by several threads and gives each
    exactly the answers it would give them one at a time. Whoosh readers and
    the kept score tables are not thread-safe, so searches (``run``,
    ``search``, ``suggest``) take turns on a lock, which is also held while a
    newer generation is opened, so a reader in use is never closed. A search
    given a ``Deadline`` stops with ``SearchTimeoutError`` once it passes,
    waiting for its turn included, and leaves the caches as they were or
    with complete entries only.

    A search or suggestion that fails with an unexpected error (not a
    ``ChcSearchError``) checks every byte of the generation against its
    checksums (about 15 ms): when they differ, or a file has none, it
    raises ``IndexDamagedError`` naming the file, from the original error;
    so it does for a generation written before checksums, which the next
    ``chcsearch index`` run rebuilds; otherwise it raises the original
    error (a bug). ``damaged`` then holds that error
    until a newer generation is opened (a server's health check answers 503
    while it is set); it is also set when a newer generation cannot be
    opened because it is damaged.

    >>> with Searcher(Path("index")) as searcher:  # doctest: +SKIP
    ...     results = searcher.search("stroke", sections=["greater-manchester"])
    """

    def __init__(
        self, index_dir: Path, *, engine: str = "auto", budget: QueryBudget = DEFAULT_BUDGET
    ) -> None:
        """``engine``: ``auto`` (arrays from ``ARRAY_ENGINE_DOCS`` documents up),
        ``dict`` or ``array``; both give the same results. ``budget`` bounds
        the work of wildcards and completions."""
        if engine not in ("auto", "dict", "array"):
            raise ValueError(f"engine must be auto, dict or array, not {engine!r}")
        self.engine_kind = engine
        self.budget = budget
        self._lock = threading.RLock()
        self.index_dir = index_dir
        self._store = IndexStore(index_dir)
        self._stamp: tuple[int, int] | None = None
        self._gen: _Generation | None = None
        #: why the generation searched now is damaged, or None (see the class docstring)
        self.damaged: IndexDamagedError | None = None
        self._open()

    # ---- lifecycle ------------------------------------------------------------------

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            info = (self.index_dir / "CURRENT").stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_ino)

    def _open(self) -> None:
        try:
            self._open_current()
        except IndexDamagedError as exc:
            self.damaged = exc
            raise
        self.damaged = None

    def _open_current(self) -> None:
        generation = self._store.open_current()
        ix = open_whoosh(generation)
        try:
            searcher = ix.searcher()
        except Exception as exc:  # a file whose bytes changed but not its size
            ix.close()
            raise self._store.damaged(
                [f"{generation.name} cannot be read ({type(exc).__name__}: {exc})"]
            ) from exc
        try:
            try:
                data = json.loads((generation.path / QUERY_DATA_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = query_data(searcher.reader())  # an index written before the file existed
            large = data["doc_count"] >= ARRAY_ENGINE_DOCS
            kind = self.engine_kind if self.engine_kind != "auto" else "array" if large else "dict"
            engine = _ArrayEngine(searcher, data) if kind == "array" else _Engine(searcher, data)
        except Exception as exc:
            searcher.close()
            ix.close()
            if not isinstance(exc, ChcSearchError):
                self._raise_if_damaged(generation, exc)
            raise
        old = self._gen
        self._gen = _Generation(generation.name, ix, searcher, engine)
        self._stamp = self._current_stamp()
        if old is not None:
            old.searcher.close()
            old.index.close()

    def _fresh(self) -> _Generation:
        stamp = self._current_stamp()
        if self._gen is None or (stamp is not None and stamp != self._stamp):
            self._open()
        assert self._gen is not None
        return self._gen

    def _raise_if_damaged(self, generation: Generation, error: Exception) -> None:
        """After an unexpected ``error``: ``IndexDamagedError`` if ``generation``'s files
        differ from their checksums (so ``error`` came from damage, not a bug), or it
        has none to check (see ``IndexStore.damage_behind``)."""
        damage = self._store.damage_behind(generation, error)
        if damage is None:
            return
        self.damaged = damage
        raise damage from error

    @property
    def generation(self) -> str:
        """The name of the index generation searched now."""
        with self._lock:
            return self._fresh().name

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.searcher.close()
                self._gen.index.close()
                self._gen = None

    @contextmanager
    def _turn(self, deadline: Deadline) -> Iterator[_Generation]:
        """Hold the lock (waiting at most until the deadline) on a fresh generation.

        An unexpected error (not a ``ChcSearchError``) from the work done with
        it goes through ``_raise_if_damaged``.
        """
        remaining = deadline.remaining()
        if not self._lock.acquire(timeout=-1 if remaining is None else remaining):
            raise deadline.error()
        try:
            deadline.check()
            gen = self._fresh()
            gen.engine.deadline = deadline
            try:
                yield gen
            except Exception as exc:
                if not isinstance(exc, ChcSearchError):
                    self._raise_if_damaged(Generation(self.index_dir / gen.name), exc)
                raise
            finally:
                gen.engine.deadline = NEVER
        finally:
            self._lock.release()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- public -------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        sections: Iterable[str] = (),
        levels: Iterable[str] = (),
        kinds: Iterable[str] = (),
        limit: int = 10,
        page: int = 1,
        flat: bool = False,
        explain: bool = False,
        authors: Iterable[str] = (),
        years: tuple[int, int] | None = None,
        tags: Iterable[str] = (),
        sort: str = "relevance",
        correct: bool = True,
        deadline: Deadline | None = None,
    ) -> SearchResults:
        """Search the index. Raises for what the query says only when it is refused
        (``QueryRefusedError``, see ``build_query``).

        ``correct=False`` searches the words as given, with no spelling correction.
        ``sections`` keeps those section subtrees, ``levels`` those numbering
        subtrees, ``kinds`` ``page`` and/or ``pdf``; several values of one
        filter are alternatives. ``limit`` results per page (at most 100),
        ``page`` counts from 1. ``flat`` lists documents instead of grouping
        report pages under the page that links them. ``explain`` fills
        ``SearchResults.explain`` and each hit's ``explain``. ``deadline``
        stops the search with ``SearchTimeoutError`` once it passes.
        """
        request = SearchRequest.make(
            query,
            sections=sections,
            levels=levels,
            kinds=kinds,
            limit=limit,
            page=page,
            flat=flat,
            authors=authors,
            years=years,
            tags=tags,
            sort=sort,
            correct=correct,
        )
        return self.run(request, explain=explain, deadline=deadline)

    def run(
        self, request: SearchRequest, *, explain: bool = False, deadline: Deadline | None = None
    ) -> SearchResults:
        """Run a ``SearchRequest``, stopping with ``SearchTimeoutError`` once ``deadline`` passes."""
        start = time.perf_counter()
        plan = build_query(request)  # pure: refused queries never wait for the lock
        deadline = NEVER if deadline is None else deadline
        with self._turn(deadline) as gen:
            corrected: str | None = plan.text if plan.fell_back else None
            notes = [*plan.notes, *self._filter_notes(gen, request)]
            misspelt = self._misspellings(gen, plan, deadline) if request.correct else {}
            if misspelt:
                corrected = self._corrected_text(plan.text, misspelt)
                plan = build_query(replace(request, text=corrected))
                pairs = ", ".join(f"{a} → {b}" for a, b in misspelt.items())
                notes.append(f"spelling corrected from the index's own words: {pairs}")
            query, more, spent = self._rewrite(gen, plan.query, deadline)
            notes += more
            return self._execute(
                gen, request, query, plan.filter, corrected, notes, start, explain, spent
            )

    def _filter_notes(self, gen: _Generation, request: SearchRequest) -> list[str]:
        """A note for each section or level filter the index has no document in, naming the
        nearest values it has: a typo in a filter otherwise looks like an empty result."""
        notes = []
        sections = gen.engine.section_titles
        for raw in request.sections:
            value = raw.strip("/")
            if value and value not in sections:
                notes.append(_unknown_filter("section", raw, value, sections))
        if request.levels:
            if gen.levels is None:
                lexicon = gen.searcher.reader().lexicon(S.LEVEL_PATH)
                gen.levels = frozenset(
                    t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in lexicon
                )
            for raw in request.levels:
                value = raw.strip().strip(".")
                if value and S.keyword_term(value) not in gen.levels:
                    notes.append(_unknown_filter("level", raw, value, gen.levels))
        return notes

    def suggest(
        self, text: str, limit: int = 10, *, deadline: Deadline | None = None
    ) -> list[dict[str, str]]:
        """Completions for what someone is typing: page titles first, then index words.

        A title qualifies when it contains every typed word, the last one as a
        word start. Words complete the last typed word from the index's own
        vocabulary, commonest first, reading at most ``budget.prefix_scan``
        words of each spelling field. At most ``limit`` suggestions.
        """
        deadline = NEVER if deadline is None else deadline
        with self._turn(deadline) as gen:
            return self._suggestions(gen, text, limit, deadline)

    def _suggestions(
        self, gen: _Generation, text: str, limit: int, deadline: Deadline
    ) -> list[dict[str, str]]:
        words = _WORD.findall(text.lower())[:MAX_WORDS]
        if not words:
            return []
        *head, last = words
        found: list[dict[str, str]] = []
        for n, (title, url, breadcrumb) in enumerate(gen.engine.pages):
            if not n % CHECK_EVERY:
                deadline.check()
            title_words = _WORD.findall(title.lower())
            if all(w in title_words for w in head) and any(t.startswith(last) for t in title_words):
                found.append({"text": title, "kind": "title", "url": url, "breadcrumb": breadcrumb})
        found.sort(key=lambda s: (not s["text"].lower().startswith(words[0]), len(s["text"])))
        found = found[: max(limit // 2, limit - 5)]
        reader = gen.searcher.reader()
        completions: dict[str, int] = {}
        if len(last) >= 2:
            for fieldname in ("spell_title", "spell_body"):
                for word, frequency in self._prefix_words(
                    reader, fieldname, last, self.budget.prefix_scan, deadline
                )[0]:
                    if word.isalpha() or word == last:
                        completions[word] = completions.get(word, 0) + frequency
        prefix = " ".join(head)
        for word, _ in sorted(completions.items(), key=lambda kv: (-kv[1], kv[0])):
            phrase = f"{prefix} {word}".strip()
            if len(found) >= limit:
                break
            if all(s["text"].lower() != phrase for s in found):
                found.append({"text": phrase, "kind": "word", "url": "", "breadcrumb": ""})
        return found[:limit]

    # ---- rewriting with the index ----------------------------------------------------

    @staticmethod
    def _prefix_words(
        reader: Any, fieldname: str, prefix: str, scan: int, deadline: Deadline
    ) -> tuple[list[tuple[str, int]], int, bool]:
        """Words of a field starting with ``prefix`` and their document frequencies.

        Read from the sorted term index (a seek, then the next words in
        order), at most ``scan`` of them. Returns the words, how many were
        read, and whether there were more.
        """
        found: list[tuple[str, int]] = []
        check = deadline.check
        for raw, info in reader.iter_prefix(fieldname, prefix):
            if len(found) >= scan:
                return found, len(found), True
            if not len(found) % CHECK_EVERY:
                check()
            word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            found.append((word, info.doc_frequency()))
        return found, len(found), False

    def _rewrite(
        self, gen: _Generation, q: wq.Query, deadline: Deadline = NEVER
    ) -> tuple[wq.Query, list[str], tuple[int, int]]:
        """Expand prefix and wildcard terms into real terms, the commonest, within the budget.

        Each wildcard term (one per field) reads and keeps its share of the
        query's budget (``QueryBudget.share``). Inner wildcards (``co*d``)
        read the words of the part before the first wildcard and keep those
        matching the pattern. Returns the query, notes, and (index words
        read, terms searched).
        """
        notes: list[str] = []
        reader = gen.searcher.reader()
        wildcards = [leaf for leaf in q.leaves() if isinstance(leaf, (wq.Prefix, wq.Wildcard))]
        if not wildcards:
            return q, notes, (0, 0)
        scan, keep = self.budget.share(len(wildcards))
        shared = scan < self.budget.prefix_scan or keep < self.budget.prefix_terms
        spent = [0, 0]
        cut: dict[str, None] = {}

        def expand(node: wq.Query) -> wq.Query:
            if isinstance(node, (wq.Prefix, wq.Wildcard)):
                fieldname = node.field()
                text = node.text
                head = text if isinstance(node, wq.Prefix) else _WILDCARD.split(text, 1)[0]
                pattern = (
                    None if isinstance(node, wq.Prefix) else re.compile(fnmatch.translate(text))
                )
                # the shares never add up to more than the query's budget
                limit = min(scan, self.budget.query_scan - spent[0])
                try:
                    words, read, more = self._prefix_words(reader, fieldname, head, limit, deadline)
                except ChcSearchError:
                    raise
                except Exception:  # an unknown or non-text field expands to nothing
                    words, read, more = [], 0, False
                spent[0] += read
                if pattern is not None:
                    words = [(w, f) for w, f in words if pattern.match(w)]
                words.sort(key=lambda wf: -wf[1])  # stable: ties stay in word order
                if len(words) > keep or more:
                    cut[text] = None
                    if not shared:
                        counted = f"more than {read:,}" if more else f"{len(words)}"
                        note = (
                            f"{text!r} matches {counted} words; the {keep} commonest were searched"
                        )
                        if note not in notes:
                            notes.append(note)
                chosen = words[: min(keep, self.budget.query_terms - spent[1])]
                spent[1] += len(chosen)
                if not chosen:
                    return wq.NullQuery
                return wq.Or([wq.Term(fieldname, w, boost=node.boost) for w, _ in chosen])
            if node.is_leaf():
                return node
            return node.apply(expand)

        expanded = expand(q)
        if shared and cut:
            terms = len({leaf.text for leaf in wildcards})
            named = ", ".join(
                f"{t}*" if "*" not in t and "?" not in t else t for t in list(cut)[:8]
            )
            more_named = " …" if len(cut) > 8 else ""
            notes.insert(
                0,
                f"the query's {terms} wildcard words were cut to fit its budget: each searched "
                f"at most its {keep} commonest words, from the first {scan:,} it matches "
                f"(cut: {named}{more_named})",
            )
        return expanded, notes, (spent[0], spent[1])

    def _known(self, gen: _Generation, word: str) -> bool:
        reader = gen.searcher.reader()
        stems = list(_stems(word))
        if not stems:
            return True  # a stop word: nothing to correct
        return any(reader.doc_frequency(f, s) for s in stems for f in FIELD_BOOSTS)

    def _misspellings(
        self, gen: _Generation, plan: QueryPlan, deadline: Deadline = NEVER
    ) -> dict[str, str]:
        """Words of the query the index does not know, with their best correction."""
        corrections: dict[str, str] = {}
        for word in _query_words(plan.text):
            deadline.check()
            if word not in corrections and not self._known(gen, word):
                better = self._suggest(gen, word.lower(), deadline)
                if better is None and any(c.isdigit() for c in word):
                    better = self._code_prefix(gen, word)
                if better:
                    corrections[word] = better
        return corrections

    def _code_prefix(self, gen: _Generation, word: str) -> str | None:
        """``G40*`` for an unknown code such as ``G40`` when the index has ``g40x``."""
        reader = gen.searcher.reader()
        stems = _stems(word)
        if len(stems) == 1 and any(True for _ in reader.expand_prefix(S.BODY, stems[0])):
            return word + "*"
        return None

    def _suggest(self, gen: _Generation, word: str, deadline: Deadline = NEVER) -> str | None:
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

    @staticmethod
    def _corrected_text(text: str, corrections: dict[str, str]) -> str:
        return _WORD.sub(lambda m: corrections.get(m.group(), m.group()), text)

    # ---- running --------------------------------------------------------------------

    def _execute(
        self,
        gen: _Generation,
        request: SearchRequest,
        query: wq.Query,
        filt: wq.Query | None,
        corrected: str | None,
        notes: list[str],
        start: float,
        explain: bool,
        spent: tuple[int, int] = (0, 0),
    ) -> SearchResults:
        engine = gen.engine
        deadline = engine.deadline
        engine.group_exclusion = not request.flat
        value = engine.allowed(engine.matches(query, words=True), filt)
        if request.years is not None:
            value = engine.in_years(value, *request.years)
        names = [set(S.author_terms(n)) for n in request.authors]
        if any(len(words) > 1 for words in names):
            # the filter matched the words anywhere; keep documents where one author has them all
            value = engine.by_authors(value, names)
        ordered, total, by_section, by_kind = engine.rank(engine.with_page_bonus(value), request)
        surfaces, read = self._surface_words(gen, query, deadline)
        finder = WordFinder(surfaces)
        hits = []
        for key, members in ordered:
            deadline.check()
            hits.append(
                self._hit(
                    gen, key, members, finder, flat=request.flat, explain=explain, query=query
                )
            )
        section_facets, kind_facets = self._facets(engine, request, by_section, by_kind)
        plan_lines: tuple[str, ...] = ()
        if explain:
            budget = self.budget
            plan_lines = (
                f"query:  {query}",
                f"filter: {filt}",
                *(f"note:   {n}" for n in notes),
                f"budget: wildcards read {spent[0]:,} index words (at most {budget.query_scan:,}) "
                f"and searched {spent[1]:,} (at most {budget.query_terms:,}); "
                f"highlighting read {read:,} (at most {budget.query_scan:,})",
            )
        return SearchResults(
            query=request.text,
            corrected_query=corrected,
            total=total,
            page=request.page,
            limit=request.limit,
            request=request,
            section_facets=section_facets,
            kind_facets=kind_facets,
            results=tuple(hits),
            took_ms=(time.perf_counter() - start) * 1000,
            notes=tuple(notes),
            explain=plan_lines,
        )

    def _surface_words(
        self, gen: _Generation, query: wq.Query, deadline: Deadline = NEVER
    ) -> tuple[list[str], int]:
        """The index's own unstemmed words whose stem is a positive term of the query.

        Reads at most ``budget.prefix_scan`` words a term and ``budget.query_scan``
        in all; terms past that are highlighted as they are. What a term read
        counts whether or not it was kept from an earlier query, so that the
        answer never depends on what ran before. Returns the words and how
        many index words were read.
        """
        reader = gen.searcher.reader()
        words: list[str] = []
        read = 0
        seen: set[str] = set()
        for leaf in _positive_leaves(query):
            fieldname = getattr(leaf, "fieldname", None)
            if fieldname not in FIELD_BOOSTS:
                continue
            texts = leaf.words if isinstance(leaf, wq.Phrase) else [getattr(leaf, "text", "")]
            for text in texts:
                if not isinstance(text, str) or not text or text in seen:
                    continue
                seen.add(text)
                kept = gen.surfaces.get(text)
                if kept is None:
                    deadline.check()
                    found = {text}
                    cost = 0
                    for spell in ("spell_body", "spell_title"):
                        spelt, scanned, _ = self._prefix_words(
                            reader, spell, text, self.budget.prefix_scan, deadline
                        )
                        cost += scanned
                        found.update(word for word, _ in spelt if stem(word) == text)
                    kept = (tuple(sorted(found)), cost)
                    if len(gen.surfaces) >= SURFACE_CACHE:
                        gen.surfaces.pop(next(iter(gen.surfaces)))
                    gen.surfaces[text] = kept
                if read + kept[1] > self.budget.query_scan:
                    words.append(text)
                    continue
                read += kept[1]
                words.extend(kept[0])
        return words, read

    def _stored(self, gen: _Generation, docnum: int) -> dict[str, Any]:
        """Stored fields, kept for the most recently shown documents of this generation.

        Kept with them: the snippet source text on one line, and lower-cased.
        """
        stored = gen.stored.get(docnum)
        if stored is None:
            stored = dict(gen.searcher.stored_fields(docnum))
            line = one_line(stored.get(S.BODY) or stored.get(S.TITLE) or "")
            stored["_line"], stored["_lower"] = line, line.lower()
            if len(gen.stored) >= STORED_CACHE:
                gen.stored.pop(next(iter(gen.stored)))
            gen.stored[docnum] = stored
        return stored

    @staticmethod
    def _snip(fields: dict[str, Any], finder: WordFinder) -> Snip:
        snippet = make_snippet(fields["_line"], finder, lowered=fields["_lower"])
        return Snip(snippet.text, snippet.html(), snippet.spans)

    def _hit(
        self,
        gen: _Generation,
        key: Any,
        members: list[tuple[int, float]],
        finder: WordFinder,
        *,
        flat: bool,
        explain: bool,
        query: wq.Query,
    ) -> Hit:
        best_doc, best_score = members[0]
        parts: list[Part] = []
        if flat:
            head = self._stored(gen, best_doc)
            snippet = self._snip(head, finder)
        else:
            for docnum, score in members[:MAX_PARTS]:
                fields = self._stored(gen, docnum)
                parts.append(
                    Part(
                        source=fields[S.SOURCE],
                        kind=fields[S.KIND],
                        page=fields.get(S.PAGE),
                        url=fields[S.URL],
                        score=score,
                        snippet=self._snip(fields, finder),
                        title=fields[S.TITLE],
                        page_label=fields.get(S.PAGE_LABEL) or "",
                    )
                )
            head = self._stored(gen, gen.engine.page_doc.get(key, best_doc))
            snippet = parts[0].snippet
        lines: tuple[str, ...] = ()
        if explain:
            lines = tuple(
                self._explain(gen, query, docnum, score) for docnum, score in members[:MAX_PARTS]
            )
        return Hit(
            id=head[S.ID],
            source=head[S.SOURCE],
            title=head[S.TITLE],
            section=head[S.SECTION],
            breadcrumb=tuple(head.get(S.BREADCRUMB) or ()),
            level=head.get(S.LEVEL, ""),
            kind=head[S.KIND],
            url=head[S.URL],
            page=head.get(S.PAGE),
            score=best_score,
            snippet=snippet,
            parts=tuple(parts),
            explain=lines,
            page_label=head.get(S.PAGE_LABEL) or "",
            authors=tuple(head.get(S.AUTHORS) or ()),
            year=head.get(S.YEAR),
            tags=tuple(head.get(S.TAGS) or ()),
        )

    def _explain(self, gen: _Generation, query: wq.Query, docnum: int, score: float) -> str:
        engine = gen.engine
        contributions = []
        for leaf in _positive_leaves(query):
            if isinstance(leaf, wq.Term) and leaf.fieldname in FIELD_BOOSTS:
                value = engine.term_score(leaf.fieldname, leaf.text, docnum)
                if value:
                    contributions.append(f"{leaf.fieldname}:{leaf.text} {value * leaf.boost:.2f}")
        bonus = f" (×{PAGE_BONUS} page bonus)" if engine.kind[docnum] == "page" else ""
        doc_id = gen.searcher.stored_fields(docnum)[S.ID]
        terms = " + ".join(contributions) or "no scored terms"
        return f"{doc_id}: {score:.2f}{bonus} = ({terms}) × word coverage"

    @staticmethod
    def _facets(
        engine: _Engine,
        request: SearchRequest,
        by_section: dict[str, Any],
        by_kind: dict[str, Any],
    ) -> tuple[tuple[FacetValue, ...], tuple[FacetValue, ...]]:
        """Results per section one level below each section filter (or the top), and per kind."""
        bases = [s.strip("/") for s in request.sections if s.strip("/")] or [""]
        depths = [(base, len(base.split("/")) if base else 0) for base in bases]
        sets: dict[str, set[Any]] = {}
        counts: Counter[str] = Counter()
        for section, keys in by_section.items():
            parts = section.split("/") if section else []
            for base, depth in depths:
                inside = not base or section == base or section.startswith(base + "/")
                if inside and len(parts) > depth:
                    value = "/".join(parts[: depth + 1])
                    if isinstance(keys, int):  # results in one section each: counts add up
                        counts[value] += keys
                    else:
                        sets.setdefault(value, set()).update(keys)
        counts.update({value: len(keys) for value, keys in sets.items()})
        titles = engine.section_titles
        section_facets = tuple(
            FacetValue(value, count, titles.get(value, value.rsplit("/", 1)[-1]))
            for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        kind_counts = {k: v if isinstance(v, int) else len(v) for k, v in by_kind.items()}
        kind_facets = tuple(
            FacetValue(value, count)
            for value, count in sorted(kind_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return section_facets, kind_facets


def _unknown_filter(kind: str, raw: str, value: str, known: Iterable[str]) -> str:
    """The note for a filter value no document has, with the nearest ones that exist."""
    depth = value.count("/")
    same_depth = [k for k in known if k.count("/") == depth]
    near = difflib.get_close_matches(value, same_depth, n=3, cutoff=0.6) or (
        difflib.get_close_matches(value, list(known), n=3, cutoff=0.6)
    )
    if not near:  # a wrong parent with a right last part ("hub/greater-manchester")
        tail = value.rsplit("/", 1)[-1]
        near = sorted(k for k in known if k.rsplit("/", 1)[-1] == tail)[:3]
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return f"no document has the {kind} {raw!r}{hint}"


def _positive_leaves(q: wq.Query) -> Iterator[wq.Query]:
    """Leaves of the query that are not negated."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from _positive_leaves(q.a)
        return
    if q.is_leaf() or isinstance(q, wq.Phrase):
        yield q
        return
    for child in q.children():
        yield from _positive_leaves(child)


@lru_cache(maxsize=4096)
def _stems(word: str) -> tuple[str, ...]:
    return tuple(token.text for token in text_analyzer()(word))


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


def search_collections(
    searchers: Mapping[str, Searcher], request: SearchRequest, *, deadline: Deadline | None = None
) -> SearchResults:
    """Search several indexes (named collections) and merge their results by score.

    Each result says which collection it came from (``Hit.collection``);
    totals and facet counts are added up. One ``deadline`` covers them all.
    """
    start = time.perf_counter()
    wanted = request.page * request.limit
    answers = {
        name: searcher.run(replace(request, page=1, limit=wanted), deadline=deadline)
        for name, searcher in searchers.items()
    }
    hits = sorted(
        (
            replace(hit, collection=name)
            for name, answer in answers.items()
            for hit in answer.results
        ),
        key=lambda hit: -hit.score,
    )
    if request.sort == "date":
        hits.sort(key=lambda hit: -(hit.year or 0))
    elif request.sort == "title":
        hits.sort(key=lambda hit: hit.title.casefold())
    first = request.offset

    def merged(facets: Iterable[FacetValue]) -> tuple[FacetValue, ...]:
        counts: dict[str, int] = {}
        titles: dict[str, str] = {}
        for facet in facets:
            counts[facet.value] = counts.get(facet.value, 0) + facet.count
            titles.setdefault(facet.value, facet.title)
        return tuple(
            FacetValue(value, count, titles[value])
            for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )

    results = list(answers.values())
    return SearchResults(
        query=request.text,
        corrected_query=next((r.corrected_query for r in results if r.corrected_query), None),
        total=sum(r.total for r in results),
        page=request.page,
        limit=request.limit,
        request=request,
        section_facets=merged(f for r in results for f in r.section_facets),
        kind_facets=merged(f for r in results for f in r.kind_facets),
        results=tuple(hits[first : first + request.limit]),
        took_ms=(time.perf_counter() - start) * 1000,
        notes=tuple(dict.fromkeys(note for r in results for note in r.notes)),
    )


__all__ = [
    "DEFAULT_BUDGET",
    "QueryBudget",
    "QueryPlan",
    "Searcher",
    "build_filter",
    "build_query",
    "edit_distance",
    "search_collections",
    "suggest",
]
