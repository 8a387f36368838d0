"""Titles and authors of a folder archive against hostile PDFs, without losing real titles.

A title is at most a title's size (``TITLE_MAX_CHARS``, ``TITLE_MAX_WORDS``), so
choosing titles costs time linear in the number of files; it shows no control
or format character (bidi, zero-width, tag), no variation selector and no
``(cid:N)`` placeholder, and always has something visible; every candidate from
a page is made of what a reader sees: words that begin on the page, whole, and
text not drawn invisible (unless nothing else is on the page: a scan's OCR
layer); a file's own metadata title is kept unless two files have that very
title. Authors lists of any length are people, up to fifty.
"""

from __future__ import annotations

import time
import unicodedata
import zlib
from pathlib import Path

import pytest
from helpers import EXTRACTORS, settings_for, write_files
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.documents import TitleChooser
from chcsearch.index import IndexStore, stored_documents
from chcsearch.ingest import build_index
from chcsearch.model import PdfMeta
from chcsearch.parse import title_from_filename
from chcsearch.pdfmeta import (
    LINE_BREAK,
    MAX_AUTHORS,
    TITLE_MAX_CHARS,
    TITLE_MAX_WORDS,
    clean_title,
    first_paragraph,
    parse_xmp,
    prominent_lines,
    split_authors,
    visible_text,
)
from chcsearch.sidecars import read_sidecar

#: Characters no title or author may keep: C0 and C1 controls, bidi controls, zero-width.
INVISIBLE = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} | set(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _cover(title_line: str, **spec: object) -> bytes:
    """A cover with ``title_line`` in large type, then a page of body text."""
    return make_pdf(
        PdfSpec(
            pages=[
                PageSpec(lines=(title_line, "Body text of the cover."), line_sizes=(28, 11)),
                PageSpec(lines=("Body text.",)),
            ],
            **spec,  # type: ignore[arg-type]
        )
    )


#: A PDF that says nothing of its title: its title is its file name's.
NAMELESS = make_pdf(PdfSpec(pages=[PageSpec(lines=("Appendix",))]))


def _xmp(title: str = "", creators: tuple[str, ...] = ()) -> str:
    def items(values: tuple[str, ...]) -> str:
        return "".join(f"<rdf:li>{v}</rdf:li>" for v in values)

    title_xml = f"<dc:title><rdf:Alt>{items((title,))}</rdf:Alt></dc:title>" if title else ""
    creators_xml = f"<dc:creator><rdf:Seq>{items(creators)}</rdf:Seq></dc:creator>"
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{title_xml}{creators_xml if creators else ''}"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _build(root: Path, extractor: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Index ``root``; ``{src_path: (title, authors)}`` of every file in the index."""
    index_dir = root.parent / f"index-{extractor}"
    build_index(settings_for(root, index_dir, cache_dir=root.parent / "cache", extractor=extractor))
    generation = IndexStore(index_dir).open_current()
    return {
        str(d["source"]): (str(d["title"]), tuple(d.get("authors") or ()))
        for d in stored_documents(generation)
        if d.get("page") in (None, 1)
    }


def _meta(src: str, title: str = "", heading: str = "") -> PdfMeta:
    return PdfMeta(src_path=src, sha256="0", page_count=1, title=title, heading=heading)


def _visible(text: str) -> bool:
    return bool(text.strip()) and not (set(text) & INVISIBLE)


# ---------------------------------------------------------------------------------------
# Size: a title is at most a title's size, and choosing titles is linear


def test_a_title_longer_than_a_title_is_prose() -> None:
    assert clean_title(" ".join(["word"] * (TITLE_MAX_WORDS + 1))) == ""
    assert clean_title("x" * (TITLE_MAX_CHARS + 1)) == ""
    assert clean_title(" ".join(["w" * 50_000] * 20)) == ""  # 20 words of 50 KB each
    kept = " ".join(["Word"] * TITLE_MAX_WORDS)
    assert clean_title(kept) == kept


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_huge_metadata_title_is_passed_over_quickly(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    huge = " ".join(f"Word{i}" for i in range(20_000))
    write_files(
        root,
        {
            "a/info.pdf": _cover("Rivers of the North", title=huge),
            "a/xmp.pdf": _cover(
                "Salmon Counts Review", xmp=_xmp(" ".join(f"Word{i}" for i in range(100_000)))
            ),
            "a/giant.pdf": _cover("Otter Sightings Survey", title=" ".join(["W" * 50_000] * 20)),
        },
    )
    started = time.monotonic()
    titles = _build(root, extractor)
    elapsed = time.monotonic() - started
    assert titles["a/info.pdf"][0] == "Rivers of the North"
    assert titles["a/xmp.pdf"][0] == "Salmon Counts Review"
    assert titles["a/giant.pdf"][0] == "Otter Sightings Survey"
    assert elapsed < 60  # was 54 s for the first file alone, and 24 GB for the second


def test_title_tables_grow_linearly_with_the_files() -> None:
    """2,000 files whose every candidate is 2,000 words: every table the chooser
    builds holds at most a title's worth of entries per candidate."""
    words = " ".join(f"Term{i}" for i in range(2_000))
    pdfs = {
        f"f{n}.pdf": _meta(f"f{n}.pdf", f"{n} {words}", f"{words} {n}\n{n} {words} end")
        for n in range(2_000)
    }
    pdfs["short.pdf"] = _meta("short.pdf", "Rivers of the North")
    chooser = TitleChooser(pdfs)
    candidates = [c for lines in chooser.candidates.values() for c in lines]
    assert candidates == ["Rivers of the North"]
    assert sum(len(files) for files in chooser.begins.values()) <= 3 * len(pdfs) * TITLE_MAX_WORDS
    titles = chooser.titles()
    assert titles["short.pdf"] == "Rivers of the North"
    assert titles["f7.pdf"] == "F7"  # the file name


def test_twenty_thousand_cover_lines_are_one_prose_group() -> None:
    runs = [("Heading of the Report", 30.0, 0.1)]
    runs += [(f"Line {i} of a very long cover", 20.0, 0.2 + i / 100_000) for i in range(20_000)]
    runs += [(f"Body text number {i} of the page", 11.0, 0.5) for i in range(30_000)]
    started = time.monotonic()
    found = prominent_lines(runs)
    assert time.monotonic() - started < 5  # was 110 s
    assert found == ("Heading of the Report",)  # 20,000 lines are prose, not a title


# ---------------------------------------------------------------------------------------
# Invisible characters


def test_visible_text_removes_controls_bidi_and_zero_width() -> None:
    assert visible_text("\x1b[31mRed\x1b[0m Alert\x07") == "Red Alert"
    assert visible_text("Line one\nLine\ttwo\r\n") == "Line one Line two"
    assert visible_text("\u202eevil\u202c \u2066iso\u2069 ze\u200bro\ufeff") == "evil iso zero"
    assert visible_text(f"Cover{LINE_BREAK}Title\x85") == "Cover Title"
    assert split_authors("Bob\x00 Null; \u202eEve Smith") == ("Bob Null", "Eve Smith")


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_titles_and_authors_in_the_index_show_no_invisible_characters(
    tmp_path: Path, extractor: str
) -> None:
    root = tmp_path / "archive"
    write_files(
        root,
        {
            "r/escape.pdf": _positioned_pdf(
                [(72, 700, 24, "Cover of the escape file"), (72, 600, 11, "Body text.")],
                Title="\x1b[31mRed\x1b[0m Alert\x07 Report\tOne\u202e",
                Author="Bob\x00 Null; \x1b[2JEve\u200b Smith",
            ),
            "r/bidi.pdf": _cover(
                "Cover of the bidi file",
                xmp=_xmp(
                    "\u202eRivers\u202c of the \u2066North\u2069 Zero\u200bWidth",
                    ("\u202eAmira Shah", "Tom\u200b Briggs"),
                ),
            ),
            "r/\u202eevil name.pdf": NAMELESS,
            "r/side.pdf": _cover("Cover of the sidecar file"),
            "r/side.pdf.yml": (
                'title: "Line one\\nLine\\ttwo \\e[1mBold\\u202e"\n'
                'authors: ["Ann\\0 Lee", "\\u200b", "Raj\\u202e Patel"]\n'
            ),
            "r/_meta.yml": 'folder_title: "Re\\u200bports\\n"\n',
            "r/note.md.yml": 'title: "\\u200b\\u202e"\n',
            "r/note.md": "# Note\n\nText.\n",
        },
    )
    found = _build(root, extractor)
    title, authors = found["r/escape.pdf"]
    # PDFium reads ESC ... ESC in a text string as a language tag, and drops it
    assert title == ("Red Alert Report One" if extractor == "pdfminer" else "[0m Alert Report One")
    assert authors == (("Bob Null", "Eve Smith") if extractor == "pdfminer" else ("Bob Null",))
    assert found["r/bidi.pdf"] == (
        "Rivers of the North ZeroWidth",
        ("Amira Shah", "Tom Briggs"),
    )
    assert found["r/\u202eevil name.pdf"][0] == "Evil name"
    assert found["r/side.pdf"] == ("Line one Line two Bold", ("Ann Lee", "Raj Patel"))
    assert found["r/note.md"][0] == "Note"  # an invisible sidecar title is ignored
    for title, authors in found.values():
        assert _visible(title), title
        assert all(_visible(name) for name in authors), authors


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_invisible_file_names_get_visible_titles(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    names = [" .pdf", "\u200b.pdf", "___.pdf", "\u202e_\u200b_.pdf"]
    write_files(root, {f"x/{name}": NAMELESS for name in names})
    found = _build(root, extractor)
    assert found["x/___.pdf"][0] == "___.pdf"
    assert found["x/ .pdf"][0] == ".pdf"
    for name in names:
        assert _visible(found[f"x/{name}"][0]), name


def test_file_name_titles() -> None:
    assert title_from_filename("a/\u202etxt.pdf") == "Txt"
    assert title_from_filename("a/\u200b.pdf") == ".pdf"
    assert title_from_filename("a/\u200b") == "\\u200b"
    assert title_from_filename("Section 2.5.1_Citizens Juries.pdf") == "Citizens Juries"


def test_a_title_of_no_letter_or_digit_falls_to_the_next_candidate() -> None:
    pdfs = {
        "a.pdf": _meta("a.pdf", "\u200b\u202e\x1b", "---\nRivers of the North"),
        "b.pdf": _meta("b.pdf", "", "\x07\x07"),
    }
    assert TitleChooser(pdfs).titles() == {"a.pdf": "Rivers of the North", "b.pdf": "B"}


# ---------------------------------------------------------------------------------------
# Real titles kept


REAL_TITLES = {
    "asthma.pdf": "Asthma Pathway",
    "asthma-outcomes.pdf": "Asthma Pathway Outcomes in Children",
    "leeds-evaluation.pdf": "Evaluation of the Childhood Asthma Pathway in Leeds",
    "bradford-evaluation.pdf": "Evaluation of the Childhood Asthma Pathway in Bradford",
    "copd.pdf": "Annual Report on COPD Admissions 2018",
    "copd19.pdf": "Annual Report on COPD Admissions 2019",
}


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_metadata_titles_that_are_also_cover_lines_are_kept(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    write_files(
        root, {f"r/{name}": _cover(title, title=title) for name, title in REAL_TITLES.items()}
    )
    found = _build(root, extractor)
    assert {src[2:]: title for src, (title, _) in found.items()} == REAL_TITLES


def test_a_metadata_title_two_files_share_is_still_a_series() -> None:
    pdfs = {
        "a.pdf": _meta("a.pdf", "Connected Health Cities", "Salmon Counts Review"),
        "b.pdf": _meta("b.pdf", "Connected Health Cities", "Otter Sightings Survey"),
    }
    assert TitleChooser(pdfs).titles() == {
        "a.pdf": "Salmon Counts Review",
        "b.pdf": "Otter Sightings Survey",
    }


# ---------------------------------------------------------------------------------------
# Authors


SEVEN = "Amira Shah; Tom Briggs; Li Wei; Ana Gomez; Sam Ode; Kit Ng; Jane Doe"


@pytest.mark.parametrize(
    ("raw", "people"),
    [
        (SEVEN, tuple(SEVEN.split("; "))),
        ("Dr Dr Dr", ()),
        ("Prof Smith", ("Prof Smith",)),
        ("Dr Kathryn Hall", ("Kathryn Hall",)),
        ("ER  - ", ()),
        ("Mr Prof.", ()),
        ("Smith, J.", ("Smith, J.",)),
        ("This report was written by the analytics team", ()),
        ("Amira Shah; " + " ".join(["Name"] * 13), ()),
        ("Ann Lee; " + "Q" * 200 + " Long", ("Ann Lee",)),
    ],
)
def test_author_rules(raw: str, people: tuple[str, ...]) -> None:
    assert split_authors(raw) == people


def test_sixty_authors_are_capped_at_fifty() -> None:
    raw = "; ".join(f"Person{i} Surname" for i in range(60))
    people = split_authors(raw)
    assert len(people) == MAX_AUTHORS == 50
    assert people[0] == "Person0 Surname" and people[-1] == "Person49 Surname"
    assert split_authors("; ".join(["Ann Lee"] * 100_000)) == ("Ann Lee",)
    creators = tuple(f"Person{i} Surname" for i in range(100))
    assert parse_xmp(_xmp("Title", creators).encode()).authors == creators[:50]


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_long_author_lists_reach_the_index(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    sixty = "; ".join(f"Person{i} Surname" for i in range(60))
    write_files(
        root,
        {
            "r/seven.pdf": _cover("Rivers of the North", author=SEVEN),
            "r/sixty.pdf": _cover("Salmon Counts Review", author=sixty),
        },
    )
    found = _build(root, extractor)
    assert found["r/seven.pdf"][1] == tuple(SEVEN.split("; "))
    assert len(found["r/sixty.pdf"][1]) == 50


# ---------------------------------------------------------------------------------------
# Text off the page


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def _positioned_pdf(texts: list[tuple[float, float, float, str]], **info: str) -> bytes:
    """A one-page Letter PDF drawing each ``(x, y, size, text)`` in Helvetica, with
    ``info`` (``Title``, ``Author``) written as UTF-16 strings, as any character can be."""
    stream = b"".join(
        f"BT /F1 {size:g} Tf {x:g} {y:g} Td ({text}) Tj ET\n".encode("latin-1")
        for x, y, size, text in texts
    )
    return _raw_pdf(stream, **info)


def _raw_pdf(stream: bytes, font: bytes = HELVETICA, **info: str) -> bytes:
    """A one-page Letter PDF (612 x 792 points) whose page content is ``stream``
    as written (any operator: ``cm``, ``Tm``, ``Tr``), its font ``/F1`` being
    ``font``; ``info`` as for ``_positioned_pdf``."""
    data = zlib.compress(stream)
    fields = "".join(
        f"/{key} <FEFF{value.encode('utf-16-be').hex()}> " for key, value in info.items()
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        font,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        f"<< {fields}>>".encode("ascii"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_text_set_off_the_page_is_not_a_title(tmp_path: Path, extractor: str) -> None:
    pdf = _positioned_pdf(
        [
            (72, 5000, 40, "Far Above Page Hidden Title"),
            (-9000, 700, 40, "Far Left Hidden Title"),
            (9000, 600, 40, "Far Right Hidden Title"),
            (72, -3000, 40, "Far Below Hidden Title"),
            (72, 700, 24, "Rivers of the North"),
            *((72, 600 - 14 * i, 11, f"Body text line {i} of the cover.") for i in range(8)),
        ]
    )
    root = tmp_path / "archive"
    write_files(root, {"r/scan-0042.pdf": pdf})
    assert _build(root, extractor)["r/scan-0042.pdf"][0] == "Rivers of the North"


def test_runs_above_or_below_the_page_are_not_prominent() -> None:
    runs = [
        ("Far Above Page Hidden Title", 40.0, -5.3),
        ("Far Below Hidden Title", 40.0, 4.8),
        ("Rivers of the North", 24.0, 0.1),
        ("Body text of the cover.", 11.0, 0.3),
    ]
    assert prominent_lines(runs) == ("Rivers of the North",)


#: Large type drawn where no reader sees it, each on a page whose only other text
#: is one line of body text: every way of moving text off a Letter page.
OFF_PAGE = {
    "above": b"BT /F1 40 Tf 100 850 Td (Above Top Title) Tj ET",
    "below": b"BT /F1 40 Tf 100 -60 Td (Below Bottom Title) Tj ET",
    "left": b"BT /F1 40 Tf -900 700 Td (Left Side Title) Tj ET",
    "right": b"BT /F1 40 Tf 620 700 Td (Right Side Title) Tj ET",
    "matrix": b"q 1 0 0 1 0 2000 cm BT /F1 40 Tf 100 100 Td (Matrix Moved Title) Tj ET Q",
    "tm": b"BT /F1 40 Tf 1 0 0 1 100 1500 Tm (Tm Moved Title) Tj ET",
    "invisible": b"BT 3 Tr /F1 60 Tf 72 700 Td (INVISIBLE RENDER TITLE) Tj ET",
    "clip": b"BT 7 Tr /F1 60 Tf 72 700 Td (CLIPPING PATH TITLE) Tj ET",
}


#: One visible line for each file: its title, as nothing else is seen on its page.
SEEN = {
    "above": "Rivers of the North",
    "below": "Salmon Counts Review",
    "left": "Otter Sightings Survey",
    "right": "Heron Nesting Census",
    "matrix": "Moorland Bird Atlas",
    "tm": "Estuary Water Quality",
    "invisible": "Upland Peat Restoration",
    "clip": "Coastal Erosion Study",
    "cid": "Woodland Canopy Cover",
}


def _body(name: str) -> bytes:
    return f"\nBT 0 Tr /F1 12 Tf 72 600 Td ({SEEN[name]}) Tj ET\n".encode()


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_only_text_a_reader_sees_offers_titles(tmp_path: Path, extractor: str) -> None:
    """The first line is read from the page as the large type is, inside the page
    box and drawn visibly: each file's title is its one visible line."""
    root = tmp_path / "archive"
    write_files(root, {f"r/{name}.pdf": _raw_pdf(s + _body(name)) for name, s in OFF_PAGE.items()})
    found = _build(root, extractor)
    assert {src: title for src, (title, _) in found.items()} == {
        f"r/{name}.pdf": SEEN[name] for name in OFF_PAGE
    }


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_line_crossing_the_page_edge_keeps_whole_words(tmp_path: Path, extractor: str) -> None:
    """A word counts when it begins on the page, whole; never half a word."""
    root = tmp_path / "archive"
    write_files(
        root,
        {
            # at 40 points from x=300 "Title" begins at 574 and "Words" at 660
            "r/right.pdf": _raw_pdf(
                b"BT /F1 40 Tf 300 700 Td (Edge Crossing Title Words) Tj ET" + _body("right")
            ),
            # "Leftover" begins at -50, "Edge" at 106
            "r/left.pdf": _raw_pdf(
                b"BT /F1 40 Tf -50 700 Td (Leftover Edge Words) Tj ET" + _body("left")
            ),
        },
    )
    found = _build(root, extractor)
    assert found["r/right.pdf"][0] == "Edge Crossing Title"
    assert found["r/left.pdf"][0] == "Edge Words"


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_invisible_text_counts_on_a_page_with_no_other_text(tmp_path: Path, extractor: str) -> None:
    """A scanned page's OCR layer is drawn invisible (``3 Tr``): its words are
    what the page image shows, and offer titles when nothing visible does."""
    root = tmp_path / "archive"
    scan = b"BT 3 Tr /F1 30 Tf 72 700 Td (Scanned Cover Title) Tj /F1 12 Tf 0 -100 Td (body) Tj ET"
    write_files(root, {"r/scan-0042.pdf": _raw_pdf(scan)})
    assert _build(root, extractor)["r/scan-0042.pdf"][0] == "Scanned Cover Title"


#: Helvetica with two codes mapped to glyph names no character has: pdfminer reads
#: them as ``(cid:27)`` and ``(cid:7)``.
UNMAPPED = (
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
    b"/Encoding << /Type /Encoding /Differences [7 /gbell 27 /gescape] >> >>"
)


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_unreadable_glyphs_leave_no_placeholder_in_titles(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    stream = b"BT /F1 40 Tf 72 700 Td (Cover\033[31mRED\007 Title) Tj ET" + _body("cid")
    write_files(root, {"r/cid.pdf": _raw_pdf(stream, font=UNMAPPED)})
    title = _build(root, extractor)["r/cid.pdf"][0]
    assert "cid" not in title and _visible(title), title
    if extractor == "pdfminer":
        assert title == "Cover[31mRED Title"


def test_first_paragraph_reads_runs_as_page_text() -> None:
    runs = [
        ("Rivers of the ", 24.0, 0.1),
        ("North\n\n", 18.0, 0.1),
        ("Body text.\n", 11.0, 0.3),
    ]
    assert first_paragraph(runs) == ("Rivers of the North",)
    assert first_paragraph([("Off the page\n\n", 40.0, -1.2), *runs[2:]]) == ("Body text.",)
    assert first_paragraph([(" ".join(["word"] * 16) + "\n\n", 11.0, 0.1)]) == ()


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_format_characters_leave_metadata_titles(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    title = "Rivers\U000e0041\U000e007f of the North\ufe0f Survey\U000e0100"
    write_files(root, {"r/tags.pdf": _positioned_pdf([(72, 600, 11, "Body.")], Title=title)})
    assert _build(root, extractor)["r/tags.pdf"][0] == "Rivers of the North Survey"


def test_visible_text_removes_every_format_character_and_variation_selector() -> None:
    assert visible_text("A\U000e0041tag\U000e007f fin\ufe0f") == "Atag fin"
    assert visible_text("Cover(cid:27)[31mRED(cid:7) Title") == "Cover[31mRED Title"
    removed = [
        chr(c)
        for c in (*range(0x110000),)
        if unicodedata.category(chr(c)) == "Cf" or 0xFE00 <= c <= 0xFE0F or 0xE0100 <= c <= 0xE01EF
    ]
    assert len(removed) > 400
    for char in removed:
        assert visible_text(f"a{char}b") == "ab", hex(ord(char))
    # the joiners shape words of the scripts that join: kept between their letters
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert visible_text(persian) == persian
    assert visible_text("\u0915\u094d\u200d\u0937") == "\u0915\u094d\u200d\u0937"
    assert visible_text("\u200c\u0645") == "\u0645"


def test_sidecar_titles_and_authors_are_cleaned_and_bounded() -> None:
    long_title = " ".join(["Word"] * (TITLE_MAX_WORDS + 1))
    names = ", ".join(f'"Person{i} Surname"' for i in range(60))
    data = f'title: "{long_title}"\nauthors: [{names}, "Bob\\0 Null"]\n'.encode()
    sidecar, _, problems = read_sidecar("r/a.pdf.yml", data, folder=False)
    assert sidecar.title == ""
    assert len(sidecar.authors) == 50
    assert [(p.kind, p.line) for p in problems] == [
        ("sidecar-bad-value", 1),
        ("sidecar-bad-value", 2),
    ]
    assert "a title has at most 300 characters" in problems[0].message
    sidecar, folder_title, problems = read_sidecar(
        "r/_meta.yml", b'folder_title: "\\e[31mRed\\tFolder\\u202e"\n', folder=True
    )
    assert (folder_title, problems) == ("Red Folder", [])


def test_markdown_titles_headings_and_authors_are_cleaned(tmp_path: Path) -> None:
    site = write_files(
        tmp_path / "notes",
        {
            "a.md": '---\ntitle: "\\e[31mRed\\e[0m \\u202eAlert\\a"\n'
            'authors: ["Bob\\0 Null", "\\u200b"]\n---\n\nText.\n',
            "b.md": '---\ntitle: "\\u200b\\u202e"\n---\n\n# \u2066Rivers\u2069 Survey\n\nText.\n',
        },
    )
    build_index(settings_for(site, tmp_path / "ix"))
    docs = {d["source"]: d for d in stored_documents(IndexStore(tmp_path / "ix").open_current())}
    assert docs["a.md"]["title"] == "Red Alert"
    assert list(docs["a.md"]["authors"]) == ["Bob Null"]
    assert docs["b.md"]["title"] == "Rivers Survey"


# ---------------------------------------------------------------------------------------
# Review findings: quadratic author fields, invisible titles, crafted sizes, page numbers


def test_an_author_field_of_long_white_space_runs_is_read_in_linear_time() -> None:
    """A name separator starts only where white space starts, a bracket is found
    without reading the spaces before it, and only room for ``MAX_AUTHORS`` names
    is read: 200 KB of spaces cost no more than a name."""
    from chcsearch.pdfmeta import _person

    for raw in ("A" + " " * 200_000 + "B", "A" + " " * 20_000 + "[B]", " and " * 40_000):
        started = time.perf_counter()
        split_authors(raw)
        _person(raw[:20_000])
        parse_xmp(_xmp(creators=(raw,)).encode())
        assert time.perf_counter() - started < 0.2, raw[:10]
    assert split_authors("Ann Smith" + " " * 20_000 + "and Bob Jones") == ("Ann Smith",)
    assert split_authors("Ann Smith ;  Bob Jones &\nCarl  Wu and  Dee Lee") == (
        "Ann Smith",
        "Bob Jones",
        "Carl Wu",
        "Dee Lee",
    )


def test_a_title_of_hangul_fillers_is_no_title() -> None:
    """Hangul fillers are letters to Unicode and show nothing: invisible, like the
    format characters (``text.INVISIBLE``)."""
    from chcsearch.pdfmeta import has_letter_or_digit

    for filler in "\u3164\u115f\u1160\uffa0":
        assert clean_title(filler * 2) == ""
        assert visible_text(f"Rivers{filler} North") == "Rivers North"
        assert not has_letter_or_digit(filler)
    assert split_authors("\u3164\u3164 \u3164") == ()
    sidecar, _, problems = read_sidecar(
        "r/a.pdf.yml", b'title: "\xe3\x85\xa4\xe3\x85\xa4"\n', folder=False
    )
    assert sidecar.title == "" and "shows no letter or digit" in problems[0].message


def test_a_size_no_reader_could_see_is_no_title_and_fails_nothing() -> None:
    runs = [
        ("Not A Number Title", float("nan"), 0.1),
        ("Infinite Title", float("inf"), 0.15),
        ("Overflowing Title", 1e308, 0.2),
        ("Rivers of the North", 24.0, 0.3),
        ("Body text of the cover.", 11.0, 0.5),
    ]
    assert prominent_lines(runs) == ("Rivers of the North",)
    assert first_paragraph(runs)


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_failing_title_heuristic_never_costs_a_file_its_text(
    tmp_path: Path, extractor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong reading a cover's runs (a crafted size that overflows, say),
    the file keeps its pages and only loses its cover's title candidates."""
    from chcsearch import extract, extract_pdfium

    def broken(*args: object, **kwargs: object) -> list[tuple[str, float, float]]:
        raise OverflowError("crafted size")

    path = tmp_path / "r.pdf"
    path.write_bytes(_cover("Rivers of the North"))
    if extractor == "pdfium":
        monkeypatch.setattr(extract_pdfium, "_runs", broken)
        pages, info, _, failed = extract_pdfium.read_pages(str(path))
    else:
        monkeypatch.setattr(extract, "_layout_runs", broken)
        pages, info, _, failed = extract._read_pages(str(path), 10**8, extract._Damage())
    assert (len(pages), failed, info.prominent) == (2, [], ())
    assert "Rivers of the North" in pages[0] and "Body text." in pages[1]
    monkeypatch.undo()
    if extractor == "pdfium":
        monkeypatch.setattr(extract_pdfium, "prominent_lines", broken)
        pages, info, _, failed = extract_pdfium.read_pages(str(path))
    else:
        monkeypatch.setattr(extract, "prominent_lines", broken)
        pages, info, _, failed = extract._read_pages(str(path), 10**8, extract._Damage())
    assert (len(pages), failed, info.prominent) == (2, [], ())


def test_pdfium_keeps_page_numbers_when_a_cover_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDFium error while reading the cover's runs, after the page's text was
    read, neither fails the page nor shifts the pages after it."""
    pdfium = pytest.importorskip("pypdfium2")
    from chcsearch import extract_pdfium

    def broken(*args: object) -> list[tuple[str, float, float]]:
        raise pdfium.PdfiumError("cannot read the runs")

    path = tmp_path / "r.pdf"
    path.write_bytes(make_pdf(PdfSpec(pages=[("First page",), ("Second page",), ("Third page",)])))
    monkeypatch.setattr(extract_pdfium, "_runs", broken)
    pages, info, _, failed = extract_pdfium.read_pages(str(path))
    assert [page.strip() for page in pages] == ["First page", "Second page", "Third page"]
    assert (failed, info.prominent) == ([], ())


def test_a_sidecar_link_to_a_look_alike_host_is_refused_and_says_why() -> None:
    from chcsearch.discover import safe_link

    assert safe_link("https://аррӏе.com/x") is None
    assert safe_link("https://bad_host.example/x") is None
    assert safe_link("https://xn--80ak6aa92e.com/x") == "https://xn--80ak6aa92e.com/x"
    sidecar, _, problems = read_sidecar(
        "r/a.pdf.yml", "url: https://аррӏе.com/x\n".encode(), folder=False
    )
    assert sidecar.url == ""
    assert "which is not ASCII and may imitate another host" in problems[0].message
    assert "'xn--80ak6aa92e.com'" in problems[0].message
