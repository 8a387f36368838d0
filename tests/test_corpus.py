"""Acceptance on the real CHC site: what is indexed, what is reported, and incremental runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from helpers import TEST_CACHE, settings_for

from chcsearch.config import IndexSettings
from chcsearch.index import IndexStore, count_documents, stored_documents
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary

pytestmark = pytest.mark.corpus

INVALID_YAML_PAGE = (
    "hub/ppi/a-deliberative-study-of-public-attitudes-towards-sharing-genomic-data-within-"
    "genomic-medicine-services-in-england.md"
)
DEAD_LINK_PAGE = (
    "greater-manchester/technical-infrastructure/"
    "appendix-to-enabling-data-flows-in-greater-manchester-connected-health-city.md"
)
ORPHANS = {
    "assets/greater-manchester/Section 3.1 Intro front page final.pdf",
    "assets/hub/Section 2.2.3_DataLab - Demonstrating Value  For Rapid Evaluation of Evidence for NICE Guidance.pdf",
}


def _docs(settings: IndexSettings) -> list[dict[str, object]]:
    generation = IndexStore(settings.index_dir).open_current()
    return stored_documents(generation)


def test_exactly_the_114_published_pages_are_indexed(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, summary = corpus_build
    pages = {d["id"] for d in _docs(settings) if d["kind"] == "page"}
    assert summary.pages == len(pages) == 114
    assert "README.md" not in pages
    assert not any(str(p).startswith("_page_sections/") for p in pages)
    assert "index.md" in pages and "hub/ppi.md" in pages


def test_every_published_pdf_has_one_document_per_physical_page(
    corpus_build: tuple[IndexSettings, BuildSummary], corpus_dir: Path
) -> None:
    settings, summary = corpus_build
    per_pdf: dict[str, set[int]] = {}
    for doc in _docs(settings):
        if doc["kind"] == "pdf":
            per_pdf.setdefault(str(doc["source"]), set()).add(int(doc["page"]))  # type: ignore[call-overload]
    on_disk = {p.relative_to(corpus_dir).as_posix() for p in corpus_dir.rglob("*.pdf")}
    assert set(per_pdf) == on_disk and len(on_disk) == 65
    for rel, numbers in per_pdf.items():
        own = len(pdfium.PdfDocument(str(corpus_dir / rel)))
        assert numbers == set(range(1, own + 1)), rel
    assert summary.pdf_pages == sum(len(n) for n in per_pdf.values()) == 1194
    counts = count_documents(IndexStore(settings.index_dir).open_current())
    assert counts == {"total": 1308, "page": 114, "pdf": 1194}


def test_linked_pdf_pages_sit_beneath_the_page_that_links_them(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, _ = corpus_build
    page = "hub/ppi/connected-health-cities-citizens-juries-report.md"
    docs = [d for d in _docs(settings) if d["group"] == page and d["kind"] == "pdf"]
    assert docs, "the citizens' juries report should be grouped under its page"
    first = min(docs, key=lambda d: d["page"])  # type: ignore[arg-type, return-value]
    assert first["section"] == "hub/ppi/connected-health-cities-citizens-juries-report"
    assert first["level"] == "2.5.1"
    assert first["breadcrumb"] == [
        "Hub",
        "Patient and Public Involvement",
        "Connected Health Cities Citizens’ Juries Report",
    ]
    assert first["ancestors"] == [
        "hub",
        "hub/ppi",
        "hub/ppi/connected-health-cities-citizens-juries-report",
    ]
    assert str(first["url"]).endswith("Juries%20Report.pdf#page=1")


def test_the_two_unlinked_pdfs_are_indexed_and_listed_as_orphans(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, summary = corpus_build
    orphans = {p.src_path for p in summary.problems if p.kind == "orphan-pdf"}
    assert orphans == ORPHANS
    placed = {
        str(d["source"]): d for d in _docs(settings) if d["source"] in ORPHANS and d["page"] == 1
    }
    datalab = next(d for k, d in placed.items() if "DataLab" in k)
    assert datalab["group"] == (
        "hub/technical-infrastructure/datalab-demonstrating-value-for-rapid-evaluation-of-evidence-for-nice-guidance.md"
    )
    intro = next(d for k, d in placed.items() if "Intro front page" in k)
    assert intro["group"] == "greater-manchester.md" and intro["orphan"] is True


def test_the_dead_link_to_the_3_2_2_appendix_is_reported(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    _, summary = corpus_build
    dead = [p for p in summary.problems if p.kind == "dead-link"]
    assert len(dead) == 1
    assert dead[0].src_path == DEAD_LINK_PAGE
    assert "Section 3.2.2_Appendix" in dead[0].message and dead[0].line == 8


def test_the_page_with_invalid_yaml_is_indexed_with_its_title_and_reported(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, summary = corpus_build
    problems = [p for p in summary.problems if p.kind == "front-matter-invalid"]
    assert [(p.src_path, p.line) for p in problems] == [(INVALID_YAML_PAGE, 11)]
    doc = next(d for d in _docs(settings) if d["id"] == INVALID_YAML_PAGE)
    assert doc["title"] == (
        "A deliberative study of public attitudes towards sharing genomic data "
        "within genomic medicine services in England"
    )
    assert doc["level"] == "2.5.7" and doc["section"].startswith("hub/ppi/")  # type: ignore[union-attr]


def test_levels_stay_text_and_url_resources_are_recorded(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, _ = corpus_build
    docs = {d["id"]: d for d in _docs(settings)}
    assert docs["north-west-coast/qualitative-research-pathways-research.md"]["level"] == "4.10"
    impact = docs["impact-report/impact-report.md"]
    assert impact["section"] == "impact/report"
    assert impact["resources"] == [
        {
            "kind": "url",
            "title": "CHC Impact Report - Online version",
            "target": "https://www.chc-impact-report.co.uk/",
            "url": "https://www.chc-impact-report.co.uk/",
            "exists": True,
        }
    ]


def test_a_no_change_rerun_extracts_and_reads_nothing(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> None:
    settings, first = corpus_build
    again = build_index(settings)
    assert (again.pdfs_extracted, again.pdfs_from_cache, again.files_read) == (0, 0, 0)
    assert not again.changed and again.documents == first.documents
    assert again.generation == first.generation


@pytest.fixture(scope="module")
def corpus_copy(
    corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, IndexSettings]:
    """A writable copy of the corpus with its own index (PDF text from the session cache)."""
    root = tmp_path_factory.mktemp("corpus-copy")
    site = root / "chc-site"
    shutil.copytree(corpus_dir, site)
    for path in site.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    settings = settings_for(site, root / "index", cache_dir=TEST_CACHE, jobs=os.cpu_count() or 1)
    summary = build_index(settings)
    assert summary.documents == 1308
    return site, settings


def test_touching_one_page_reindexes_only_that_page(
    corpus_copy: tuple[Path, IndexSettings],
) -> None:
    site, settings = corpus_copy
    target = site / "hub" / "evaluation.md"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nA new sentence about zygomorphic audits.\n",
        encoding="utf-8",
    )
    summary = build_index(settings)
    assert summary.files_read == 1
    assert (summary.docs_added, summary.docs_updated, summary.docs_removed) == (0, 1, 0)
    assert summary.pdfs_extracted == 0
    doc = stored_documents(IndexStore(settings.index_dir).open_current(), id="hub/evaluation.md")[0]
    assert "zygomorphic" in doc["body"]


def test_deleting_a_page_removes_it_and_the_pdf_it_alone_linked(
    corpus_copy: tuple[Path, IndexSettings],
) -> None:
    site, settings = corpus_copy
    page = "north-west-coast/industry-business-engagement/digital-think-tanks.md"
    pdf = "assets/north-west-coast/Section 4.9.2_Digital Think Tanks Final Report.pdf"
    (site / page).unlink()
    (site / pdf).unlink()
    summary = build_index(settings)
    assert summary.pdfs_extracted == 0 and summary.files_read == 0
    assert summary.docs_removed == 1 + 28  # the page and the 28 pages of its report
    generation = IndexStore(settings.index_dir).open_current()
    assert not stored_documents(generation, source=page)
    assert not stored_documents(generation, source=pdf)
    assert summary.documents == 1308 - 29


def test_a_pdf_left_without_its_page_becomes_an_orphan(
    corpus_copy: tuple[Path, IndexSettings],
) -> None:
    site, settings = corpus_copy
    page = "north-west-coast/consent/building-a-consent-architecture.md"
    pdf = "assets/north-west-coast/Section 4.6.1_Building a consent architecture.pdf"
    (site / page).unlink()
    summary = build_index(settings)
    assert summary.files_read == 0 and summary.pdfs_extracted == 0
    orphans = {p.src_path for p in summary.problems if p.kind == "orphan-pdf"}
    assert pdf in orphans
    docs = stored_documents(IndexStore(settings.index_dir).open_current(), source=pdf)
    assert docs and all(d["orphan"] and d["group"] == "north-west-coast/consent.md" for d in docs)
    assert not stored_documents(IndexStore(settings.index_dir).open_current(), id=page)
