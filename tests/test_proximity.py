"""Proximity: documents where the query's words stand together, in order, rank higher;
a quoted phrase ranks first where it is prominent (a title)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import index_of, page

from chcsearch import engine
from chcsearch.query import Searcher

FILLER = " ".join(f"filler{n}" for n in range(30))
SITE = {
    "_config.yml": "title: Proximity\n",
    # the same words, as often, in texts of the same length: only their places differ
    "a-far.md": page("Notes one", f"Heat was high that summer. {FILLER} Staff transfer followed."),
    "b-near.md": page("Notes two", f"Staff followed that summer. {FILLER} The heat transfer was high."),
    "c-reversed.md": page("Notes three", f"Staff followed that summer. {FILLER} Transfer heat was high."),
    # a phrase: in one page's title, and three times in a long body elsewhere
    "tre.md": page("Trusted Research Environment", "How the environment is run."),
    "pathway.md": page(
        "Durham pathway",
        " ".join(["A trusted research environment holds the data."] * 3 + [FILLER] * 6),
    ),
}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    with Searcher(index_of(tmp_path_factory, "proximity", SITE)) as opened:
        yield opened


def ranked(searcher: Searcher, text: str) -> list[str]:
    return [hit.source for hit in searcher.search(text, flat=True).results]


def test_words_that_stand_together_in_order_rank_first(searcher: Searcher) -> None:
    assert ranked(searcher, "heat transfer")[:3] == ["b-near.md", "c-reversed.md", "a-far.md"]


def test_without_proximity_the_same_documents_tie(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PROXIMITY_WEIGHT", 0.0)
    scores = {h.source: h.score for h in searcher.search("heat transfer", flat=True).results}
    assert scores["a-far.md"] == pytest.approx(scores["b-near.md"])


def test_proximity_closeness_of_a_pair(searcher: Searcher) -> None:
    assert engine._pair_closeness([3], [4]) == 1.0  # next to each other, in order
    assert engine._pair_closeness([4], [3]) == 0.5  # next to each other, the other way
    assert engine._pair_closeness([1], [4]) == pytest.approx(1 / 3)
    assert engine._pair_closeness([1], [1 + engine.PROXIMITY_WINDOW + 1]) == 0.0


def test_a_quoted_phrase_ranks_first_where_it_is_a_title(searcher: Searcher) -> None:
    assert ranked(searcher, '"trusted research environment"')[0] == "tre.md"
    assert ranked(searcher, "trusted research environment")[0] == "tre.md"
