"""Render stage: library results as text or JSON for people and programs.

Pure functions from data to strings; the CLI decides where they go.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .results import Hit, SearchResults
from .snippets import mark_spans
from .sources import absolute_link
from .text import (
    CONTROL_CHARS,
    INVISIBLE_CHARS,
    UNPRINTABLE,
    one_cell,
    one_line,
    percent_encode,
    printable,
)

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


def _ocred(summary: BuildSummary) -> str:
    """``, 4 with pages OCRed (5 pages)`` when OCR completed cached text in this run;
    the pages are those OCR read, and the files it did not finish are counted
    (``; 1 stopped by the time limit``: the warnings name them)."""
    if not summary.pdfs_ocred:
        return ""
    pages = summary.pdf_pages_ocred
    stopped = summary.problem_counts().get("ocr-timeout", 0)
    note = f"; {stopped:,} stopped by the time limit" if stopped else ""
    return (
        f", {summary.pdfs_ocred:,} with pages OCRed "
        f"({pages:,} page{'' if pages == 1 else 's'}{note})"
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
        f"{summary.pdfs_from_cache:,} from cache{_ocred(summary)}; documents +{summary.docs_added:,} "
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
    """``p. 3`` or ``pp. 3 (printed 1), 5``: said as a result's own page is said."""
    return ("p. " if len(pages) == 1 else "pp. ") + _labelled(sorted(pages))


def absolute_url(url: str, base_url: str | None) -> str:
    """``url`` on ``base_url`` (a site's public address, or a folder archive's ``file://``
    URI) when it is a path on the site; an address with a scheme, or any ``url`` when
    there is no base, stays where it is. ``#page=N`` is kept. Every link comes back
    through ``sources.quote_unsafe``: no space, control character, ``"<>\\{}|^`` or
    backquote stands raw in a link of any format, whatever the index holds."""
    return absolute_link(url, base_url or "")


def with_links(results: SearchResults, bases: Mapping[str, str | None]) -> SearchResults:
    """The results with every link absolute on the base of the collection each result came
    from (``bases`` by ``Hit.collection``, "" for one index; see ``absolute_url``), and
    made safe to write (``sources.quote_unsafe``) even where there is no base."""

    def moved(hit: Hit) -> Hit:
        base = bases.get(hit.collection)
        return replace(
            hit,
            url=absolute_url(hit.url, base),
            group_url=absolute_url(hit.group_url, base),
            parts=tuple(replace(p, url=absolute_url(p.url, base)) for p in hit.parts),
        )

    return replace(results, results=tuple(moved(hit) for hit in results.results))


def _reports(hit: Hit) -> dict[str, tuple[str, str, list[tuple[int, str]]]]:
    """The report pages of a grouped result other than the one it points at, by report:
    ``source -> (title, link to the file, [(page, label)])`` in the order they matched."""
    reports: dict[str, tuple[str, str, list[tuple[int, str]]]] = {}
    for part in hit.parts:
        if part.kind != "pdf" or part.page is None or part.url == hit.url:
            continue
        if hit.kind != "pdf" and part.source == hit.source:
            continue
        entry = reports.setdefault(
            part.source, (part.title or part.source, part.url.split("#", 1)[0], [])
        )
        entry[2].append((part.page, part.page_label))
    return reports


def parts_line(hit: Hit, *, base_url: str | None = None, links: bool = False) -> str:
    """``Report title pp. 12 (iv), 14, 31`` for the report pages grouped in a result besides
    the one it points at, each report once; with ``links``, each followed by its file's
    address (``base_url`` makes it absolute) so that a page can be opened from a terminal;
    the other pages of the result's own report are then ``this report pp. …``."""
    named = []
    for source, (title, link, pages) in _reports(hit).items():
        if links and hit.kind == "pdf" and source == hit.file:
            named.append(f"this report {_pages(pages)}")  # its link is the result's own
        else:
            where = f" ({absolute_url(link, base_url)})" if links else ""
            named.append(f"{title} {_pages(pages)}{where}")
    return "; ".join(named)


def _pdf_pages(hit: Hit) -> list[tuple[int, str]]:
    """The PDF pages a result points at: its own page and the matching pages of its PDF.

    For a result led by a site page these are its reports' pages; pages of
    another report than the result's own PDF are left to ``parts_line``.
    """
    found = {(hit.page, hit.page_label)} if hit.page is not None else set()
    located = hit.file
    for part in hit.parts:
        own = hit.page is None or part.source == located
        if part.kind == "pdf" and part.page is not None and own:
            found.add((part.page, part.page_label))
    return sorted(found)


def _printable_snippet(
    text: str, spans: Iterable[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """``printable(text)``, and ``spans`` moved to where their text is in it."""
    if not UNPRINTABLE.search(text):
        return text, list(spans)
    kept: list[int] = [0]
    out: list[str] = []
    for char in text:
        shown = printable(char)
        out.append(shown)
        kept.append(kept[-1] + len(shown))
    return "".join(out), [(kept[start], kept[end]) for start, end in spans]


def results_text(results: SearchResults, *, colour: bool, base_url: str | None = None) -> str:
    """Results for people: grouped hits with breadcrumb, URL, snippet, parts, then facets.

    A result's URL is where its best text is (``Hit``); ``also:`` names each other
    report once with its pages and its file's address. ``base_url`` makes links absolute.
    Nothing the index holds is trusted to be printable: every field goes through
    ``printable``, so no title or snippet can move the cursor, ring or recolour a terminal.
    """

    def style(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    def shown(text: object) -> str:
        return printable(str(text))

    request = results.request
    pages = max(1, -(-results.total // results.limit))
    where = f" in {', '.join(map(shown, request.sections))}" if request.sections else ""
    noun = "result" if results.total == 1 else "results"
    lines = [
        f"{results.total:,} {noun} for “{shown(results.query)}”{where} · page {results.page} of {pages} · "
        f"{results.took_ms:.1f} ms"
    ]
    if results.corrected_query is not None:
        lines.append(f"Searched for: {shown(results.corrected_query)}")
    lines += [style(shown(line), DIM) for line in results.explain]
    first = results.request.offset
    for number, hit in enumerate(results.results, start=first + 1):
        lines.append("")
        printed = (
            f", printed {shown(hit.page_label)}"
            if hit.page_label and hit.page_label != str(hit.page)
            else ""
        )
        page = f" (p. {hit.page}{printed})" if hit.page else ""
        where = f"[{shown(hit.collection)}] " if hit.collection else ""
        lines.append(
            f"{number:>3}. {where}{style(shown(hit.title), BOLD)}{page}  {style(f'{hit.score:.2f}', DIM)}"
        )
        if hit.breadcrumb:
            lines.append("     " + " › ".join(map(shown, hit.breadcrumb)))
        byline = "; ".join(map(shown, hit.authors))
        if hit.year:
            byline = f"{byline} · {hit.year}" if byline else str(hit.year)
        if byline:
            lines.append("     " + byline)
        lines.append("     " + style(shown(absolute_url(hit.url, base_url)), DIM))
        if hit.snippet.text:
            text, spans = _printable_snippet(hit.snippet.text, hit.snippet.spans)
            lines.append("     " + (mark_spans(text, spans, MARK, RESET) if colour else text))
        extra = parts_line(hit, base_url=base_url, links=True)
        if extra:
            lines.append("     also: " + shown(extra))
        lines += ["     " + style(shown(line), DIM) for line in hit.explain]
    if results.section_facets:
        lines.append("")
        lines.append(
            "Sections: "
            + " · ".join(
                f"{shown(f.title or f.value)} [{shown(f.value)}] {f.count}"
                for f in results.section_facets
            )
        )
    if results.kind_facets:
        lines.append(
            "Kinds: " + " · ".join(f"{shown(f.value)} {f.count}" for f in results.kind_facets)
        )
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


#: What starts a formula in a spreadsheet (OWASP, "CSV Injection"); a tab or a carriage
#: return, also on OWASP's list, is a space in a cell already.
_FORMULA_START = frozenset("=+-@")


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows and does not run.

    Invisible characters (``text.INVISIBLE``: bidirectional overrides, zero-width
    spaces, the byte order mark, Hangul fillers…) are removed and control characters
    (line ends and tabs too) become spaces (``text.one_cell``), so that a bare carriage
    return cannot split a row and every CSV reader reads back the rows written; then a
    cell whose first character after any white space is ``=``, ``+``, ``-`` or ``@``,
    or one that Unicode's compatibility form (NFKC) makes one of them (the full-width ``＝``, the small ``﹢``), gets a
    leading apostrophe, as OWASP advises against CSV injection: a spreadsheet shows
    ``'=HYPERLINK(…)`` as text instead of running it. The apostrophe is in the data a
    program reads (``'-2 sided``), the price of a file safe to open.
    """
    text = one_cell(str(value))
    first = text.lstrip()[:1]
    if first and unicodedata.normalize("NFKC", first)[:1] in _FORMULA_START:
        return "'" + text
    return text


def results_csv(
    results: SearchResults,
    *,
    header: bool = True,
    query_id: str | None = None,
    base_url: str | None = None,
) -> str:
    """Results as CSV rows, one per result, with page numbers and printed labels;
    ``base_url`` makes the links absolute (see ``absolute_url``). Every text cell goes
    through ``csv_cell``: no control character, and no cell a spreadsheet would run."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = (["query_id"] if query_id is not None else []) + CSV_COLUMNS
    if header:
        writer.writerow(columns)
    first = results.request.offset
    for rank, hit in enumerate(results.results, start=first + 1):
        row: list[object] = [
            rank,
            f"{hit.score:.4f}",
            hit.title,
            hit.source,
            absolute_url(hit.url, base_url),
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
        cells = ([query_id] if query_id is not None else []) + row
        writer.writerow([cell if isinstance(cell, int) else csv_cell(cell) for cell in cells])
    return buffer.getvalue().rstrip("\n")


def results_jsonl(results: SearchResults) -> str:
    """One JSON object per result: the documented result JSON plus labels, authors, year, tags."""
    return "\n".join(
        json.dumps(hit.to_record(), ensure_ascii=False, allow_nan=False) for hit in results.results
    )


_BIB_SPECIAL = re.compile(r"([&%$#_])")


def _braces(text: str) -> str:
    """Braces as ``\\{`` and ``\\}`` when they pair, else (one left open or closed, which
    BibTeX would read as the end of the field whatever the backslash) as
    ``\\textbraceleft{}`` and ``\\textbraceright{}``."""
    opened: list[int] = []
    unpaired: set[int] = set()
    for at, char in enumerate(text):
        if char == "{":
            opened.append(at)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                unpaired.add(at)
    unpaired.update(opened)
    out = []
    for at, char in enumerate(text):
        if char in "{}":
            name = "left" if char == "{" else "right"
            out.append(f"\\textbrace{name}{{}}" if at in unpaired else "\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _bib(text: str) -> str:
    """``text`` as a BibTeX field's value that stays inside its braces: one line, no control
    character, LaTeX's special characters escaped (``\\`` as ``\\textbackslash{}``, which
    a LaTeX decoder reads back as ``\\``); ``~`` and ``^`` become spaces."""
    text = one_line(text.replace("~", " ").replace("^", " "))
    text = _braces(_BIB_SPECIAL.sub(r"\\\1", text.replace("\\", "\x00")))
    return text.replace("\x00", "\\textbackslash{}")


#: What BibTeX reads as more than one name: ``and`` as a word splits a name list, and
#: ``others`` alone is "et al."
_SPLITS_NAMES = re.compile(r"(?:^|\s)and(?:\s|$)|^others$", re.IGNORECASE)


def _bib_name(name: str) -> str:
    """``name`` as one name of a BibTeX ``author`` list: ``_bib``, and braced whole when
    BibTeX would read more than one name in it (``{Smith and Jones}``: one undivided
    name, as for a corporate author)."""
    text = _bib(name)
    return "{" + text + "}" if _SPLITS_NAMES.search(text) else text


#: Title words a citation key skips ("The Role of …" -> role)
_KEY_SKIP = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)

#: A work of an export: (collection, source), the collection "" for one index
Work = tuple[str, str]


#: Letters that NFKD does not split into an ASCII letter and a mark, and folding would
#: lose: some Latin ones, and the Greek alphabet (lower case, its marks split off by NFKD)
_TRANSLITERATED = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "þ": "th", "ð": "d", "ı": "i"}
    | dict(zip("αβγδεζηικλμνξοπρσςτυω", "abgdeziiklmnxoprsstyo", strict=True))
    | {"θ": "th", "φ": "ph", "χ": "ch", "ψ": "ps"}
)
#: The most letters a name or a title word gives a key
_KEY_PART = 20


def _ascii_word(text: str) -> str:
    """``text`` lower case and ASCII-folded (``Ørsted`` -> ``orsted``, ``Ωmega`` ->
    ``omega``), letters and digits only, starting with a letter (``2020`` -> ""), at
    most ``_KEY_PART`` characters."""
    split = unicodedata.normalize("NFKD", text.lower()).translate(_TRANSLITERATED)
    folded = split.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", folded).lstrip("0123456789")[:_KEY_PART]


def citation_stem(authors: Sequence[str], year: int | None, title: str) -> str:
    """A citation key without its suffix: the first author's family name, the year and the
    first significant word of the title, ASCII-folded and lower case (``oswald2017citizens``).

    The family name is the part before a comma (``Oswald, Malcolm``), else the last word.
    Each is cut to 20 characters and starts with a letter (leading digits dropped:
    a name ``2020`` is no name). With no author the title word leads (``greater2019``);
    what is missing is left out, and a document with no author and no title word is
    ``doc`` and its year."""
    author = ""
    if authors:
        first = authors[0]
        author = _ascii_word(
            first.split(",", 1)[0] if "," in first else (first.split() or [""])[-1]
        )
    word = next(
        (w for w in (_ascii_word(w) for w in title.split()) if w and w not in _KEY_SKIP),
        "",
    )
    if not author:  # a key starts with a letter: the title word leads
        return f"{word}{year or ''}" if word else f"doc{year or ''}"
    return f"{author}{year or ''}{word}"


def _letters(number: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: the suffixes of keys that share a stem."""
    text = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def citation_keys(stems: Iterable[tuple[Work, str]]) -> dict[Work, str]:
    """Each work's citation key from its stem (``citation_stem``): the stem alone when no
    other work has it, else the stem and ``a``, ``b``, ``c``… in the order of the works'
    (collection, source path), skipping a suffixed key that is another work's stem.

    Given every work of an index (``Searcher.works``) a document's key is the same in
    every query of that index; it changes only when a document with the same stem is
    added to or removed from the index."""
    by_stem: dict[str, set[Work]] = {}
    for work, stem in stems:
        by_stem.setdefault(stem, set()).add(work)
    keys = {next(iter(works)): stem for stem, works in by_stem.items() if len(works) == 1}
    taken = set(keys.values())
    for stem in sorted(s for s, works in by_stem.items() if len(works) > 1):
        number = 0
        for work in sorted(by_stem[stem]):
            # a suffixed key that another work's stem already is ("doe2019" + "a") is skipped
            while stem + _letters(number) in taken:
                number += 1
            keys[work] = stem + _letters(number)
            taken.add(keys[work])
            number += 1
    return keys


def _works(results: SearchResults) -> dict[Work, list[Hit]]:
    """The results by the work they cite, in the order of each work's best result: one
    entry per report even when several of its pages are results (``--flat``)."""
    works: dict[Work, list[Hit]] = {}
    for hit in results.results:
        works.setdefault((hit.collection, hit.source), []).append(hit)
    return works


def _export_keys(
    works: Mapping[Work, list[Hit]], keys: Mapping[Work, str] | None
) -> dict[Work, str]:
    """``keys`` when they name every work (made from the whole index), else keys made from
    the works of this export alone."""
    if keys is not None and all(work in keys for work in works):
        return {work: keys[work] for work in works}
    return citation_keys(
        (work, citation_stem(hits[0].authors, hits[0].year, hits[0].title))
        for work, hits in works.items()
    )


def _labelled(pages: Iterable[tuple[int, str]]) -> str:
    """``3 (printed 1), 5 (printed 3)``: physical pages with their printed labels."""
    return ", ".join(
        f"{n} (printed {label})" if label and label != str(n) else str(n) for n, label in pages
    )


def _citation(hits: list[Hit]) -> tuple[str, int | None, str, str]:
    """What an export entry says of where its text is: the best result's URL, the work's page
    count, the pages that matched in its file, and the other reports' pages that matched."""
    best = hits[0]
    pages = sorted({page for hit in hits for page in _pdf_pages(hit)})
    count = best.page_count if best.kind == "pdf" else None
    matched = _labelled(pages) if count else ""
    others = "; ".join(
        f"{title} {_pages(found)}"
        for source, (title, _, found) in _reports(best).items()
        if not (count and source == best.file)
    )
    return best.url, count, matched, others


def results_bibtex(
    results: SearchResults,
    *,
    base_url: str | None = None,
    keys: Mapping[Work, str] | None = None,
) -> str:
    """One ``@misc`` entry per cited work (a report, or a page), in the order of its best result.

    ``pages`` is the work's page range (``1--N`` for a PDF of N pages); the pages that
    matched, with their printed labels, are in ``note``. The URL is the best result's,
    made absolute with ``base_url``. ``keys`` are the citation keys of the whole index
    (``citation_keys`` over ``Searcher.works``); without them keys are made from this
    export's works, with the same rule.
    """
    works = _works(results)
    named = _export_keys(works, keys)
    entries = []
    for work, hits in works.items():
        hit = hits[0]
        url, count, matched, others = _citation(hits)
        fields = [("title", "{" + _bib(hit.title) + "}")]
        if hit.authors:
            fields.append(("author", " and ".join(_bib_name(a) for a in hit.authors)))
        if hit.year:
            fields.append(("year", str(hit.year)))
        if count:
            fields.append(("pages", f"1--{count}"))
        link = absolute_url(url, base_url)
        fields.append(
            ("howpublished", "\\url{" + link.replace("%", "\\%").replace("#", "\\#") + "}")
        )
        note = []
        if matched:
            note.append(f"Matched pages: {matched}")
        if others:
            note.append(f"Also matched: {others}")
        note.append(f"Source: {hit.source}")
        if hit.breadcrumb:
            note.append("Section: " + " > ".join(hit.breadcrumb))
        fields.append(("note", _bib(". ".join(note))))
        if hit.tags:
            fields.append(("keywords", _bib(", ".join(hit.tags))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{named[work]},\n{body}\n}}")
    return "\n\n".join(entries)


def results_ris(
    results: SearchResults,
    *,
    base_url: str | None = None,
    keys: Mapping[Work, str] | None = None,
) -> str:
    """RIS records (type RPRT), one per cited work: ``ID`` the citation key BibTeX gives
    it (see ``results_bibtex``), ``SP``/``EP`` the work's page range, the pages that
    matched in a note, the best result's URL made absolute with ``base_url``. Every
    field is one line (``text.one_line``), so no title or file name can start another record."""
    records = []
    works = _works(results)
    named = _export_keys(works, keys)
    for work, hits in works.items():
        hit = hits[0]
        url, count, matched, others = _citation(hits)
        lines = ["TY  - RPRT", f"ID  - {named[work]}", f"TI  - {one_line(hit.title)}"]
        lines += [f"AU  - {one_line(author)}" for author in hit.authors]
        if hit.year:
            lines.append(f"PY  - {hit.year}")
        if count:
            lines += ["SP  - 1", f"EP  - {count}"]
        if matched:
            lines.append(f"N1  - Matched pages: {one_line(matched)}")
        if others:
            lines.append(f"N1  - Also matched: {one_line(others)}")
        lines.append(f"UR  - {one_line(absolute_url(url, base_url))}")
        if hit.breadcrumb:
            lines.append("N1  - Section: " + one_line(" > ".join(hit.breadcrumb)))
        lines += [f"KW  - {one_line(tag)}" for tag in hit.tags]
        lines.append(f"M1  - {one_line(hit.source)}")
        lines.append("ER  - ")
        records.append("\n".join(lines))
    return "\n\n".join(records)


_DOCID_ESCAPED = re.compile(rf"[%\s{CONTROL_CHARS}{INVISIBLE_CHARS}]")


def trec_docid(source: str) -> str:
    """``source`` as one column of a TREC run: ``%``, white space, control characters and
    invisible ones (``text.INVISIBLE``: ``a\u200bb`` would read as ``ab``)
    percent-encoded (UTF-8), ``%`` first so that two paths never give one docid
    (``a%20b`` is ``a%2520b``, ``a b`` is ``a%20b``)."""
    return percent_encode(_DOCID_ESCAPED, source)


def trec_lines(query_id: str, results: SearchResults, tag: str = "chcsearch") -> list[str]:
    """A TREC run: ``qid Q0 docid rank score tag``, docid being the result's source file
    (``trec_docid``; ``query_id`` is the caller's to check: no white space in it).

    A file appears once, at its best result: with ``--flat`` a PDF's pages are results
    of their own, but judgments are of files, and a run must not name one twice."""
    first = results.request.offset
    seen: set[str] = set()
    lines: list[str] = []
    for hit in results.results:
        docid = trec_docid(hit.source)
        if docid not in seen:
            seen.add(docid)
            lines.append(f"{query_id} Q0 {docid} {first + len(lines) + 1} {hit.score:.4f} {tag}")
    return lines
