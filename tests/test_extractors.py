"""The optional pdfium extractor, OCR of pages with no text, and PDF metadata."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import TEST_CACHE, run_cli, settings_for, tesseract_or_skip
from pdfgen import PageSpec, PdfSpec, make_pdf, text_pdf

from chcsearch.cache import ExtractionCache
from chcsearch.config import IndexSettings
from chcsearch.errors import ConfigError
from chcsearch.extract import ExtractOptions, PdfJob, extract_pdf, extract_pdfs
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary
from chcsearch.pdfmeta import clean_title, parse_xmp, split_authors, year_of
from chcsearch.query import Searcher

MakeSite = Callable[[Mapping[str, str | bytes]], Path]

LABELLED = PdfSpec(
    pages=[["Cover"], ["Contents"], ["Results on waiting times."], ["Discussion of results."]],
    title="Waiting Times Review",
    author="Ann Lee and Bo Chan",
    created="D:20180301000000Z",
    page_labels=((0, "r", "", 1), (2, "D", "A-", 1)),
)


@pytest.mark.parametrize("extractor", ["pdfminer", "pdfium"])
def test_both_extractors_read_text_metadata_and_page_labels(tmp_path: Path, extractor: str) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(make_pdf(LABELLED))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(extractor, timeout=20))
    assert not timed_out and not text.problems
    assert text.page_count == 4
    assert text.pages[2] == "Results on waiting times."
    assert text.title == "Waiting Times Review"
    assert text.authors == ("Ann Lee", "Bo Chan")
    assert text.year == 2018
    assert text.labels == ("i", "ii", "A-1", "A-2")
    assert text.heading == "Cover"


@pytest.mark.parametrize("extractor", ["pdfminer", "pdfium"])
@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (text_pdf([["one"], ["two"]])[:350], "pdf-corrupt"),
        (make_pdf(PdfSpec(pages=[["x"]], user_password="pw")), "pdf-encrypted"),
        (make_pdf(PdfSpec(pages=[PageSpec(image_only=True)])), "pdf-no-text"),
        (b"", "pdf-empty"),
    ],
)
def test_both_extractors_name_bad_files(
    tmp_path: Path, extractor: str, data: bytes, kind: str
) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    text, _ = extract_pdf(str(path), "sha", ExtractOptions(extractor, timeout=20))
    assert kind in {p.kind for p in text.problems}


def test_metadata_helpers() -> None:
    assert clean_title("Microsoft Word - report.docx") == ""
    assert clean_title("MergedFile") == ""
    assert clean_title("FEBRUARY 28, 2020") == ""
    assert clean_title("  Annual   Report 2019 ") == "Annual Report 2019"
    assert split_authors("Smith, J.; Jones, K. and Wu, C.") == ("Smith, J.", "Jones, K.", "Wu, C.")
    assert year_of("D:20190314120000+01'00'") == 2019 and year_of("no date") is None
    assert parse_xmp(b"<not xml").title == ""


def test_an_index_keeps_its_extractor_and_refuses_to_mix(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site({"docs/r.pdf": make_pdf(LABELLED), "docs/s.pdf": text_pdf([["Sleep"]])})
    index = tmp_path / "index"
    built = build_index(settings_for(root, index, extractor="pdfium"))
    assert built.pdfs_extracted == 2
    status = json.loads(run_cli("status", "--index", str(index), "--json").stdout)
    assert status["extractor_name"] == "pdfium" and status["ocr"] is False
    assert "PDF text   pdfium" in run_cli("status", "--index", str(index)).stdout
    # not naming an extractor keeps the index's own
    (root / "docs/t.pdf").write_bytes(text_pdf([["Tides"]]))
    again = build_index(settings_for(root, index))
    assert (again.rebuilt, again.pdfs_extracted) == (False, 1)
    with Searcher(index) as searcher:
        pages = {(h.page, h.page_label) for h in searcher.search("results", flat=True).results}
        assert pages == {(3, "A-1"), (4, "A-2")}
    # naming the other one is refused: one index never mixes extractors
    with pytest.raises(ConfigError, match="--rebuild --extractor pdfminer"):
        build_index(settings_for(root, index, extractor="pdfminer"))
    refused = run_cli("index", str(root), "--index", str(index), "--extractor", "pdfminer")
    assert refused.returncode == 3 and "never mixes extractors" in refused.stderr
    with Searcher(index) as searcher:  # and nothing was lost
        assert searcher.search("tides").total == 1
    rebuilt = build_index(settings_for(root, index, extractor="pdfminer", rebuild=True))
    assert rebuilt.rebuilt and rebuilt.pdfs_extracted == 3
    status = json.loads(run_cli("status", "--index", str(index), "--json").stdout)
    assert status["extractor_name"] == "pdfminer"


@pytest.mark.corpus
def test_pdfium_reads_every_page_of_the_real_corpus(
    corpus_dir: Path, corpus_build: tuple[IndexSettings, BuildSummary], tmp_path: Path
) -> None:
    pdfs = sorted((corpus_dir / "assets").rglob("*.pdf"))
    jobs = [
        PdfJob(str(p.relative_to(corpus_dir)), p, f"sha-{i}", p.stat().st_size)
        for i, p in enumerate(pdfs)
    ]
    report = extract_pdfs(
        jobs,
        cache=ExtractionCache(tmp_path / "cache", ExtractOptions("pdfium").key),
        workers=os.cpu_count() or 1,
        options=ExtractOptions("pdfium", timeout=120),
    )
    counts = {sha: text.page_count for sha, text in report.texts.items()}
    assert len(counts) == len(pdfs) == 65
    assert sum(counts.values()) == corpus_build[1].pdf_pages
    assert all(count > 0 for count in counts.values())


@pytest.mark.corpus
def test_ocr_reads_a_page_that_has_no_text_layer(corpus_dir: Path, tmp_path: Path) -> None:
    tesseract_or_skip()
    source = next((corpus_dir / "assets").rglob("Section 5.9.4_YouGov*.pdf"))
    root = tmp_path / "polls"
    root.mkdir()
    shutil.copyfile(source, root / "yougov.pdf")
    index = tmp_path / "index"
    plain = build_index(settings_for(root, index, cache_dir=TEST_CACHE))
    no_text = [p for p in plain.problems if p.kind == "pdf-pages-no-text"]
    assert no_text and "page(s) 9" in no_text[0].message and "--ocr" in no_text[0].message
    with Searcher(index) as searcher:
        assert searcher.search('"sector specialists"').total == 0
    read = build_index(settings_for(root, index, cache_dir=TEST_CACHE, ocr=True))
    assert not [p for p in read.problems if p.kind == "pdf-pages-no-text"]
    with Searcher(index) as searcher:
        hit = searcher.search('"sector specialists"', flat=True).results[0]
        assert hit.page == 9
    # OCR is kept for later runs of this index
    status = json.loads(run_cli("status", "--index", str(index), "--json").stdout)
    assert status["ocr"] is True
    assert build_index(settings_for(root, index, cache_dir=TEST_CACHE)).pdfs_extracted == 0
