"""Turning on OCR reads only the pages without text: the rest comes from the cache.

An OCR run starts from the text cached without OCR, reads its pages without
words with Tesseract and caches the result under the OCR key, so the next
OCR run reads nothing, and turning OCR off again uses the first cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, tesseract_or_skip
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.extract import _heading_after_ocr
from chcsearch.index import IndexStore, stored_documents
from chcsearch.model import PdfText
from chcsearch.query import Searcher

#: a report whose second page is an image (a 2x2 grey square: OCR finds nothing)
SCANNED_MIDDLE = PdfSpec(
    pages=[
        ["Quokka census of Rottnest Island"],
        PageSpec(image_only=True),
        ["Burrows were counted at dusk near the salt lakes."],
    ]
)
ALL_TEXT = PdfSpec(pages=[["Wetland bird counts"], ["Counts of waders by month."]])


def _run_index(root: Path, tmp_path: Path, *flags: str) -> str:
    """Index ``root`` through the CLI with ``flags``; what it printed on stdout."""
    done = run_cli(
        "index",
        str(root),
        "--index",
        str(tmp_path / "index"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--jobs",
        "2",
        *flags,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _index(root: Path, tmp_path: Path, *flags: str) -> dict[str, Any]:
    """Index ``root`` through the CLI with ``flags``; the run's summary as JSON."""
    summary: dict[str, Any] = json.loads(_run_index(root, tmp_path, "--json", *flags))
    return summary


def _counts(summary: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        summary["pdfs_extracted"],
        summary["pdfs_from_cache"],
        summary["pdfs_ocred"],
        summary["pdf_pages_ocred"],
    )


def _no_text(summary: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (p["src_path"].rsplit("/", 1)[-1], p["message"])
        for p in summary["problems"]
        if p["kind"] in ("pdf-pages-no-text", "pdf-no-text")
    ]


def _bodies(index: Path) -> dict[tuple[str, int], str]:
    generation = IndexStore(index).open_current()
    return {
        (str(d["source"]).rsplit("/", 1)[-1], int(d["page"])): str(d["body"])
        for d in stored_documents(generation, kind="pdf")
    }


def test_ocr_reads_only_the_pages_without_text_and_caches_the_result(tmp_path: Path) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    (root / "surveys").mkdir(parents=True)
    (root / "surveys" / "quokkas.pdf").write_bytes(make_pdf(SCANNED_MIDDLE))
    (root / "surveys" / "birds.pdf").write_bytes(make_pdf(ALL_TEXT))

    plain = _index(root, tmp_path)
    assert _counts(plain) == (2, 0, 0, 0)
    assert _no_text(plain) == [
        (
            "quokkas.pdf",
            "page(s) 2 have no text (images only?); they are indexed by title. "
            "Index with --ocr to read them with Tesseract.",
        )
    ]
    before = _bodies(tmp_path / "index")

    # the text summary, then the same run's JSON as the index recorded it
    printed = _run_index(root, tmp_path, "--ocr")
    assert "2 files read, 0 PDFs extracted, 1 from cache, 1 with pages OCRed (1 page);" in printed
    status = json.loads(run_cli("status", "--index", str(tmp_path / "index"), "--json").stdout)
    ocred = status["last_run"]
    # only page 2 went to OCR: birds.pdf was complete, quokkas.pdf had one empty page
    assert _counts(ocred) == (0, 1, 1, 1)
    # the 2x2 image holds no words: the page is still without text, with no advice to OCR
    assert _no_text(ocred) == [
        ("quokkas.pdf", "page(s) 2 have no text (images only?); they are indexed by title.")
    ]
    assert _bodies(tmp_path / "index") == before

    # --rebuild reads every file again (an unchanged index reads none)
    again = _index(root, tmp_path, "--ocr", "--rebuild")
    assert _counts(again) == (0, 2, 0, 0)
    assert _no_text(again) == _no_text(ocred)

    off = _index(root, tmp_path, "--no-ocr")
    assert _counts(off) == (0, 2, 0, 0)
    assert _no_text(off) == _no_text(plain)
    assert _bodies(tmp_path / "index") == before


def test_the_ocr_summary_line_appears_only_when_ocr_ran(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    (root / "birds.pdf").write_bytes(make_pdf(ALL_TEXT))
    done = run_cli(
        "index", str(root), "--index", str(tmp_path / "index"), "--cache-dir", str(tmp_path / "c")
    )
    assert done.returncode == 0, done.stderr
    assert "1 PDFs extracted, 0 from cache; documents" in done.stdout
    assert "OCRed" not in done.stdout


def test_text_ocr_finds_on_a_cover_becomes_the_first_line_of_the_heading() -> None:
    # the heading is the first page's largest type, then the first line of text
    cached = PdfText(
        "0" * 64,
        2,
        ("", "Methods\nCounting at dusk."),
        heading="Quokka Census 2016\nMethods",
    )
    cover = ["Rottnest Island survey", "Methods\nCounting at dusk."]
    assert _heading_after_ocr(cached, cover) == "Quokka Census 2016\nRottnest Island survey"
    # OCR that leaves the first line alone leaves the heading alone
    assert _heading_after_ocr(cached, ["", *cover[1:]]) == cached.heading


@pytest.mark.corpus
def test_ocr_of_a_cached_report_reads_its_image_page_and_keeps_its_other_pages(
    corpus_dir: Path, tmp_path: Path
) -> None:
    tesseract_or_skip()
    source = next((corpus_dir / "assets").rglob("Section 5.9.4_YouGov*.pdf"))
    root = tmp_path / "polls"
    root.mkdir()
    shutil.copyfile(source, root / "yougov.pdf")
    (root / "quokkas.pdf").write_bytes(make_pdf(SCANNED_MIDDLE))

    plain = _index(root, tmp_path)
    assert _counts(plain) == (2, 0, 0, 0)
    assert sorted(name for name, _ in _no_text(plain)) == ["quokkas.pdf", "yougov.pdf"]
    before = _bodies(tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.search('"sector specialists"').total == 0

    ocred = _index(root, tmp_path, "--ocr")
    # one page of each file went to OCR, and nothing was extracted again
    assert _counts(ocred) == (0, 0, 2, 2)
    assert _no_text(ocred) == [
        ("quokkas.pdf", "page(s) 2 have no text (images only?); they are indexed by title.")
    ]
    after = _bodies(tmp_path / "index")
    assert "sector specialists" in after[("yougov.pdf", 9)].lower()
    # OCR of a page with a text layer would not give pdfminer's text word for word
    assert {k: v for k, v in after.items() if k != ("yougov.pdf", 9)} == {
        k: v for k, v in before.items() if k != ("yougov.pdf", 9)
    }
    with Searcher(tmp_path / "index") as searcher:
        hit = searcher.search('"sector specialists"', flat=True).results[0]
        assert (hit.source.rsplit("/", 1)[-1], hit.page) == ("yougov.pdf", 9)

    assert _counts(_index(root, tmp_path, "--ocr", "--rebuild")) == (0, 2, 0, 0)
