"""Results say where their text is: a result whose best text is a PDF page points at that page.

A page and the reports it links are one result, headed by the page (title,
breadcrumb). When the best-scoring part is a PDF page, and always with
``--kind pdf``, the result's kind, URL, page and snippet are that page's, in
the library, the JSON and the CLI text; ``group_url`` keeps the page's own URL.
The CLI's ``also:`` names each other report once with its pages and its file.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import page, run_cli, settings_for, write_files
from pdfgen import text_pdf

from chcsearch.ingest import build_index
from chcsearch.query import Searcher

REPORT = "/assets/stroke/Stroke%20report.pdf"
APPENDIX = "/assets/stroke/appendix-1.pdf"


@pytest.fixture(scope="module")
def site_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page linking a report and an appendix whose pages say what the page does not."""
    root = tmp_path_factory.mktemp("where")
    site = write_files(
        root / "site",
        {
            "_config.yml": "title: Where\n",
            "stroke.md": page(
                "Stroke pathway",
                "An overview of the stroke pathway work in the region.",
                section="stroke",
                resources=(
                    f"\n  - path: {REPORT}\n    title: Stroke report"
                    f"\n  - path: {APPENDIX}\n    title: Appendix 1"
                ),
            ),
            "assets/stroke/Stroke report.pdf": text_pdf(
                [
                    ["Stroke report"],
                    ["Thrombolysis: thrombolysis within the golden hour doubled."],
                    ["Staffing of the units."],
                    ["Thrombolysis audit results by hospital."],
                ]
            ),
            "assets/stroke/appendix-1.pdf": text_pdf(
                [
                    ["Appendix 1"],
                    ["Codes used."],
                    [
                        "Clinical codes for the admissions, the scans, the transfers,",
                        "the discharges and the thrombolysis given, by hospital and year.",
                    ],
                ]
            ),
        },
    )
    build_index(settings_for(site, root / "index"))
    return root / "index"


@pytest.fixture(scope="module")
def searcher(site_index: Path) -> Searcher:
    return Searcher(site_index)


def test_a_result_whose_best_text_is_a_pdf_page_points_at_that_page(searcher: Searcher) -> None:
    hit = searcher.search("thrombolysis").results[0]
    best = hit.parts[0]
    assert best.kind == "pdf" and best.page is not None
    assert hit.title == "Stroke pathway"  # the page heads it
    assert (hit.kind, hit.url, hit.page) == ("pdf", best.url, best.page)
    assert hit.url == f"{REPORT}#page=2"
    assert hit.group_url == "/stroke.html" and hit.source == "stroke.md"
    assert hit.page_count == 4
    assert "Thrombolysis" in hit.snippet.text
    data = hit.to_dict()
    assert (data["kind"], data["url"], data["page"]) == ("pdf", hit.url, hit.page)
    assert data["group_url"] == "/stroke.html"


def test_kind_pdf_results_point_at_their_pdf_page(searcher: Searcher) -> None:
    results = searcher.search("stroke", kinds=["pdf"])
    assert results.results
    for hit in results.results:
        assert hit.kind == "pdf" and hit.page is not None
        assert hit.url == hit.parts[0].url and hit.url.endswith(f"#page={hit.page}")
        assert hit.group_url == "/stroke.html" and hit.title == "Stroke pathway"


def test_a_result_whose_best_text_is_its_page_is_the_page(searcher: Searcher) -> None:
    hit = searcher.search("overview").results[0]
    assert (hit.kind, hit.url, hit.page, hit.group_url) == (
        "page",
        "/stroke.html",
        None,
        "/stroke.html",
    )
    assert hit.page_count is None


def test_cli_text_and_json_say_the_pdf_page_and_also_names_each_report_once(
    site_index: Path,
) -> None:
    data = json.loads(
        run_cli("query", "thrombolysis", "--index", str(site_index), "-f", "json").stdout
    )
    first = data["results"][0]
    assert first["kind"] == "pdf" and first["url"].endswith(f"#page={first['page']}")
    assert first["group_url"] == "/stroke.html"
    result = run_cli("query", "thrombolysis", "--index", str(site_index))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].startswith(f"  1. Stroke pathway (p. {first['page']})")
    assert lines[3] == f"     {REPORT}#page=2"
    # the other page of its own report, then the other report with the file to open
    assert lines[5] == f"     also: this report p. 4; Appendix 1 p. 3 ({APPENDIX})"


def test_kind_pdf_on_the_command_line_points_at_the_pdf_page(site_index: Path) -> None:
    data = json.loads(
        run_cli("query", "stroke", "--kind", "pdf", "--index", str(site_index), "-f", "json").stdout
    )
    assert data["results"] and all(
        r["kind"] == "pdf" and r["url"].endswith(f"#page={r['page']}") for r in data["results"]
    )


def test_a_folder_archive_links_files_a_terminal_opens(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "my reports",
        {
            "2019/stroke audit.pdf": text_pdf([["Stroke audit"], ["Thrombolysis rates."]]),
            "2019/appendix.pdf": text_pdf([["Appendix"], ["More thrombolysis tables."]]),
        },
    )
    build_index(settings_for(folder, tmp_path / "index"))
    result = run_cli("query", "thrombolysis", "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    links = [line.strip() for line in result.stdout.splitlines() if "file://" in line]
    assert links and all(link.startswith("file:///") for link in links)
    for link in links:
        parts = urlsplit(link)
        assert " " not in link and parts.fragment == "page=2"
        assert Path(unquote(parts.path)).is_file()
