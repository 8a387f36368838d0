"""Bibliographic metadata of PDFs: title, authors, year, from the document
information dictionary and XMP. Pure functions shared by both extractors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Part of both extractors' cache keys: raise it when what is read about a
#: PDF (title, authors, year, labels, first heading) changes.
META_VERSION = 3

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


def clean_title(raw: str) -> str:
    """A metadata title worth showing, or '' for a file name or a tool's placeholder."""
    title = re.sub(r"\s+", " ", raw.replace("\x00", "")).strip()
    return "" if not title or _JUNK_TITLE.match(title) or _DATE_ONLY.match(title) else title


def split_authors(raw: str) -> tuple[str, ...]:
    """``"A. Smith; B. Jones and C. Wu"`` -> three names. Commas are kept: "Smith, J." is one name."""
    parts = re.split(r"\s*;\s*|\s+and\s+|\s*&\s*|\s*\n\s*", raw.strip())
    return tuple(p.strip(" ,") for p in parts if p.strip(" ,"))


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


def labels_list(labels: Iterable[str], count: int) -> tuple[str, ...]:
    """The first ``count`` page labels (the label iterator may be unbounded)."""
    result: list[str] = []
    for label in labels:
        if len(result) == count:
            break
        result.append(str(label))
    return tuple(result)
