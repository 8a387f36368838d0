"""The peer for relevance and latency benchmarks: plain Whoosh on the same index.

Plain Whoosh is what a developer gets from Whoosh's tutorial: the title and
body fields (stemmed, as indexed), OR grouping of the words, Whoosh's
default BM25F scoring, no field weights, no hierarchy (section filters are
not applied), highlights from Whoosh's highlighter. To judge it in the same
units as chcsearch, each hit is mapped to the page it belongs to (the
``group`` field) and repeats are dropped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chcsearch.index import INDEX_NAME, IndexStore

from whoosh import highlight, index, qparser


class PlainWhoosh:
    def __init__(self, index_dir: Path) -> None:
        generation = IndexStore(index_dir).open_current()
        self.ix = index.open_dir(str(generation.path), indexname=INDEX_NAME)
        self.searcher = self.ix.searcher()
        self.parser = qparser.MultifieldParser(
            ["title", "body"], self.ix.schema, group=qparser.OrGroup
        )

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()

    def ranking(self, text: str, depth: int = 10) -> list[str]:
        """Page ids of the first ``depth`` distinct pages among Whoosh's hits."""
        results = self.searcher.search(self.parser.parse(text), limit=200)
        pages: list[str] = []
        for hit in results:
            group = hit["group"]
            if group not in pages:
                pages.append(group)
            if len(pages) == depth:
                break
        return pages

    def top10(self, text: str, *, highlights: bool) -> tuple[float, Any]:
        """One timed top-10 search (optionally with Whoosh's highlights); milliseconds."""
        start = time.perf_counter()
        results = self.searcher.search(self.parser.parse(text), limit=10)
        if highlights:
            results.fragmenter = highlight.ContextFragmenter(maxchars=220)
            for hit in results:
                hit.highlights("body")
        return (time.perf_counter() - start) * 1000, results
