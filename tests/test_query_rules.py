"""Query rules on a tiny site of our own: spelling on or off, a word given twice, ``-word``
with grouped results, and notes for filter values no document has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import index_of, page, run_cli
from pdfgen import text_pdf
from starlette.testclient import TestClient

from chcsearch.config import ServeSettings
from chcsearch.plan import repeat_weight
from chcsearch.query import Searcher
from chcsearch.web import create_app

SITE = {
    "_config.yml": "title: Rules\n",
    "care.md": page("Care", "Care in the region.", section="care", level='"2"'),
    "care/consent-children.md": page(
        "Consent for Children",
        "How families give consent for their children.",
        section="care/consent-children",
        level='"2.1"',
        resources="\n  - path: /assets/families.pdf\n    title: Families report",
    ),
    "care/consent-adults.md": page(
        "Consent architecture",
        "A consent architecture for adults: records of consent.",
        section="care/consent-adults",
        level='"2.2"',
    ),
    "care/asthma.md": page(
        "Asthma clinics",
        "Asthma nurses run clinics. Bone density and bone fracture clinics too.",
        section="care/asthma",
        level='"2.3"',
    ),
    # linked from the children page: page 2 says consent, never children
    "assets/families.pdf": text_pdf(
        [["Families report introduction"], ["Parental consent was recorded on paper forms."]],
        title="Families report",
    ),
    # linked from no page: its title says children, its pages do not
    "assets/orphan.pdf": text_pdf(
        [["Study of young patients"], ["Consent forms were signed by guardians."]],
        title="Children in hospital",
    ),
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory, "rules", SITE)


@pytest.fixture(scope="module")
def searcher(index_dir: Path) -> Iterator[Searcher]:
    with Searcher(index_dir) as opened:
        yield opened


# ---- spelling on and off -----------------------------------------------------------------


def test_a_word_the_index_lacks_is_corrected_unless_told_not_to(searcher: Searcher) -> None:
    corrected = searcher.search("asthmaa")
    assert corrected.corrected_query == "asthma" and corrected.total == 1
    plain = searcher.search("asthmaa", correct=False)
    assert plain.corrected_query is None and plain.total == 0
    assert not any("spelling" in note for note in plain.notes)


def test_no_correct_on_the_command_line_and_in_the_api(index_dir: Path) -> None:
    on = run_cli("query", "asthmaa", "--index", str(index_dir), "--format", "json")
    assert json.loads(on.stdout)["corrected_query"] == "asthma"
    off = run_cli("query", "asthmaa", "--no-correct", "--index", str(index_dir), "--format", "json")
    assert off.returncode == 0, off.stderr
    answer = json.loads(off.stdout)
    assert answer["corrected_query"] is None and answer["total"] == 0
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        assert client.get("/api/search", params={"q": "asthmaa"}).json()["total"] == 1
        for value in ("0", "false"):
            got = client.get("/api/search", params={"q": "asthmaa", "correct": value}).json()
            assert got["total"] == 0 and got["corrected_query"] is None
        bad = client.get("/api/search", params={"q": "asthmaa", "correct": "maybe"})
        assert bad.status_code == 400 and "correct must be true or false" in bad.json()["error"]


# ---- a word given twice counts once --------------------------------------------------------


def test_a_repeated_word_is_one_word_of_the_query_weighed_a_little_more(
    searcher: Searcher,
) -> None:
    once = searcher.search("consent", flat=True).results
    twice = searcher.search("consent consent", flat=True).results
    four = searcher.search("consent consent consent consent", flat=True).results
    assert [h.id for h in once] == [h.id for h in twice] == [h.id for h in four]
    # BM25's query-term saturation: (k3 + 1) n / (k3 + n), never n times
    assert twice[0].score == pytest.approx(once[0].score * repeat_weight(2))
    assert four[0].score == pytest.approx(once[0].score * repeat_weight(4))
    assert four[0].score < 4 * once[0].score
    # one word of the query, not three: the document with both words keeps its full
    # coordination (no "words matched" share is lost to the repeats)
    both = searcher.search("bone bone bone fracture", flat=True).results[0]
    assert both.id == "care/asthma.md"


# ---- -word with grouped results ------------------------------------------------------------


def test_minus_a_word_drops_the_group_whose_page_has_it(searcher: Searcher) -> None:
    grouped = searcher.search("consent -children")
    titles = [hit.title for hit in grouped.results]
    # the children page goes, and with it its report's page 2 (which says consent only),
    # and the report no page links goes too: its title says children
    assert titles == ["Consent architecture"], titles
    # listed as documents, each document is judged by its own words
    flat = searcher.search("consent -children", flat=True)
    ids = {hit.id for hit in flat.results}
    assert "assets/families.pdf#page=2" in ids and "assets/orphan.pdf#page=2" in ids
    assert "care/consent-children.md" not in ids


def test_minus_a_word_only_in_a_report_page_keeps_the_group(searcher: Searcher) -> None:
    # "paper" is on the families report's page 2 only: that page goes, its page stays
    grouped = searcher.search("consent -paper")
    assert "Consent for Children" in [hit.title for hit in grouped.results]


# ---- filters no document has ---------------------------------------------------------------


def test_an_unknown_section_or_level_gives_a_note_with_the_nearest_values(
    searcher: Searcher, index_dir: Path
) -> None:
    found = searcher.search("consent", sections=["care/consent-adutls"], levels=["2.9", "abc"])
    notes = " | ".join(found.notes)
    assert "no document has the section 'care/consent-adutls'; did you mean care/consent-adults" in notes
    assert "no document has the level '2.9'; did you mean 2.3 or 2.2 or 2.1?" in notes
    assert "no document has the level 'abc'" in notes
    assert not searcher.search("consent", sections=["care"], levels=["2.1"]).notes
    cli = run_cli(
        "query", "consent", "--section", "car", "--index", str(index_dir), "--format", "json"
    )
    assert "note: no document has the section 'car'; did you mean care?" in cli.stderr
    assert any("'car'" in note for note in json.loads(cli.stdout)["notes"])
    text = run_cli("query", "consent", "--section", "car", "--index", str(index_dir))
    assert "did you mean care?" in text.stderr and "note:" not in text.stdout
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        notes_api = client.get("/api/search", params={"q": "consent", "level": "2.9"}).json()
        assert any("did you mean 2.3" in note for note in notes_api["notes"])
