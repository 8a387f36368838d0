"""Query latency benchmark on the real corpus, beside plain Whoosh.

    make bench-query

* warm: one open ``Searcher``, top 10 with snippets and facets, every query of
  the judged set (with its filters) repeated; p50 and p95 in milliseconds.
  Plain Whoosh runs the same query texts on the same index: top 10 alone,
  and top 10 with Whoosh's own highlights.
* process: ``chcsearch query TEXT`` as a whole new process (start to
  output), median over the query set; beside a bare ``python -c "import
  whoosh"`` process for scale.

Targets on 2 cores: warm p50 <= 10 ms and p95 <= 30 ms; process median <= 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PROJECT, corpus_index
from plain_whoosh import PlainWhoosh

from chcsearch.evaluate import load_queries
from chcsearch.query import Searcher

QUERIES = PROJECT / "tests" / "relevance" / "queries.jsonl"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="times each query is repeated (warm)")
    parser.add_argument("--processes", type=int, default=20, help="queries run as whole processes")
    args = parser.parse_args()
    index_dir = corpus_index()
    queries = load_queries(QUERIES)

    ours: list[float] = []
    with Searcher(index_dir) as searcher:
        for q in queries:  # warm-up: first use of each term reads its postings
            searcher.search(q.query, sections=q.sections, levels=q.levels, kinds=q.kinds)
        for _ in range(args.rounds):
            for q in queries:
                start = time.perf_counter()
                searcher.search(q.query, sections=q.sections, levels=q.levels, kinds=q.kinds)
                ours.append((time.perf_counter() - start) * 1000)

    peer = PlainWhoosh(index_dir)
    plain: list[float] = []
    plain_hl: list[float] = []
    try:
        for q in queries:
            peer.top10(q.query, highlights=True)
        for _ in range(args.rounds):
            for q in queries:
                plain.append(peer.top10(q.query, highlights=False)[0])
                plain_hl.append(peer.top10(q.query, highlights=True)[0])
    finally:
        peer.close()

    process: list[float] = []
    for q in queries[: args.processes]:
        command = [
            sys.executable,
            "-m",
            "chcsearch",
            "query",
            q.query,
            "--index",
            str(index_dir),
            "-f",
            "json",
        ]
        for section in q.sections:
            command += ["--section", section]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        process.append((time.perf_counter() - start) * 1000)
    bare: list[float] = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import whoosh.index"], check=True, capture_output=True
        )
        bare.append((time.perf_counter() - start) * 1000)

    print(f"{len(queries)} queries x {args.rounds} rounds, warm (milliseconds)")
    print(f"{'':44}{'p50':>8}{'p95':>8}")
    rows = [
        ("chcsearch Searcher.search (snippets, facets)", ours),
        ("plain Whoosh top 10", plain),
        ("plain Whoosh top 10 + highlights", plain_hl),
    ]
    for name, values in rows:
        print(f"{name:44}{percentile(values, 0.5):>8.2f}{percentile(values, 0.95):>8.2f}")
    print(
        f"ratio chcsearch / plain Whoosh top 10: p50 {percentile(ours, 0.5) / percentile(plain, 0.5):.2f}x, "
        f"p95 {percentile(ours, 0.95) / percentile(plain, 0.95):.2f}x"
    )
    print(
        f"\nwhole process, median of {len(process)}: chcsearch query {statistics.median(process):.0f} ms; "
        f"bare python + import whoosh {statistics.median(bare):.0f} ms"
    )
    ok_warm = percentile(ours, 0.5) <= 10 and percentile(ours, 0.95) <= 30
    ok_process = statistics.median(process) <= 300
    print(
        f"targets: warm p50 <= 10 ms and p95 <= 30 ms {'met' if ok_warm else 'MISSED'}; "
        f"process median <= 300 ms {'met' if ok_process else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
