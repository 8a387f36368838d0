"""A researcher's archive: the real corpus's PDFs rearranged into nested folders.

No Markdown and no site generator: folders are the sections, titles come
from the PDFs' metadata, sidecars override it, and result lists export to
CSV, BibTeX and RIS that standard readers parse, with page numbers and the
printed page labels.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import bibtexparser
import pytest
import rispy
from helpers import TEST_CACHE, copy_as_region_archive, run_cli, settings_for
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.config import IndexSettings
from chcsearch.index import IndexStore, stored_documents
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary
from chcsearch.query import Searcher

pytestmark = pytest.mark.corpus

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Annual Review of Quokka Habitats</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li><rdf:li>John Roe</rdf:li></rdf:Seq></dc:creator>
<xmp:CreateDate>2016-05-04T10:00:00Z</xmp:CreateDate>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""

#: a report with front matter numbered i, ii and the body 1, 2, 3, 4
LABELLED = PdfSpec(
    pages=[
        PageSpec(lines=("Annual Review of Quokka Habitats",)),
        PageSpec(lines=("Contents", "Foreword by the survey team")),
        PageSpec(lines=("Quokka population survey on Rottnest Island.",)),
        PageSpec(lines=("Methods of counting marsupials at dusk.",)),
        PageSpec(lines=("The quokka survey found burrows near the lakes.",)),
        PageSpec(lines=("Acknowledgements.",)),
    ],
    title="Draft - do not cite",  # XMP wins over the information dictionary
    author="Someone Else",
    created="D:20150101000000Z",
    xmp=XMP,
    page_labels=((0, "r", "", 1), (2, "D", "", 1)),
)


@pytest.fixture(scope="module")
def archive(
    corpus_dir: Path,
    corpus_build: tuple[IndexSettings, BuildSummary],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, BuildSummary]:
    """The corpus's PDFs as reports/<region>/<chapter>/…, plus two made ones and sidecars.

    ``corpus_build`` runs first so that the extraction cache is warm: the same
    files under other paths are not extracted again.
    """
    root = copy_as_region_archive(corpus_dir, tmp_path_factory.mktemp("archive") / "library")
    made = root / "field-notes" / "2016"
    made.mkdir(parents=True)
    (made / "quokka-review.pdf").write_bytes(make_pdf(LABELLED))
    (made / "scan-0042.pdf").write_bytes(
        make_pdf(PdfSpec(pages=[["Wetland Bird Counts"], ["Counts of waders by month."]]))
    )
    hub = root / "reports" / "hub"
    (hub / "_meta.yml").write_text(
        "folder_title: The CHC Hub\nauthors: Connected Health Cities Hub\ntags: [hub, governance]\n",
        encoding="utf-8",
    )
    juries = next((hub / "2.5").glob("Section 2.5.1_*.pdf"))
    (juries.parent / (juries.name + ".yml")).write_text(
        "title: Citizens' juries on sharing health data\n"
        "authors: [Malcolm Oswald, Kyle Bozentko]\nyear: 2017\ntags: juries\n"
        "url: https://example.org/juries.pdf\n",
        encoding="utf-8",
    )
    (root / "reports" / "greater-manchester" / "_meta.yml").write_text(
        "year: twenty-nineteen\ntags: {a: 1}\ncolour: blue\n", encoding="utf-8"
    )
    index_dir = root.parent / "index"
    settings = settings_for(root, index_dir, cache_dir=TEST_CACHE, jobs=os.cpu_count() or 1)
    return root, index_dir, build_index(settings)


@pytest.fixture(scope="module")
def searcher(archive: tuple[Path, Path, BuildSummary]) -> Searcher:
    return Searcher(archive[1])


def test_every_pdf_is_indexed_page_by_page_as_a_folder_archive(
    archive: tuple[Path, Path, BuildSummary], corpus_build: tuple[IndexSettings, BuildSummary]
) -> None:
    _, _, summary = archive
    corpus = corpus_build[1]
    assert summary.generator == "folder"
    assert summary.pages == 0
    assert summary.pdfs == corpus.pdfs + 2
    assert summary.pdf_pages == corpus.pdf_pages + 6 + 2
    # the corpus's PDFs came from the cache the site build filled; at most the made ones are new
    assert summary.pdfs_extracted <= 2
    assert summary.pdfs_extracted + summary.pdfs_from_cache == summary.pdfs


def test_facets_and_section_filters_follow_the_folders(searcher: Searcher) -> None:
    top = searcher.search("stroke")
    assert [f.value for f in top.section_facets] == ["reports"]
    regions = searcher.search("stroke", sections=["reports"])
    facets = {f.value: (f.title, f.count) for f in regions.section_facets}
    assert facets["reports/greater-manchester"][0] == "Greater Manchester"
    for value, (_, count) in facets.items():
        assert value.count("/") == 1
        assert searcher.search("stroke", sections=[value]).total == count, value
    chapter = searcher.search("stroke", sections=["reports/greater-manchester/3.3"], limit=50)
    assert chapter.total >= 3
    assert all(h.section == "reports/greater-manchester/3.3" for h in chapter.results)
    assert chapter.results[0].breadcrumb == ("Reports", "Greater Manchester", "3.3")
    # a folder's sidecar names it in breadcrumbs and facets
    hub = searcher.search("consent", sections=["reports/hub"])
    assert hub.results and hub.results[0].breadcrumb[:2] == ("Reports", "The CHC Hub")


def test_titles_come_from_metadata_then_first_line_then_file_name(
    archive: tuple[Path, Path, BuildSummary],
) -> None:
    generation = IndexStore(archive[1]).open_current()
    titles = {
        str(d["source"]).rsplit("/", 1)[-1]: d["title"]
        for d in stored_documents(generation, kind="pdf")
    }
    # the PDF's information dictionary
    assert titles["Section 2.7.1_CHC Evaluation Report_Final.pdf"] == (
        "Connected Health Cities Programme: Evaluation"
    )
    # XMP over the information dictionary
    assert titles["quokka-review.pdf"] == "Annual Review of Quokka Habitats"
    # no metadata: the first line
    assert titles["scan-0042.pdf"] == "Wetland Bird Counts"
    # "Connected Health Cities" and "End of Project Report" on many covers are a
    # series and its template: the cover's own line is used, less the template
    assert titles["Section 4.3.1_ Clinical Pathway Epilepsy Final Report.pdf"] == (
        "Clinical Pathway: Epilepsy"
    )
    # a metadata title that names another file ("Section 2.9 …") gives way to the file name
    consent = "Designing a Solution to Manage Electronic Consent for Children (MIE paper)"
    assert titles[f"Section 2.2.2_{consent}.pdf"] == consent
    # the cover's largest type, not its small first line
    assert titles["Section 6.3_CONNECTED_BRADFORD_JUNE2019.pdf"] == "Connected Bradford"


def test_authors_and_years_come_from_metadata(
    searcher: Searcher, archive: tuple[Path, Path, BuildSummary]
) -> None:
    hit = searcher.search("quokka").results[0]
    assert hit.title == "Annual Review of Quokka Habitats"
    assert hit.authors == ("Jane Doe", "John Roe")
    assert hit.year == 2016
    generation = IndexStore(archive[1]).open_current()
    authors = {
        str(d["source"]).rsplit("/", 1)[-1]: tuple(d["authors"] or ())
        for d in stored_documents(generation, kind="pdf")
    }
    # an organisation tag in brackets is dropped; the name is kept as written
    assert authors["Section 4.2.1_NWC TRE Paper.pdf"] == ("Rushton Michelle",)
    # a computer account is no author
    assert authors["Section 5.10.1_NENC CHC communications final report.pdf"] == ()
    # two people in one field are two authors
    assert authors["Section 5.9.1_The Connected Patient (Leadgate) Project Report.pdf"] == (
        "Yan Yiannakou",
        "Angela Birt",
        "Dorothy Coe",
    )


def test_sidecars_override_and_bad_ones_are_named(
    archive: tuple[Path, Path, BuildSummary], searcher: Searcher
) -> None:
    hit = searcher.search("citizens juries").results[0]
    assert hit.title == "Citizens' juries on sharing health data"
    assert hit.authors == ("Malcolm Oswald", "Kyle Bozentko")  # the file's sidecar is nearer
    assert hit.year == 2017
    assert hit.url.startswith("https://example.org/juries.pdf#page=")
    assert hit.tags == ("juries",)  # the nearer sidecar wins, field by field
    evaluation = searcher.search("evaluation report", sections=["reports/hub/2.7"]).results[0]
    assert evaluation.authors == ("Connected Health Cities Hub",)
    problems = {(p.kind, p.src_path, p.line): p.message for p in archive[2].problems}
    sidecar = "reports/greater-manchester/_meta.yml"
    assert "year" in problems[("sidecar-bad-value", sidecar, 1)]
    assert "tags" in problems[("sidecar-bad-value", sidecar, 2)]
    assert "colour: unknown key" in problems[("sidecar-bad-value", sidecar, 3)]


def test_metadata_filters_and_sorting(searcher: Searcher) -> None:
    by_author = searcher.search("health data", authors=["oswald"])
    assert [h.title for h in by_author.results] == ["Citizens' juries on sharing health data"]
    assert searcher.search("health data", authors=["Kyle Bozentko"]).total == 1
    assert searcher.search("health data", authors=["Bozentko Malcolm"]).total == 0
    tagged = searcher.search("data", tags=["hub"], limit=50)
    assert tagged.total >= 10
    assert all(h.section.startswith("reports/hub/") for h in tagged.results)
    in_2017 = searcher.search("data", years=(2017, 2017), limit=50)
    assert in_2017.results and all(h.year == 2017 for h in in_2017.results)
    span = searcher.search("data", years=(2016, 2018), limit=50)
    assert {h.year for h in span.results} <= {2016, 2017, 2018} and span.total > in_2017.total
    newest = searcher.search("data", sort="date", limit=50)
    years = [h.year or 0 for h in newest.results]
    assert years == sorted(years, reverse=True) and years[0] >= 2019
    by_title = searcher.search("data", sort="title", limit=50)
    titles = [h.title.casefold() for h in by_title.results]
    assert titles == sorted(titles)


def test_text_results_show_the_printed_page_label(archive: tuple[Path, Path, BuildSummary]) -> None:
    result = run_cli("query", "rottnest burrows", "--index", str(archive[1]), "--flat")
    assert result.returncode == 0, result.stderr
    assert "(p. 3, printed 1)" in result.stdout
    assert "(p. 5, printed 3)" in result.stdout


def test_csv_export_parses_with_page_numbers_and_labels(
    archive: tuple[Path, Path, BuildSummary],
) -> None:
    result = run_cli("query", "rottnest burrows", "--index", str(archive[1]), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    first = rows[0]
    assert first["title"] == "Annual Review of Quokka Habitats"
    assert (first["page"], first["page_label"]) == ("3", "1")
    assert first["pages"] == "3 (1), 5 (3)"
    assert first["authors"] == "Jane Doe; John Roe" and first["year"] == "2016"
    assert first["source"] == "field-notes/2016/quokka-review.pdf"
    assert first["url"].endswith("quokka-review.pdf#page=3")


def test_bibtex_export_parses_with_pages_and_labels(
    archive: tuple[Path, Path, BuildSummary],
) -> None:
    result = run_cli(
        "query", "rottnest burrows juries", "--index", str(archive[1]), "--format", "bibtex"
    )
    assert result.returncode == 0, result.stderr
    library = bibtexparser.parse_string(result.stdout)
    assert not library.failed_blocks
    entries = {e.fields_dict["title"].value.strip("{}"): e for e in library.entries}
    assert len({e.key for e in library.entries}) == len(library.entries)
    quokka = entries["Annual Review of Quokka Habitats"].fields_dict
    assert quokka["author"].value == "Jane Doe and John Roe"
    assert quokka["year"].value == "2016"
    assert quokka["pages"].value == "1--6"  # the work's range; what matched is a note
    assert "Matched pages: 3 (printed 1), 5 (printed 3)" in quokka["note"].value
    assert "{file:///" in quokka["howpublished"].value  # a folder archive's own files
    juries = entries["Citizens' juries on sharing health data"]
    assert juries.key == "oswald2017citizens"
    assert juries.fields_dict["author"].value == "Malcolm Oswald and Kyle Bozentko"
    assert re.fullmatch(r"1--\d+", juries.fields_dict["pages"].value)
    assert "https://example.org/juries.pdf" in juries.fields_dict["howpublished"].value


def test_ris_export_parses_with_pages_and_labels(archive: tuple[Path, Path, BuildSummary]) -> None:
    result = run_cli(
        "query", "rottnest burrows juries", "--index", str(archive[1]), "--format", "ris"
    )
    assert result.returncode == 0, result.stderr
    records = {r["title"]: r for r in rispy.loads(result.stdout)}
    quokka = records["Annual Review of Quokka Habitats"]
    assert quokka["type_of_reference"] == "RPRT"
    assert quokka["authors"] == ["Jane Doe", "John Roe"]
    assert quokka["year"] == "2016"
    assert (quokka["start_page"], quokka["end_page"]) == ("1", "6")
    assert "Matched pages: 3 (printed 1), 5 (printed 3)" in quokka["notes"]
    assert quokka["urls"][0].startswith("file:///")
    assert quokka["urls"][0].endswith("quokka-review.pdf#page=3")
    juries = records["Citizens' juries on sharing health data"]
    assert juries["authors"] == ["Malcolm Oswald", "Kyle Bozentko"]
    assert juries["urls"][0].startswith("https://example.org/juries.pdf#page=")


def test_jsonl_export_carries_labels_and_metadata(
    archive: tuple[Path, Path, BuildSummary],
) -> None:
    import json

    result = run_cli("query", "rottnest burrows", "--index", str(archive[1]), "--format", "jsonl")
    record = json.loads(result.stdout.splitlines()[0])
    assert (record["page"], record["page_label"]) == (3, "1")
    assert record["authors"] == ["Jane Doe", "John Roe"] and record["year"] == 2016
    assert [(p["page"], p["page_label"]) for p in record["parts"]] == [(3, "1"), (5, "3")]
