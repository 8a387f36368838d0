"""The dictionary engine and the numpy engine give the same results."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, page, settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfgen import text_pdf

from chcsearch.config import IndexSettings
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary
from chcsearch.query import Searcher
from chcsearch.results import SearchResults

QUERIES = [json.loads(line)["query"] for line in (PROJECT / "tests/relevance/queries.jsonl").open()]
SYNTAX = [
    '"asthma nurse"',
    "+asthma -frailty",
    "asthma AND (nurse OR school)",
    "NOT asthma",
    "title:pathway",
    "frail*",
    "kind:pdf stroke",
    "section:north-coast asthma",
    "level:2.2",
    "asthma^2 nurse",
    "",
    "(",
]


def _shape(results: SearchResults) -> dict[str, Any]:
    payload = results.to_dict()
    payload.pop("took_ms")
    return payload


def _same(a: SearchResults, b: SearchResults) -> None:
    left, right = _shape(a), _shape(b)
    scores_left = [r.pop("score") for r in left["results"]]
    scores_right = [r.pop("score") for r in right["results"]]
    for part in [p for r in left["results"] for p in r["parts"]] + [
        p for r in right["results"] for p in r["parts"]
    ]:
        part["score"] = round(part["score"], 3)
    assert left == right
    assert all(
        math.isclose(x, y, rel_tol=1e-6) for x, y in zip(scores_left, scores_right, strict=True)
    )


WORDS = "asthma nurse frailty pathway stroke data report school care index north coast the of"
WORDS_LIST = WORDS.split()

REQUESTS = [
    {},
    {"flat": True},
    {"page": 2, "limit": 3},
    {"sort": "date"},
    {"sort": "title", "flat": True},
    {"kinds": ["pdf"]},
    {"sections": ["north-coast"]},
    {"years": (2000, 2030)},
    {"authors": ["Ann Lee"]},
]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("engines") / "index"
    build_index(settings_for(PROJECT / "content", index, jobs=1))
    return index


@pytest.mark.parametrize("options", REQUESTS)
def test_the_sample_site_answers_the_same(sample_index: Path, options: dict[str, Any]) -> None:
    with (
        Searcher(sample_index, engine="dict") as plain,
        Searcher(sample_index, engine="array") as arrays,
    ):
        for text in [*QUERIES[:20], *SYNTAX, "asthma", "frailty index"]:
            _same(plain.search(text, **options), arrays.search(text, **options))


def test_a_folder_with_metadata_answers_the_same(make_site: Any, tmp_path: Path) -> None:
    root = make_site(
        {
            "a/one.pdf": text_pdf(
                [["Heart failure clinic"], ["Heart nurses and diuretics"]], author="Ann Lee"
            ),
            "a/two.md": page("Heart Rhythm", "Heart rhythm audit.", year=2019, tags="[audit]"),
            "b/three.txt": "Lung checks\n\nLung and heart screening in 2020.",
            "b/_meta.yml": "year: 2020\nauthors: Bo Chan\n",
        }
    )
    build_index(settings_for(root, tmp_path / "index"))
    with (
        Searcher(tmp_path / "index", engine="dict") as plain,
        Searcher(tmp_path / "index", engine="array") as arrays,
    ):
        for options in [
            *REQUESTS,
            {"tags": ["audit"]},
            {"authors": ["chan"]},
            {"years": (2020, 2020)},
        ]:
            for text in [
                "heart",
                "heart failure",
                "lung OR rhythm",
                '"heart rhythm"',
                "-heart lung",
            ]:
                _same(plain.search(text, **options), arrays.search(text, **options))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.sampled_from(WORDS_LIST),
        min_size=1,
        max_size=5,
    ),
    flat=st.booleans(),
    page_number=st.integers(1, 3),
)
def test_random_word_queries_answer_the_same(
    sample_index: Path, words: list[str], flat: bool, page_number: int
) -> None:
    with (
        Searcher(sample_index, engine="dict") as plain,
        Searcher(sample_index, engine="array") as arrays,
    ):
        text = " ".join(words)
        _same(
            plain.search(text, flat=flat, page=page_number, limit=4),
            arrays.search(text, flat=flat, page=page_number, limit=4),
        )


@pytest.mark.corpus
def test_the_real_corpus_answers_the_same(corpus_build: tuple[IndexSettings, BuildSummary]) -> None:
    index = corpus_build[0].index_dir
    with Searcher(index, engine="dict") as plain, Searcher(index, engine="array") as arrays:
        for text in QUERIES:
            for options in ({}, {"flat": True}, {"sections": ["hub"]}, {"page": 2}):
                _same(plain.search(text, **options), arrays.search(text, **options))


def test_the_engine_is_chosen_by_size(sample_index: Path) -> None:
    with Searcher(sample_index) as searcher:
        assert type(searcher._fresh().engine).__name__ == "_Engine"
    with pytest.raises(ValueError, match="engine must be"):
        Searcher(sample_index, engine="fast")


def test_an_index_written_in_small_batches_answers_the_same(
    sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chcsearch.index as index_module

    monkeypatch.setattr(index_module, "SEGMENT_DOCS", 4)
    monkeypatch.setattr(index_module, "MULTIPROCESS_MIN_DOCS", 1)
    batched = tmp_path / "batched"
    build_index(settings_for(PROJECT / "content", batched, jobs=2))
    with Searcher(sample_index) as whole, Searcher(batched) as parts:
        assert len(parts._fresh().searcher.reader().leaf_readers()) > 2
        for text in [*QUERIES[:20], *SYNTAX]:
            for options in REQUESTS[:4]:
                _same(whole.search(text, **options), parts.search(text, **options))
