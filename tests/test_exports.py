"""Citations a researcher can paste: stable keys, the work's pages, absolute links.

BibTeX and RIS cite works (a report, or a page), one entry each whatever
number of its pages matched; the keys are made from every document of the
index, so a report has the same key in every query; ``pages`` is the work's
range and the matched pages are a note; links are absolute (``--base-url``,
else a folder archive's ``file://`` URIs, else the site's own address).
``--batch`` writes only the formats it can stream query by query.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import bibtexparser
import pytest
import rispy
from helpers import page, run_cli, settings_for, write_files
from hypothesis import given
from hypothesis import strategies as st
from pdfgen import PageSpec, PdfSpec, make_pdf
from test_archive import archive  # noqa: F401  (the real corpus as a folder archive)

from chcsearch.console import run_query
from chcsearch.errors import UsageError
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary
from chcsearch.render import citation_keys, citation_stem

# ---- keys ---------------------------------------------------------------------------


def test_a_key_is_author_year_and_the_first_significant_title_word() -> None:
    assert citation_stem(["Malcolm Oswald"], 2017, "Citizens' juries on health data") == (
        "oswald2017citizens"
    )
    assert citation_stem(["Oswald, Malcolm"], 2017, "The Role of Juries") == "oswald2017role"
    assert citation_stem(["Zoë Ångström-Nuñez"], None, "Évaluation") == "angstromnunez" + (
        "evaluation"
    )
    assert citation_stem([], 2019, "3.3 Stroke pathway") == "stroke2019"  # the word leads
    assert citation_stem([], None, "") == "doc"


def test_keys_share_a_stem_with_letters_in_source_order_not_rank() -> None:
    stems = [(("", "b.pdf"), "hub2018data"), (("", "a.pdf"), "hub2018data"), (("", "c.pdf"), "x")]
    assert citation_keys(stems) == {
        ("", "a.pdf"): "hub2018dataa",
        ("", "b.pdf"): "hub2018datab",
        ("", "c.pdf"): "x",
    }


@given(
    st.dictionaries(
        st.text(alphabet="abc/ .", min_size=1, max_size=6),
        st.sampled_from(["doe2019a", "doe2019", "roe", "doc"]),
        max_size=40,
    ),
    st.randoms(),
)
def test_keys_are_unique_and_do_not_depend_on_order(stems: dict[str, str], shuffle: object) -> None:
    pairs = [(("", source), stem) for source, stem in stems.items()]
    keys = citation_keys(pairs)
    assert len(set(keys.values())) == len(pairs)
    shuffled = list(pairs)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    assert citation_keys(shuffled) == keys


# ---- a small folder archive ---------------------------------------------------------


@pytest.fixture(scope="module")
def folder_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("exports")
    folder = write_files(
        root / "the library",
        {
            "2016/quokka review.pdf": make_pdf(
                PdfSpec(
                    pages=[
                        PageSpec(lines=("Quokka review",)),
                        PageSpec(lines=("Contents",)),
                        PageSpec(lines=("Quokka burrows on Rottnest Island.",)),
                        PageSpec(lines=("Methods.",)),
                        PageSpec(lines=("More quokka burrows near the lakes.",)),
                        PageSpec(lines=("Thanks.",)),
                    ],
                    title="Quokka review",
                    author="Jane Doe",
                    created="D:20160101000000Z",
                    page_labels=((0, "r", "", 1), (2, "D", "", 1)),
                )
            ),
            "2016/quokka counts.pdf": make_pdf(
                PdfSpec(
                    pages=[PageSpec(lines=("Quokka counts",)), PageSpec(lines=("Burrows.",))],
                    title="Quokka counts",
                    author="Jane Doe",
                    created="D:20160101000000Z",
                )
            ),
        },
    )
    build_index(settings_for(folder, root / "index"))
    return folder, root / "index"


Run = Callable[..., str]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run_query`` as the CLI calls it, returning what it wrote."""

    def call(text: str | None, index: Path, output: str, **options: object) -> str:
        out = io.StringIO()
        values: dict[str, object] = {
            "text": text,
            "index": index,
            "sections": (),
            "levels": (),
            "kinds": (),
            "limit": 10,
            "page": 1,
            "output": output,
            "explain": False,
            "flat": False,
            "batch": None,
            "out": out,
            "stdin": io.StringIO(),
            "colour": False,
        }
        values.update(options)
        run_query(**values)  # type: ignore[arg-type]
        return out.getvalue()

    return call


def _file_of(url: str) -> Path:
    parts = urlsplit(url)
    assert parts.scheme == "file" and " " not in url, url
    return Path(unquote(parts.path))


def test_bibtex_cites_the_work_with_its_page_range_and_the_matched_pages_in_a_note(
    folder_index: tuple[Path, Path], run: Run
) -> None:
    folder, index = folder_index
    library = bibtexparser.parse_string(run("burrows", index, "bibtex"))
    assert not library.failed_blocks
    entries = {e.fields_dict["title"].value.strip("{}"): e for e in library.entries}
    review = entries["Quokka review"]
    assert review.key == "doe2016quokkab"  # shares doe2016quokka with "quokka counts.pdf"
    assert entries["Quokka counts"].key == "doe2016quokkaa"
    fields = review.fields_dict
    assert fields["pages"].value == "1--6"
    assert "Matched pages: 3 (printed 1), 5 (printed 3)" in fields["note"].value
    link = fields["howpublished"].value
    assert link.startswith("\\url{file:///") and "\\#page=3" in link
    url = link.removeprefix("\\url{").removesuffix("}").replace("\\%", "%").replace("\\#", "#")
    assert _file_of(url) == folder / "2016" / "quokka review.pdf"
    assert urlsplit(url).fragment == "page=3"


def test_flat_results_of_one_report_are_one_entry(
    folder_index: tuple[Path, Path], run: Run
) -> None:
    library = bibtexparser.parse_string(run("burrows", folder_index[1], "bibtex", flat=True))
    titles = [e.fields_dict["title"].value for e in library.entries]
    assert sorted(titles) == ["{Quokka counts}", "{Quokka review}"]
    records = rispy.loads(run("burrows", folder_index[1], "ris", flat=True))
    assert sorted(r["title"] for r in records) == ["Quokka counts", "Quokka review"]


def test_ris_gives_the_work_range_and_the_matched_pages(
    folder_index: tuple[Path, Path], run: Run
) -> None:
    records = {r["title"]: r for r in rispy.loads(run("burrows", folder_index[1], "ris"))}
    review = records["Quokka review"]
    assert (review["start_page"], review["end_page"]) == ("1", "6")
    assert "Matched pages: 3 (printed 1), 5 (printed 3)" in review["notes"]
    assert _file_of(review["urls"][0]) == folder_index[0] / "2016" / "quokka review.pdf"


def test_base_url_puts_every_link_on_that_address(
    folder_index: tuple[Path, Path], run: Run
) -> None:
    base = "https://example.org/library/"
    records = rispy.loads(run("quokka", folder_index[1], "ris", base_url=base))
    assert records and all(
        r["urls"][0].startswith("https://example.org/library/2016/quokka%20") for r in records
    )
    library = bibtexparser.parse_string(run("quokka", folder_index[1], "bibtex", base_url=base))
    assert all(
        "https://example.org/library/2016/" in e.fields_dict["howpublished"].value
        for e in library.entries
    )


# ---- sites ------------------------------------------------------------------------


def _site(root: Path, config: str) -> Path:
    site = write_files(
        root / "site",
        {
            "_config.yml": config,
            "walks.md": page("Coastal walks", "Walks along the coast.", section="walks"),
        },
    )
    build_index(settings_for(site, root / "index"))
    return root / "index"


def test_a_site_that_knows_its_address_gets_absolute_links(tmp_path: Path, run: Run) -> None:
    index = _site(tmp_path, "title: W\nurl: https://walks.example.org\nbaseurl: /docs\n")
    records = rispy.loads(run("walks", index, "ris"))
    assert records[0]["urls"] == ["https://walks.example.org/docs/walks.html"]


def test_a_site_with_no_address_keeps_paths_and_says_so(
    tmp_path: Path, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    index = _site(tmp_path, "title: W\n")
    records = rispy.loads(run("walks", index, "ris"))
    assert records[0]["urls"] == ["/walks.html"]
    assert "give --base-url" in capsys.readouterr().err


# ---- batches --------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["bibtex", "ris", "text", "json"])
def test_a_batch_refuses_a_format_it_cannot_stream_before_any_query(
    tmp_path: Path, run: Run, output: str
) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("stroke\n", encoding="utf-8")
    with pytest.raises(UsageError) as refused:
        # no index there: the refusal comes before anything is opened
        run(None, tmp_path / "no-index", output, batch=queries)
    message = str(refused.value)
    assert f"--format {output}" in message and "jsonl, csv, trec" in message
    assert refused.value.exit_code == 2


def test_the_cli_refuses_a_bibtex_batch_with_exit_2(
    folder_index: tuple[Path, Path], tmp_path: Path
) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("quokka\n", encoding="utf-8")
    result = run_cli(
        "query", "--batch", str(queries), "--index", str(folder_index[1]), "-f", "bibtex"
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "--batch cannot write --format bibtex" in result.stderr and "jsonl, csv, trec" in (
        result.stderr
    )


# ---- the real corpus ----------------------------------------------------------------


def _keys_by_source(text: str) -> dict[str, str]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    found = {}
    for entry in library.entries:
        note = entry.fields_dict["note"].value.replace("\\_", "_")
        source = re.search(r"Source: (.+?\.pdf)", note)
        assert source, note
        found[source.group(1)] = entry.key
    return found


@pytest.mark.corpus
@pytest.mark.parametrize("limit", [10, 50])
def test_a_report_keeps_its_key_from_one_query_to_another(
    archive: tuple[Path, Path, BuildSummary],  # noqa: F811
    run: Run,
    limit: int,
) -> None:
    index = archive[1]
    first = _keys_by_source(run("stroke", index, "bibtex", limit=limit))
    second = _keys_by_source(run("stroke prevention secondary", index, "bibtex", limit=limit))
    both = set(first) & set(second)
    kept = {source for source in both if first[source] == second[source]}
    print(f"limit {limit}: {len(kept)} of {len(both)} reports in both queries keep their key")
    assert len(both) >= 3 and kept == both
    assert all(re.fullmatch(r"[a-z][a-z0-9]*", key) for key in (*first.values(), *second.values()))
