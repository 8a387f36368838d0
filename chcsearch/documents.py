"""Build-documents stage: place pages and PDF pages in the site's hierarchy.

Every page becomes one document; every physical page of a published PDF
becomes one more. The hierarchy is data on each document: its section path,
all ancestor section paths, breadcrumb titles, level and weight.

* A page's section comes from its front matter (``section:``, else
  ``parent:`` + file name), else from its file path. The file path, not the
  section, is the document's identity.
* A PDF listed in a page's ``resources`` is placed beneath that page: it
  takes the page's section, level and breadcrumb (plus the page's title). A
  PDF linked from several pages belongs to each: all their ancestor paths
  are on it, so a section filter on any of them finds it; it is grouped and
  breadcrumbed under the most specific of them (deepest section, then path).
* A PDF no page links (an *orphan*) is still published, so it is indexed and
  placed by ``place_orphan``'s rule, and reported.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from .discover import safe_link
from .levels import ancestor_paths, level_prefixes
from .model import Document, PageMeta, PdfMeta, Problem, Resource
from .parse import MAX_TEXT_CHARS, cap_text, title_from_filename, too_large_problem
from .pdfmeta import (
    LINE_BREAK,
    boilerplate_reason,
    clean_title,
    has_letter_or_digit,
    is_date,
    is_label,
    visible_text,
)

if TYPE_CHECKING:
    from .sidecars import ArchiveMetadata

#: Folder names that hold files rather than sections; skipped when an orphan
#: PDF is placed by its folder.
ASSET_FOLDERS = frozenset(
    {
        "assets",
        "asset",
        "files",
        "downloads",
        "static",
        "pdf",
        "pdfs",
        "docs",
        "documents",
        "uploads",
        "media",
    }
)

#: A cover line that this many files of an archive share names a series, not a report.
SERIES_TITLE_FILES = 2

_LEVEL_IN_NAME = re.compile(r"^(?:section\s*)?(\d+(?:\.\d+)*)(?=[\s_\-–:.]|$)", re.I)
# a title that starts like a file name of the archive: "Section 2.9 …", "2.3.1_…"
_NUMBERED_NAME = re.compile(
    r"^(?:section\s*(\d+(?:\.\d+)*)|(\d+\.\d+(?:\.\d+)*))(?=[\s_\-–:.]|$)", re.I
)


_SMALL_WORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]
)


def humanize(segment: str, casing: Mapping[str, str] | None = None) -> str:
    """A folder or slug as a title: ``greater-manchester`` -> ``Greater Manchester``.

    Words already holding capitals (``NHS-data``) are left as written; a
    lower-case word found in ``casing`` (``copd`` -> ``COPD``) is written so.
    """
    casing = casing or {}
    words = segment.replace("-", " ").replace("_", " ").split()
    out = [
        w if w != w.lower() or (i and w in _SMALL_WORDS) else casing.get(w) or w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]
    return " ".join(out)


def word_casing(texts: Iterable[str]) -> dict[str, str]:
    """How an archive writes the words it spells with capitals inside (``COPD``,
    ``GNCR``, ``NETIMIS``, ``eHealth``), by its commonest spelling of each.

    Lines in capitals throughout are shouted, not spelled, and are not counted.
    """
    forms: Counter[str] = Counter()
    for text in texts:
        letters = [c for c in text if c.isalpha()]
        if letters and all(c.isupper() for c in letters) and len(text.split()) > 1:
            continue
        forms.update(re.findall(r"[^\W\d_]+", text))
    best: dict[str, tuple[int, str]] = {}
    for form, count in forms.items():
        lower = form.lower()
        if count > best.get(lower, (0, ""))[0]:
            best[lower] = (count, form)
    return {
        lower: form
        for lower, (_, form) in best.items()
        if len(form) > 1 and any(c.isupper() for c in form[1:])
    }


def _key_words(text: str) -> list[tuple[str, int]]:
    """The words of a line as compared between files (case and numbers ignored:
    "Work stream 1" and "Work stream 3" are one line), each with where it ends."""
    return [
        (re.sub(r"\d+", "#", m.group().casefold()), m.end()) for m in re.finditer(r"[^\W_]+", text)
    ]


def _key(text: str) -> str:
    return " ".join(word for word, _ in _key_words(text))


def _exact_key(text: str) -> str:
    """The words of a line with their numbers, case ignored: "Annual Report 2018"
    and "Annual Report 2019" are two titles."""
    return " ".join(m.group().casefold() for m in re.finditer(r"[^\W_]+", text))


def _agreement(line: str, file_title: str) -> float:
    """The share of the file name's words (not labels like "final", "report") in the line."""
    named = {w for w, _ in _key_words(file_title) if len(w) > 2 and not is_label(w)}
    if len(named) < 2:
        return 0.0
    return len(named & {w for w, _ in _key_words(line)}) / len(named)


class TitleChooser:
    """Chooses the titles of an archive's PDFs from what each says about itself.

    Candidates, in order: the metadata title, the first page's largest type,
    its first line (``PdfMeta.heading``); the first that is neither boilerplate
    (``pdfmeta.boilerplate_reason``) nor a series line wins, else the file
    name. A *series line* is one that the covers of ``SERIES_TITLE_FILES`` or
    more files share ("Connected Health Cities"), one that begins another
    file's line ("Greater Manchester Connected Health City (GM CHC)"), or a
    long template line that another file repeats with one word changed. A
    candidate that starts with a series line loses it ("End of Project Report
    Clinical Pathway: Epilepsy" -> "Clinical Pathway: Epilepsy"); one set over
    several lines ends before a line that is or begins with a series line
    (``_before_series``), and before a date set on its last line
    (``_before_date``). A metadata title that names another file ("Section
    2.9 …" on file 2.2.2) is passed over. A file's own metadata title is a
    series line only when two or more files have that very title (numbers
    counted: "Annual Report 2018" is not "Annual Report 2019"); one that
    begins another file's line, or repeats another's with one word changed, is
    that file's title. Titles still shared by two files (numbers counted) fall
    back to their file names.
    Nothing is invented: every title is a line of the PDF, its metadata or its
    file name, or the start or end of one.

    Cost is linear in the number of files: every candidate is at most a
    title's size (``clean_title``: ``TITLE_MAX_CHARS``, ``TITLE_MAX_WORDS``)
    before any table of word prefixes or one-word-changed lines is built.
    """

    def __init__(self, pdfs: Mapping[str, PdfMeta]) -> None:
        self.pdfs = pdfs
        #: the cover lines of each candidate set over several (``LINE_BREAK``)
        self.lines: dict[tuple[str, str], tuple[str, ...]] = {}
        #: each file's own metadata title, when it is one of its candidates
        self.own: dict[str, str] = {}
        self.candidates = {src: self._candidates(src, meta) for src, meta in pdfs.items()}
        exact_files: dict[str, set[str]] = {}
        files_of: dict[str, set[str]] = {}
        begins: dict[str, set[str]] = {}
        near: dict[tuple[str, ...], set[str]] = {}
        for src, lines in self.candidates.items():
            for line in lines:
                exact_files.setdefault(_exact_key(line), set()).add(src)
                words = [w for w, _ in _key_words(line)]
                files_of.setdefault(" ".join(words), set()).add(src)
                for n in range(1, len(words)):
                    begins.setdefault(" ".join(words[:n]), set()).add(src)
                if len(words) >= 5:
                    near.setdefault(tuple(words), set()).add(src)
                    for i in range(len(words)):
                        near.setdefault(tuple(words[:i] + words[i + 1 :]), set()).add(src)
        series = {key for key, files in files_of.items() if len(files) >= SERIES_TITLE_FILES}
        series |= {
            key
            for key, files in files_of.items()
            if len(key.split()) >= 2 and begins.get(key, set()) - files
        }
        for src, lines in self.candidates.items():
            for line in lines:
                shape = tuple(w for w, _ in _key_words(line))
                if len(shape) < 6:
                    continue
                shapes = [shape, *(shape[:i] + shape[i + 1 :] for i in range(len(shape)))]
                if any(near.get(one, set()) - {src} for one in shapes):
                    series.add(" ".join(shape))
        self.series = series
        self.begins = begins
        #: lines (``_exact_key``) that two or more files have
        self.shared = {key for key, files in exact_files.items() if len(files) >= 2}

    def _candidates(self, src_path: str, meta: PdfMeta) -> list[str]:
        raw = [meta.title, *meta.heading.splitlines()]
        own = _LEVEL_IN_NAME.match(posixpath.basename(src_path))
        out: list[str] = []
        for number, text in enumerate(raw):
            line = clean_title(text)  # a title's size at most, with no invisible characters
            named = _NUMBERED_NAME.match(line)
            if named and (not own or own.group(1) != (named.group(1) or named.group(2))):
                continue  # the name of another file, or a numbered section heading
            title = title_from_filename(line + ".pdf") if named else line.rstrip(" -–—|")
            if not has_letter_or_digit(title):
                continue
            if number == 0 and not named:
                self.own[src_path] = title
            if title not in out:
                out.append(title)
                if not named and LINE_BREAK in text:
                    parts = (visible_text(part) for part in text.split(LINE_BREAK))
                    self.lines[src_path, title] = tuple(part for part in parts if part)
        return out

    def _good_start(self, head: str) -> bool:
        """Whether the first lines of a candidate make a title on their own."""
        return (
            len(_key_words(head)) >= 3
            and not boilerplate_reason(head)
            and _key(head) not in self.series
        )

    def _before_series(self, src_path: str, line: str) -> str:
        """The candidate up to the first of its cover lines that is, or begins with,
        a series line (of two or more words, unless the line is all of it), when
        what is left makes a title (``_good_start``); else the candidate whole.

        "SILVER: Smart Interventions for Local Vulnerable Residents" / "Connected
        Health Cities Care Pathway Project" -> the first line. The programme's name
        inside a sentence stays: "… Training Needs of the" / "Connected Health
        Cities Programme" would end in "the"; "… Data Guardian" / "& Connected
        Health Cities …" goes on, the next line starting with "&", not a word.
        """
        lines = self.lines.get((src_path, line), ())
        for i in range(1, len(lines)):
            if not re.match(r"[^\W_]", lines[i]):
                continue
            rest = [w for w, _ in _key_words(" ".join(lines[i:]))]
            starts = (" ".join(rest[:n]) for n in range(len(rest), 0, -1))
            if any(key in self.series and (" " in key or key == " ".join(rest)) for key in starts):
                head = " ".join(lines[:i])
                if self._good_start(head):
                    return head
        return line

    def _before_date(self, src_path: str, line: str, title: str) -> str:
        """The title less a date alone on the last cover line of its candidate
        ("Appendices" / "SILVER Project; end of project report" / "June 2019"),
        when what is left makes a title; the year is the PDF's year, not its title."""
        lines = self.lines.get((src_path, line), ())
        if len(lines) > 1 and is_date(lines[-1]) and title.endswith(" " + lines[-1]):
            head = title[: -len(lines[-1])].rstrip()
            if self._good_start(head):
                return head
        return title

    def _without_series(self, line: str, own: bool = False) -> str:
        """The line less a leading series line, or '' when it is all series
        (for the file's ``own`` metadata title: when two or more files have it).

        A series line is cut off the front only where it stands apart: a label
        ("End of Project Report …"), or followed by punctuation ("CHC NENC: …",
        "… (GM CHC) …"); "Connected Health Cities Programme: Evaluation" keeps it.
        So are three or more words followed by punctuation that begin lines of
        three or more files (a programme's name set on the title's first line).
        """
        words = _key_words(line)
        if (_exact_key(line) in self.shared) if own else (_key(line) in self.series):
            return ""
        for n in range(len(words) - 1, 0, -1):
            head, rest = line[: words[n - 1][1]], line[words[n - 1][1] :]
            key = " ".join(w for w, _ in words[:n])
            apart = re.match(r"\)|\s*[:–—|-]", rest)
            if (key in self.series and (is_label(head) or apart)) or (
                apart and n >= 3 and len(self.begins.get(key, ())) >= 3
            ):
                return rest.lstrip(" )").strip(" :;,.–—-|&")
        return line

    def title(self, src_path: str) -> str:
        """The title of one PDF (before duplicates are resolved): the first good
        candidate, or the one its file name agrees with most."""
        named = title_from_filename(src_path)
        good: dict[str, str] = {}  # title: the candidate it came from
        for line in self.candidates.get(src_path, []):
            own = line == self.own.get(src_path)
            rest = self._without_series(self._before_series(src_path, line), own)
            # a whole line was judged by _without_series; what was cut off one, here
            series = rest != line and _key(rest) in self.series
            if rest and not boilerplate_reason(rest) and not series:
                good.setdefault(rest, line)
        if not good:
            return named
        first = next(iter(good))
        best = max(good, key=lambda line: _agreement(line, named))
        best = best if _agreement(best, named) >= 0.5 else first
        # a cover line running on past a file name of four or more words into dates
        # and names: "… Use Cases NWC Consent Workgroup 15 January 2020 Ed Conley, …"
        # -> "… Use Cases"; a metadata title is the author's word and is kept whole
        size = len(_key(named).split())
        if (
            size >= 4
            and best != clean_title(self.pdfs[src_path].title)
            and _key(best).startswith(_key(named) + " ")
            and re.search(r",|\b(19|20)\d\d\b", best[_key_words(best)[size - 1][1] :])
        ):
            return named
        return self._before_date(src_path, good[best], best)

    def titles(self) -> dict[str, str]:
        """Every PDF's title; two files never share one unless their names do."""
        chosen = {src: self.title(src) for src in sorted(self.pdfs)}
        count = Counter(_exact_key(t) for t in chosen.values())
        return {
            src: title if count[_exact_key(title)] < 2 else title_from_filename(src)
            for src, title in chosen.items()
        }


@dataclass(frozen=True)
class Placement:
    """Where a PDF sits: under the page ``group`` (a page ``src_path``)."""

    group: str
    section: str
    ancestors: tuple[str, ...]
    breadcrumb: tuple[str, ...]
    level: str
    weight: float | None
    linked_from: tuple[str, ...]
    title_hint: str
    orphan: bool


class Hierarchy:
    """The tree of sections formed by the site's pages."""

    def __init__(self, pages: Iterable[PageMeta], content_dir: str = "") -> None:
        self.pages: dict[str, PageMeta] = {p.src_path: p for p in pages}
        by_section: dict[str, list[PageMeta]] = {}
        for page in sorted(self.pages.values(), key=lambda p: p.src_path):
            by_section.setdefault(page.section, []).append(page)
        self.by_section = by_section
        self.content_dir = content_dir

    def node(self, section: str) -> PageMeta | None:
        """The page that stands for a section path, if any."""
        candidates = self.by_section.get(section)
        if not candidates:
            return None
        for page in candidates:
            stem = posixpath.splitext(page.src_path)[0]
            if stem == section or stem.endswith("/" + section) or stem == f"{section}/index":
                return page
        return candidates[0]

    def title_of(self, section: str) -> str:
        page = self.node(section)
        return page.title if page else humanize(section.rsplit("/", 1)[-1])

    def breadcrumb(self, section: str) -> tuple[str, ...]:
        """Titles of the section's ancestors, not including the section itself."""
        return tuple(self.title_of(path) for path in ancestor_paths(section)[:-1])

    def place_linked(self, pdf_src: str, linkers: list[tuple[PageMeta, Resource]]) -> Placement:
        ordered = sorted(
            linkers, key=lambda lr: (-len(ancestor_paths(lr[0].section)), lr[0].src_path)
        )
        primary, resource = ordered[0]
        ancestors: list[str] = []
        for page, _ in ordered:
            for path in ancestor_paths(page.section):
                if path not in ancestors:
                    ancestors.append(path)
        return Placement(
            group=primary.src_path,
            section=primary.section,
            ancestors=tuple(ancestors),
            breadcrumb=(*self.breadcrumb(primary.section), primary.title),
            level=primary.level,
            weight=primary.weight,
            linked_from=tuple(sorted({page.src_path for page, _ in ordered})),
            title_hint=resource.title,
            orphan=False,
        )

    def place_orphan(self, pdf_src: str, public_path: str) -> tuple[Placement, Problem]:
        """Place a PDF that no page links.

        1. When its file name starts with a number such as ``2.2.3`` (or
           ``Section 2.2.3_…``), it goes under the page whose level is the
           longest prefix of that number (2.2.3, else 2.2, else 2).
        2. Otherwise under the page whose section path is the longest prefix
           of the PDF's folder path, ignoring asset folders such as ``assets/``.
        3. Otherwise at the top level, in a section named after its folder.
        """
        name = posixpath.basename(public_path)
        match = _LEVEL_IN_NAME.match(name)
        page: PageMeta | None = None
        how = ""
        if match:
            number = match.group(1)
            levels = {
                p.level: p for p in sorted(self.pages.values(), key=lambda p: p.src_path) if p.level
            }
            for prefix in reversed(level_prefixes(number)):
                if prefix in levels:
                    page = levels[prefix]
                    how = f"by the number {number} in its name (level {prefix})"
                    break
        folder_parts = [p for p in posixpath.dirname(public_path).split("/") if p]
        if page is None:
            parts = [p for p in folder_parts if p.lower() not in ASSET_FOLDERS]
            for i in range(len(parts), 0, -1):
                node = self.node("/".join(parts[:i]))
                if node is not None:
                    page = node
                    how = f"by its folder (section {node.section})"
                    break
        if page is not None:
            placement = Placement(
                group=page.src_path,
                section=page.section,
                ancestors=ancestor_paths(page.section),
                breadcrumb=(*self.breadcrumb(page.section), page.title),
                level=page.level,
                weight=page.weight,
                linked_from=(),
                title_hint="",
                orphan=True,
            )
            where = f"placed under {page.src_path} {how}"
        else:
            section = "/".join(folder_parts) or "files"
            placement = Placement(
                group=pdf_src,
                section=section,
                ancestors=ancestor_paths(section),
                breadcrumb=(*self.breadcrumb(section), self.title_of(section)),
                level="",
                weight=None,
                linked_from=(),
                title_hint="",
                orphan=True,
            )
            where = f"placed at the top level in section {section!r}"
        problem = Problem(
            "orphan-pdf",
            pdf_src,
            f"no page links to this PDF; it is indexed and {where}. "
            "List it under a page's resources: to place it yourself.",
        )
        return placement, problem


def _linkable(resources: tuple[Resource, ...]) -> tuple[Resource, ...]:
    """The resources a result may link to. The parse stage warns about and drops any
    other ``url:``; a page read before it did so is kept, unread, in the manifest."""
    return tuple(r for r in resources if r.kind != "url" or safe_link(r.url) is not None)


def _fingerprinted(doc: Document, *salt: object) -> Document:
    """The document with a fingerprint of all its planned fields and ``salt``.

    The salt is the schema version and the source file's content hash, which
    stands for the text that is filled in later.
    """
    payload = json.dumps([asdict(doc), *salt], sort_keys=True, default=str, ensure_ascii=False)
    return replace(doc, fingerprint=hashlib.sha1(payload.encode("utf-8")).hexdigest())


def plan_documents(
    pages: Mapping[str, PageMeta],
    page_shas: Mapping[str, str],
    pdfs: Mapping[str, PdfMeta],
    pdf_public: Mapping[str, str],
    pdf_urls: Mapping[str, str],
    *,
    schema_version: int,
    content_dir: str = "",
) -> tuple[list[Document], list[Problem]]:
    """Every document the index should hold, without body text.

    ``pages`` maps page ``src_path`` to its metadata and ``page_shas`` to its
    content hash; ``pdfs`` maps PDF ``src_path`` to what extraction learned,
    ``pdf_public`` maps a PDF's public path to its ``src_path`` and
    ``pdf_urls`` its ``src_path`` to its public URL.
    Each document's fingerprint covers everything indexed about it.
    """
    hierarchy = Hierarchy(pages.values(), content_dir)
    docs: list[Document] = []
    problems: list[Problem] = []
    linkers: dict[str, list[tuple[PageMeta, Resource]]] = {}
    for page in sorted(pages.values(), key=lambda p: p.src_path):
        for resource in page.resources:
            if resource.kind == "pdf" and resource.exists and resource.target in pdf_public:
                linkers.setdefault(pdf_public[resource.target], []).append((page, resource))

        breadcrumb = hierarchy.breadcrumb(page.section)
        context = " / ".join(breadcrumb)
        planned = Document(
            id=page.src_path,
            source=page.src_path,
            kind="page",
            title=page.title,
            url=page.url,
            section=page.section,
            ancestors=ancestor_paths(page.section),
            breadcrumb=breadcrumb,
            level=page.level,
            weight=page.weight,
            group=page.src_path,
            linked_from=(),
            page=None,
            page_count=None,
            orphan=False,
            resources=_linkable(page.resources),
            context=context,
            fingerprint="",
            authors=page.authors,
            year=page.year,
            tags=page.tags,
            title_weighted=page.title_weighted,
        )
        docs.append(_fingerprinted(planned, schema_version, page_shas.get(page.src_path)))

    public_of = {src: public for public, src in pdf_public.items()}
    for pdf_src in sorted(pdfs):
        meta = pdfs[pdf_src]
        if pdf_src in linkers:
            placement = hierarchy.place_linked(pdf_src, linkers[pdf_src])
        else:
            placement, problem = hierarchy.place_orphan(pdf_src, public_of.get(pdf_src, pdf_src))
            problems.append(problem)
        title = placement.title_hint or meta.title
        context = " / ".join(placement.breadcrumb)
        docs += _pdf_page_documents(
            pdf_src,
            meta,
            pdf_urls[pdf_src],
            schema_version,
            title=title,
            section=placement.section,
            ancestors=placement.ancestors,
            breadcrumb=placement.breadcrumb,
            level=placement.level,
            weight=placement.weight,
            group=placement.group,
            linked_from=placement.linked_from,
            orphan=placement.orphan,
            context=context,
            authors=meta.authors,
            year=meta.year,
        )
    return docs, problems


def plan_archive_documents(
    pages: Mapping[str, PageMeta],
    page_shas: Mapping[str, str],
    pdfs: Mapping[str, PdfMeta],
    pdf_urls: Mapping[str, str],
    metadata: ArchiveMetadata,
    *,
    schema_version: int,
) -> list[Document]:
    """Every document of a plain folder archive, without body text.

    Folders are the sections: a file sits in its folder's section, under the
    folder titles as breadcrumb, and is its own result group. Sidecar
    metadata overrides what a file says about itself; a PDF's title is its
    sidecar's, else ``TitleChooser``'s. A folder's title is its ``_meta.yml``
    ``folder_title``, else its name with words cased as the archive writes
    them (``copd`` -> ``COPD``, see ``word_casing``).
    """

    titles = TitleChooser(pdfs).titles()
    casing = word_casing(
        [title_from_filename(src) for src in (*pages, *pdfs)]
        + list(titles.values())
        + [page.title for page in pages.values()]
    )

    def folder_title(path: str) -> str:
        return metadata.folder_titles.get(path) or humanize(path.rsplit("/", 1)[-1], casing)

    def place(src_path: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        section = posixpath.dirname(src_path)
        ancestors = ancestor_paths(section)
        return section, ancestors, tuple(folder_title(p) for p in ancestors)

    docs: list[Document] = []
    for src_path, page in sorted(pages.items()):
        extra = metadata.for_file(src_path)
        section, ancestors, breadcrumb = place(src_path)
        planned = Document(
            id=src_path,
            source=src_path,
            kind="page",
            title=extra.title or page.title,
            url=extra.url or page.url,
            section=section,
            ancestors=ancestors,
            breadcrumb=breadcrumb,
            level=page.level,
            weight=page.weight,
            group=src_path,
            linked_from=(),
            page=None,
            page_count=None,
            orphan=False,
            resources=_linkable(page.resources),
            context=" / ".join(breadcrumb),
            fingerprint="",
            authors=extra.authors or page.authors,
            year=extra.year if extra.year is not None else page.year,
            tags=extra.tags or page.tags,
            title_weighted=bool(extra.title) or page.title_weighted,
        )
        docs.append(_fingerprinted(planned, schema_version, page_shas.get(src_path)))
    for src_path, meta in sorted(pdfs.items()):
        extra = metadata.for_file(src_path)
        section, ancestors, breadcrumb = place(src_path)
        title = extra.title or titles[src_path]
        base_url = extra.url or pdf_urls[src_path]
        docs += _pdf_page_documents(
            src_path,
            meta,
            base_url.split("#", 1)[0],
            schema_version,
            title=title,
            section=section,
            ancestors=ancestors,
            breadcrumb=breadcrumb,
            level="",
            weight=None,
            group=src_path,
            linked_from=(),
            orphan=False,
            context=" / ".join(breadcrumb),
            authors=extra.authors or meta.authors,
            year=extra.year if extra.year is not None else meta.year,
            tags=extra.tags,
        )
    return docs


def _pdf_page_documents(
    src_path: str, meta: PdfMeta, url: str, schema_version: int, **shared: Any
) -> list[Document]:
    """One planned document per physical page of a PDF; ``shared`` holds what all pages share."""
    return [
        _fingerprinted(
            Document(
                id=f"{src_path}#page={number}",
                source=src_path,
                kind="pdf",
                url=f"{url}#page={number}",
                page=number,
                page_count=meta.page_count,
                resources=(),
                fingerprint="",
                page_label=meta.labels[number - 1] if number <= len(meta.labels) else "",
                **shared,
            ),
            schema_version,
            meta.sha256,
        )
        for number in range(1, meta.page_count + 1)
    ]


def with_text(
    doc: Document, body: str, headings: tuple[str, ...] = (), spelling: str | None = None
) -> Document:
    """The planned document with its text filled in (``spelling``: see ``Document``).

    The body is cut to ``MAX_TEXT_CHARS`` characters (``text_too_large``
    gives the warning for it): every query's cost grows with the longest
    document it touches. ``spelling`` only feeds "did you mean" and is kept whole.
    """
    body = cap_text(body)
    return replace(doc, body=body, headings=headings, words=len(body.split()), spelling=spelling)


def pdf_pages_too_large(src_path: str, pages: Iterable[str]) -> list[Problem]:
    """``page-too-large`` warnings for the pages of a PDF whose text ``with_text`` cuts."""
    return [
        too_large_problem(
            src_path, f"page {number} of this PDF has {len(text):,} characters of text"
        )
        for number, text in enumerate(pages, 1)
        if len(text) > MAX_TEXT_CHARS
    ]


def text_too_large(doc: Document, body: str) -> Problem | None:
    """The ``page-too-large`` warning for a document whose ``body`` ``with_text`` cuts, else None."""
    if len(body) <= MAX_TEXT_CHARS:
        return None
    where = f"page {doc.page} of this PDF" if doc.kind == "pdf" else "page"
    return too_large_problem(doc.source, f"{where} has {len(body):,} characters of text")
