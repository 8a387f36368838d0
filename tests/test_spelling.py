"""Spelling you can trust: corrections only on strong evidence, on a site of our own."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from helpers import index_of, page

from chcsearch.query import Searcher
from chcsearch.spelling import REAL_WORD_RATIO, SpellIndex

SITE: dict[str, str] = {
    "_config.yml": "title: Spelling\n",
    "stroke.md": page("Stroke prevention", "Secondary stroke prevention in primary care."),
    # "infect" is here, "insect" nowhere, and "infect" never beside "damage"
    "infection.md": page("Wound care", "Bacteria infect open wounds quickly."),
    "damage.md": page("Storm damage", "Roof damage after the storm."),
    # "cancer" is here, "canker" nowhere, and "cancer" never beside "sores"
    "oncology.md": page("Oncology", "Cancer screening saves lives."),
    "mouth.md": page("Mouth care", "Sores in the mouth heal in a week."),
    # everyday words the site has: never "corrected"
    "words.md": page(
        "Plain words",
        "Through the year too much iodine was given; though rare, two cases needed care.",
    ),
    # "Hart" is a surname in one report; heart failure is everywhere else
    "people.md": page("Acknowledgements", "We thank Dr Jane Hart for her advice."),
}
for number in range(REAL_WORD_RATIO + 5):
    SITE[f"cardio/{number}.md"] = page(
        f"Clinic {number}", "Heart failure clinic notes: heart failure is managed at home."
    )


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    with Searcher(index_of(tmp_path_factory, "spelling", SITE)) as opened:
        yield opened


def corrected(searcher: Searcher, text: str) -> str | None:
    return searcher.search(text).corrected_query


def test_an_unknown_word_that_fits_the_others_is_corrected(searcher: Searcher) -> None:
    assert corrected(searcher, "strok prevention") == "stroke prevention"
    assert corrected(searcher, "strok") == "stroke"  # alone: one edit away, commonest


def test_an_unknown_word_whose_neighbour_does_not_fit_is_left_alone(searcher: Searcher) -> None:
    # "infect" is one edit from "insect" but never stands with "damage"
    assert corrected(searcher, "insect damage") is None
    # "cancer" is one edit from "canker" but never stands with "sores"
    assert corrected(searcher, "canker sores") is None


def test_words_the_index_has_are_never_rewritten_without_context(searcher: Searcher) -> None:
    for text in ("Through the year", "Too Much Iodine", "though two", "infect"):
        assert corrected(searcher, text) is None, text


def test_stop_words_are_never_taken_for_misspellings(searcher: Searcher) -> None:
    # stop words are in no spelling field, so they look rare: they are never "corrected"
    for text in (
        "data from the hospital",
        "the effects of smoking and stroke",
        "patients are treated for stroke",
        "care will improve",
    ):
        assert corrected(searcher, text) is None, text


def test_boosts_and_long_queries(searcher: Searcher) -> None:
    assert corrected(searcher, "stroke^nan prevention") is None  # "nan" is a boost
    long = "stroke prevention in primary care clinic notes on storm damage roof wounds hart failure"
    assert corrected(searcher, long) is None  # a description: only unknown words are fixed


def test_a_rare_real_word_is_corrected_only_when_the_context_is_clear(
    searcher: Searcher,
) -> None:
    # "hart" is a real word here (one document), "heart" is 59 times as common and,
    # unlike "hart", stands beside "failure"
    assert corrected(searcher, "hart failure") == "heart failure"
    assert corrected(searcher, "Jane Hart") is None  # the context fits "hart" itself
    assert corrected(searcher, "hart") is None  # no context: a real word stays


def test_no_correct_searches_the_words_as_typed(searcher: Searcher) -> None:
    assert searcher.search("strok prevention", correct=False).corrected_query is None
    assert searcher.search("hart failure", correct=False).corrected_query is None


def test_symmetric_deletes_find_what_a_full_scan_finds() -> None:
    counts = {"stroke": 9, "strike": 3, "stoke": 2, "stork": 1, "heart": 50, "hart": 1}
    spell = SpellIndex(counts, counts.__getitem__)
    # one edit: stroke (commonest first), stork (a swap); two: stoke (one letter the word
    # lacks and one it adds); "strike" (a letter changed and one added) needs two deletes
    # on the word's side, which the index of one-delete forms does not hold
    assert spell.candidates("strok") == [(1, "stroke"), (1, "stork"), (2, "stoke")]
    assert spell.candidates("hart") == [(1, "heart")]
    assert spell.candidates("xyzzy") == []


def test_a_corrected_query_is_fast_once_the_deletes_are_built(searcher: Searcher) -> None:
    searcher.search("strok prevention")  # builds the generation's deletes
    started = time.perf_counter()
    for _ in range(20):
        searcher.search("preventin of strok")
    per_query = (time.perf_counter() - started) / 20
    assert per_query < 0.5  # a sanity bound; make bench-query measures it properly


def test_a_word_being_typed_is_completed_not_corrected(searcher: Searcher) -> None:
    # "preven" is two edits from "prevention": not a misspelling, the start of a word
    assert corrected(searcher, "preven") == "preven*"
    assert searcher.search("preven").total >= 1
