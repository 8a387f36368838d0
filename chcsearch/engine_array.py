"""The numpy scoring engine, for indexes of many documents.

``_ArrayEngine`` is ``chcsearch.engine._Engine`` with values as numpy arrays
over all documents; ``chcsearch.engine.make_engine`` makes one from
``ARRAY_ENGINE_DOCS`` documents up. numpy is imported when an engine is made,
not with this module, so a small site's process never pays for it.

Not here: the query walk, postings and the interface (``chcsearch.engine``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .engine import PAGE_BONUS, Page, Ranked, _Engine, _order_results, coordination
from .results import SearchRequest


class _ArrayEngine(_Engine):
    """The same engine with numpy arrays, for indexes of many documents.

    A value is a pair of arrays over all documents: which match, and their
    scores. A union of terms is then a few vector additions, and ranking
    and facet counts are sorts and counts in C: at 48,000 documents a
    common word matches 30,000 of them, which dictionaries merge in 50–100
    ms and arrays in 1–3. Term tables are kept as (document numbers, scores)
    arrays, 12 bytes a document instead of 100. Results are the same as the
    dictionary engine's (a test compares them query for query).
    """

    def __init__(self, searcher: Any, data: dict[str, Any]) -> None:
        super().__init__(searcher, data)
        import numpy as np

        self.np = np
        n = self.doc_count
        self._live = np.ones(n, dtype=bool) if self.live is None else np.array(self.live, bool)
        keys = list(self.group_docs)
        index = {key: i for i, key in enumerate(keys)}
        self._group_keys = keys
        self._group_id = np.array([index.get(g, -1) for g in self.group], dtype=np.int64)
        sections = sorted(set(self.section))
        section_index = {s: i for i, s in enumerate(sections)}
        self._sections = sections
        self._section_id = np.array([section_index[s] for s in self.section], dtype=np.int64)
        kinds = sorted(set(self.kind))
        kind_index = {k: i for i, k in enumerate(kinds)}
        self._kinds = kinds
        self._kind_id = np.array([kind_index[k] for k in self.kind], dtype=np.int64)
        self._years = np.array([y or 0 for y in self.year], dtype=np.int64)
        self._pages = np.zeros(n, dtype=bool)
        self._pages[np.fromiter(self.page_docs, dtype=np.int64)] = True

    # postings as arrays

    def _term_arrays(self, fieldname: str, text: str) -> tuple[Any, Any]:
        np = self.np
        key = ("array", fieldname, text)
        cached = self._tables.get(key)
        if cached is None:
            self.deadline.check()
            found = self._bm25(fieldname, text)
            if found is None:
                ids = np.fromiter(sorted(self.docset(fieldname, text)), dtype=np.int64)
                cached = (ids, np.zeros(ids.size))
            else:
                cached = (np.array(found[0], dtype=np.int64), np.array(found[1]))
            for array in cached:
                array.flags.writeable = False  # shared by every later query
            self._tables.put(key, cached, cached[0].size // 8 + 1)
        return cached  # type: ignore[no-any-return]

    def term_score(self, fieldname: str, text: str, docnum: int) -> float | None:
        ids, scores = self._term_arrays(fieldname, text)
        at = int(self.np.searchsorted(ids, docnum))
        return float(scores[at]) if at < ids.size and ids[at] == docnum else None

    # values: (mask, scores) arrays over all documents

    def _term(self, fieldname: str, text: str, boost: float) -> Any:
        np = self.np
        ids, scores = self._term_arrays(fieldname, text)
        mask = np.zeros(self.doc_count, dtype=bool)
        mask[ids] = True
        dense = np.zeros(self.doc_count)
        dense[ids] = scores * boost if boost != 1 else scores
        return mask, dense

    def _docs(self, value: Any) -> Iterable[int]:
        return (int(d) for d in self.np.flatnonzero(value[0]))

    def _none(self) -> Any:
        return self.np.zeros(self.doc_count, dtype=bool), self.np.zeros(self.doc_count)

    def _all(self) -> Any:
        return self._live.copy(), self.np.zeros(self.doc_count)

    def _pairs(self, pairs: list[tuple[int, float]]) -> Any:
        np = self.np
        mask, dense = self._none()
        if pairs:
            docs = np.array([d for d, _ in pairs], dtype=np.int64)
            mask[docs] = True
            dense[docs] = [s for _, s in pairs]
        return mask, dense

    def _scale(self, value: Any, boost: float) -> Any:
        return value if boost == 1 else (value[0], value[1] * boost)

    def _keep(self, value: Any, docs: Iterable[int]) -> Any:
        np = self.np
        keep = np.zeros(self.doc_count, dtype=bool)
        keep[np.fromiter(docs, dtype=np.int64)] = True
        mask = value[0] & keep
        return mask, self.np.where(mask, value[1], 0.0)

    def _union(self, results: list[Any], *, coordinate: bool) -> Any:
        np = self.np
        if not results:
            return self._none()
        mask = np.zeros(self.doc_count, dtype=bool)
        dense = np.zeros(self.doc_count)
        counts = np.zeros(self.doc_count, dtype=np.int64)
        for found, scores in results:
            mask |= found
            dense += scores
            if coordinate:
                counts += found
        if coordinate:
            total = len(results)
            factor = np.array([coordination(n, total) for n in range(total + 1)])
            dense = dense * factor[counts]
        return mask, dense

    def _intersect(self, results: list[Any]) -> Any:
        mask = results[0][0].copy()
        dense = results[0][1].copy()
        for found, scores in results[1:]:
            mask &= found
            dense += scores
        return mask, self.np.where(mask, dense, 0.0)

    def _minus(self, value: Any, excluded: Any) -> Any:
        mask = value[0] & ~excluded[0]
        return mask, self.np.where(mask, value[1], 0.0)

    def _maybe(self, value: Any, extra: Any) -> Any:
        return value[0], value[1] + self.np.where(value[0], extra[1], 0.0)

    def _require(self, value: Any, required: Any) -> Any:
        mask = value[0] & required[0]
        return mask, self.np.where(mask, value[1], 0.0)

    def _best(self, results: list[Any]) -> Any:
        np = self.np
        if not results:
            return self._none()
        mask = np.zeros(self.doc_count, dtype=bool)
        best = np.full(self.doc_count, -np.inf)
        for found, scores in results:
            mask |= found
            best = np.maximum(best, np.where(found, scores, -np.inf))
        return mask, np.where(mask, best, 0.0)

    # filters, bonus, ranking

    def in_years(self, value: Any, low: int, high: int) -> Any:
        years = self._years  # 0 where a document has no year
        mask = value[0] & (years >= max(low, 1)) & (years <= high)
        return mask, self.np.where(mask, value[1], 0.0)

    def by_authors(self, value: Any, names: list[set[str]]) -> Any:
        docs = self.np.flatnonzero(value[0]).tolist()
        kept = super().by_authors(dict.fromkeys(docs, 0.0), names)
        return self._keep(value, kept)

    def _top(self, value: Any, count: int) -> list[int]:
        np = self.np
        ids = np.flatnonzero(value[0])
        if ids.size > count:
            scores = value[1][ids]
            order = np.lexsort((ids, -scores))[:count]
            ids = ids[order]
        else:
            ids = ids[np.lexsort((ids, -value[1][ids]))]
        return [int(d) for d in ids]

    def _rescaled(self, value: Any, factors: dict[int, float]) -> Any:
        dense = value[1].copy()
        for docnum, factor in factors.items():
            dense[docnum] *= factor
        return value[0], dense

    def with_page_bonus(self, value: Any) -> Any:
        bonus = value[0] & self._pages
        if not bonus.any():
            return value
        return value[0], self.np.where(bonus, value[1] * PAGE_BONUS, value[1])

    def rank(self, value: Any, request: SearchRequest) -> Ranked:
        np = self.np
        self.deadline.check()
        mask, dense = value
        docs = np.flatnonzero(mask)
        scores = dense[docs]
        first = request.offset
        wanted = first + request.limit
        # every matching document, best first, then by document number
        order = np.lexsort((docs, -scores))
        docs, scores = docs[order], scores[order]
        if request.flat:
            keys = docs
            lead_at = np.arange(docs.size)
        else:
            groups = self._group_id[docs]
            # the first (best) document of each group, groups in that order
            _, lead_at = np.unique(groups, return_index=True)
            lead_at.sort()
            keys = groups
        total = int(lead_at.size)
        leads = docs[lead_at]
        by_section: dict[str, Any]
        by_kind: dict[str, Any]
        if request.flat:
            by_section = self._counts(self._sections, self._section_id[docs])
            by_kind = self._counts(self._kinds, self._kind_id[docs])
        else:
            if self.group_section is not None:
                by_section = self._counts(self._sections, self._section_id[leads])
            else:  # results that span sections: sets, so that none counts twice
                pairs = np.unique(keys * len(self._sections) + self._section_id[docs])
                by_section = {}
                for pair in pairs.tolist():
                    key, at = divmod(pair, len(self._sections))
                    by_section.setdefault(self._sections[at], set()).add(key)
            by_kind = self._pair_counts(self._kinds, keys, self._kind_id[docs])
        if request.sort == "relevance":
            chosen = lead_at[first:wanted]
            ordered = [int(keys[i]) for i in chosen]
        else:
            best = {int(keys[i]): float(scores[i]) for i in lead_at}
            lead = {int(keys[i]): int(docs[i]) for i in lead_at}
            ordered = _order_results(self, best, lead, request.sort)[first:wanted]
        page: Page = []
        for key in ordered:
            if request.flat:
                page.append((key, [(key, float(dense[key]))]))
                continue
            name = self._group_keys[key]
            members = [(d, float(dense[d])) for d in self.group_docs[name] if mask[d]]
            members.sort(key=lambda item: (-item[1], item[0]))
            page.append((name, members))
        return page, total, by_section, by_kind

    def _counts(self, names: list[str], ids: Any) -> dict[str, int]:
        counts = self.np.bincount(ids, minlength=len(names))
        return {names[i]: int(c) for i, c in enumerate(counts) if c}

    def _pair_counts(self, names: list[str], keys: Any, ids: Any) -> dict[str, int]:
        pairs = self.np.unique(keys * len(names) + ids)
        return self._counts(names, pairs % len(names))
