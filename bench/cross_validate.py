"""Ranking parameters chosen by cross-validation across collections.

    make bench-tune

Every combination of a small grid of ranking parameters is scored on the three
judged sets in one process: nDCG@10 on Cranfield and CISI (as ``make
bench-relevance`` indexes them: a folder of ``ID.txt`` files) and on the CHC
judged set. Leave one collection out: for each set, the parameters that do best
on the mean of the *other two* are chosen and scored on it; the held-out scores
say how well a choice carries to a collection it was not chosen on. The line
"chosen on all three" is what ``chcsearch.engine`` and ``chcsearch.query`` ship
(changed only when this says so).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ir_collections as irc
from common import PROJECT, corpus_index

from chcsearch import engine, plan, query
from chcsearch.config import IndexSettings
from chcsearch.errors import QueryRefusedError
from chcsearch.evaluate import load_queries, score_rankings
from chcsearch.ingest import build_index
from chcsearch.query import Searcher

#: (module, name, values): the grid. The first value of each is what ships.
GRID: list[tuple[Any, str, tuple[float, ...]]] = [
    (query, "FEEDBACK_WEIGHT", (0.4, 0.6)),
    (query, "FEEDBACK_DECAY", (0.5, 0.0, 1.0)),
    # proximity is part of the design (words that stand together count more): its weight
    # is chosen, not whether it is there
    (engine, "PROXIMITY_WEIGHT", (0.3, 0.6)),
    (plan, "K3", (7.0, 3.0)),
]
DEPTH = 100  # nDCG@10 needs 10; more only costs time


@contextmanager
def settings(values: dict[tuple[Any, str], float]) -> Iterator[None]:
    saved = {key: getattr(*key) for key in values}
    for (module, name), value in values.items():
        setattr(module, name, type(getattr(module, name))(value))
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def collection_index(name: str) -> tuple[irc.Collection, Path]:
    collection = irc.load_collection(name, quick=False)
    work = irc.work_dir(name)
    site, index_dir = work / "site", work / "index"
    irc.write_folder(collection, site)
    build_index(IndexSettings(site=site, index_dir=index_dir, cache_dir=work / "cache", jobs=2))
    return collection, index_dir


def collection_ndcg(collection: irc.Collection, searcher: Searcher) -> float:
    run: dict[str, list[str]] = {}
    for qid, text in collection.queries:
        try:
            hits = searcher.search(text, flat=True, limit=DEPTH).results
        except QueryRefusedError:
            hits = searcher.search(plan.plain_words(text), flat=True, limit=DEPTH).results
        run[qid] = [Path(h.source).stem for h in hits]
    return irc.score(collection, run)["nDCG@10"]


def chc_ndcg(index_dir: Path) -> float:
    judged = load_queries(PROJECT / "tests" / "relevance" / "queries.jsonl")
    found = {}
    with Searcher(index_dir) as searcher:
        for q in judged:
            hits = searcher.search(
                q.query, sections=q.sections, levels=q.levels, kinds=q.kinds, limit=10
            )
            found[q.id] = [h.source for h in hits.results]
    return score_rankings(judged, found).as_row()["nDCG@10"]


def main() -> None:
    started = time.perf_counter()
    sets = {name: collection_index(name) for name in irc.available()}
    chc_index = corpus_index()
    names = [*sets, "chc"]
    keys = [(module, name) for module, name, _ in GRID]
    table: list[tuple[dict[tuple[Any, str], float], dict[str, float]]] = []
    for combo in itertools.product(*(values for _, _, values in GRID)):
        values = dict(zip(keys, combo, strict=True))
        with settings(values):
            scores = {}
            for name, (collection, index_dir) in sets.items():
                with Searcher(index_dir) as searcher:  # fresh tables: scoring settings changed
                    scores[name] = collection_ndcg(collection, searcher)
            scores["chc"] = chc_ndcg(chc_index)
        table.append((values, scores))
        shown = ", ".join(f"{name}={value:g}" for (_, name), value in values.items())
        print(f"{shown:70} " + "  ".join(f"{n} {scores[n]:.3f}" for n in names), flush=True)

    def label(values: dict[tuple[Any, str], float]) -> str:
        return ", ".join(f"{name}={value:g}" for (_, name), value in values.items())

    print("\nleave one collection out (chosen on the mean nDCG@10 of the other two):")
    for held in names:
        others = [n for n in names if n != held]
        values, scores = max(table, key=lambda row: statistics.mean(row[1][n] for n in others))
        print(f"  held out {held:9} chosen: {label(values):60} -> {held} nDCG@10 {scores[held]:.3f}")
    values, scores = max(table, key=lambda row: statistics.mean(row[1].values()))
    shipped = table[0]
    print(f"\nchosen on all three: {label(values)}  ({', '.join(f'{n} {scores[n]:.3f}' for n in names)})")
    print(f"shipped:             {label(shipped[0])}  ({', '.join(f'{n} {shipped[1][n]:.3f}' for n in names)})")
    print(f"({len(table)} settings in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
