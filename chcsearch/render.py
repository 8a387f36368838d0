"""Render stage: library results as text or JSON for people and programs.

Pure functions from data to strings; the CLI decides where they go.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .results import Hit, SearchResults
from .snippets import mark_spans

if TYPE_CHECKING:
    from .bundle import BundleSummary
    from .model import BuildSummary, Problem


def to_json(data: Any) -> str:
    """Strict JSON: a NaN or infinity raises instead of printing what no parser reads."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)


def problem_line(problem: Problem) -> str:
    return f"warning: {problem.location()}: [{problem.kind}] {problem.message}"


def _group_counts(problems: Iterable[Mapping[str, Any] | Problem]) -> dict[str, dict[str, int]]:
    from .model import PROBLEM_GROUPS

    groups: dict[str, dict[str, int]] = {}
    for item in problems:
        kind = str(item["kind"]) if isinstance(item, Mapping) else item.kind
        group = PROBLEM_GROUPS.get(kind, "other")
        kinds = groups.setdefault(group, {})
        kinds[kind] = kinds.get(kind, 0) + 1
    return groups


def bundle_text(summary: BundleSummary) -> str:
    """The closing summary of a bundle run."""
    links = f"links on {summary.site_url}" if summary.site_url else "links are paths on the site"
    return "\n".join(
        [
            f"Bundle {summary.out_dir} written in {summary.seconds:.1f} s ({links})",
            f"  records    {summary.pages + summary.pdf_pages:>8,}  "
            f"({summary.pages:,} pages, {summary.pdf_pages:,} PDF pages)",
            f"  files      {summary.files:>8,}  ({summary.bytes / 1e6:,.1f} MB)",
            f"  vocabulary {summary.vocabulary:>8,}  words for did-you-mean",
        ]
    )


def summary_text(summary: BuildSummary) -> str:
    """The closing summary of an index run."""
    how = "rebuilt" if summary.rebuilt else "updated" if summary.changed else "unchanged"
    lines = [
        f"Index {summary.index_dir} {how} from {summary.site} ({summary.generator}) "
        f"in {summary.seconds:.1f} s" + (f": {summary.rebuild_reason}" if summary.rebuilt else ""),
        f"  pages      {summary.pages:>8,}",
        f"  PDFs       {summary.pdfs:>8,}  ({summary.pdf_pages:,} PDF pages)",
        f"  documents  {summary.documents:>8,}  ({summary.words:,} words)",
        f"  this run   {summary.files_read:,} files read, {summary.pdfs_extracted:,} PDFs extracted, "
        f"{summary.pdfs_from_cache:,} from cache; documents +{summary.docs_added:,} "
        f"~{summary.docs_updated:,} -{summary.docs_removed:,}",
    ]
    counts = summary.problem_counts()
    if counts:
        lines.append(
            f"  warnings   {len(summary.problems):>8,}  "
            + ", ".join(f"{k} {n}" for k, n in counts.items())
        )
    else:
        lines.append("  warnings          0")
    return "\n".join(lines)


def status_text(status: Mapping[str, Any]) -> str:
    """``chcsearch status`` for people."""
    from .model import PROBLEM_GROUPS

    counts = status.get("counts", {})
    run = status.get("last_run") or {}
    lines = [
        f"Index      {status['index_dir']} ({status['generation']}, schema version {status['schema_version']})",
        f"Source     {status['site']} ({status['generator']})",
        f"PDF text   {status['extractor_name']}"
        + (", OCR of pages with no text" if status.get("ocr") else ""),
        f"Last run   {run.get('finished', 'unknown')} ({run.get('seconds', 0):.1f} s, "
        f"{run.get('files_read', 0):,} files read, {run.get('pdfs_extracted', 0):,} PDFs extracted)",
        f"Documents  {counts.get('documents', 0):,}: {counts.get('pages', 0):,} pages, "
        f"{counts.get('pdfs', 0):,} PDFs with {counts.get('pdf_pages', 0):,} pages, "
        f"{counts.get('words', 0):,} words",
    ]
    problems = run.get("problems", [])
    if not problems:
        lines.append("Warnings   none")
        return "\n".join(lines)
    lines.append(f"Warnings   {len(problems):,} in the last run")
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for item in problems:
        by_group.setdefault(PROBLEM_GROUPS.get(str(item["kind"]), "other"), []).append(item)
    for group in sorted(by_group):
        items = by_group[group]
        lines.append(f"  {group} ({len(items)})")
        for item in items:
            where = f"{item['src_path']}:{item['line']}" if item.get("line") else item["src_path"]
            lines.append(f"    {where}: [{item['kind']}] {item['message']}")
    return "\n".join(lines)


def status_groups(problems: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    return _group_counts(problems)


# ----------------------------------------------------------------------------------------
# Search results

BOLD = "\x1b[1m"
MARK = "\x1b[1;33m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"


def page_ref(number: int, label: str = "") -> str:
    """``12``, or ``12 (iv)`` when the page's printed label is not its number."""
    return f"{number} ({label})" if label and label != str(number) else str(number)


def _page_list(pages: list[tuple[int, str]]) -> str:
    """``12 (iv), 14, 31`` for (physical page, label) pairs in page order."""
    return ", ".join(page_ref(n, lb) for n, lb in pages)


def _pages(pages: list[tuple[int, str]]) -> str:
    return ("p. " if len(pages) == 1 else "pp. ") + _page_list(sorted(pages))


def parts_line(hit: Hit) -> str:
    """``Report title pp. 12 (iv), 14, 31`` for the report pages grouped in a result."""
    reports: dict[str, tuple[str, list[tuple[int, str]]]] = {}
    for part in hit.parts:
        if part.kind == "pdf" and part.page is not None and part.source != hit.source:
            entry = reports.setdefault(part.source, (part.title or part.source, []))
            entry[1].append((part.page, part.page_label))
    return "; ".join(f"{title} {_pages(pages)}" for title, pages in reports.values())


def _pdf_pages(hit: Hit) -> list[tuple[int, str]]:
    """The PDF pages a result points at: its own page and its matching parts' pages.

    For a result led by a site page these are its reports' pages; pages of
    another report than the result's own PDF are left to ``parts_line``.
    """
    found = {(hit.page, hit.page_label)} if hit.page is not None else set()
    for part in hit.parts:
        own = hit.page is None or part.source == hit.source
        if part.kind == "pdf" and part.page is not None and own:
            found.add((part.page, part.page_label))
    return sorted(found)


def results_text(results: SearchResults, *, colour: bool) -> str:
    """Results for people: grouped hits with breadcrumb, URL, snippet, parts, then facets."""

    def style(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    request = results.request
    pages = max(1, -(-results.total // results.limit))
    where = f" in {', '.join(request.sections)}" if request.sections else ""
    noun = "result" if results.total == 1 else "results"
    lines = [
        f"{results.total:,} {noun} for “{results.query}”{where} · page {results.page} of {pages} · "
        f"{results.took_ms:.1f} ms"
    ]
    if results.corrected_query is not None:
        lines.append(f"Searched for: {results.corrected_query}")
    lines += [style(line, DIM) for line in results.explain]
    first = results.request.offset
    for number, hit in enumerate(results.results, start=first + 1):
        lines.append("")
        printed = (
            f", printed {hit.page_label}"
            if hit.page_label and hit.page_label != str(hit.page)
            else ""
        )
        page = f" (p. {hit.page}{printed})" if hit.page else ""
        where = f"[{hit.collection}] " if hit.collection else ""
        lines.append(
            f"{number:>3}. {where}{style(hit.title, BOLD)}{page}  {style(f'{hit.score:.2f}', DIM)}"
        )
        if hit.breadcrumb:
            lines.append("     " + " › ".join(hit.breadcrumb))
        byline = "; ".join(hit.authors)
        if hit.year:
            byline = f"{byline} · {hit.year}" if byline else str(hit.year)
        if byline:
            lines.append("     " + byline)
        lines.append("     " + style(hit.url, DIM))
        if hit.snippet.text:
            text = (
                mark_spans(hit.snippet.text, hit.snippet.spans, MARK, RESET)
                if colour
                else hit.snippet.text
            )
            lines.append("     " + text)
        extra = parts_line(hit)
        if extra:
            lines.append("     also: " + extra)
        lines += ["     " + style(line, DIM) for line in hit.explain]
    if results.section_facets:
        lines.append("")
        lines.append(
            "Sections: "
            + " · ".join(
                f"{f.title or f.value} [{f.value}] {f.count}" for f in results.section_facets
            )
        )
    if results.kind_facets:
        lines.append("Kinds: " + " · ".join(f"{f.value} {f.count}" for f in results.kind_facets))
    if not results.results:
        lines.append("")
        lines.append("No results. Try fewer or other words, or remove filters.")
    return "\n".join(lines)


CSV_COLUMNS = [
    "rank",
    "score",
    "title",
    "source",
    "url",
    "page",
    "page_label",
    "pages",
    "kind",
    "section",
    "breadcrumb",
    "authors",
    "year",
    "tags",
    "parts",
    "snippet",
    "collection",
]


def results_csv(results: SearchResults, *, header: bool = True, query_id: str | None = None) -> str:
    """Results as CSV rows, one per result, with page numbers and printed labels."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = (["query_id"] if query_id is not None else []) + CSV_COLUMNS
    if header:
        writer.writerow(columns)
    first = results.request.offset
    for rank, hit in enumerate(results.results, start=first + 1):
        row = [
            rank,
            f"{hit.score:.4f}",
            hit.title,
            hit.source,
            hit.url,
            hit.page or "",
            hit.page_label,
            _page_list(_pdf_pages(hit)),
            hit.kind,
            hit.section,
            " > ".join(hit.breadcrumb),
            "; ".join(hit.authors),
            hit.year or "",
            "; ".join(hit.tags),
            parts_line(hit),
            hit.snippet.text,
            hit.collection,
        ]
        writer.writerow(([query_id] if query_id is not None else []) + row)
    return buffer.getvalue().rstrip("\n")


def results_jsonl(results: SearchResults) -> str:
    """One JSON object per result: the documented result JSON plus labels, authors, year, tags."""
    return "\n".join(
        json.dumps(hit.to_record(), ensure_ascii=False, allow_nan=False) for hit in results.results
    )


_BIB_SPECIAL = re.compile(r"([&%$#_{}])")


def _bib(text: str) -> str:
    text = " ".join(text.replace("\\", " ").replace("~", " ").replace("^", " ").split())
    return _BIB_SPECIAL.sub(r"\\\1", text)


def _bib_key(hit: Hit, rank: int) -> str:
    stem = re.sub(
        r"[^A-Za-z0-9]+",
        "",
        (
            hit.authors[0].split()[-1]
            if hit.authors
            else hit.title.split()[0]
            if hit.title.split()
            else "doc"
        ),
    )
    return f"{stem.lower() or 'doc'}{hit.year or ''}r{rank}"


def results_bibtex(results: SearchResults) -> str:
    """One ``@misc`` entry per result, with the pages (and printed labels) it points at."""
    entries = []
    first = results.request.offset
    for rank, hit in enumerate(results.results, start=first + 1):
        fields = [("title", "{" + _bib(hit.title) + "}")]
        if hit.authors:
            fields.append(("author", " and ".join(_bib(a) for a in hit.authors)))
        if hit.year:
            fields.append(("year", str(hit.year)))
        pages = _pdf_pages(hit)
        if pages:
            fields.append(("pages", _page_list(pages)))
        fields.append(
            ("howpublished", "\\url{" + hit.url.replace("%", "\\%").replace("#", "\\#") + "}")
        )
        note = [f"Source: {hit.source}"]
        if hit.breadcrumb:
            note.append("Section: " + " > ".join(hit.breadcrumb))
        fields.append(("note", _bib(". ".join(note))))
        if hit.tags:
            fields.append(("keywords", _bib(", ".join(hit.tags))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{_bib_key(hit, rank)},\n{body}\n}}")
    return "\n\n".join(entries)


def _line(text: str) -> str:
    """One line: RIS fields end at the line's end."""
    return " ".join(text.split())


def results_ris(results: SearchResults) -> str:
    """RIS records (type RPRT), one per result, with start page and page notes."""
    records = []
    for hit in results.results:
        lines = ["TY  - RPRT", f"TI  - {_line(hit.title)}"]
        lines += [f"AU  - {_line(author)}" for author in hit.authors]
        if hit.year:
            lines.append(f"PY  - {hit.year}")
        pages = _pdf_pages(hit)
        if pages:
            lines.append(f"SP  - {pages[0][0]}")
            if len(pages) > 1:
                lines.append(f"EP  - {pages[-1][0]}")
            lines.append("N1  - Pages: " + _page_list(pages))
        lines.append(f"UR  - {hit.url}")
        if hit.breadcrumb:
            lines.append("N1  - Section: " + _line(" > ".join(hit.breadcrumb)))
        lines += [f"KW  - {_line(tag)}" for tag in hit.tags]
        lines.append(f"M1  - {hit.source}")
        lines.append("ER  - ")
        records.append("\n".join(lines))
    return "\n\n".join(records)


def trec_lines(query_id: str, results: SearchResults, tag: str = "chcsearch") -> list[str]:
    """A TREC run: ``qid Q0 docid rank score tag``, docid being the result's source file.

    A file appears once, at its best result: with ``--flat`` a PDF's pages are results
    of their own, but judgments are of files, and a run must not name one twice."""
    first = results.request.offset
    seen: set[str] = set()
    lines: list[str] = []
    for hit in results.results:
        docid = hit.source.replace(" ", "%20")
        if docid not in seen:
            seen.add(docid)
            lines.append(f"{query_id} Q0 {docid} {first + len(lines) + 1} {hit.score:.4f} {tag}")
    return lines
