"""Plain data of a search: the request, the hits and their parts, facets.

Frozen dataclasses, kept apart from the ingest records in ``chcsearch.model``
so that answering a query loads only what it uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The orders a result list can take; the first is the default.
SORTS = ("relevance", "date", "title")
MAX_LIMIT = 1000  # results per page (a TREC run is usually 1,000 deep)


@dataclass(frozen=True)
class SearchRequest:
    """One search: the query text, filters and the page of results wanted.

    ``sections`` keeps documents in any of those section subtrees, ``levels``
    any of those numbering subtrees (``2.5`` keeps 2.5, 2.5.1, …), ``kinds``
    ``page`` and/or ``pdf``. ``flat`` lists every document on its own
    instead of grouping a page with the pages of the reports it links.
    ``authors`` keeps documents by any of those authors (every word of a name
    must match), ``years`` an inclusive range, ``tags`` any of those tags.
    ``sort`` is ``relevance`` (default), ``date`` (newest first) or ``title``.
    ``correct`` lets words the index does not have be corrected (the default).
    """

    text: str
    sections: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    limit: int = 10
    page: int = 1
    flat: bool = False
    authors: tuple[str, ...] = ()
    years: tuple[int, int] | None = None
    tags: tuple[str, ...] = ()
    sort: str = "relevance"
    correct: bool = True

    @classmethod
    def make(
        cls,
        text: str,
        *,
        sections: Iterable[str] = (),
        levels: Iterable[str] = (),
        kinds: Iterable[str] = (),
        limit: int = 10,
        page: int = 1,
        flat: bool = False,
        authors: Iterable[str] = (),
        years: tuple[int, int] | None = None,
        tags: Iterable[str] = (),
        sort: str = "relevance",
        correct: bool = True,
    ) -> SearchRequest:
        """A request from loose arguments: ``limit`` kept within 1..``MAX_LIMIT``,
        ``page`` from 1, an unknown ``sort`` read as relevance."""
        return cls(
            text=text,
            sections=tuple(sections),
            levels=tuple(levels),
            kinds=tuple(kinds),
            limit=max(1, min(int(limit), MAX_LIMIT)),
            page=max(1, int(page)),
            flat=flat,
            authors=tuple(authors),
            years=years,
            tags=tuple(tags),
            sort=sort if sort in SORTS else SORTS[0],
            correct=bool(correct),
        )

    @property
    def offset(self) -> int:
        """How many results come before this page."""
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Snip:
    """A snippet in its three forms; ``spans`` mark the matches in ``text``."""

    text: str
    html: str
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Part:
    """One matching document inside a grouped result."""

    source: str
    kind: str
    page: int | None
    url: str
    score: float
    snippet: Snip
    title: str = ""
    page_label: str = ""
    #: the PDF's number of pages (None for a site page)
    page_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "page": self.page,
            "url": self.url,
            "score": round(self.score, 4),
            "snippet": self.snippet.text,
            "snippet_html": self.snippet.html,
        }


@dataclass(frozen=True)
class Hit:
    """One result: a page with its matching report pages, or one document (flat).

    The document that heads the result gives ``id``, ``source``, ``title``,
    ``section``, ``breadcrumb``, ``level`` and the metadata; ``kind``, ``url``,
    ``page``, ``page_label`` and ``page_count`` say where its best text is: the
    best part's when that is a PDF page (always so with ``kinds=("pdf",)``),
    else the heading document's own. ``group_url`` is the heading document's
    own URL, equal to ``url`` unless the best part is a PDF page.
    """

    id: str
    source: str
    title: str
    section: str
    breadcrumb: tuple[str, ...]
    level: str
    kind: str
    url: str
    page: int | None
    score: float
    snippet: Snip
    parts: tuple[Part, ...] = ()
    explain: tuple[str, ...] = ()
    page_label: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    tags: tuple[str, ...] = ()
    collection: str = ""
    group_url: str = ""
    #: the PDF's number of pages when ``kind`` is ``pdf`` (None for a site page)
    page_count: int | None = None

    @property
    def file(self) -> str:
        """The ``src_path`` of the document ``url`` points at (a PDF, or the heading page)."""
        if self.parts and self.parts[0].kind == "pdf" and self.kind == "pdf":
            return self.parts[0].source
        return self.source

    def to_record(self) -> dict[str, Any]:
        """The documented JSON of a result plus what citations need (exports)."""
        record = self.to_dict()
        record.update(
            page_label=self.page_label,
            authors=list(self.authors),
            year=self.year,
            tags=list(self.tags),
            page_count=self.page_count,
        )
        for part, out in zip(self.parts, record["parts"], strict=True):
            out["page_label"] = part.page_label
        return record

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "breadcrumb": list(self.breadcrumb),
            "level": self.level,
            "kind": self.kind,
            "url": self.url,
            "page": self.page,
            "group_url": self.group_url or self.url,
            "score": round(self.score, 4),
            "snippet": self.snippet.text,
            "snippet_html": self.snippet.html,
            "parts": [p.to_dict() for p in self.parts],
            # only when several collections were searched: which one answered
            **({"collection": self.collection} if self.collection else {}),
        }


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    title: str = ""


@dataclass(frozen=True)
class SearchResults:
    """The answer to a ``SearchRequest``; ``to_dict`` is the documented JSON.

    ``corrected_query`` is the text actually searched when it differs from
    the query: a spelling correction, or the plain words of a query whose
    syntax could not be read. ``notes`` say which, for people.
    """

    query: str
    corrected_query: str | None
    total: int
    page: int
    limit: int
    request: SearchRequest
    section_facets: tuple[FacetValue, ...]
    kind_facets: tuple[FacetValue, ...]
    results: tuple[Hit, ...]
    took_ms: float
    notes: tuple[str, ...] = ()
    explain: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "corrected_query": self.corrected_query,
            "total": self.total,
            "page": self.page,
            "limit": self.limit,
            "filters": {
                "sections": list(self.request.sections),
                "levels": list(self.request.levels),
                "kinds": list(self.request.kinds),
            },
            "facets": {
                "section": [
                    {"value": f.value, "title": f.title, "count": f.count}
                    for f in self.section_facets
                ],
                "kind": [{"value": f.value, "count": f.count} for f in self.kind_facets],
            },
            "results": [hit.to_dict() for hit in self.results],
            "notes": list(self.notes),
            "took_ms": round(self.took_ms, 2),
        }
