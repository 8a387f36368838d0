"""Bibliographic metadata of PDFs: title, authors, year, from the document
information dictionary and XMP. Pure functions shared by both extractors.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .repair import repair_document
from .text import INVISIBLE, visible_line

#: Part of both extractors' cache keys: raise it when what is read about a
#: PDF (title, authors, year, labels, first heading) changes.
META_VERSION = 10

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
    """The title candidates of the first page with words, from what a reader sees
    of it: its largest-type lines (``prominent_lines``), largest first, then its
    top line (PDFium, ``top_line``) and its first paragraph (``first_paragraph``);
    a title set over several lines has its line breaks marked (``LINE_BREAK``)."""


#: The longest title kept, in characters and in words: a longer "title" is prose
#: (or an attack), not a title, and every table the title chooser builds is
#: bounded by it. No title ever chosen from a real archive comes near it
#: (``boilerplate_reason`` passes over more than 25 words anyway).
TITLE_MAX_CHARS = 300
TITLE_MAX_WORDS = 40
#: The most authors kept from one field (the first ones), and the longest name.
MAX_AUTHORS = 50
MAX_NAME_CHARS = 100

# pdfminer's placeholder for a glyph its font does not map to a character
_UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")


def visible_text(raw: str) -> str:
    """The text as one line a terminal or a page shows as it is (``text.visible_line``):
    tabs, line breaks (``LINE_BREAK`` too) and other whitespace made single spaces;
    terminal escape sequences, control characters and invisible characters
    (``text.INVISIBLE``: format characters such as bidi controls, zero-width and tag
    characters, variation selectors, Hangul fillers) removed, and pdfminer's
    ``(cid:N)`` for a glyph it could not read. A zero-width joiner or non-joiner
    between two letters of a joining script (Arabic, Persian, Indic) is kept: it
    shapes the word. Titles and authors from every source pass through it."""
    return visible_line(_UNMAPPED_GLYPH.sub("", raw))


def has_letter(text: str) -> bool:
    """Whether the text holds a letter (not a digit, not an underscore)."""
    return bool(re.search(r"[^\W\d_]", text))


def has_letter_or_digit(text: str) -> bool:
    """Whether the text shows a letter or a digit: a title must. An invisible
    character (``text.INVISIBLE``: a Hangul filler is a letter to Unicode) is none."""
    return bool(re.search(r"[^\W_]", INVISIBLE.sub("", text)))


def title_sized(text: str) -> bool:
    """Whether the text is short enough to be a title (``TITLE_MAX_CHARS``, ``TITLE_MAX_WORDS``)."""
    return len(text) <= TITLE_MAX_CHARS and len(text.split()) <= TITLE_MAX_WORDS


def clean_title(raw: str) -> str:
    """A metadata title worth showing, or '' for a file name, a tool's placeholder,
    text with no letter or digit, or prose longer than a title (``title_sized``).

    Whitespace, ``LINE_BREAK`` included, is folded to single spaces; invisible
    characters are removed (``visible_text``).
    """
    title = visible_text(raw)
    if not has_letter_or_digit(title) or not title_sized(title):
        return ""
    return "" if _JUNK_TITLE.match(title) or _DATE_ONLY.match(title) else title


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
    """Prose, not a name: a lower-case word that is not a name particle, or more
    than 12 words between two separators (a long list of names is not prose)."""
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
_HONORIFICS = "dr|prof|professor|mr|mrs|ms|miss|sir|dame|rev"
_HONORIFIC = re.compile(rf"^(?:(?:{_HONORIFICS})\.?\s+)+", re.I)
_HONORIFIC_WORD = re.compile(rf"(?:{_HONORIFICS})\.?", re.I)
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
    A person's name has two or more words with letters (``"ER -"`` has one), not
    all of them titles (``"Dr Dr"``), and at most ``MAX_NAME_CHARS`` characters; a
    title is kept when it leaves a single word (``"Prof Smith"``).
    """
    name = visible_text(re.sub(r"[(\[][^()\[\]]*[)\]]", " ", name)).strip(" ,;")
    words = [w for w in name.split() if has_letter(w)]
    if (
        len(words) < 2
        or len(name) > MAX_NAME_CHARS
        or name.casefold() in _ACCOUNT_NAMES
        or re.search(r"[_@\\/]", name)
        or all(_HONORIFIC_WORD.fullmatch(w) for w in words)
    ):
        return ""
    stripped = _HONORIFIC.sub("", name)
    if sum(1 for w in stripped.split() if has_letter(w)) >= 2:
        name = stripped
    initials = _SURNAME_INITIALS.fullmatch(name)
    return f"{initials.group(1)}, {initials.group(2).strip()}" if initials else name


def split_authors(raw: str) -> tuple[str, ...]:
    """The people an Author field names; none for a sentence or an account name.

    ``"A. Smith; B. Jones and C. Wu"`` -> three names; ``"Smith, J."`` is one
    name. See ``_one_or_many`` and ``_person`` for the rules; whether the field
    is a sentence is judged name by name (``_is_sentence``), so a long list of
    names is not prose. At most ``MAX_AUTHORS`` names are kept, the first: only
    the field's first ``_AUTHORS_MAX_CHARS`` characters are read. Authors given
    in sidecar files and front matter are the user's word and do not pass
    through here (``clean_names`` only).
    """
    text = raw[:_AUTHORS_MAX_CHARS].strip()
    if not text:
        return ()
    parts = (p.strip().strip(" ,") for p in _NAME_SEPARATOR.split(text))
    pieces = [name for p in parts if p for name in _one_or_many(p)]
    if any(_is_sentence(piece) for piece in pieces):
        return ()
    return clean_names(map(_person, pieces))


#: The most characters of an author field read: room for ``MAX_AUTHORS`` names
#: and their separators.
_AUTHORS_MAX_CHARS = MAX_AUTHORS * (MAX_NAME_CHARS + 8)
# what separates names in an author field (``\s+`` starts only where white space does:
# tried at every space of a long run, it would read the run again each time)
_NAME_SEPARATOR = re.compile(r"[;&\n]|(?<!\s)\s+and\s+")


def clean_names(names: Iterable[str], limit: int = MAX_AUTHORS) -> tuple[str, ...]:
    """The names as shown (``visible_text``), empty ones and repeats left out, at
    most ``limit`` of them, the first: every list of authors, from a PDF, a
    sidecar or front matter, is one of these."""
    kept: dict[str, None] = {}
    for name in names:
        shown = visible_text(name)
        if shown:
            kept[shown] = None
            if len(kept) == limit:
                break
    return tuple(kept)


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
        authors=clean_names(name for c in creators[:MAX_AUTHORS] for name in split_authors(c)),
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
    """The first line of the first page with text, when it is short enough to be a
    title: for text read without positions (OCR); text from a PDF's page content
    offers its first paragraph through ``first_paragraph``, which sees only what
    a reader sees."""
    for page in pages:
        for line in page.splitlines():
            words = line.split()
            if words:
                text = " ".join(words)
                return text if len(words) <= max_words and title_sized(text) else ""
    return ""


def _plain(text: str) -> str:
    """One line of text: PDFium's mark of a hyphen ending a line (``\\x02``) made a
    hyphen again, other invisible characters dropped (``visible_text``)."""
    return visible_text(text.replace("\x02", "-"))


def _joined(lines: Sequence[str]) -> str:
    """Lines of one title as one line, each break marked with ``LINE_BREAK``; a
    word hyphenated across lines is kept whole (no break is marked in it)."""
    text = ""
    for line in lines:
        glue = "" if not text or re.search(r"\w-$", text[-2:]) else LINE_BREAK
        text += glue + line
    return text


#: A run of text as the extractors give it: ``(text, font size in points, top)``
#: (see ``prominent_lines``).
Run = tuple[str, float, float]
#: Characters whose sizes differ by at most this many points are of one run.
SIZE_TOLERANCE = 0.25
#: The largest font size believed, in points: the widest page a PDF may have
#: (PDF 1.7, Annex C). A larger or non-finite size is a crafted one.
MAX_FONT_SIZE = 14_400.0


def usable_size(size: float) -> bool:
    """Whether a character's font size is one a reader could see (``MAX_FONT_SIZE``):
    not infinite, not NaN. Characters of other sizes make no run."""
    return math.isfinite(size) and abs(size) <= MAX_FONT_SIZE


def new_run(size: float, run_size: float) -> bool:
    """Whether a character of ``size`` starts a new run after one of ``run_size``
    (0 for none yet): sizes further apart than ``SIZE_TOLERANCE``."""
    return bool(run_size) and abs(size - run_size) > SIZE_TOLERANCE


def centre_inside(
    box: tuple[float, float, float, float], x0: float, y0: float, x1: float, y1: float
) -> bool:
    """Whether the centre of a character's box (``x0, y0, x1, y1``) is inside the page's
    ``box`` (left, bottom, right, top). The extractors keep a word whole when its
    first character's centre is inside, and drop it whole when not: text set off the
    page is no one's title, and a line running off the page's edge loses its last
    words, never half of one."""
    x, y = (x0 + x1) / 2, (y0 + y1) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def seen_runs(collect: Callable[[bool], list[Run]]) -> list[Run]:
    """The runs a reader sees of a page: ``collect(False)``, its runs without the
    characters drawn invisible (render mode 3 or 7), unless they hold no letter:
    then ``collect(True)``, with them (a scanned page's OCR layer is drawn invisible)."""
    runs = collect(False)
    return runs if any(has_letter(text) for text, _, _ in runs) else collect(True)


#: Type at least this large (points) is display type: on a page set mostly in
#: it (a cover), every line in it is a heading, even smaller than the commonest.
DISPLAY_SIZE = 14.0


def prominent_lines(
    runs: Iterable[tuple[str, float, float]], limit: int = 4, max_words: int = 25
) -> tuple[str, ...]:
    """The largest-type text of a page, largest first: where a cover puts its title.

    ``runs`` are the page's lines in reading order as ``(text, font size in
    points, top)``, ``top`` being the distance of the line's top from the top of
    the page as a fraction of its height; a line set in two sizes is two runs
    (of one ``top``), the last ending with a line break (with two when a
    paragraph ends). The extractors make runs only of what a reader sees: words
    that begin inside the page box, whole (a word is never cut at the page's
    edge), and characters not drawn invisible (render mode 3 or 7, unless the
    page has no other text: a scan's OCR layer). Consecutive runs of one size
    are joined (a title set over several lines), with ``LINE_BREAK`` where one
    line ended, for the title chooser to see where a cover's title ends and
    the programme's name below it begins. Only text on the page counts
    (``top`` from 0 to 1), only the top four fifths of it (a footer is not a
    title), and only type larger than the page's commonest size; on a cover, set
    mostly in display type (``DISPLAY_SIZE`` or more), all display type. Groups
    of more than ``max_words`` words, or longer than a title
    (``TITLE_MAX_CHARS``), are prose: a group stops taking lines past that.
    """
    lines = [
        (_plain(text), round(size * 2) / 2, top)
        for text, size, top in runs
        if 0 <= top <= 1 and usable_size(size)
    ]
    lines = [line for line in lines if has_letter(line[0])]
    if not lines:
        return ()
    weight: Counter[float] = Counter()
    for text, size, _ in lines:
        weight[size] += len(text)
    body = weight.most_common(1)[0][0]
    groups: list[tuple[float, list[str], list[int]]] = []  # size, lines, [words, characters]
    for text, size, top in lines:
        if top > 0.8:
            continue
        if not groups or groups[-1][0] != size:
            groups.append((size, [], [0, 0]))
        _, texts, count = groups[-1]
        count[0] += len(text.split())
        count[1] += len(text) + 1
        if count[0] <= max_words and count[1] <= TITLE_MAX_CHARS + 1:
            texts.append(text)
    found: list[str] = []
    for size, texts, count in sorted(groups, key=lambda g: -g[0]):  # stable: reading order
        if size <= body and (body < DISPLAY_SIZE or size < DISPLAY_SIZE):
            break
        if count[0] > max_words or count[1] > TITLE_MAX_CHARS + 1:
            continue
        text = _joined(texts)
        if text not in found:
            found.append(text)
            if len(found) == limit:
                break
    return tuple(found)


def _page_lines(runs: Iterable[tuple[str, float, float]]) -> list[tuple[str, float]]:
    """The runs joined into the page's lines, in their order, as ``(text, top)``:
    a run whose text ends with a line break ends its line; ``top`` is its first
    run's. Lines off the page (``top`` outside 0 to 1) and with no letter are left out."""
    lines: list[tuple[str, float]] = []
    text, line_top = "", 0.0
    for run, _, top in runs:
        line_top = top if not text else line_top
        text += run
        if run.endswith("\n"):
            lines.append((_plain(text), line_top))
            text = ""
    if text:
        lines.append((_plain(text), line_top))
    return [(text, top) for text, top in lines if 0 <= top <= 1 and has_letter(text)]


def first_paragraph(
    runs: Iterable[tuple[str, float, float]], max_words: int = 15
) -> tuple[str, ...]:
    """The first paragraph of the page's text, when short enough to be a title:
    ``first_heading`` of the text the ``runs`` (as for ``prominent_lines``) make,
    repaired as page text is (``repair.repair_document``: one paragraph a line).
    A run ending with a blank line (two line breaks) ends its paragraph."""
    text = "".join(run for run, _, top in runs if 0 <= top <= 1)
    heading = first_heading(repair_document([text]), max_words)
    return (heading,) if heading else ()


def top_line(runs: Iterable[tuple[str, float, float]], max_words: int = 15) -> tuple[str, ...]:
    """The highest line on the page with letters in it, when short enough to be a
    title (PDFium's text starts with whatever the page drew first, a footer often)."""
    lines = _page_lines(runs)
    if not lines:
        return ()
    text = min(lines, key=lambda line: line[1])[0]
    return (text,) if len(text.split()) <= max_words and title_sized(text) else ()


def title_lines(candidates: Sequence[str], pages: Sequence[str] = ()) -> str:
    """What ``PdfText.heading`` keeps: the title candidates the page content of a
    PDF's first page with words offers (its largest type, then its first line),
    one per line, then the first line of ``pages`` read without positions (OCR
    text, ``first_heading``). Line breaks inside a candidate stay marked
    (``LINE_BREAK``)."""
    kept: dict[str, str] = {}
    for line in (*candidates, first_heading(pages)):
        if line:
            kept.setdefault(" ".join(line.split()), line)  # the marked form of a line first
    return "\n".join(kept.values())


_PLACEHOLDER = re.compile(r"^(print|page \d+( of \d+)?|\d+( of \d+)?|-? ?\d+ ?-?)$", re.I)
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


def labels_list(labels: Iterable[str], count: int) -> tuple[str, ...]:
    """The first ``count`` page labels (the label iterator may be unbounded)."""
    result: list[str] = []
    for label in labels:
        if len(result) == count:
            break
        result.append(str(label))
    return tuple(result)
