"""Plain data passed between the pipeline stages.

discover -> parse -> extract -> documents -> index. Every record here is a
frozen dataclass; none of them knows about Whoosh or pdfminer.

Path names follow one convention throughout:

* ``src_path``: a file's path relative to the site root, ``/``-separated
  (``hub/ppi.md``, ``assets/hub/Report.pdf``);
* ``abs_path``: the same file as an absolute OS path;
* ``url``: the public address of the published page or file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SourceKind = Literal["page", "pdf"]
DocKind = Literal["page", "pdf"]
ResourceKind = Literal["pdf", "file", "url"]

#: Problem kinds, grouped the way ``chcsearch status`` reports them.
PROBLEM_GROUPS: dict[str, str] = {
    "front-matter-invalid": "front-matter errors",
    "bad-value": "front-matter errors",
    "sidecar-bad-value": "metadata sidecars",
    "no-front-matter": "front-matter errors",
    "dead-link": "dead links",
    "path-outside-site": "dead links",
    "not-published": "dead links",
    "pdf-empty": "unreadable PDFs",
    "pdf-corrupt": "unreadable PDFs",
    "pdf-encrypted": "unreadable PDFs",
    "pdf-timeout": "unreadable PDFs",
    "pdf-crashed": "unreadable PDFs",
    "pdf-too-large": "unreadable PDFs",
    "pdf-no-text": "PDFs or pages with no text",
    "pdf-pages-no-text": "PDFs or pages with no text",
    "page-no-text": "PDFs or pages with no text",
    "orphan-pdf": "orphan PDFs",
    "no-documents": "nothing to index",
    "ocr-failed": "PDFs or pages with no text",
    "ocr-timeout": "PDFs or pages with no text",
    "sidecar-invalid": "metadata sidecars",
    "encoding": "unreadable files",
    "empty-file": "unreadable files",
    "unreadable-file": "unreadable files",
    "symlink-loop": "unreadable files",
    "file-name-not-utf8": "unreadable files",
    "yaml-too-complex": "files too large or complex",
    "page-too-large": "files too large or complex",
    "page-too-slow": "files too large or complex",
    "page-mostly-markup": "files too large or complex",
}


@dataclass(frozen=True)
class Problem:
    """Something in the content that chcsearch could not use as it is.

    Indexing goes on; the problem is reported in the run summary and kept for
    ``chcsearch status``. ``message`` says what is wrong and how to fix it.
    """

    kind: str
    src_path: str
    message: str
    line: int | None = None

    @property
    def group(self) -> str:
        return PROBLEM_GROUPS.get(self.kind, "other")

    def location(self) -> str:
        return f"{self.src_path}:{self.line}" if self.line else self.src_path

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(
            kind=str(data["kind"]),
            src_path=str(data["src_path"]),
            message=str(data["message"]),
            line=data.get("line"),
        )


@dataclass(frozen=True)
class SourceFile:
    """A published file that chcsearch reads: a page candidate or a PDF."""

    src_path: str
    abs_path: Path
    kind: SourceKind
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Resource:
    """One entry of a page's ``resources:`` list.

    ``target`` is the resolved ``src_path`` of a local file, or the address
    itself for ``url:`` resources. ``exists`` is False for a dead local link.
    """

    kind: ResourceKind
    title: str
    target: str
    url: str
    exists: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resource:
        return cls(**data)


@dataclass(frozen=True)
class PageMeta:
    """What the parse stage learns about a page, without its body text.

    Kept in the index manifest so an unchanged page is never read again.
    """

    src_path: str
    url: str
    title: str
    section: str
    level: str
    weight: float | None
    resources: tuple[Resource, ...] = ()
    authors: tuple[str, ...] = ()
    year: int | None = None
    tags: tuple[str, ...] = ()
    #: False when the title is only a guess (a plain-text note's first line): it is shown,
    #: but searched as the body text it is, without a title's weight
    title_weighted: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["resources"] = [r.to_dict() for r in self.resources]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageMeta:
        return cls(
            src_path=data["src_path"],
            url=data["url"],
            title=data["title"],
            section=data["section"],
            level=data["level"],
            weight=data["weight"],
            resources=tuple(Resource.from_dict(r) for r in data["resources"]),
            authors=tuple(data.get("authors", ())),
            year=data.get("year"),
            tags=tuple(data.get("tags", ())),
            title_weighted=bool(data.get("title_weighted", True)),
        )


@dataclass(frozen=True)
class Page:
    """A parsed page: its metadata, headings and plain body text."""

    meta: PageMeta
    headings: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class PdfText:
    """The text of one PDF, one string per physical page.

    ``page_count`` is the PDF's own page count; ``pages`` has that many
    entries when extraction succeeded and none when the file is unreadable.
    """

    sha256: str
    page_count: int
    pages: tuple[str, ...]
    title: str = ""
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0
    authors: tuple[str, ...] = ()
    year: int | None = None
    labels: tuple[str, ...] = ()
    """Printed page labels from the PDF's /PageLabels (``"iv"``, ``"23"``), or empty."""
    heading: str = ""
    """Title candidates from the first page with text, one per line: its largest
    type first, then its first line (``pdfmeta.title_lines``); where a candidate set
    over several lines broke is marked with ``pdfmeta.LINE_BREAK``."""


@dataclass(frozen=True)
class PdfMeta:
    """What the manifest keeps about a PDF between runs."""

    src_path: str
    sha256: str
    page_count: int
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    labels: tuple[str, ...] = ()
    heading: str = ""
    """Title candidates from the first page with text, one per line: its largest
    type first, then its first line (``pdfmeta.title_lines``); where a candidate set
    over several lines broke is marked with ``pdfmeta.LINE_BREAK``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PdfMeta:
        return cls(
            src_path=data["src_path"],
            sha256=data["sha256"],
            page_count=int(data["page_count"]),
            title=data.get("title", ""),
            authors=tuple(data.get("authors", ())),
            year=data.get("year"),
            labels=tuple(data.get("labels", ())),
            heading=data.get("heading", ""),
        )


@dataclass(frozen=True)
class Document:
    """One entry of the index: a page, or one physical page of a PDF.

    ``id`` is the page's ``src_path`` or ``<pdf src_path>#page=N``.
    ``group`` is the ``src_path`` of the page under which search results
    group this document (the page itself, or the page linking the PDF).
    ``fingerprint`` changes whenever anything indexed about it changes.
    """

    id: str
    source: str
    kind: DocKind
    title: str
    url: str
    section: str
    ancestors: tuple[str, ...]
    breadcrumb: tuple[str, ...]
    level: str
    weight: float | None
    group: str
    linked_from: tuple[str, ...]
    page: int | None
    page_count: int | None
    orphan: bool
    resources: tuple[Resource, ...]
    fingerprint: str
    headings: tuple[str, ...] = ()
    body: str = ""
    context: str = ""
    words: int = 0
    authors: tuple[str, ...] = ()
    year: int | None = None
    tags: tuple[str, ...] = ()
    page_label: str = ""
    spelling: str | None = None
    """Text whose words feed "did you mean" (None: the body). A PDF's words are
    given once, on its first page, instead of on each of its pages."""
    title_weighted: bool = True
    """False when the title is a guess (see ``PageMeta.title_weighted``)."""


@dataclass(frozen=True)
class BuildSummary:
    """The outcome of one ``chcsearch index`` run."""

    site: str
    index_dir: str
    generator: str
    rebuilt: bool
    rebuild_reason: str
    pages: int
    pdfs: int
    pdf_pages: int
    documents: int
    words: int
    files_read: int
    pdfs_extracted: int
    pdfs_from_cache: int
    docs_added: int
    docs_updated: int
    docs_removed: int
    seconds: float
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    generation: str = ""
    pdfs_ocred: int = 0
    """PDFs whose text was cached without OCR, completed now by OCR of their pages
    without text (neither extracted nor from the cache)."""
    pdf_pages_ocred: int = 0
    """The pages those PDFs had without text, read by OCR in this run."""

    @property
    def changed(self) -> bool:
        return bool(self.docs_added or self.docs_updated or self.docs_removed)

    def problem_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.kind] = counts.get(problem.kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [p.to_dict() for p in self.problems]
        data["warnings_by_kind"] = self.problem_counts()
        return data


@dataclass(frozen=True)
class Sidecar:
    """Metadata a researcher adds beside a file (``report.pdf.yml``) or for a folder (``_meta.yml``).

    Every field is optional; what is given overrides what the file says.
    """

    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    tags: tuple[str, ...] = ()
    url: str = ""

    def over(self, base: Sidecar) -> Sidecar:
        """This sidecar's fields where given, ``base``'s elsewhere."""
        return Sidecar(
            title=self.title or base.title,
            authors=self.authors or base.authors,
            year=self.year if self.year is not None else base.year,
            tags=self.tags or base.tags,
            url=self.url or base.url,
        )
