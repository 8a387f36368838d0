"""Bibliographic metadata of PDFs: title, authors, year, from the document
information dictionary and XMP. Pure functions shared by both extractors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Part of both extractors' cache keys: raise it when what is read about a
#: PDF (title, authors, year, labels, first heading) changes.
META_VERSION = 7

#: Where a candidate title set over several lines (``prominent_lines``) broke
#: from one line to the next: the ASCII unit separator. ``str.splitlines``
#: keeps it inside a candidate, and whitespace folding (``clean_title``,
#: ``str.split``) reads it as a space, so only a reader that asks for the lines
#: (``TitleChooser``) sees them.
LINE_BREAK = "\x1f"

_JUNK_TITLE = re.compile(
    r"^(untitled|slide \d+|powerpoint presentation|document\d*|microsoft (word|powerpoint) - .*"
    r"|merged ?file\d*|final report|report|title|.*\.(docx?|pptx?|indd|pdf|qxd|tex|dvi))$",
    re.I,
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# a date standing alone: "FEBRUARY 28, 2020", "28 February 2020", "2020-02-28", "June 2019"
_DATE_ONLY = re.compile(
    rf"^((\d{{1,2}}(st|nd|rd|th)? )?({_MONTHS})( \d{{1,2}}(st|nd|rd|th)?)?,? \d{{4}}"
    r"|\d{4}-\d\d(-\d\d)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})$",
    re.I,
)
#: A plausible year standing alone in a text.
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


@dataclass(frozen=True)
class PdfInfo:
    """What a PDF says about itself."""

    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    prominent: tuple[str, ...] = ()
    """The first page's largest-type lines (``prominent_lines``), largest first;
    a title set over several lines has its line breaks marked (``LINE_BREAK``)."""


def clean_title(raw: str) -> str:
    """A metadata title worth showing, or '' for a file name or a tool's placeholder.

    Whitespace, ``LINE_BREAK`` included, is folded to single spaces.
    """
    title = re.sub(r"\s+", " ", raw.replace("\x00", "")).strip()
    return "" if not title or _JUNK_TITLE.match(title) or _DATE_ONLY.match(title) else title


#: Names that tools and computers put in the Author field: account names, not people.
_ACCOUNT_NAMES = frozenset(
    {
        "admin",
        "administrator",
        "author",
        "default",
        "ieuser",
        "microsoft office user",
        "owner",
        "unknown",
        "user",
        "windows user",
    }
)
_NAME_PARTICLES = frozenset(
    {"al", "bin", "da", "de", "del", "della", "den", "der", "di", "du", "la", "le", "van", "von"}
)


def _is_sentence(raw: str) -> bool:
    """Prose, not a list of names: a lower-case word that is not a name particle."""
    words = re.findall(r"[^\W\d_][\w'’.-]*", raw)
    prose = [w for w in words if w[0].islower() and w not in _NAME_PARTICLES and w != "and"]
    return bool(prose) or len(words) > 12


def _one_or_many(part: str) -> tuple[str, ...]:
    """``"Yan Yiannakou, Angela Birt"`` is two people; ``"Dixon, Pete"`` and
    ``"Smith, J."`` are one written surname first: a comma splits only when
    every piece it leaves is a multi-word name."""
    pieces = [p.strip() for p in part.split(",")]
    if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
        return tuple(pieces)
    return (part,)


#: Titles before a name, which a citation leaves out: "Dr Kathryn Hall" -> "Kathryn Hall".
_HONORIFIC = re.compile(r"^(?:(?:dr|prof|professor|mr|mrs|ms|miss|sir|dame|rev)\.?\s+)+", re.I)
#: A surname then initials, written surname first without the comma: "FISK A.", "Fisk A.B."
_SURNAME_INITIALS = re.compile(r"([^\W\d_][\w'’-]+)\s+((?:[A-Z]\.\s?){1,3}|[A-Z]{1,2})")


def _person(name: str) -> str:
    """The name without a bracketed organisation tag or a title, or '' for an account name.

    ``"Rushton Michelle (NWCAHSN)"`` -> ``"Rushton Michelle"`` (the order is kept
    as written: which part is the surname is not guessed, except that a word then
    initials is a surname first, and says so with a comma: ``"FISK A."`` -> ``"FISK,
    A."``). ``"Dr Kathryn Hall"`` -> ``"Kathryn Hall"``. A single word with no
    space (``"James"``, ``"Kristina"``, ``"IEUser"``), a name with an underscore or
    an ``@`` (``"Stephen_M"``) and the placeholders tools write are the names of
    the computer account that saved the file, not of the people who wrote it.
    """
    name = re.sub(r"\s*[(\[][^()\[\]]*[)\]]", " ", name)
    name = re.sub(r"\s+", " ", name).strip(" ,;")
    if (
        not name
        or name.casefold() in _ACCOUNT_NAMES
        or " " not in name
        or re.search(r"[_@\\/]", name)
        or not re.search(r"[^\W\d_]", name)
    ):
        return ""
    name = _HONORIFIC.sub("", name) or name
    initials = _SURNAME_INITIALS.fullmatch(name)
    return f"{initials.group(1)}, {initials.group(2).strip()}" if initials else name


def split_authors(raw: str) -> tuple[str, ...]:
    """The people an Author field names; none for a sentence or an account name.

    ``"A. Smith; B. Jones and C. Wu"`` -> three names; ``"Smith, J."`` is one
    name. See ``_one_or_many`` and ``_person`` for the rules. Authors given in
    sidecar files are the user's word and do not pass through here.
    """
    text = raw.strip()
    if not text or _is_sentence(text):
        return ()
    parts = re.split(r"\s*;\s*|\s+and\s+|\s*&\s*|\s*\n\s*", text)
    names = [_person(name) for p in parts if p.strip(" ,") for name in _one_or_many(p.strip(" ,"))]
    return tuple(dict.fromkeys(name for name in names if name))


def year_of(raw: str) -> int | None:
    """The year of a PDF date (``D:20190314…``) or an ISO date; None when there is none."""
    text = raw.strip()
    text = text[2:] if text.startswith("D:") else text
    leading = re.match(r"(\d{4})(?:\d|-|$)", text)  # D:20190314…, 2019-03-14
    if leading and 1500 <= int(leading.group(1)) <= 2099:
        return int(leading.group(1))
    match = YEAR.search(text)
    return int(match.group(1)) if match else None


def parse_xmp(data: bytes) -> PdfInfo:
    """Title, creators and date from an XMP packet; empty for anything unreadable."""
    try:
        root = ET.fromstring(data.strip().lstrip(b"\xef\xbb\xbf"))
    except ET.ParseError:
        return PdfInfo()

    def texts(path: str) -> list[str]:
        found = []
        for node in root.iterfind(path, _NS):
            items = [li.text or "" for li in node.iterfind(".//rdf:li", _NS)]
            found.extend(items or [node.text or ""])
        return [t.strip() for t in found if t and t.strip()]

    titles = texts(".//dc:title")
    creators = texts(".//dc:creator")
    dates = texts(".//xmp:CreateDate") + texts(".//dc:date")
    return PdfInfo(
        title=clean_title(titles[0]) if titles else "",
        authors=tuple(name for c in creators for name in split_authors(c)),
        year=next((y for y in (year_of(d) for d in dates) if y), None),
    )


def merge_info(xmp: PdfInfo, title: str, author: str, created: str) -> PdfInfo:
    """XMP first, then the information dictionary, field by field."""
    return PdfInfo(
        title=xmp.title or clean_title(title),
        authors=xmp.authors or split_authors(author),
        year=xmp.year or year_of(created),
    )


def first_heading(pages: Sequence[str], max_words: int = 15) -> str:
    """The first line of the first page with text, when it is short enough to be a title."""
    for page in pages:
        for line in page.splitlines():
            words = line.split()
            if words:
                return " ".join(words) if len(words) <= max_words else ""
    return ""


def _plain(text: str) -> str:
    """One line of text: PDFium's mark of a hyphen ending a line (``\\x02``) made a
    hyphen again, other control characters dropped."""
    text = re.sub(r"[\x00\x01\x03-\x08\x0b-\x1f\x7f]", "", text.replace("\x02", "-"))
    return " ".join(text.split())


def _joined(lines: Sequence[str]) -> str:
    """Lines of one title as one line, each break marked with ``LINE_BREAK``; a
    word hyphenated across lines is kept whole (no break is marked in it)."""
    text = ""
    for line in lines:
        glue = "" if not text or re.search(r"\w-$", text) else LINE_BREAK
        text += glue + line
    return text


#: Type at least this large (points) is display type: on a page set mostly in
#: it (a cover), every line in it is a heading, even smaller than the commonest.
DISPLAY_SIZE = 14.0


def prominent_lines(
    runs: Iterable[tuple[str, float, float]], limit: int = 4, max_words: int = 25
) -> tuple[str, ...]:
    """The largest-type text of a page, largest first: where a cover puts its title.

    ``runs`` are the page's lines in reading order as ``(text, font size in
    points, top)``, ``top`` being the distance of the line's top from the top of
    the page as a fraction of its height; a line set in two sizes is two runs.
    Consecutive runs of one size are joined (a title set over several lines),
    with ``LINE_BREAK`` where one line ended, for the title chooser to see
    where a cover's title ends and the programme's name below it begins.
    Only the top four fifths of the page count (a footer is not a title), and
    only type larger than the page's commonest size; on a cover, set mostly in
    display type (``DISPLAY_SIZE`` or more), all display type. Groups of more
    than ``max_words`` words are prose.
    """
    lines = [(_plain(text), round(size * 2) / 2, top) for text, size, top in runs]
    lines = [line for line in lines if re.search(r"[^\W\d_]", line[0])]
    if not lines:
        return ()
    weight: Counter[float] = Counter()
    for text, size, _ in lines:
        weight[size] += len(text)
    body = weight.most_common(1)[0][0]
    groups: list[tuple[float, list[str]]] = []
    for text, size, top in lines:
        if top > 0.8:
            continue
        if groups and groups[-1][0] == size:
            groups[-1][1].append(text)
        else:
            groups.append((size, [text]))
    found: list[str] = []
    for size, texts in sorted(groups, key=lambda g: -g[0]):  # stable: reading order within a size
        if size <= body and (body < DISPLAY_SIZE or size < DISPLAY_SIZE):
            break
        text = _joined(texts)
        if len(text.split()) <= max_words and text not in found:
            found.append(text)
            if len(found) == limit:
                break
    return tuple(found)


def top_line(runs: Iterable[tuple[str, float, float]], max_words: int = 15) -> tuple[str, ...]:
    """The highest line on the page with letters in it, when short enough to be a
    title (PDFium's text starts with whatever the page drew first, a footer often)."""
    lines = [(top, _plain(text)) for text, _, top in runs]
    lines = [line for line in lines if re.search(r"[^\W\d_]", line[1])]
    if not lines:
        return ()
    text = min(lines, key=lambda line: line[0])[1]
    return (text,) if len(text.split()) <= max_words else ()


def title_lines(prominent: Sequence[str], pages: Sequence[str]) -> str:
    """What ``PdfText.heading`` keeps: the title candidates a PDF's first page
    with text offers, one per line, its largest type first, then its first line.
    Line breaks inside a candidate stay marked (``LINE_BREAK``)."""
    kept: dict[str, str] = {}
    for line in (*prominent, first_heading(pages)):
        if line:
            kept.setdefault(" ".join(line.split()), line)  # the marked form of a line first
    return "\n".join(kept.values())


_PLACEHOLDER = re.compile(r"^(print|page \d+( of \d+)?|\d+( of \d+)?|-? ?\d+ ?-?)$", re.I)
_SECTION_NUMBER = re.compile(
    r"^(section|chapter|part|appendix|annex|table|figure)?\s*[\dIVX]+(\.\d+)*[.:)]?\s+", re.I
)
_NUMBERED_PART = re.compile(
    r"^(section|chapter|part|appendix|annex|table|figure)\s+[\dIVXA-Z]+\b", re.I
)
#: Words of labels that stand for a kind of document or part, not its subject:
#: "Reference document", "Case study", "End of project report", "Executive summary".
_LABEL_WORDS = frozenset(
    (
        "a",
        "abstract",
        "and",
        "annex",
        "appendices",
        "appendix",
        "background",
        "briefing",
        "case",
        "chapter",
        "conclusions",
        "contents",
        "document",
        "draft",
        "end",
        "executive",
        "final",
        "findings",
        "foreword",
        "full",
        "interim",
        "introduction",
        "of",
        "or",
        "overview",
        "paper",
        "part",
        "preface",
        "print",
        "progress",
        "project",
        "purpose",
        "reference",
        "report",
        "research",
        "section",
        "study",
        "summary",
        "table",
        "the",
        "this",
        "update",
        "version",
        *_MONTHS.split("|"),
    )
)
_ORGANISATION_PHRASE = re.compile(
    r"\b(in partnership with|in collaboration with|a collaboration between|on behalf of"
    r"|conducted by|prepared by|produced by|funded by|supported by)\b",
    re.I,
)
_ORGANISATION_WORD = re.compile(
    r"\b(universit(y|ies)|ltd|limited|plc|llp|inc|trust|council|institute|college"
    r"|foundation|clahrc|department|ministry|agency)\b",
    re.I,
)


def is_date(line: str) -> bool:
    """Whether the line is a date alone: ``"June 2019"``, ``"FEBRUARY 28, 2020"``."""
    return bool(_DATE_ONLY.match(" ".join(line.split()).strip(" ,.")))


def is_label(line: str) -> bool:
    """Whether every word of the line is a label word: ``"End of project report"``."""
    words = re.findall(r"[^\W\d_][\w'’-]*", line)
    return bool(words) and all(w.casefold() in _LABEL_WORDS for w in words)


# a line ending in one of these is cut short: "… to better understand the care pathway in"
_TRAILING_SMALL_WORDS = frozenset(
    ("a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with")
)
_FIELD = re.compile(
    r"\b(client|authors?|editors?|team|prepared (for|by)|date|version|contact|published|"
    r"status|owner|reference|ref|doc(ument)? (id|no))\s*:",
    re.I,
)


def boilerplate_reason(line: str) -> str:
    """Why a line from a cover or a metadata title is not a report's title, or ''.

    A page number or count (``1``, ``1 of 33``, ``Page 3``), a tool's ``Print``,
    a date alone, a label alone (``Case study``, ``8. Appendices``, ``Final
    report December 2018``), a numbered part heading (``Appendix 2: …``), a
    lead-in (ending in ``:``, ``&`` or a word such as "in"), a line naming an organisation
    (``Teesside University``, ``Quaenam Ltd in partnership with …``), a single
    word, or prose of more than 25 words.
    """
    text = " ".join(line.split()).rstrip(" -–")
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    if not words or _PLACEHOLDER.match(text) or _DATE_ONLY.match(text):
        return "a placeholder, page number or date"
    if _NUMBERED_PART.match(text):
        return "a part's heading"
    if is_label(text):
        return "a label"
    if _FIELD.search(text):
        return "a labelled field"
    if text.endswith((":", "&", ",")) or text.split()[-1].casefold() in _TRAILING_SMALL_WORDS:
        return "a lead-in"
    if _ORGANISATION_PHRASE.search(text) or (len(words) <= 6 and _ORGANISATION_WORD.search(text)):
        return "an organisation"
    if len(words) < 2:
        return "a single word"
    if len(words) > 25:
        return "prose"
    return ""


def strip_section_number(line: str) -> str:
    """``"8. Appendices"`` -> ``"Appendices"``; other lines unchanged."""
    stripped = _SECTION_NUMBER.sub("", line, count=1)
    return stripped if stripped.strip() else line


def labels_list(labels: Iterable[str], count: int) -> tuple[str, ...]:
    """The first ``count`` page labels (the label iterator may be unbounded)."""
    result: list[str] = []
    for label in labels:
        if len(result) == count:
            break
        result.append(str(label))
    return tuple(result)
