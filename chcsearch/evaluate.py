"""Evaluate rankings against graded judgments: MRR@k, nDCG@k, success@k.

Pure functions over plain data, with the usual definitions (as trec_eval's):
a document is relevant when its grade is at least 1; nDCG uses the grades as
gains with a log2 discount, and the ideal ranking of all judged documents.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class JudgedQuery:
    """A query of a test collection and its graded judgments (docid -> grade)."""

    id: str
    query: str
    judgments: Mapping[str, int]
    sections: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    category: str = ""
    note: str = ""


def load_queries(path: Path) -> list[JudgedQuery]:
    """Read a JSON Lines file of judged queries (see tests/relevance/README.md)."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data: dict[str, Any] = json.loads(line)
        queries.append(
            JudgedQuery(
                id=str(data["id"]),
                query=str(data["query"]),
                judgments={str(k): int(v) for k, v in data["judgments"].items()},
                sections=tuple(data.get("sections") or ()),
                levels=tuple(data.get("levels") or ()),
                kinds=tuple(data.get("kinds") or ()),
                category=str(data.get("category", "")),
                note=str(data.get("note", "")),
            )
        )
    return queries


def reciprocal_rank(
    ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10, level: int = 1
) -> float:
    for rank, docid in enumerate(ranking[:k], start=1):
        if judgments.get(docid, 0) >= level:
            return 1.0 / rank
    return 0.0


def ndcg(ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(judgments.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted((g for g in judgments.values() if g > 0), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def success(ranking: Sequence[str], judgments: Mapping[str, int], k: int = 1) -> float:
    return 1.0 if any(judgments.get(d, 0) >= 1 for d in ranking[:k]) else 0.0


@dataclass(frozen=True)
class Scores:
    """Mean figures over a query set, and each query's reciprocal rank."""

    mrr10: float
    ndcg10: float
    success1: float
    mrr10_best: float
    per_query: Mapping[str, float] = field(default_factory=dict)

    def as_row(self) -> dict[str, float]:
        return {
            "MRR@10": self.mrr10,
            "nDCG@10": self.ndcg10,
            "success@1": self.success1,
            "MRR@10 (grade 3)": self.mrr10_best,
        }


def score_rankings(queries: Iterable[JudgedQuery], rankings: Mapping[str, Sequence[str]]) -> Scores:
    """Mean MRR@10, nDCG@10, success@1 (and MRR@10 counting only grade-3 answers)."""
    items = list(queries)
    if not items:
        return Scores(0.0, 0.0, 0.0, 0.0)
    rr = {q.id: reciprocal_rank(rankings.get(q.id, ()), q.judgments) for q in items}
    count = len(items)
    return Scores(
        mrr10=sum(rr.values()) / count,
        ndcg10=sum(ndcg(rankings.get(q.id, ()), q.judgments) for q in items) / count,
        success1=sum(success(rankings.get(q.id, ()), q.judgments) for q in items) / count,
        mrr10_best=sum(reciprocal_rank(rankings.get(q.id, ()), q.judgments, level=3) for q in items)
        / count,
        per_query=rr,
    )


def qrels_lines(queries: Iterable[JudgedQuery]) -> list[str]:
    """The judgments as TREC qrels lines: ``qid 0 docid grade`` (spaces in ids as %20)."""
    return [
        f"{q.id} 0 {docid.replace(' ', '%20')} {grade}"
        for q in queries
        for docid, grade in sorted(q.judgments.items())
    ]
