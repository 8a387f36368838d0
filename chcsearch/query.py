"""Query stage: run planned queries against the index, group, facet and snip.

``Searcher`` runs plans (``chcsearch.plan``): it keeps the current index
generation open and follows newer ones, takes turns on a lock with a
deadline, rewrites what needs the index (prefix and wildcard expansion with a
cap, spelling via ``chcsearch.spelling``), scores with an engine
(``chcsearch.engine``), and makes hits from stored fields: snippets, parts,
``--explain`` lines and facet counts. ``search_collections`` merges several
indexes' results. A search stopped by its deadline leaves the caches as if it
never ran.

Not here: parsing and the query limits (``chcsearch.plan``), scoring and
ranking (``chcsearch.engine``, ``chcsearch.engine_array``), spelling
correction (``chcsearch.spelling``). ``build_query``, ``build_filter``,
``QueryBudget``, ``QueryPlan``, ``edit_distance`` and ``suggest`` live there
and are re-exported here, where callers have always imported them.
Whoosh is imported by ``chcsearch.index`` and the query modules only
(``plan``, ``engine``, ``engine_array``, ``spelling`` and this one).
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import json
import math
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from . import schema as S
from .deadline import NEVER, Deadline
from .engine import PAGE_BONUS, Engine, make_engine, query_stems
from .errors import ChcSearchError, IndexDamagedError
from .index import (
    QUERY_DATA_FILE,
    Generation,
    IndexStore,
    open_whoosh,
    query_data,
    stem,
    term_text,
    word_analysis,
)
from .plan import (
    _WILDCARD,
    _WORD,
    CHECK_EVERY,
    DEFAULT_BUDGET,
    FIELD_BOOSTS,
    MAX_WORDS,
    QueryBudget,
    QueryPlan,
    _parser,  # noqa: F401  (imported from here by tests)
    _positive_leaves,
    _words_query,  # noqa: F401  (imported from here by tests)
    build_filter,
    build_query,
)
from .results import FacetValue, Hit, Part, SearchRequest, SearchResults, Snip
from .snippets import WordFinder, make_snippet, one_line
from .spelling import SpellIndex, corrected_text, edit_distance, misspellings, suggest

from whoosh import query as wq

MAX_PARTS = 5
#: Filter values of one kind that notes are given for (a request may carry many)
MAX_FILTER_NOTES = 5
#: Pseudo-relevance feedback (``Searcher._with_feedback``), for queries of this many words
FEEDBACK_MIN_WORDS = 6
FEEDBACK_DOCS = 5
FEEDBACK_TERMS = 20
FEEDBACK_WEIGHT = 0.4
#: the n-th best feedback document counts 1 / (1 + FEEDBACK_DECAY × n) (the first: 1)
FEEDBACK_DECAY = 0.5
SURFACE_CACHE = 4096  # query terms whose surface words a generation keeps
STORED_CACHE = 512  # documents whose stored fields a Searcher keeps (a few MB)


@dataclass
class _Generation:
    """One opened index generation and what is derived from it once."""

    name: str
    index: Any
    searcher: Any
    engine: Engine
    #: a query term's surface words, and how many index words finding them read
    surfaces: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    stored: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: every numbering level and level prefix indexed, read when a level filter is given
    levels: frozenset[str] | None = None
    #: the spelling words and their deletes, built when a query first needs them
    spell: SpellIndex | None = None
    #: ``(source, authors, year, title)`` of every document file, read when citations need them
    works: tuple[tuple[str, tuple[str, ...], int | None, str], ...] | None = None


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
        self,
        index_dir: str | os.PathLike[str],
        *,
        engine: str = "auto",
        budget: QueryBudget = DEFAULT_BUDGET,
    ) -> None:
        """``engine``: ``auto`` (arrays from ``ARRAY_ENGINE_DOCS`` documents up),
        ``dict`` or ``array``; both give the same results. ``budget`` bounds
        the work of wildcards and completions."""
        if engine not in ("auto", "dict", "array"):
            raise ValueError(f"engine must be auto, dict or array, not {engine!r}")
        self.engine_kind = engine
        self.budget = budget
        self._lock = threading.RLock()
        self.index_dir = Path(index_dir)
        self._store = IndexStore(self.index_dir)
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
            engine = make_engine(searcher, data, self.engine_kind)
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
        filter are alternatives. ``limit`` results per page (at most 1,000,
        ``results.MAX_LIMIT``), ``page`` counts from 1. ``flat`` lists documents
        instead of grouping report pages under the page that links them. ``explain`` fills
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
            misspelt = misspellings(gen, plan, deadline) if request.correct else {}
            if misspelt:
                corrected = corrected_text(plan.text, misspelt)
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
        notes: list[str] = []
        sections = gen.engine.section_titles
        for raw in request.sections[:MAX_FILTER_NOTES]:
            value = raw.strip("/")
            if value and value not in sections:
                notes.append(_unknown_filter("section", raw, value, sections))
        if request.levels:
            if gen.levels is None:
                lexicon = gen.searcher.reader().lexicon(S.LEVEL_PATH)
                gen.levels = frozenset(term_text(t) for t in lexicon)
            for raw in request.levels[:MAX_FILTER_NOTES]:
                value = raw.strip().strip(".")
                if value and S.keyword_term(value) not in gen.levels:
                    notes.append(_unknown_filter("level", raw, value, gen.levels))
        return notes

    def link_base(self) -> str | None:
        """The address the index's relative URLs (``/reports/x.pdf#page=3``) are on: a folder
        archive's ``file://`` URI, else the site's public address (``url`` and ``baseurl``
        of its config) when the index recorded one, else None."""
        with self._turn(NEVER) as gen:
            try:
                meta = Generation(self.index_dir / gen.name).meta()
            except (OSError, ValueError):
                return None
        site = meta.get("site")
        if meta.get("generator") == "folder" and isinstance(site, str) and site:
            return Path(site).as_uri()
        recorded = meta.get("site_url")
        return recorded.rstrip("/") if isinstance(recorded, str) and recorded else None

    def works(self) -> tuple[tuple[str, tuple[str, ...], int | None, str], ...]:
        """``(source, authors, year, title)`` of every file the index holds (a page, or a
        PDF once for all its pages), in source order: what citation keys are made from,
        so that a document's key does not depend on the query (see ``render.citation_keys``)."""
        with self._turn(NEVER) as gen:
            if gen.works is None:
                found: dict[str, tuple[str, tuple[str, ...], int | None, str]] = {}
                for fields in gen.searcher.all_stored_fields():
                    source = str(fields.get(S.SOURCE) or "")
                    if source and source not in found:
                        found[source] = (
                            source,
                            tuple(fields.get(S.AUTHORS) or ()),
                            fields.get(S.YEAR),
                            str(fields.get(S.TITLE) or ""),
                        )
                gen.works = tuple(found[source] for source in sorted(found))
            return gen.works

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
            word = term_text(raw)
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
        value = engine.with_proximity(value, query)
        value = self._with_feedback(gen, value, query, filt)
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

    def _with_feedback(
        self, gen: _Generation, value: Any, query: wq.Query, filt: wq.Query | None
    ) -> Any:
        """Pseudo-relevance feedback for descriptive queries (``FEEDBACK_MIN_WORDS`` words or
        more): the words that stand out in the best ``FEEDBACK_DOCS`` documents (their share
        of each document's words, weighted by its rank, times their idf) are searched too, the best
        ``FEEDBACK_TERMS`` of them, weighing at most ``FEEDBACK_WEIGHT`` of a query word.
        Short queries (names, titles) are left as they are."""
        words = query_stems(query)
        if len(words) < FEEDBACK_MIN_WORDS or not FEEDBACK_WEIGHT:
            return value
        engine = gen.engine
        top = engine._top(value, FEEDBACK_DOCS)
        if len(top) < 3:
            return value
        analysis = word_analysis()
        shares: dict[str, float] = {}
        for rank, docnum in enumerate(top):
            engine.deadline.check()
            terms = analysis.terms(self._stored(gen, docnum).get(S.BODY) or "")
            weight = 1.0 / (1.0 + FEEDBACK_DECAY * rank)  # better-ranked documents count more
            for term, count in Counter(terms).items():
                shares[term] = shares.get(term, 0.0) + weight * count / len(terms)
        reader = gen.searcher.reader()
        total = engine.doc_count
        asked = set(words)
        scored = []
        for term, share in shares.items():
            if term in asked or len(term) < 3 or not term.isalpha():
                continue
            frequency = reader.doc_frequency(S.BODY, term)
            if frequency >= 2:
                scored.append((share * math.log(total / frequency), term))
        best = heapq.nlargest(FEEDBACK_TERMS, scored)
        if not best or best[0][0] <= 0:
            return value
        most = best[0][0]
        expansion = engine._union(
            [engine._term(S.BODY, term, FEEDBACK_WEIGHT * weight / most) for weight, term in best],
            coordinate=False,
        )
        return engine.allowed(engine._union([value, expansion], coordinate=False), filt)

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
                    # the stemmer turns a final y into i (epilepsy -> epilepsi): such a stem
                    # is no prefix of its words, so they are looked for without the i
                    prefix = text[:-1] if len(text) > 3 and text.endswith("i") else text
                    for spell in ("spell_body", "spell_title"):
                        spelt, scanned, _ = self._prefix_words(
                            reader, spell, prefix, self.budget.prefix_scan, deadline
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
                        page_count=fields.get(S.PAGE_COUNT),
                    )
                )
            head = self._stored(gen, gen.engine.page_doc.get(key, best_doc))
            snippet = parts[0].snippet
        # where the best text is: the best part when it is a PDF page, else the heading document
        best = parts[0] if parts and parts[0].kind == "pdf" else None
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
            kind=best.kind if best else head[S.KIND],
            url=best.url if best else head[S.URL],
            page=best.page if best else head.get(S.PAGE),
            score=best_score,
            snippet=snippet,
            parts=tuple(parts),
            explain=lines,
            page_label=best.page_label if best else head.get(S.PAGE_LABEL) or "",
            authors=tuple(head.get(S.AUTHORS) or ()),
            year=head.get(S.YEAR),
            tags=tuple(head.get(S.TAGS) or ()),
            group_url=head[S.URL],
            page_count=best.page_count if best else head.get(S.PAGE_COUNT),
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
        engine: Engine,
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
    shown = raw if len(raw) <= 80 else raw[:80] + "…"
    return f"no document has the {kind} {shown!r}{hint}"


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
