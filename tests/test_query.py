"""Searching: the query language, grouping, filters, facets, snippets, spelling."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from helpers import PROJECT, page, settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfgen import text_pdf

from chcsearch.errors import QueryRefusedError
from chcsearch.ingest import build_index
from chcsearch.plan import MAX_QUERY_CHARS
from chcsearch.query import Searcher, build_filter, build_query, edit_distance, suggest
from chcsearch.results import SearchRequest


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    site = root / "content"
    shutil.copytree(PROJECT / "content", site)
    (site / "assets" / "hub" / "Section 1.4.1_Security Review.pdf").write_bytes(
        text_pdf(
            [
                [
                    "Security review",
                    "Attackers wrote <script>alert(1)</script> and",
                    "<img src=x onerror=alert(2)> into forms & fields.",
                ]
            ]
        )
    )
    (site / "hub" / "security.md").write_text(
        page(
            "Security",
            "Reviews of the research environment.",
            section="hub/security",
            level='"1.4"',
            resources="\n  - path: /assets/hub/Section 1.4.1_Security Review.pdf",
        ),
        encoding="utf-8",
    )
    index_dir = root / "index"
    build_index(settings_for(site, index_dir))
    return index_dir


@pytest.fixture(scope="module")
def searcher(sample_index: Path) -> Searcher:
    return Searcher(sample_index)


# ---- planning, without an index ------------------------------------------------------


def test_plain_words_are_or_ed_with_a_bonus_for_matching_more() -> None:
    plan = build_query(SearchRequest("asthma nurse"))
    assert type(plan.query).__name__ == "Or"
    assert [len(list(word.children())) for word in plan.query.children()] == [
        5,
        5,
    ]  # a group per word
    assert not plan.fell_back and plan.filter is None


def test_field_prefixes_for_places_become_filters() -> None:
    plan = build_query(SearchRequest("title:stroke section:hub level:2.5 kind:pdf"))
    assert str(plan.query) == "title:stroke"
    assert str(plan.filter) == "(ancestors:hub AND level_path:2.5 AND kind:pdf)"


@pytest.mark.parametrize(
    "text",
    ['"unbalanced quote', "(open", "close)", "a AND", "OR", "AND OR b", "*", "title:", "+", "-"],
)
def test_broken_syntax_falls_back_to_plain_words(text: str) -> None:
    plan = build_query(SearchRequest(text))
    assert plan.fell_back
    assert plan.notes and "could not be read" in plan.notes[-1]


def test_long_and_control_character_queries_are_cut_and_cleaned() -> None:
    plan = build_query(SearchRequest("asthma\x00\x07 " + "word " * 3000))
    assert "\x00" not in plan.text and len(plan.text) <= MAX_QUERY_CHARS
    assert any("cut" in note for note in plan.notes)


def test_filters_are_terms_never_parsed_text() -> None:
    request = SearchRequest(
        "x", sections=("hub/ppi", 'evil" OR kind:pdf'), levels=("2.5",), kinds=("pdf",)
    )
    filt = build_filter(request)
    assert str(filt) == (
        '((ancestors:hub/ppi OR ancestors:evil" OR kind:pdf) AND level_path:2.5 AND kind:pdf)'
    )
    assert [type(t).__name__ for t in next(iter(filt.children())).children()] == ["Term", "Term"]


def test_edit_distance_and_suggestions() -> None:
    assert edit_distance("strok", "stroke") == 1 and edit_distance("jury", "juyr") == 1
    vocabulary = {"stroke": 30, "strike": 2, "broke": 1}
    assert suggest("strok", vocabulary, vocabulary.__getitem__) == "stroke"
    assert suggest("zzzz", vocabulary, vocabulary.__getitem__) is None


# ---- searching the sample site -----------------------------------------------------


def test_a_page_and_its_report_pages_form_one_result(searcher: Searcher) -> None:
    results = searcher.search("asthma nurse")
    first = results.results[0]
    assert first.source == "north-coast/asthma-pathway.md" and first.kind == "page"
    assert first.breadcrumb == ("North Coast",)
    pdf_parts = [p for p in first.parts if p.kind == "pdf"]
    assert [p.page for p in pdf_parts] == sorted(p.page for p in pdf_parts) or pdf_parts
    assert all(p.url.endswith(f"#page={p.page}") for p in pdf_parts)
    assert {r.source for r in results.results} >= {"north-coast/asthma-pathway/appendix.md"}


def test_flat_lists_every_document(searcher: Searcher) -> None:
    flat = searcher.search("asthma", flat=True, limit=20)
    ids = [hit.id for hit in flat.results]
    assert "assets/north-coast/Section 2.2.1_Asthma Pathway Report.pdf#page=1" in ids
    pdf = next(h for h in flat.results if h.kind == "pdf")
    assert pdf.page is not None and pdf.parts == ()
    assert flat.total > searcher.search("asthma").total


def test_breadcrumbs_tell_equal_titles_apart_and_sections_filter(searcher: Searcher) -> None:
    both = searcher.search("technical infrastructure")
    crumbs = {h.source: h.breadcrumb for h in both.results if h.title == "Technical Infrastructure"}
    assert crumbs == {
        "hub/technical-infrastructure.md": ("Hub",),
        "north-coast/technical-infrastructure.md": ("North Coast",),
    }
    only = searcher.search("technical infrastructure", sections=["north-coast"])
    assert only.results[0].source == "north-coast/technical-infrastructure.md"
    assert all(h.section.startswith("north-coast") for h in only.results)


def test_levels_filter_numbering_subtrees(searcher: Searcher) -> None:
    three = searcher.search("frailty stroke", levels=["3"])
    assert {h.level for h in three.results} <= {"3.9", "3.10"} and three.total == 2
    assert searcher.search("frailty", levels=["3.1"]).total == 0  # 3.1 is not a prefix of 3.10
    assert (
        searcher.search("frailty", levels=["3.10"]).results[0].source == "valley-region/frailty.md"
    )


def test_kinds_filter(searcher: Searcher) -> None:
    results = searcher.search("asthma", kinds=["pdf"], flat=True)
    assert results.results and all(h.kind == "pdf" for h in results.results)


def test_facets_drill_down_one_level_and_count_results(searcher: Searcher) -> None:
    top = searcher.search("data")
    values = {f.value: f.count for f in top.section_facets}
    assert set(values) <= {"hub", "north-coast", "valley-region", "about"}
    for value, count in values.items():
        assert searcher.search("data", sections=[value]).total == count
    titles = {f.value: f.title for f in top.section_facets}
    assert titles.get("north-coast") == "North Coast"
    inner = searcher.search("data", sections=["hub"])
    assert all(f.value.startswith("hub/") and f.value.count("/") == 1 for f in inner.section_facets)
    kinds = {f.value: f.count for f in top.kind_facets}
    assert set(kinds) == {"page", "pdf"}


def test_snippets_mark_matches_and_escape_everything_else(searcher: Searcher) -> None:
    results = searcher.search("attackers forms", flat=True)
    hit = results.results[0]
    assert "<script>alert(1)</script>" in hit.snippet.text
    html = hit.snippet.html
    assert "<mark>Attackers</mark>" in html and "<mark>forms</mark>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp;" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_words_the_stemmer_ends_in_i_are_marked_as_written(searcher: Searcher) -> None:
    # frailty -> frailti: the stem is no prefix of the word the text has
    hit = searcher.search("frailty", flat=True).results[0]
    assert "<mark>frailty</mark>" in hit.snippet.html, hit.snippet.html


def test_unknown_words_are_corrected_from_the_index_vocabulary(searcher: Searcher) -> None:
    results = searcher.search("asthmaa nurse")
    assert results.corrected_query == "asthma nurse"
    assert results.results[0].source == "north-coast/asthma-pathway.md"
    assert any("asthmaa → asthma" in note for note in results.notes)
    nothing = searcher.search("xylophonics")
    assert nothing.total == 0 and nothing.corrected_query is None and nothing.results == ()


def test_query_language(searcher: Searcher) -> None:
    assert searcher.search('"specialist asthma nurse"', flat=True).total == 1
    minus = searcher.search("asthma -appendix")
    assert "north-coast/asthma-pathway/appendix.md" not in {h.source for h in minus.results}
    both = searcher.search("+frailty medication")
    assert both.results[0].source == "valley-region/frailty.md"
    assert all("frailty" in (h.snippet.text + h.title).lower() for h in both.results)
    anded = searcher.search("asthma AND ambulance")
    assert {h.source for h in anded.results} == {
        "north-coast.md",
        "north-coast/technical-infrastructure.md",
    }
    prefix = searcher.search("asth*")
    assert prefix.results[0].source.startswith("north-coast/asthma-pathway")
    assert searcher.search("title:frailty").results[0].source == "valley-region/frailty.md"


def test_pages_of_results(searcher: Searcher) -> None:
    everything = searcher.search("data", limit=100)
    second = searcher.search("data", limit=2, page=2)
    assert second.total == everything.total
    assert [h.id for h in second.results] == [h.id for h in everything.results[2:4]]


def test_json_is_exactly_the_documented_shape(searcher: Searcher) -> None:
    data = searcher.search("asthma", sections=["north-coast"]).to_dict()
    assert list(data) == [
        "query",
        "corrected_query",
        "total",
        "page",
        "limit",
        "filters",
        "facets",
        "results",
        "notes",
        "took_ms",
    ]
    assert data["filters"] == {"sections": ["north-coast"], "levels": [], "kinds": []}
    assert list(data["facets"]) == ["section", "kind"]
    assert list(data["facets"]["section"][0]) == ["value", "title", "count"]
    result = data["results"][0]
    assert list(result) == [
        "id",
        "source",
        "title",
        "section",
        "breadcrumb",
        "level",
        "kind",
        "url",
        "page",
        "group_url",
        "score",
        "snippet",
        "snippet_html",
        "parts",
    ]
    assert list(result["parts"][0]) == [
        "source",
        "kind",
        "page",
        "url",
        "score",
        "snippet",
        "snippet_html",
    ]


def test_explain_shows_plan_and_score_parts(searcher: Searcher) -> None:
    results = searcher.search("asthma", explain=True)
    assert results.explain[0].startswith("query:  ")
    assert "body:asthma" in results.results[0].explain[0]


def test_a_rebuilt_index_is_picked_up_without_reopening(tmp_path: Path, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site({"_config.yml": "", "a.md": page("Alpha", "lighthouse")})
    index_dir = tmp_path / "ix"
    build_index(settings_for(site, index_dir))
    with Searcher(index_dir) as live:
        assert live.search("lighthouse").total == 1
        (site / "b.md").write_text(page("Beta", "lighthouse keeper"))
        build_index(settings_for(site, index_dir))
        assert live.search("lighthouse").total == 2
        assert live.generation == "gen-000002"


HOSTILE = st.lists(
    st.sampled_from(
        [
            '"',
            "(",
            ")",
            "AND",
            "OR",
            "NOT",
            "*",
            "?",
            "+",
            "-",
            "title:",
            "section:",
            "level:",
            "kind:pdf",
            "a*",
            "as*",
            "~",
            "^2",
            "[",
            "]",
            "{",
            "}",
            "asthma",
            "ünïcödé",
            "数据",
            "\x00",
            "\u202e",
            "\\",
            "'",
            "::",
            "TO",
            "*:*",
            "/",
            "%",
            "é*",
        ]
    ),
    max_size=12,
).map(" ".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=80), HOSTILE))
def test_no_query_crashes_or_hangs(searcher: Searcher, text: str) -> None:
    start = time.perf_counter()
    try:
        results = searcher.search(text)
    except QueryRefusedError as refused:  # a wildcard with fewer than 2 letters before it
        assert "put at least 2 letters before * or ?" in str(refused)
        return
    assert time.perf_counter() - start < 2.0
    assert results.total >= 0 and results.to_dict()["query"] == text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "a " * 5000,
        " ".join(f"{c}{c}*" for c in "abcdefghijklmnopqrstuvwxyz"),
        "*" * 50,
        "\x00" * 100,
    ],
)
def test_storms_and_giants_are_answered_quickly(searcher: Searcher, text: str) -> None:
    start = time.perf_counter()
    searcher.search(text)
    assert time.perf_counter() - start < 2.0


def test_an_empty_index_answers_with_no_results(tmp_path: Path, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site({"_config.yml": ""})
    build_index(settings_for(site, tmp_path / "ix"))
    with Searcher(tmp_path / "ix") as empty:
        results = empty.search("anything at all")
    assert results.total == 0 and results.results == () and results.section_facets == ()


@pytest.mark.parametrize(
    "text",
    [
        "asthma nurse",
        "the asthma",
        "Frailty in general practice",
        "ICD10 codes",
        "citizens panel data 2019",
        "a",
    ],
)
def test_plain_words_are_planned_exactly_as_the_parser_would(text: str) -> None:
    from chcsearch.query import _parser, _words_query

    direct = _words_query(text)
    assert direct is not None
    assert repr(direct) == repr(_parser().parse(text, normalize=False))


def test_a_sentence_s_own_punctuation_is_not_syntax() -> None:
    plan = build_query(SearchRequest.make("what laws must be obeyed by heated aircraft ."))
    assert not plan.fell_back and plan.notes == ()
    assert not build_query(SearchRequest.make("stroke , care ; audit !")).fell_back
