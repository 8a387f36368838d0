"""Titles and authors a researcher can trust, for folder archives of PDFs.

A title is a line a person would write: the cover's largest type, not the
programme's name on every cover, a page count, a tool's "Print" or a
section heading; never invented. Authors are people: not computer accounts,
organisation tags, several people run together or a sentence.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import EXTRACTORS, TEST_CACHE, copy_as_region_archive, settings_for
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.config import IndexSettings
from chcsearch.documents import TitleChooser, humanize, word_casing
from chcsearch.extract import ExtractOptions, extract_pdf
from chcsearch.index import IndexStore, stored_documents
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary, PdfMeta
from chcsearch.pdfmeta import (
    LINE_BREAK,
    boilerplate_reason,
    clean_title,
    prominent_lines,
    split_authors,
)

#: Titles the archive showed before: each a series, organisation, placeholder,
#: label or section line, none of them a report's title.
BAD_TITLES = {
    "print",
    "1",
    "1 of 33",
    "quaenam ltd in partnership with lancaster university",
    "connected health cities",
    "connected health cities – end of project report:",
    "connected health cities end of project report:",
    "teesside university",
    "reference document",
    "case study",
    "8. appendices",
    "appendices",
    "greater manchester connected health city (gm chc)",
    "section 2.9 sustainability model",
    "a collaboration between bradford nhs and local government partners",
    "intro front page final",
    "clahrc greater manchester",
    "end of project report",
    "workforce development:",
}
#: Account names and tags the PDFs' Author fields hold.
BAD_AUTHORS = {"IEUser", "Stephen_M", "James", "Kristina", "Rushton Michelle (NWCAHSN)"}


def _tiny(lines: tuple[str, ...], sizes: tuple[float, ...] = (), **spec: str) -> bytes:
    """A cover of ``lines`` set in ``sizes``, then a page of body text."""
    return make_pdf(
        PdfSpec(
            pages=[PageSpec(lines=lines, line_sizes=sizes), PageSpec(lines=("Body text.",))],
            **spec,  # type: ignore[arg-type]
        )
    )


def _pdf_titles(index_dir: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{src_path: (title, authors)}`` of every PDF in the index."""
    generation = IndexStore(index_dir).open_current()
    return {
        str(d["source"]): (str(d["title"]), tuple(d.get("authors") or ()))
        for d in stored_documents(generation, kind="pdf")
    }


def _build(root: Path, extractor: str, jobs: int = 2, cache: Path | None = None) -> Path:
    """Index ``root``; made PDFs use a cache of their own (``cache`` for the corpus's)."""
    index_dir = root.parent / f"index-{extractor}"
    cache_dir = cache or root.parent / "cache"
    build_index(settings_for(root, index_dir, cache_dir=cache_dir, jobs=jobs, extractor=extractor))
    return index_dir


# ---------------------------------------------------------------------------------------
# Made PDFs


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_the_largest_type_on_the_cover_beats_a_small_first_line(
    tmp_path: Path, extractor: str
) -> None:
    path = tmp_path / "cover.pdf"
    path.write_bytes(
        _tiny(
            ("Quarterly bulletin 12", "Rivers of the North", "A survey of salmon runs", "Intro"),
            (8, 30, 18, 11),
        )
    )
    text, _ = extract_pdf(str(path), "sha", ExtractOptions(extractor, timeout=30))
    candidates = text.heading.splitlines()
    assert candidates[:2] == ["Rivers of the North", "A survey of salmon runs"]
    root = tmp_path / "archive"
    (root / "rivers").mkdir(parents=True)
    shutil.copyfile(path, root / "rivers" / "scan-0042.pdf")
    titles = _pdf_titles(_build(root, extractor))
    assert titles["rivers/scan-0042.pdf"][0] == "Rivers of the North"


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_cover_line_two_files_share_is_passed_over(tmp_path: Path, extractor: str) -> None:
    root = tmp_path / "archive"
    (root / "reports").mkdir(parents=True)
    for name, title in [("a.pdf", "Salmon Counts 2019"), ("b.pdf", "Otter Sightings Review")]:
        (root / "reports" / name).write_bytes(
            _tiny(("Northern Rivers Partnership", title), (30, 20))
        )
    titles = _pdf_titles(_build(root, extractor))
    assert titles["reports/a.pdf"][0] == "Salmon Counts 2019"
    assert titles["reports/b.pdf"][0] == "Otter Sightings Review"


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_cover_title_ends_before_the_programme_name_set_under_it(
    tmp_path: Path, extractor: str
) -> None:
    root = tmp_path / "archive"
    (root / "reports").mkdir(parents=True)
    covers = {
        "a.pdf": (("Salmon Counts in the Tyne", "Northern Rivers Partnership"), (24, 24)),
        "b.pdf": (("Otter Sightings Review", "Northern Rivers Partnership Annual"), (24, 24)),
        "c.pdf": (("Northern Rivers Partnership", "Annual Accounts 2019"), (30, 20)),
        "d.pdf": (("Northern Rivers Partnership", "Weir Repairs Plan"), (30, 20)),
    }
    for name, (lines, sizes) in covers.items():
        (root / "reports" / name).write_bytes(_tiny(lines, sizes))
    titles = _pdf_titles(_build(root, extractor))
    assert titles["reports/a.pdf"][0] == "Salmon Counts in the Tyne"
    assert titles["reports/b.pdf"][0] == "Otter Sightings Review"


def test_placeholders_and_organisations_give_way_to_the_file_name(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / "polls").mkdir(parents=True)
    (root / "polls" / "Section 5.9.4_YouGov Poll Report.pdf").write_bytes(
        _tiny(("Teesside University", "1 of 33"), (30, 20), title="Print")
    )
    (root / "polls" / "Section 2.2.2_Consent for Children.pdf").write_bytes(
        _tiny(("8. Appendices",), (20,), title="Section 2.9 Sustainability Model")
    )
    titles = _pdf_titles(_build(root, "pdfminer"))
    assert titles["polls/Section 5.9.4_YouGov Poll Report.pdf"][0] == "YouGov Poll Report"
    assert titles["polls/Section 2.2.2_Consent for Children.pdf"][0] == "Consent for Children"


def test_author_fields_name_people_only(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / "notes").mkdir(parents=True)
    for name, author in [
        ("a.pdf", "Rushton Michelle (NWCAHSN)"),
        ("b.pdf", "IEUser"),
        ("c.pdf", "Yan Yiannakou, Angela Birt"),
    ]:
        (root / "notes" / name).write_bytes(
            _tiny((f"Report {name[0].upper()} on Rivers",), (20,), author=author)
        )
    authors = {src: a for src, (_, a) in _pdf_titles(_build(root, "pdfminer")).items()}
    assert authors == {
        "notes/a.pdf": ("Rushton Michelle",),
        "notes/b.pdf": (),
        "notes/c.pdf": ("Yan Yiannakou", "Angela Birt"),
    }


# ---------------------------------------------------------------------------------------
# Pure rules


@pytest.mark.parametrize(
    "line",
    [
        "Print",
        "1",
        "1 of 33",
        "Page 3",
        "Page 3 of 10",
        "FEBRUARY 28, 2020",
        "REFERENCE DOCUMENT",
        "Case study",
        "8. Appendices",
        "Executive Summary",
        "Final research report December 2018",
        "Contents",
        "Appendix 2: list of requirements needed for MHRA self-certification",
        "Connected Health Cities – End of Project Report:",
        "Teesside University",
        "Quaenam Ltd in partnership with Lancaster University",
        "A COLLABORATION BETWEEN BRADFORD NHS AND LOCAL GOVERNMENT PARTNERS",
        "Client: Bradford Royal Infirmary Pathway: Paediatric Ambulatory Care",
        "Abstract",
    ],
)
def test_boilerplate_lines_are_not_titles(line: str) -> None:
    assert boilerplate_reason(line)


@pytest.mark.parametrize(
    "line",
    [
        "Information Governance Report",
        "Connected Bradford",
        "Clinical Pathway: Epilepsy",
        "Building a Consent Architecture",
        "GM CHC Final Report: Communications",
        "Emergency Admissions for COPD, 2012 to 2019",
    ],
)
def test_titles_are_not_boilerplate(line: str) -> None:
    assert boilerplate_reason(line) == ""


def test_prominent_lines_join_a_title_set_over_lines_and_skip_the_footer() -> None:
    runs = [
        ("Annual bulletin", 9.0, 0.05),
        ("The Decision-", 28.0, 0.3),
        ("Making Guide", 28.0, 0.35),
        ("Body text of the cover page goes on here.", 11.0, 0.5),
        ("PRINTED IN LARGE TYPE", 40.0, 0.95),
    ]
    assert prominent_lines(runs) == ("The Decision-Making Guide",)
    # where a title set over lines broke is marked, and reads as a space
    two = [("Rivers of the", 28.0, 0.3), ("North", 28.0, 0.35), ("Body text.", 11.0, 0.5)]
    assert prominent_lines(two) == (f"Rivers of the{LINE_BREAK}North",)
    assert clean_title(prominent_lines(two)[0]) == "Rivers of the North"
    # a page of plain text has nothing prominent
    assert prominent_lines([("Just text", 11.0, 0.1), ("More text", 11.0, 0.2)]) == ()


@pytest.mark.parametrize(
    ("raw", "people"),
    [
        ("IEUser", ()),
        ("Stephen_M", ()),
        ("James", ()),
        ("Microsoft Office User", ()),
        ("Administrator", ()),
        ("Rushton Michelle (NWCAHSN)", ("Rushton Michelle",)),
        ("Yan Yiannakou, Angela Birt", ("Yan Yiannakou", "Angela Birt")),
        ("Dixon, Pete", ("Dixon, Pete",)),
        ("Smith, J.; Jones, K. and Wu, C.", ("Smith, J.", "Jones, K.", "Wu, C.")),
        (
            "A collaborative research project between Teesside University, Newcastle "
            "University, Connected Health Cities – North East & North Cumbria, Healthwatch",
            (),
        ),
        ("Dr Kathryn Hall and Lynne Barr", ("Kathryn Hall", "Lynne Barr")),
        ("Prof. Paul Burton; Dr Smith", ("Paul Burton", "Dr Smith")),
        ("FISK A.", ("FISK, A.",)),
        ("Fisk A.B.", ("Fisk, A.B.",)),
        ("Su Li", ("Su Li",)),
        ("Amanda Lamb", ("Amanda Lamb",)),
        ("Ludwig van Beethoven", ("Ludwig van Beethoven",)),
    ],
)
def test_author_rules(raw: str, people: tuple[str, ...]) -> None:
    assert split_authors(raw) == people


def test_series_lines_are_cut_off_and_titles_never_invented() -> None:
    def meta(src: str, heading: str, title: str = "") -> PdfMeta:
        return PdfMeta(src, "sha", 1, title, heading=heading)

    pdfs = {
        m.src_path: m
        for m in [
            meta("a/Section 4.3.1_Epilepsy.pdf", "Connected Health Cities\nEnd of Project Report"),
            meta(
                "a/Section 4.4.1_COPD.pdf",
                "Connected Health Cities\nEnd of Project Report Clinical Pathway: COPD",
            ),
            meta("a/Section 2.2.2_Consent.pdf", "", title="Section 2.9 Sustainability Model"),
            meta("a/Section 2.9_Sustainability Model.pdf", "Lessons Learned for Programmes"),
        ]
    }
    titles = TitleChooser(pdfs).titles()
    assert titles == {
        "a/Section 4.3.1_Epilepsy.pdf": "Epilepsy",
        "a/Section 4.4.1_COPD.pdf": "Clinical Pathway: COPD",
        "a/Section 2.2.2_Consent.pdf": "Consent",
        "a/Section 2.9_Sustainability Model.pdf": "Lessons Learned for Programmes",
    }


def test_a_title_set_over_lines_ends_before_a_series_line_but_not_inside_a_sentence() -> None:
    def meta(src: str, *candidates: tuple[str, ...]) -> PdfMeta:
        heading = "\n".join(LINE_BREAK.join(lines) for lines in candidates)
        return PdfMeta(src, "sha", 1, "", heading=heading)

    pdfs = {
        m.src_path: m
        for m in [
            meta("r/accounts.pdf", ("Northern Rivers Partnership",), ("Annual Accounts",)),
            meta("r/weirs.pdf", ("Northern Rivers Partnership",), ("Weir Repairs Plan",)),
            # a series line, or a line beginning with one, after the title ends it
            meta("r/salmon.pdf", ("Salmon Counts in the Tyne", "Northern Rivers Partnership")),
            meta(
                "r/otters.pdf",
                ("Otter Sightings:", "A Review of Ten Years", "Northern Rivers Partnership Work"),
            ),
            # the programme's name inside a sentence does not
            meta("r/skills.pdf", ("Training Needs of the", "Northern Rivers Partnership")),
            meta("r/guardian.pdf", ("Office for Salmon", "& Northern Rivers Partnership Report")),
            meta("r/gm.pdf", ("Enabling data flows in", "Northern Rivers Partnership")),
            meta("r/nrp.pdf", ("Northern Rivers Partnership Programme: Evaluation",)),
            meta("r/two.pdf", ("Eel Passes", "Northern Rivers Partnership")),  # two words left
            # a date alone on the last line is the year, not the title
            meta(
                "r/appx.pdf", ("Appendices", "Eel Pass Project; end of project report", "May 2019")
            ),
        ]
    }
    assert TitleChooser(pdfs).titles() == {
        "r/accounts.pdf": "Annual Accounts",
        "r/weirs.pdf": "Weir Repairs Plan",
        "r/salmon.pdf": "Salmon Counts in the Tyne",
        "r/otters.pdf": "Otter Sightings: A Review of Ten Years",
        "r/skills.pdf": "Training Needs of the Northern Rivers Partnership",
        "r/guardian.pdf": "Office for Salmon & Northern Rivers Partnership Report",
        "r/gm.pdf": "Enabling data flows in Northern Rivers Partnership",
        "r/nrp.pdf": "Northern Rivers Partnership Programme: Evaluation",
        "r/two.pdf": "Eel Passes Northern Rivers Partnership",
        "r/appx.pdf": "Appendices Eel Pass Project; end of project report",
    }


def test_folder_names_keep_the_archives_acronyms() -> None:
    casing = word_casing(
        [
            "Clinical Pathway COPD Final Report",
            "NWC TRE Paper",
            "GNCR public engagement",
            "GREAT NORTH CARE RECORD STROKE",
            "Stroke care bundle",
        ]
    )
    assert humanize("copd", casing) == "COPD"
    assert humanize("tre", casing) == "TRE"
    assert humanize("gncr-reports", casing) == "GNCR Reports"
    assert humanize("stroke", casing) == "Stroke"  # shouted lines do not count
    assert humanize("copd") == "Copd"


# ---------------------------------------------------------------------------------------
# The real corpus


@pytest.fixture(scope="module")
def region_archive(
    corpus_dir: Path,
    corpus_build: tuple[IndexSettings, BuildSummary],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The corpus's 65 PDFs as reports/<region>/<chapter>/<file>.pdf, as in
    test_archive.py; ``corpus_build`` warms the extraction cache first."""
    return copy_as_region_archive(corpus_dir, tmp_path_factory.mktemp("titles") / "library")


def _check_titles_and_authors(found: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    titles = {src: title for src, (title, _) in found.items()}
    shared = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    assert not shared, shared
    for src, title in titles.items():
        assert title.casefold() not in BAD_TITLES, (src, title)
        assert not boilerplate_reason(title), (src, title, boilerplate_reason(title))
    for src, (_, authors) in found.items():
        for name in authors:
            assert name not in BAD_AUTHORS, (src, name)
            assert " " in name and "_" not in name, (src, name)
            assert "(" not in name, (src, name)
            assert len(name.split()) <= 4, (src, name)  # not a sentence or a list
            assert not (name.count(",") and all(len(p.split()) > 1 for p in name.split(","))), (
                src,
                name,
            )


@pytest.mark.corpus
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_the_corpus_archive_has_titles_a_person_would_write(
    region_archive: Path, extractor: str
) -> None:
    found = _pdf_titles(
        _build(region_archive, extractor, jobs=os.cpu_count() or 1, cache=TEST_CACHE)
    )
    assert len(found) == 65
    _check_titles_and_authors(found)
    by_file = {src.rsplit("/", 1)[-1]: title for src, (title, _) in found.items()}
    assert by_file["Section 2.7.1_CHC Evaluation Report_Final.pdf"] == (
        "Connected Health Cities Programme: Evaluation"
    )
    assert by_file["Section 4.3.1_ Clinical Pathway Epilepsy Final Report.pdf"] == (
        "Clinical Pathway: Epilepsy"
    )
    assert by_file["Section 6.3_CONNECTED_BRADFORD_JUNE2019.pdf"] == "Connected Bradford"
    assert by_file["Section 5.9.4_YouGov Poll Report on GNCR.pdf"] == "YouGov Poll Report on GNCR"
    assert by_file["Section 6.7.2_Safer Prescribing for Fraility.pdf"] == (
        "Safer Prescribing for Frailty"
    )
    by_level = {
        re.match(r"Section ([\d.]*\d)", name).group(1): title  # type: ignore[union-attr]
        for name, title in by_file.items()
    }
    for level, title in CORPUS_TITLES.items():
        assert by_level[level] == title, level


#: Cover titles set over lines that run on into the programme's name (the first
#: three), and titles with the programme's name inside them, kept whole.
CORPUS_TITLES = {
    "5.2.1": "CHC NENC: Developing a Technical Infrastructure – Final Report",
    "5.4.1": "Predictive Modelling for Planned and Unplanned Care in the North East and Cumbria",
    "5.5.1": "SILVER: Smart Interventions for Local Vulnerable Residents",
    "5.5.2": "Appendices SILVER Project; end of project report",
    "2.6.1": "Identifying Skills and Training Needs of the Connected Health Cities Programme",
    "2.5.2": (
        "Office for the National Data Guardian & Connected Health Cities"
        " Reasonable Expectations Report"
    ),
    "3.2.1": "Enabling data flows in Greater Manchester Connected Health City",
    "2.7.1": "Connected Health Cities Programme: Evaluation",
    "5.10.1": "Connected Health Cities North East and North Cumbria: Communications approach",
    "2.5.1": "Connected Health Cities Citizens’ Juries Report",
}


#: The 10-PDF archive of issue 12, in topic folders.
SUBSET = {
    "copd": ["4.4.1"],
    "epilepsy": ["4.3.1", "4.5.1"],
    "tre": ["4.2.1"],
    "engagement": ["4.11.1", "5.9.4", "2.5.1"],
    "gncr": ["5.3.2"],
    "stroke": ["3.3.1", "3.3.5"],
}


@pytest.mark.corpus
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_small_topic_archive_finds_its_series_and_acronyms(
    corpus_dir: Path,
    corpus_build: tuple[IndexSettings, BuildSummary],
    tmp_path: Path,
    extractor: str,
) -> None:
    root = tmp_path / "library"
    pdfs = sorted((corpus_dir / "assets").rglob("*.pdf"))
    for folder, numbers in SUBSET.items():
        for number in numbers:
            (pdf,) = [p for p in pdfs if p.name.startswith(f"Section {number}_")]
            (root / folder).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pdf, root / folder / pdf.name)
    index_dir = _build(root, extractor, cache=TEST_CACHE)
    found = _pdf_titles(index_dir)
    assert len(found) == 10
    _check_titles_and_authors(found)
    for src, (title, _) in found.items():
        # the series name alone, or with the template's "End of Project Report"
        assert not re.fullmatch(
            r"connected health cities\W*(end of project report)?\W*", title.casefold()
        ), (src, title)
        assert "teesside university" not in title.casefold(), (src, title)
    generation = IndexStore(index_dir).open_current()
    breadcrumbs = {
        str(d["source"]).split("/", 1)[0]: d["breadcrumb"]
        for d in stored_documents(generation, kind="pdf")
    }
    assert breadcrumbs["copd"] == ["COPD"]
    assert breadcrumbs["tre"] == ["TRE"]
    assert breadcrumbs["gncr"] == ["GNCR"]
    assert breadcrumbs["stroke"] == ["Stroke"]
