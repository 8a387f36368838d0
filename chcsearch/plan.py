"""Query planning: turn a ``SearchRequest`` into a ``QueryPlan`` without reading the index.

``build_query`` is pure: it parses the query text into a Whoosh query and
builds the filter for the request's sections, levels, kinds, tags and
authors (``build_filter``). Held here: the field weights, the limits of a
query (length, words, nesting, phrases, operators, boosts), the work budget
of wildcards (``QueryBudget``), and the helpers that read a query tree.

Not here: anything that needs the index (expanding wildcards, spelling,
scoring) — that is ``chcsearch.query`` (the ``Searcher``),
``chcsearch.spelling`` and ``chcsearch.engine``.

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
and every long loop checks the search's ``Deadline`` (every ``CHECK_EVERY``
items).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from . import schema as S
from .errors import QueryRefusedError
from .index import text_analyzer, whoosh_schema
from .results import SearchRequest
from .text import CONTROL as _CONTROL

from whoosh import qparser
from whoosh import query as wq

#: Field weights for BM25F: a word in a title counts most, then headings and
#: the titles of linked resources, then the breadcrumb context, then body text.
FIELD_BOOSTS: dict[str, float] = {
    S.TITLE: 3.0,
    S.HEADINGS: 1.5,
    S.RESOURCE_TITLES: 1.5,
    S.CONTEXT: 1.0,
    S.BODY: 1.0,
}
MAX_QUERY_CHARS = 4000
MAX_WORDS = 300
MAX_EXPANSIONS = 50
MAX_DEPTH = 8  # nesting of parentheses
MAX_PHRASES = 8
MAX_OPERATORS = 16  # AND, OR, NOT and +/- words
MAX_BOOST = 10.0  # word^N: N is clamped to [0, MAX_BOOST]
SECTION_ALIAS = "section"
LEVEL_ALIAS = "level"

_INNER_HYPHEN = re.compile(r"(?<=[^\W_])[-‐‑–](?=[^\W_])")
_QUESTION_MARK = re.compile(r"(?<=[^\W_])\?+(?=\s|$)")
_PUNCTUATION = re.compile(r"[.,;:!?]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
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
    # a phrase stands for one word, keeping its sign: -"care record" is an excluded word
    tokens = re.sub(r'"[^"]*"', "x", text).replace("(", " ").replace(")", " ").split()
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


def plain_words(text: str) -> str:
    """The words of a query without its syntax (operators, wildcards, quotes), lower-cased."""
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
    # a sentence's own punctuation standing alone ("… aircraft ." ) is no syntax
    text = " ".join(token for token in text.split() if not _PUNCTUATION.fullmatch(token))
    text = _drop_question_words(text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
        notes.append(f"the query was cut to its first {MAX_QUERY_CHARS:,} characters")
    if len(_WORD.findall(text)) > MAX_WORDS:
        text = plain_words(text)
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
        plain = plain_words(text)
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


#: BM25's query-term saturation: a word given n times weighs (k3 + 1) n / (k3 + n) times
#: one given once (1, 1.6, 2, … never more than k3 + 1). See the README's "Ranking".
K3 = 7.0


def repeat_weight(count: int) -> float:
    """The weight of a word the query gives ``count`` times."""
    return (K3 + 1) * count / (K3 + count)


def _once(q: wq.Query) -> wq.Query:
    """The query with repeated parts of an OR or AND kept once, weighted by ``repeat_weight``:
    "bone bone bone" is one word of the query (coordination counts it once), weighing
    more than "bone" alone, never three times as much."""
    if isinstance(q, (wq.Or, wq.And)):
        # Whoosh queries hash consistently with ==; a dict keeps first-seen order
        counts: dict[wq.Query, int] = {}
        for child in (_once(c) for c in q.subqueries):
            counts[child] = counts.get(child, 0) + 1
        kept = list(counts)
        if len(kept) != len(q.subqueries):
            weighted = [
                c if n == 1 else c.with_boost(c.boost * repeat_weight(n)) for c, n in counts.items()
            ]
            return q.__class__(weighted, boost=q.boost)
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
    counts: dict[str, int] = {}
    for word in text.split():
        stems = _stems(word)
        if len(stems) > 1:
            return None
        key = stems[0] if stems else ""
        counts[key] = counts.get(key, 0) + 1
    groups = [
        wq.Or(
            [wq.Term(field, stem, boost=boost) for field, boost in FIELD_BOOSTS.items()],
            boost=repeat_weight(count),
        )
        if stem
        else wq.Or([])
        for stem, count in counts.items()
    ]
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
