"""Hostile queries: deadlines that stop a search, threads that share a Searcher, bounded cost."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, page, run_cli, settings_for

from chcsearch.deadline import Deadline
from chcsearch.errors import QueryRefusedError, SearchTimeoutError
from chcsearch.ingest import build_index
from chcsearch.plan import MAX_WORDS
from chcsearch.query import QueryBudget, Searcher, build_query
from chcsearch.render import to_json
from chcsearch.results import SearchRequest, SearchResults

#: 32 two-letter prefixes, as an attacker sent them
PREFIXES = "co pa he da re st pr in ca se de ma an ac tr di ho me ne po su te ch fo ge lo pe sa ti wo mo bo"
STORM = " ".join(f"{p}*" for p in PREFIXES.split(" "))
SYLLABLES = [consonant + "a" for consonant in "bcdfghjklmnpqrstvwxyz"]
QUERIES = [
    "asthma nurse",
    "frail*",
    "co*",
    "co*d",
    '"asthma pathway"',
    '"technical infrastructure" data',
    "+frailty -index",
    "asthma AND (nurse OR school)",
    "asthmaa nurse",  # a misspelling
    "title:frailty",
    "stroke^3 care",
    "section:north-coast asthma",
    STORM,
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site, plus a page with 21 words for each of the storm's prefixes."""
    root = tmp_path_factory.mktemp("hostile")
    site = root / "content"
    shutil.copytree(PROJECT / "content", site)
    words = [p[:-1] + s + "x" for p in STORM.split() for s in SYLLABLES]
    (site / "hub" / "glossary.md").write_text(
        page("Glossary", " ".join(words), section="hub/glossary"), encoding="utf-8"
    )
    index_dir = root / "index"
    build_index(settings_for(site, index_dir))
    return index_dir


def _shape(results: SearchResults) -> dict[str, Any]:
    payload = results.to_dict()
    payload.pop("took_ms")
    return payload


def _answers(searcher: Searcher, text: str) -> dict[str, Any]:
    return _shape(searcher.search(text))


class CountdownDeadline(Deadline):
    """A deadline that passes at its ``after``-th check: stops a search at each of its checks in turn."""

    __slots__ = ("after", "checks")

    def __init__(self, after: int) -> None:
        super().__init__(None)
        self.after = after
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        if self.checks > self.after:
            raise self.error()


def test_an_expired_deadline_stops_the_search(hostile_index: Path) -> None:
    with Searcher(hostile_index) as searcher:
        with pytest.raises(SearchTimeoutError, match="was stopped"):
            searcher.search("asthma nurse", deadline=Deadline(-1))
        with pytest.raises(SearchTimeoutError):
            searcher.suggest("as", deadline=Deadline(-1))
        with pytest.raises(SearchTimeoutError):
            searcher.run(SearchRequest("frail*"), deadline=Deadline(-1))


@pytest.mark.parametrize("text", QUERIES)
def test_a_search_stopped_at_any_check_leaves_the_searcher_answering_as_a_fresh_one(
    hostile_index: Path, text: str
) -> None:
    with Searcher(hostile_index) as fresh:
        expected = _answers(fresh, text)
    with Searcher(hostile_index) as searcher:
        stops = 0
        while True:
            deadline = CountdownDeadline(stops)
            try:
                searcher.search(text, deadline=deadline)
            except SearchTimeoutError:
                stops += 1
                assert stops < 5000
                continue
            break
        assert stops > 3  # the search checked its deadline along the way
        assert _answers(searcher, text) == expected


def test_many_threads_get_exactly_the_answers_of_one(hostile_index: Path) -> None:
    with Searcher(hostile_index) as fresh:
        expected = {text: _answers(fresh, text) for text in QUERIES}
        expected_suggestions = {text: fresh.suggest(text) for text in ("co", "frail", "as")}
    with Searcher(hostile_index) as shared:

        def worker(seed: int) -> list[tuple[str, Any]]:
            order = QUERIES * 3
            random.Random(seed).shuffle(order)
            got: list[tuple[str, Any]] = [(text, _answers(shared, text)) for text in order]
            got += [("suggest " + t, shared.suggest(t)) for t in expected_suggestions]
            return got

        with ThreadPoolExecutor(max_workers=8) as pool:
            for answers in pool.map(worker, range(8)):
                for text, answer in answers:
                    if text.startswith("suggest "):
                        assert answer == expected_suggestions[text.removeprefix("suggest ")]
                    else:
                        assert answer == expected[text], text


def _budget_line(results: SearchResults) -> tuple[int, int, int]:
    line = next(line for line in results.explain if line.startswith("budget:"))
    numbers = re.match(
        r"budget: wildcards read ([\d,]+) .* searched ([\d,]+) .* highlighting read ([\d,]+)", line
    )
    assert numbers is not None, line
    read, searched, highlighted = (int(n.replace(",", "")) for n in numbers.groups())
    return read, searched, highlighted


def test_a_storm_of_prefixes_is_cut_to_its_budget_with_a_note(hostile_index: Path) -> None:
    with Searcher(hostile_index) as searcher:
        results = searcher.search(STORM, explain=True)
    assert results.total > 0
    assert results.notes[0].startswith("the query's 32 wildcard words were cut to fit its budget")
    read, searched, _ = _budget_line(results)
    assert searched <= QueryBudget().query_terms
    assert read <= QueryBudget().query_scan


def test_the_words_read_for_wildcards_are_bounded_by_the_budget(hostile_index: Path) -> None:
    budget = QueryBudget(prefix_scan=5, query_scan=60, prefix_terms=3, query_terms=40)
    with Searcher(hostile_index, budget=budget) as searcher:
        storm = searcher.search(STORM, explain=True)
        one = searcher.search("co*", explain=True)
        suggestions = searcher.suggest("co", limit=50)
    read, searched, highlighted = _budget_line(storm)
    assert 0 < read <= 60 and 0 < searched <= 40 and highlighted <= 60
    read, searched, _ = _budget_line(one)
    assert read <= 5 * 5 and searched <= 5 * 3  # five fields, each within its prefix budget
    assert "'co' matches more than 5 words; the 3 commonest were searched" in one.notes
    assert len([s for s in suggestions if s["kind"] == "word"]) <= 2 * 5


def test_inner_wildcards_are_served_by_the_prefix_before_them(hostile_index: Path) -> None:
    with Searcher(hostile_index) as searcher:
        inner = searcher.search("coba*x")
        plain = searcher.search("cobax")
        pattern = searcher.search("co?ax")
    assert inner.total == plain.total == 1
    assert {h.id for h in pattern.results} == {h.id for h in plain.results}


@pytest.mark.parametrize("text", ["*co*", "?ab", "title:*ma", "asthma +*ur", "a*", "c?d"])
def test_a_wildcard_without_two_letters_before_it_is_refused_with_what_to_do(
    hostile_index: Path, text: str
) -> None:
    with pytest.raises(QueryRefusedError, match=r"put at least 2 letters before \* or \?"):
        build_query(SearchRequest(text))
    with Searcher(hostile_index) as searcher, pytest.raises(QueryRefusedError):
        searcher.search(text)


def test_the_cli_refuses_a_leading_wildcard_with_exit_code_2(hostile_index: Path) -> None:
    result = run_cli("query", "*co*", "--index", str(hostile_index))
    assert result.returncode == 2
    assert "put at least 2 letters before * or ?" in result.stderr


def test_a_huge_boost_gives_finite_scores_and_valid_json(hostile_index: Path) -> None:
    text = "stroke^" + "9" * 400
    with Searcher(hostile_index) as searcher:
        results = searcher.search(text)
    assert results.total > 0
    assert all(math.isfinite(h.score) for h in results.results)
    assert "boosts (word^N) were limited to 0–10" in results.notes
    rendered = to_json(results.to_dict())
    assert "Infinity" not in rendered and "NaN" not in rendered
    assert json.loads(rendered)["results"][0]["score"] == pytest.approx(results.results[0].score)
    cli = run_cli("query", text, "--index", str(hostile_index), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["total"] == results.total


def test_deep_nesting_falls_back_to_plain_words_with_a_note() -> None:
    plan = build_query(SearchRequest("(" * 200 + "asthma nurse" + ")" * 200))
    assert plan.fell_back and plan.text == "asthma nurse"
    assert plan.notes == (
        "the query nests parentheses 200 deep (at most 8), so its words were searched: asthma nurse",
    )


def test_many_phrases_or_operators_fall_back_to_plain_words_with_a_note() -> None:
    twelve = build_query(SearchRequest(" ".join(f'"asthma w{i}"' for i in range(12))))
    assert twelve.fell_back
    assert twelve.notes[0].startswith("the query has 12 phrases (at most 8)")
    fifty = build_query(SearchRequest(" ".join(f'"asthma w{i}"' for i in range(50))))
    assert "Phrase" not in repr(fifty.query)
    assert fifty.notes[0].startswith("the query has 50 phrases (at most 8)")
    many = build_query(SearchRequest(" ".join(f'"asthma w{i}"' for i in range(200))))
    assert "Phrase" not in repr(many.query)
    assert many.notes == (f"the query was cut to its first {MAX_WORDS} words",)
    signs = build_query(SearchRequest(" ".join(f"+w{i} -v{i}" for i in range(10))))
    assert signs.fell_back and signs.notes[0].startswith("the query has 20 operators (at most 16)")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + ")" * 500,
        '"' * 999,
        '"a ' * 333,
        "-" * 1000,
        "+-" * 500,
        "(a AND " * 140,
        "a^" + "9" * 990,
        "co? " * 250,
    ],
)
def test_thousand_character_hostile_queries_are_planned(text: str) -> None:
    plan = build_query(SearchRequest(text))
    assert plan.query is not None and len(plan.text) <= 1000


def test_queries_are_folded_like_pdf_text(hostile_index: Path) -> None:
    searcher = Searcher(hostile_index)
    plain = searcher.search("asthma")
    for variant in ("𝔞𝔰𝔱𝔥𝔪𝔞", "ａｓｔｈｍａ", "ASTHMA"):
        folded = searcher.search(variant)
        assert folded.total == plain.total > 0
        assert [h.id for h in folded.results] == [h.id for h in plain.results]
