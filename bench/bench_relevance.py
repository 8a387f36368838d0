"""Relevance benchmark: the judged query set, chcsearch beside plain Whoosh.

    make bench-relevance

Prints MRR@10, nDCG@10 and success@1 (relevant = grade >= 1, as trec_eval),
plus MRR@10 counting only the best (grade-3) answers, for chcsearch and for
plain Whoosh (title and body, stemming, OR grouping, no hierarchy) over the
same index, then per-category figures and the queries chcsearch does not
answer at rank 1. Then the public test collections (Cranfield, CISI; see
bench/ir_collections.py): nDCG@10, AP and R@100 at depth 1000 for chcsearch
beside plain Whoosh and rank-bm25, and a verdict line for each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ir_collections
from common import PROJECT, corpus_index
from plain_whoosh import PlainWhoosh

from chcsearch.evaluate import load_queries, score_rankings
from chcsearch.query import Searcher

QUERIES = PROJECT / "tests" / "relevance" / "queries.jsonl"


def rankings(index_dir: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    queries = load_queries(QUERIES)
    ours: dict[str, list[str]] = {}
    plain: dict[str, list[str]] = {}
    with Searcher(index_dir) as searcher:
        for q in queries:
            results = searcher.search(
                q.query, sections=q.sections, levels=q.levels, kinds=q.kinds, limit=10
            )
            ours[q.id] = [hit.source for hit in results.results]
    peer = PlainWhoosh(index_dir)
    try:
        for q in queries:
            plain[q.id] = peer.ranking(q.query)
    finally:
        peer.close()
    return ours, plain


def main() -> None:
    start = time.perf_counter()
    try:
        mrr = chc_judged_set()
    except SystemExit as exc:  # no real corpus: the collections still run
        print(f"CHC judged set: skipped, {exc}")
        verdicts = ["CHC MRR@10 >= 0.96: skipped (no real corpus)"]
    else:
        verdicts = [f"CHC MRR@10 >= 0.96: {'PASS' if mrr >= 0.96 else 'FAIL'} ({mrr:.3f})"]
    print(f"(CHC judged set: {time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    verdicts += ir_collections.run_all()
    print(f"(test collections: {time.perf_counter() - start:.1f} s)")
    print("\nverdicts:")
    for line in verdicts:
        print(f"  {line}")


def chc_judged_set() -> float:
    """The CHC site's judged query set; returns chcsearch's MRR@10."""
    index_dir = corpus_index()
    queries = load_queries(QUERIES)
    ours, plain = rankings(index_dir)
    a = score_rankings(queries, ours)
    b = score_rankings(queries, plain)
    print(f"{len(queries)} judged queries ({QUERIES.relative_to(PROJECT)})")
    print(f"{'':20}{'chcsearch':>11}{'plain Whoosh':>14}{'difference':>12}")
    for name, value in a.as_row().items():
        other = b.as_row()[name]
        print(f"{name:20}{value:>11.3f}{other:>14.3f}{value - other:>+12.3f}")
    categories = sorted({q.category for q in queries})
    print("\nMRR@10 by category:")
    for category in categories:
        subset = [q for q in queries if q.category == category]
        print(
            f"  {category:16} n={len(subset):<3} chcsearch {score_rankings(subset, ours).mrr10:.3f}"
            f"   plain {score_rankings(subset, plain).mrr10:.3f}"
        )
    misses = [q for q in queries if a.per_query[q.id] < 1]
    if misses:
        print("\nnot first with chcsearch:")
        for q in misses:
            print(f"  {q.id} RR={a.per_query[q.id]:.2f} {q.query!r} -> {ours[q.id][:3]}")
    ahead = all(a.as_row()[k] > b.as_row()[k] for k in ("MRR@10", "nDCG@10", "success@1"))
    print(
        f"\ntargets: ahead of plain Whoosh on every figure {'met' if ahead else 'MISSED'}; "
        f"MRR@10 >= 0.96 {'met' if a.mrr10 >= 0.96 else 'MISSED'}"
    )
    return a.mrr10


if __name__ == "__main__":
    main()
