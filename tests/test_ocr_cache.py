"""Turning on OCR reads only the pages without text: the rest comes from the cache.

An OCR run starts from the text cached without OCR, reads its pages without
words with Tesseract and caches the result under the OCR key, so the next
OCR run reads nothing, and turning OCR off again uses the first cache.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, tesseract_or_skip
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.extract import _has_words, _heading_after_ocr, _with_ocr
from chcsearch.index import IndexStore, stored_documents
from chcsearch.model import PdfText
from chcsearch.ocr import OcrRun, read_pages
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
#: a cover, then 40 scanned pages: OCR takes about 0.3 s a page, so 1 s stops it
MANY_SCANS = PdfSpec(
    pages=[["Quokka census of Rottnest Island"], *[PageSpec(image_only=True)] * 40]
)


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


def _warnings(summary: dict[str, Any], kind: str) -> list[str]:
    return [p["message"] for p in summary["problems"] if p["kind"] == kind]


def test_a_page_of_figures_has_text_and_a_running_footer_has_not() -> None:
    assert _has_words("2019 12345 678 / 3.14 2.71 99.5")
    assert _has_words("Quokka")
    # the busiest footer: a date and "page 7 of 40" (four numbers)
    assert not _has_words("12 March 2019, page 7 of 40")
    assert not _has_words("Page 12")
    assert not _has_words("")


def test_ocr_text_is_added_after_the_text_a_page_had() -> None:
    assert _with_ocr("12", "Quokka census\n") == "12\nQuokka census"
    assert _with_ocr("12", "  \n") == "12"
    assert _with_ocr("\x0c", "Quokka census") == "Quokka census"


@pytest.mark.parametrize("route", ["fresh", "cached"])
def test_a_page_of_figures_keeps_its_text_with_ocr(tmp_path: Path, route: str) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    root.mkdir()
    spec = PdfSpec(pages=[["2019 12345 678 / 3.14 2.71 99.5"], ["Quokka burrows at dusk"]])
    (root / "figures.pdf").write_bytes(make_pdf(spec))
    if route == "cached":
        plain = _index(root, tmp_path)
        assert _no_text(plain) == []
        assert "12345" in _bodies(tmp_path / "index")[("figures.pdf", 1)]
    ocred = _index(root, tmp_path, "--ocr", "--rebuild")
    assert _no_text(ocred) == []
    assert ocred["pdf_pages_ocred"] == 0
    assert "12345" in _bodies(tmp_path / "index")[("figures.pdf", 1)]
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.search("12345").total == 1


def test_ocr_keeps_a_running_footer_that_ocr_cannot_read(tmp_path: Path) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    root.mkdir()
    # a footer in 2-point type: too small for Tesseract at 200 dpi
    spec = PdfSpec(pages=[["Quokka census"], PageSpec(lines=["Page 12"], font_size=2)])
    (root / "report.pdf").write_bytes(make_pdf(spec))
    for flags in ((), ("--ocr",)):
        summary = _index(root, tmp_path, *flags)
        assert "Page 12" in _bodies(tmp_path / "index")[("report.pdf", 2)], flags
    assert summary["pdf_pages_ocred"] == 1


def test_ocr_stopped_by_the_time_limit_counts_what_it_read_and_a_higher_limit_retries(
    tmp_path: Path,
) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    root.mkdir()
    (root / "scans.pdf").write_bytes(make_pdf(MANY_SCANS))
    _index(root, tmp_path)

    stopped = _index(root, tmp_path, "--ocr", "--pdf-timeout", "1")
    (message,) = _warnings(stopped, "ocr-timeout")
    read = stopped["pdf_pages_ocred"]
    assert read < 40
    assert f"OCR was stopped at the time limit of 1 s after reading {read} of 40 page(s)" in message
    assert "Raise the limit with --pdf-timeout" in message
    (no_text,) = _no_text(stopped)
    assert "OCR was stopped at the time limit before it read them all." in no_text[1]
    assert "OCR found no text" not in no_text[1]
    assert _warnings(stopped, "pdf-timeout") == []
    assert "Quokka" in _bodies(tmp_path / "index")[("scans.pdf", 1)]

    # the same limit: nothing to do; a higher one reads the file again, without --rebuild
    assert _index(root, tmp_path, "--ocr", "--pdf-timeout", "1")["files_read"] == 0
    printed = _run_index(root, tmp_path, "--ocr", "--pdf-timeout", "2")
    assert " updated from " in printed
    assert "1 files read, 0 PDFs extracted, 0 from cache, 1 with pages OCRed (" in printed
    assert "; 1 stopped by the time limit);" in printed
    status = json.loads(run_cli("status", "--index", str(tmp_path / "index"), "--json").stdout)
    (message,) = _warnings(status["last_run"], "ocr-timeout")
    assert "time limit of 2 s" in message


def test_a_fresh_ocr_run_stopped_by_the_time_limit_keeps_the_text_layer(tmp_path: Path) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    root.mkdir()
    (root / "scans.pdf").write_bytes(make_pdf(MANY_SCANS))
    summary = _index(root, tmp_path, "--ocr", "--pdf-timeout", "1")
    assert summary["pdfs_extracted"] == 1
    assert _warnings(summary, "pdf-timeout") == []
    (message,) = _warnings(summary, "ocr-timeout")
    assert "OCR was stopped at the time limit of 1 s" in message
    bodies = _bodies(tmp_path / "index")
    assert len(bodies) == 41
    assert "Quokka" in bodies[("scans.pdf", 1)]
    # a higher limit reads it again
    assert _index(root, tmp_path, "--ocr", "--pdf-timeout", "2")["files_read"] == 1


def test_ocr_reads_only_the_pages_a_file_has_whatever_its_cache_entry_says(
    tmp_path: Path,
) -> None:
    tesseract_or_skip()
    root = tmp_path / "archive"
    root.mkdir()
    (root / "quokkas.pdf").write_bytes(make_pdf(SCANNED_MIDDLE))
    _index(root, tmp_path)
    (entry,) = (tmp_path / "cache").rglob("*.json.gz")
    data = json.loads(gzip.decompress(entry.read_bytes()))
    data["pages"] += [""] * 37
    data["page_count"] = 40
    entry.write_bytes(gzip.compress(json.dumps(data).encode()))

    summary = _index(root, tmp_path, "--ocr")
    assert _warnings(summary, "ocr-failed") == []
    assert summary["pdf_pages_ocred"] <= 1
    assert sorted(_bodies(tmp_path / "index")) == [("quokkas.pdf", n) for n in (1, 2, 3)]


def test_pages_ocr_cannot_read_make_one_warning(tmp_path: Path) -> None:
    tesseract_or_skip()
    path = tmp_path / "quokkas.pdf"
    path.write_bytes(make_pdf(SCANNED_MIDDLE))
    run = OcrRun()
    read_pages(str(path), [2, 14, 15], run)
    assert sorted(run.found) == [2]
    assert sorted(run.failed) == [14, 15]
    (problem,) = run.problems()
    assert problem.kind == "ocr-failed"
    assert problem.message == (
        "OCR of page(s) 14, 15 failed (pdftoppm exited with status 99); they stay without text."
    )
