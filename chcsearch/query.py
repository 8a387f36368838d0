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
be read is searched as its plain words, and the results say so.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from . import schema as S
from .index import INDEX_NAME, QUERY_DATA_FILE, IndexStore, query_data, text_analyzer, whoosh_schema
from .results import FacetValue, Hit, Part, SearchRequest, SearchResults, Snip
from .snippets import WordFinder, make_snippet, one_line

from whoosh import index as whoosh_index
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
STORED_CACHE = 512  # documents whose stored fields a Searcher keeps (a few MB)
MAX_LIMIT = 100
SORTS = ("relevance", "date", "title")
SECTION_ALIAS = "section"
LEVEL_ALIAS = "level"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INNER_HYPHEN = re.compile(r"(?<=[^\W_])[-‐‑–](?=[^\W_])")
_QUESTION_MARK = re.compile(r"(?<=[^\W_])\?+(?=\s|$)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_FIELD_PREFIX = re.compile(r"(?<![\w:])(\w+):")


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

    Never raises for bad syntax: such a query is planned as its plain words,
    with a note and ``fell_back`` set.
    """
    notes: list[str] = []
    text = " ".join(_CONTROL.sub(" ", request.text).split())
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
    if parsed is None and _well_formed(text):
        try:
            parsed = _parser().parse(text, normalize=False)
        except Exception:  # the parser has no error type of its own; any failure means fall back
            parsed = None
    if parsed is None:
        fell_back = True
        plain = _plain_words(text)
        notes.append(f"the query's syntax could not be read, so its words were searched: {plain}")
        text = plain
        parsed = _words_query(plain) or _parser().parse(plain, normalize=False)
    parsed, field_filters = _hoist_filters(parsed)
    filt = build_filter(request)
    if field_filters is not None:
        filt = field_filters if filt is None else wq.And([filt, field_filters])
    return QueryPlan(request, text, parsed, filt, fell_back, tuple(notes))


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
    for word in text.split():
        stems = _stems(word)
        if len(stems) > 1:
            return None
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


class _Engine:
    """BM25 scoring over postings read from Whoosh once and kept in memory.

    Whoosh's own matchers cost 5-40 ms for a multi-word OR query over five
    fields on this corpus; here each (field, term) is read from the index once
    per generation into ``{docnum: BM25 score}`` and a query is a few
    dictionary merges. Phrases and any query type not handled here are
    matched by Whoosh and scored from the same term scores.
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
        self._terms: dict[tuple[str, str], Scores] = {}
        self._docsets: dict[tuple[str, str], frozenset[int]] = {}
        self._positions: dict[tuple[str, str], dict[int, Any]] = {}
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

    def _alive(self, docnum: int) -> bool:
        return self.live is None or self.live[docnum]

    def _field_lengths(self, fieldname: str) -> list[int]:
        return self._lengths[fieldname]

    def term(self, fieldname: str, text: str) -> Scores:
        """BM25 score of one term in one field, for every document containing it."""
        key = (fieldname, text)
        cached = self._terms.get(key)
        if cached is not None:
            return cached
        scores: Scores = {}
        if fieldname in FIELD_BOOSTS and (fieldname, text) in self.reader:
            lengths = self._field_lengths(fieldname)
            avg = self._avg[fieldname] or 1.0
            b = FIELD_B.get(f"{fieldname}_B", 0.75)
            df = self.reader.doc_frequency(fieldname, text)
            idf = math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))
            k1 = self.K1
            for docnum, tf in self.reader.postings(fieldname, text).items_as("weight"):
                if self._alive(docnum):
                    norm = k1 * (1 - b + b * lengths[docnum] / avg)
                    scores[docnum] = idf * tf * (k1 + 1) / (tf + norm)
        else:
            scores = dict.fromkeys(self.docset(fieldname, text), 0.0)
        self._terms[key] = scores
        return scores

    def docset(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        if key not in self._docsets:
            ids: frozenset[int] = frozenset()
            if (fieldname, text) in self.reader:
                ids = frozenset(
                    d for d in self.reader.postings(fieldname, text).all_ids() if self._alive(d)
                )
            self._docsets[key] = ids
        return self._docsets[key]

    def matches(self, q: wq.Query, *, words: bool = False) -> Scores:
        """Scores of every live document the query matches.

        With ``words``, ``q`` is the query's top level: if it is an OR, its
        children are the query's words, and a document's score is scaled by
        the share of them it matches (see ``coordination``).
        """
        if isinstance(q, wq.Term):
            base = self.term(q.fieldname, q.text)
            return {d: s * q.boost for d, s in base.items()} if q.boost != 1 else dict(base)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return {}
        if isinstance(q, wq.Every):
            return {d: 0.0 for d in range(self.doc_count) if self._alive(d)}
        if isinstance(q, wq.Not):
            excluded = self.matches(q.query)
            return {d: 0.0 for d in range(self.doc_count) if self._alive(d) and d not in excluded}
        if isinstance(q, (wq.Or, wq.And)):
            return self._compound(q, words=words)
        if isinstance(q, wq.AndNot):
            scores = self.matches(q.a)
            for docnum in self.matches(q.b):
                scores.pop(docnum, None)
            return scores
        if isinstance(q, wq.AndMaybe):
            scores = self.matches(q.a)
            for docnum, extra in self.matches(q.b).items():
                if docnum in scores:
                    scores[docnum] += extra
            return scores
        if isinstance(q, wq.Require):
            required = self.matches(q.b)
            return {d: s for d, s in self.matches(q.a).items() if d in required}
        if isinstance(q, wq.DisjunctionMax):
            best: Scores = {}
            for child in q.children():
                for docnum, score in self.matches(child).items():
                    if score > best.get(docnum, -1.0):
                        best[docnum] = score
            return {d: s * q.boost for d, s in best.items()}
        if isinstance(q, wq.Phrase):
            found = self._phrase_docs(q.fieldname, list(q.words), q.slop)
            scores = {}
            for word in q.words:
                for docnum, score in self.term(q.fieldname, word).items():
                    if docnum in found:
                        scores[docnum] = scores.get(docnum, 0.0) + score * q.boost
            return scores
        # Anything else Whoosh can match (a wildcard that was not expanded, say).
        results = self.searcher.search(q, limit=None)
        return {docnum: score for score, docnum in results.top_n}

    def _word_positions(self, fieldname: str, text: str) -> dict[int, Any]:
        key = (fieldname, text)
        if key not in self._positions:
            found: dict[int, Any] = {}
            if (fieldname, text) in self.reader:
                for docnum, positions in self.reader.postings(fieldname, text).items_as(
                    "positions"
                ):
                    found[docnum] = positions
            self._positions[key] = found
        return self._positions[key]

    def _phrase_docs(self, fieldname: str, words: list[str], slop: int) -> set[int]:
        """Documents where the words occur in order, each within ``slop`` of the one before."""
        if not words:
            return set()
        candidates = set(self.term(fieldname, words[0]))
        for word in words[1:]:
            candidates &= set(self.term(fieldname, word))
        found = set()
        for docnum in candidates:
            starts = list(self._word_positions(fieldname, words[0])[docnum])
            for word in words[1:]:
                following = self._word_positions(fieldname, word)[docnum]
                starts = [p for p in following if any(0 < p - s <= slop for s in starts)]
                if not starts:
                    break
            if starts:
                found.add(docnum)
        return found

    def _compound(self, q: wq.Query, *, words: bool = False) -> Scores:
        # Stop words leave empty groups behind; they neither match nor count as missed.
        positives = [c for c in q.children() if not isinstance(c, wq.Not) and not _empty(c)]
        negatives = [c.query for c in q.children() if isinstance(c, wq.Not)]
        results = [self.matches(c) for c in positives]
        if isinstance(q, wq.And):
            if not results:
                scores = {d: 0.0 for d in range(self.doc_count) if self._alive(d)}
            else:
                results.sort(key=len)
                scores = dict(results[0])
                for other in results[1:]:
                    scores = {d: s + other[d] for d, s in scores.items() if d in other}
        else:
            scores = {}
            counts: dict[int, int] = {}
            for result in results:
                for docnum, score in result.items():
                    scores[docnum] = scores.get(docnum, 0.0) + score
                    counts[docnum] = counts.get(docnum, 0) + 1
            if words and len(results) > 1:
                total = len(results)
                scores = {d: s * coordination(counts[d], total) for d, s in scores.items()}
        for negative in negatives:
            for docnum in self.matches(negative):
                scores.pop(docnum, None)
        if q.boost != 1:
            scores = {d: s * q.boost for d, s in scores.items()}
        return scores

    def allowed(self, filt: wq.Query | None) -> frozenset[int] | None:
        """The documents a filter keeps (None: no filter)."""
        if filt is None:
            return None
        return frozenset(self.matches(filt))


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
    surfaces: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stored: dict[int, dict[str, Any]] = field(default_factory=dict)
    vocabulary: dict[str, list[str]] | None = (
        None  # spelling words by first letter, loaded when needed
    )


class Searcher:
    """Search an index; keeps it open and follows newer generations by itself.

    >>> with Searcher(Path("index")) as searcher:  # doctest: +SKIP
    ...     results = searcher.search("stroke", sections=["greater-manchester"])
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._store = IndexStore(index_dir)
        self._stamp: tuple[int, int] | None = None
        self._gen: _Generation | None = None
        self._open()

    # ---- lifecycle ------------------------------------------------------------------

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            info = (self.index_dir / "CURRENT").stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_ino)

    def _open(self) -> None:
        generation = self._store.open_current()
        ix = whoosh_index.open_dir(str(generation.path), indexname=INDEX_NAME)
        searcher = ix.searcher()
        try:
            data = json.loads((generation.path / QUERY_DATA_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = query_data(searcher.reader())  # an index written before the file existed
        old = self._gen
        self._gen = _Generation(generation.name, ix, searcher, _Engine(searcher, data))
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

    @property
    def generation(self) -> str:
        """The name of the index generation searched now."""
        return self._fresh().name

    def close(self) -> None:
        if self._gen is not None:
            self._gen.searcher.close()
            self._gen.index.close()
            self._gen = None

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
    ) -> SearchResults:
        """Search the index. Never raises for what the query says; see ``build_query``.

        ``sections`` keeps those section subtrees, ``levels`` those numbering
        subtrees, ``kinds`` ``page`` and/or ``pdf``; several values of one
        filter are alternatives. ``limit`` results per page (at most 100),
        ``page`` counts from 1. ``flat`` lists documents instead of grouping
        report pages under the page that links them. ``explain`` fills
        ``SearchResults.explain`` and each hit's ``explain``.
        """
        request = SearchRequest(
            text=query,
            sections=tuple(sections),
            levels=tuple(levels),
            kinds=tuple(kinds),
            limit=max(1, min(int(limit), MAX_LIMIT)),
            page=max(1, int(page)),
            flat=flat,
            authors=tuple(authors),
            years=years,
            tags=tuple(tags),
            sort=sort if sort in SORTS else "relevance",
        )
        return self.run(request, explain=explain)

    def run(self, request: SearchRequest, *, explain: bool = False) -> SearchResults:
        """Run a ``SearchRequest``."""
        start = time.perf_counter()
        gen = self._fresh()
        plan = build_query(request)
        corrected: str | None = plan.text if plan.fell_back else None
        notes = list(plan.notes)
        misspelt = self._misspellings(gen, plan)
        if misspelt:
            corrected = self._corrected_text(plan.text, misspelt)
            plan = build_query(replace(request, text=corrected))
            pairs = ", ".join(f"{a} → {b}" for a, b in misspelt.items())
            notes.append(f"spelling corrected from the index's own words: {pairs}")
        query, more = self._rewrite(gen, plan.query)
        notes += more
        return self._execute(gen, request, query, plan.filter, corrected, notes, start, explain)

    def suggest(self, text: str, limit: int = 10) -> list[dict[str, str]]:
        """Completions for what someone is typing: page titles first, then index words.

        A title qualifies when it contains every typed word, the last one as a
        word start. Words complete the last typed word from the index's own
        vocabulary, commonest first. At most ``limit`` suggestions.
        """
        gen = self._fresh()
        words = _WORD.findall(text.lower())[:MAX_WORDS]
        if not words:
            return []
        *head, last = words
        found: list[dict[str, str]] = []
        for title, url, breadcrumb in gen.engine.pages:
            title_words = _WORD.findall(title.lower())
            if all(w in title_words for w in head) and any(t.startswith(last) for t in title_words):
                found.append({"text": title, "kind": "title", "url": url, "breadcrumb": breadcrumb})
        found.sort(key=lambda s: (not s["text"].lower().startswith(words[0]), len(s["text"])))
        found = found[: max(limit // 2, limit - 5)]
        reader = gen.searcher.reader()
        completions: dict[str, int] = {}
        if len(last) >= 2:
            for fieldname in ("spell_title", "spell_body"):
                for raw in reader.expand_prefix(fieldname, last):
                    word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    if word.isalpha() or word == last:
                        completions[word] = completions.get(word, 0) + reader.doc_frequency(
                            fieldname, word
                        )
        prefix = " ".join(head)
        for word, _ in sorted(completions.items(), key=lambda kv: (-kv[1], kv[0])):
            phrase = f"{prefix} {word}".strip()
            if len(found) >= limit:
                break
            if all(s["text"].lower() != phrase for s in found):
                found.append({"text": phrase, "kind": "word", "url": "", "breadcrumb": ""})
        return found[:limit]

    # ---- rewriting with the index ----------------------------------------------------

    def _rewrite(self, gen: _Generation, q: wq.Query) -> tuple[wq.Query, list[str]]:
        """Expand prefix and wildcard terms into at most ``MAX_EXPANSIONS`` real terms."""
        notes: list[str] = []
        reader = gen.searcher.reader()

        def expand(node: wq.Query) -> wq.Query:
            if isinstance(node, (wq.Prefix, wq.Wildcard)):
                fieldname = node.field()
                try:
                    candidates = [
                        t.decode("utf-8") if isinstance(t, bytes) else t
                        for t in node._btexts(reader)
                    ]
                except Exception:  # an unknown field or an odd pattern expands to nothing
                    candidates = []
                ranked = sorted(candidates, key=lambda t: -reader.doc_frequency(fieldname, t))
                if len(ranked) > MAX_EXPANSIONS:
                    note = f"{node.text!r} matches {len(ranked)} words; the {MAX_EXPANSIONS} commonest were searched"
                    if note not in notes:
                        notes.append(note)
                chosen = ranked[:MAX_EXPANSIONS]
                if not chosen:
                    return wq.NullQuery
                return wq.Or([wq.Term(fieldname, t, boost=node.boost) for t in chosen])
            if node.is_leaf():
                return node
            return node.apply(expand)

        return expand(q), notes

    def _known(self, gen: _Generation, word: str) -> bool:
        reader = gen.searcher.reader()
        stems = list(_stems(word))
        if not stems:
            return True  # a stop word: nothing to correct
        return any(reader.doc_frequency(f, s) for s in stems for f in FIELD_BOOSTS)

    def _misspellings(self, gen: _Generation, plan: QueryPlan) -> dict[str, str]:
        """Words of the query the index does not know, with their best correction."""
        corrections: dict[str, str] = {}
        for word in _query_words(plan.text):
            if word not in corrections and not self._known(gen, word):
                better = self._suggest(gen, word.lower())
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

    def _suggest(self, gen: _Generation, word: str) -> str | None:
        reader = gen.searcher.reader()
        if gen.vocabulary is None:
            words: set[str] = set()
            for fieldname in ("spell_body", "spell_title"):
                if fieldname in reader.schema.names():
                    for term in reader.lexicon(fieldname):
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
        return suggest(word, candidates, frequency)

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
    ) -> SearchResults:
        engine = gen.engine
        scores = engine.matches(query, words=True)
        allowed = engine.allowed(filt)
        if allowed is not None:
            scores = {d: s for d, s in scores.items() if d in allowed}
        if request.years is not None:
            low, high = request.years
            years = engine.year
            scores = {
                d: s for d, s in scores.items() if (y := years[d]) is not None and low <= y <= high
            }
        names = [set(S.author_terms(n)) for n in request.authors]
        if any(len(words) > 1 for words in names):
            # the filter matched the words anywhere; keep documents where one author has them all
            authors = engine.authors
            scores = {
                d: s
                for d, s in scores.items()
                if any(w <= set(a) for a in authors[d] or () for w in names if w)
            }
        kinds = engine.kind
        for docnum in scores:
            if kinds[docnum] == "page":
                scores[docnum] *= PAGE_BONUS
        unit: Callable[[int], Any] = (lambda d: d) if request.flat else engine.group.__getitem__
        groups: dict[Any, list[tuple[int, float]]] = {}
        for docnum, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            groups.setdefault(unit(docnum), []).append((docnum, score))
        items = list(groups.items())
        if request.sort == "date":
            items.sort(key=lambda kv: -(engine.year[kv[1][0][0]] or 0))
        elif request.sort == "title":
            items.sort(key=lambda kv: engine.title[kv[1][0][0]].casefold())
        first = (request.page - 1) * request.limit
        ordered = items[first : first + request.limit]
        finder = WordFinder(self._surface_words(gen, query))
        hits = [
            self._hit(gen, key, members, finder, flat=request.flat, explain=explain, query=query)
            for key, members in ordered
        ]
        section_facets, kind_facets = self._facets(gen, request, scores, unit)
        plan_lines: tuple[str, ...] = ()
        if explain:
            plan_lines = (f"query:  {query}", f"filter: {filt}", *(f"note:   {n}" for n in notes))
        return SearchResults(
            query=request.text,
            corrected_query=corrected,
            total=len(groups),
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

    def _surface_words(self, gen: _Generation, query: wq.Query) -> list[str]:
        """The index's own unstemmed words whose stem is a positive term of the query."""
        reader = gen.searcher.reader()
        words: list[str] = []
        for leaf in _positive_leaves(query):
            fieldname = getattr(leaf, "fieldname", None)
            if fieldname not in FIELD_BOOSTS:
                continue
            texts = leaf.words if isinstance(leaf, wq.Phrase) else [getattr(leaf, "text", "")]
            for text in texts:
                if not isinstance(text, str) or not text:
                    continue
                if text not in gen.surfaces:
                    found = {text}
                    for spell in ("spell_body", "spell_title"):
                        for raw in reader.expand_prefix(spell, text):
                            word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                            if stem(word) == text:
                                found.add(word)
                    gen.surfaces[text] = tuple(found)
                words.extend(gen.surfaces[text])
        return words

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
        lowered = fields["_lower"] if len(fields["_lower"]) == len(fields["_line"]) else None
        snippet = make_snippet(fields["_line"], finder, lowered=lowered)
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
                value = engine.term(leaf.fieldname, leaf.text).get(docnum)
                if value:
                    contributions.append(f"{leaf.fieldname}:{leaf.text} {value * leaf.boost:.2f}")
        bonus = f" (×{PAGE_BONUS} page bonus)" if engine.kind[docnum] == "page" else ""
        doc_id = gen.searcher.stored_fields(docnum)[S.ID]
        terms = " + ".join(contributions) or "no scored terms"
        return f"{doc_id}: {score:.2f}{bonus} = ({terms}) × word coverage"

    def _facets(
        self, gen: _Generation, request: SearchRequest, scores: Scores, unit: Callable[[int], Any]
    ) -> tuple[tuple[FacetValue, ...], tuple[FacetValue, ...]]:
        engine = gen.engine
        bases = [s.strip("/") for s in request.sections if s.strip("/")] or [""]
        sections: dict[str, set[Any]] = {}
        kinds: dict[str, set[Any]] = {}
        depths = [(base, len(base.split("/")) if base else 0) for base in bases]
        children: dict[str, tuple[str, ...]] = {}  # section -> the facet values it counts for

        def facet_values(section: str) -> tuple[str, ...]:
            parts = section.split("/") if section else []
            values = []
            for base, depth in depths:
                inside = not base or section == base or section.startswith(base + "/")
                if inside and len(parts) > depth:
                    values.append("/".join(parts[: depth + 1]))
            return tuple(values)

        for docnum in scores:
            key = unit(docnum)
            kinds.setdefault(engine.kind[docnum], set()).add(key)
            section = engine.section[docnum]
            values = children.get(section)
            if values is None:
                values = children[section] = facet_values(section)
            for value in values:
                sections.setdefault(value, set()).add(key)
        titles = engine.section_titles
        section_facets = tuple(
            FacetValue(value, len(keys), titles.get(value, value.rsplit("/", 1)[-1]))
            for value, keys in sorted(sections.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        )
        kind_facets = tuple(
            FacetValue(value, len(keys))
            for value, keys in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        )
        return section_facets, kind_facets


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


def suggest(word: str, vocabulary: Iterable[str], frequency: Callable[[str], int]) -> str | None:
    """The closest, then commonest, word of the vocabulary (at most 2 edits; 1 for short words).

    Candidates must share the first letter (or swap the first two) and be of a
    close length; only the closest few are looked up for their frequency.
    """
    limit = 1 if len(word) <= 4 else 2
    found: list[tuple[int, str]] = []
    for candidate in vocabulary:
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


def search_collections(searchers: Mapping[str, Searcher], request: SearchRequest) -> SearchResults:
    """Search several indexes (named collections) and merge their results by score.

    Each result says which collection it came from (``Hit.collection``);
    totals and facet counts are added up.
    """
    start = time.perf_counter()
    wanted = request.page * request.limit
    answers = {
        name: searcher.run(replace(request, page=1, limit=wanted))
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
    first = (request.page - 1) * request.limit

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
    "QueryPlan",
    "Searcher",
    "build_filter",
    "build_query",
    "edit_distance",
    "search_collections",
    "suggest",
]
