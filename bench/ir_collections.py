"""Public IR test collections (Cranfield, CISI): chcsearch beside two peers.

The collections live outside the project (``CHCSEARCH_COLLECTIONS``, default
``../shared/collections`` beside it), each a folder of ``docs.jsonl``
(``{"id", "title", "text"}``), ``queries.tsv`` (``qid<TAB>text``) and
``qrels.tsv`` (TREC qrels). Nothing of them is copied into the project: the
folder of documents chcsearch indexes is written under the git-ignored
``.cache/bench/collections/<name>/``.

chcsearch is run as a researcher runs it, as separate processes:

- the documents are written as a folder of ``ID.txt`` files (title on the
  first line, a blank line, the text), rewritten only when ``docs.jsonl``
  changes (its hash is kept beside the folder);
- ``chcsearch index site --index index`` (incremental after the first run);
- ``chcsearch query --batch queries.tsv --format trec --flat --limit 100
  --page N --index index`` for pages 1..10: ``--limit`` is at most 100 (a
  larger value is a usage error), so depth 1000 is read page by page.

The peers are built in-process over the same documents (title + text):
plain Whoosh 2.7.4 (``StemmingAnalyzer``, BM25F defaults, ``MultifieldParser``
over title and text with ``OrGroup``, the query's punctuation read as spaces
so that ``?`` is not a wildcard nor ``:`` a field) and rank-bm25 ``BM25Okapi``
(k1 1.5, b 0.75) over lower-cased word tokens with the original Porter
algorithm's stems (snowballstemmer's ``porter``; Whoosh's own Porter stemmer
differs on some words and costs CISI 0.014 nDCG@10). Both match the reference
figures in the collections' README.

Every system's run is scored by its order (score = depth - rank, so rounded
or tied scores cannot reorder it) with ``ir-measures`` (nDCG@10, AP, R@100),
averaged over every judged query (a query with no results counts as 0).
``CHCSEARCH_BENCH_QUICK=1`` keeps the first 40 judged queries of each.

Usable from tests, e.g.::

    from bench.ir_collections import evaluate_chcsearch
    figures = evaluate_chcsearch("cranfield", tmp_path / "index", ["--sort", "relevance"])
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CACHE = PROJECT / ".cache" / "bench" / "collections"
NAMES = ("cranfield", "cisi")
MEASURE_NAMES = ("nDCG@10", "AP", "R@100")
DEPTH = 1000
PAGE = 100  # chcsearch query --limit is at most 100
QUICK_QUERIES = 40
#: Bumped when the layout of the written folder changes, so it is written again.
FOLDER_FORMAT = "1"

Run = dict[str, list[str]]  # query id -> document ids, best first


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Collection:
    """A collection's documents, its judged queries (file order) and qrels."""

    name: str
    folder: Path
    docs: tuple[Doc, ...]
    queries: tuple[tuple[str, str], ...]  # (qid, text), judged queries only
    qrels: Mapping[str, Mapping[str, int]]  # qid -> docid -> gain
    all_judged: int  # judged queries before the quick cut
    quick: bool


def collections_root() -> Path:
    configured = os.environ.get("CHCSEARCH_COLLECTIONS")
    return Path(configured) if configured else PROJECT.parent / "shared" / "collections"


def quick_mode() -> bool:
    return os.environ.get("CHCSEARCH_BENCH_QUICK", "").strip() not in ("", "0")


def available(root: Path | None = None) -> list[str]:
    """The collections present under ``root`` (each with its three files)."""
    base = root or collections_root()
    files = ("docs.jsonl", "queries.tsv", "qrels.tsv")
    return [n for n in NAMES if all((base / n / f).is_file() for f in files)]


def load_collection(
    name: str, root: Path | None = None, *, quick: bool | None = None
) -> Collection:
    folder = (root or collections_root()) / name
    docs = tuple(
        Doc(str(d["id"]), str(d.get("title") or ""), str(d.get("text") or ""))
        for d in map(json.loads, _lines(folder / "docs.jsonl"))
    )
    qrels: dict[str, dict[str, int]] = {}
    for line in _lines(folder / "qrels.tsv"):
        qid, _, docid, gain = line.split()[:4]
        qrels.setdefault(qid, {})[docid] = int(gain)
    queries = []
    for line in _lines(folder / "queries.tsv"):
        qid, _, text = line.partition("\t")
        if qid.strip() in qrels:
            queries.append((qid.strip(), " ".join(text.split())))
    judged = len(queries)
    quick = quick_mode() if quick is None else quick
    if quick:
        queries = queries[:QUICK_QUERIES]
    kept = {qid for qid, _ in queries}
    return Collection(
        name=name,
        folder=folder,
        docs=docs,
        queries=tuple(queries),
        qrels={qid: grades for qid, grades in qrels.items() if qid in kept},
        all_judged=judged,
        quick=quick,
    )


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def work_dir(name: str) -> Path:
    return CACHE / name


def write_folder(collection: Collection, site: Path | None = None) -> bool:
    """Write the documents as ``ID.txt`` files; False when the folder is already current."""
    site = site or work_dir(collection.name) / "site"
    stamp = site.parent / "docs.sha256"
    digest = hashlib.sha256(FOLDER_FORMAT.encode())
    digest.update((collection.folder / "docs.jsonl").read_bytes())
    wanted = digest.hexdigest()
    names = {f"{d.id}.txt" for d in collection.docs}
    if (
        stamp.is_file()
        and stamp.read_text().strip() == wanted
        and site.is_dir()
        and {p.name for p in site.iterdir()} == names
    ):
        return False
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    for doc in collection.docs:
        title = " ".join(doc.title.split())
        (site / f"{doc.id}.txt").write_text(f"{title}\n\n{doc.text.strip()}\n", encoding="utf-8")
    stamp.write_text(wanted + "\n")
    return True


def chcsearch_command() -> list[str]:
    """The ``chcsearch`` console script beside this Python, else ``python -m chcsearch``."""
    script = Path(sys.executable).parent / "chcsearch"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "chcsearch"]


def index_chcsearch(
    site: Path, index_dir: Path, extra_args: Sequence[str] = ()
) -> dict[str, object]:
    """``chcsearch index SITE --index INDEX --json`` as a process; its summary."""
    command = [*chcsearch_command(), "index", str(site), "--index", str(index_dir), "--json"]
    done = subprocess.run(
        [*command, "--quiet", *extra_args],
        check=False,
        capture_output=True,
        text=True,
        cwd=site.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chcsearch index failed ({done.returncode}): {done.stderr.strip()}")
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def refused_queries(
    collection: Collection, index_dir: Path, extra_args: Sequence[str] = ()
) -> dict[str, str]:
    """Queries with ``*`` or ``?`` that ``chcsearch query`` refuses alone: qid -> its error."""
    refusals = {}
    for qid, text in collection.queries:
        if not _WILDCARD.search(text):
            continue
        command = [*chcsearch_command(), "query", text, "--format", "trec", "--flat"]
        command += ["--limit", "1", "--index", str(index_dir), *extra_args]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            refusals[qid] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return refusals


_WILDCARD = re.compile(r"[*?]")


def run_chcsearch(
    collection: Collection,
    index_dir: Path,
    extra_args: Sequence[str] = (),
    depth: int = DEPTH,
    refused: dict[str, str] | None = None,
) -> Run:
    """``chcsearch query --batch queries.tsv --format trec --flat`` to ``depth``, page by page.

    ``refused`` (when given) receives the queries chcsearch refused, with its error.
    """
    work = work_dir(collection.name)
    work.mkdir(parents=True, exist_ok=True)
    # A query chcsearch would refuse alone (a leading wildcard, "?slip") is searched in a
    # batch as its plain words, with a note; the batch goes on.
    refusals: dict[str, str] = {}
    batch = work / ("queries-quick.tsv" if collection.quick else "queries.tsv")
    batch.write_text(
        "".join(f"{qid}\t{text}\n" for qid, text in collection.queries if qid not in refusals),
        encoding="utf-8",
    )
    run: Run = {qid: [] for qid, _ in collection.queries}
    for page in range(1, -(-depth // PAGE) + 1):
        command = [*chcsearch_command(), "query", "--batch", batch.name, "--format", "trec"]
        command += ["--flat", "--limit", str(PAGE), "--page", str(page), "--index", str(index_dir)]
        done = subprocess.run(
            [*command, *extra_args], check=False, capture_output=True, text=True, cwd=work
        )
        if done.returncode != 0:
            raise RuntimeError(f"chcsearch query failed ({done.returncode}): {done.stderr.strip()}")
        lines = parse_trec(done.stdout)
        for qid, docid in lines:
            run.setdefault(qid, []).append(docid)
        if not lines:
            break
    return {qid: _unique(docs)[:depth] for qid, docs in run.items()}


def parse_trec(text: str) -> list[tuple[str, str]]:
    """``(qid, docid)`` from TREC run lines, in order; ``ID.txt`` read as ``ID``."""
    pairs = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 6:
            docid = parts[2].replace("%20", " ")
            pairs.append((parts[0], docid[:-4] if docid.endswith(".txt") else docid))
    return pairs


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def run_whoosh(collection: Collection, depth: int = DEPTH) -> Run:
    """Plain Whoosh: StemmingAnalyzer, BM25F defaults, MultifieldParser(title, text, OrGroup)."""
    from whoosh import fields, index, qparser
    from whoosh.analysis import StemmingAnalyzer

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=StemmingAnalyzer()),
        text=fields.TEXT(analyzer=StemmingAnalyzer()),
    )
    with tempfile.TemporaryDirectory(prefix="whoosh-", dir=_scratch()) as folder:
        ix = index.create_in(folder, schema)
        writer = ix.writer(limitmb=256)
        for doc in collection.docs:
            writer.add_document(id=doc.id, title=doc.title, text=doc.text)
        writer.commit()
        parser = qparser.MultifieldParser(["title", "text"], ix.schema, group=qparser.OrGroup)
        run: Run = {}
        with ix.searcher() as searcher:
            for qid, text in collection.queries:
                hits = searcher.search(parser.parse(_PUNCTUATION.sub(" ", text)), limit=depth)
                run[qid] = [hit["id"] for hit in hits]
        ix.close()
    return run


def _scratch() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


_TOKEN = re.compile(r"\w+")
_PUNCTUATION = re.compile(r"[^\w\s]")


def porter_stemmer() -> tuple[str, Callable[[str], str]]:
    """The original Porter algorithm (snowballstemmer), else Whoosh's variant of it."""
    try:
        import snowballstemmer
    except ImportError:
        from whoosh.lang.porter import stem

        return "Whoosh's Porter variant (install snowballstemmer for the original)", stem
    return "original Porter", snowballstemmer.stemmer("porter").stemWord


def porter_tokens(text: str, stem: Callable[[str], str] | None = None) -> list[str]:
    stem = stem or porter_stemmer()[1]
    return [stem(word) for word in _TOKEN.findall(text.lower())]


def run_rank_bm25(collection: Collection, depth: int = DEPTH) -> Run:
    """rank-bm25 ``BM25Okapi`` (k1 1.5, b 0.75) over title + text, Porter stems."""
    from rank_bm25 import BM25Okapi

    stem = functools.lru_cache(maxsize=None)(porter_stemmer()[1])
    ids = [doc.id for doc in collection.docs]
    corpus = [porter_tokens(f"{d.title} {d.text}", stem) for d in collection.docs]
    bm25 = BM25Okapi(corpus, k1=1.5, b=0.75)
    run: Run = {}
    for qid, text in collection.queries:
        scores = bm25.get_scores(porter_tokens(text, stem))
        order = sorted(range(len(ids)), key=lambda i: -scores[i])  # stable: ties in file order
        run[qid] = [ids[i] for i in order[:depth] if scores[i] > 0]
    return run


PEERS: dict[str, Callable[[Collection], Run]] = {
    "Whoosh OR": run_whoosh,
    "rank-bm25": run_rank_bm25,
}


def score(collection: Collection, run: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Mean nDCG@10, AP and R@100 (ir-measures) over every judged query of ``collection``."""
    import ir_measures
    from ir_measures import AP, R, nDCG

    measures = [nDCG @ 10, AP, R @ 100]
    qrels = [
        ir_measures.Qrel(qid, docid, gain)
        for qid, grades in collection.qrels.items()
        for docid, gain in grades.items()
    ]
    scored = [
        ir_measures.ScoredDoc(qid, docid, float(DEPTH - rank))
        for qid, docs in run.items()
        if qid in collection.qrels
        for rank, docid in enumerate(docs)
    ]
    per_query: dict[tuple[str, str], float] = {}
    for metric in ir_measures.iter_calc(measures, qrels, scored):
        per_query[(str(metric.measure), metric.query_id)] = float(metric.value)
    count = len(collection.queries) or 1
    return {
        name: sum(per_query.get((name, qid), 0.0) for qid, _ in collection.queries) / count
        for name in MEASURE_NAMES
    }


def evaluate_chcsearch(
    name: str,
    index_dir: Path,
    extra_args: Sequence[str] = (),
    *,
    index_args: Sequence[str] = (),
    root: Path | None = None,
    quick: bool | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, float]:
    """Write the folder, ``chcsearch index`` it into ``index_dir``, query, score.

    ``extra_args`` go to ``chcsearch query``, ``index_args`` to ``chcsearch index``.
    ``timings`` (when given) receives the seconds of each step.
    """
    collection = load_collection(name, root, quick=quick)
    clock = timings if timings is not None else {}
    start = time.perf_counter()
    write_folder(collection)
    clock["write folder"] = time.perf_counter() - start
    start = time.perf_counter()
    index_chcsearch(work_dir(name) / "site", index_dir, index_args)
    clock["chcsearch index"] = time.perf_counter() - start
    start = time.perf_counter()
    run = run_chcsearch(collection, index_dir, extra_args)
    clock["chcsearch query"] = time.perf_counter() - start
    return score(collection, run)


def evaluate_peer(
    name: str, peer: str, *, root: Path | None = None, quick: bool | None = None
) -> dict[str, float]:
    """One peer (a key of ``PEERS``) built and scored on collection ``name``."""
    collection = load_collection(name, root, quick=quick)
    return score(collection, PEERS[peer](collection))


@dataclass
class Outcome:
    name: str
    figures: dict[str, dict[str, float]]  # system -> measure -> value
    delta_ndcg: float  # chcsearch minus the best peer on nDCG@10


def report_collection(name: str, root: Path) -> Outcome:
    """Evaluate chcsearch and the peers on ``name`` and print a table and timings."""
    collection = load_collection(name, root)
    site, index_dir = work_dir(name) / "site", work_dir(name) / "index"
    times: dict[str, float] = {}
    start = time.perf_counter()
    rewritten = write_folder(collection, site)
    times["write folder" + ("" if rewritten else " (current)")] = time.perf_counter() - start
    start = time.perf_counter()
    summary = index_chcsearch(site, index_dir)
    times[f"chcsearch index ({'rebuilt' if summary.get('rebuilt') else 'update'})"] = (
        time.perf_counter() - start
    )
    start = time.perf_counter()
    refused: dict[str, str] = {}
    runs = {"chcsearch": run_chcsearch(collection, index_dir, refused=refused)}
    times[f"chcsearch query ({len(collection.queries)} queries x {DEPTH // PAGE} pages)"] = (
        time.perf_counter() - start
    )
    for peer, ranker in PEERS.items():
        start = time.perf_counter()
        runs[peer] = ranker(collection)
        times[f"{peer} (build + rank)"] = time.perf_counter() - start
    start = time.perf_counter()
    figures = {system: score(collection, run) for system, run in runs.items()}
    times["ir-measures"] = time.perf_counter() - start

    long_queries = sum(1 for _, text in collection.queries if len(_TOKEN.findall(text)) > 32)
    print(
        f"\n{name}: {len(collection.docs):,} documents, {len(collection.queries)} of "
        f"{collection.all_judged} judged queries, depth {DEPTH} "
        f"({long_queries} queries over 32 words)"
    )
    peers = list(PEERS)
    header = f"{'':10}{'chcsearch':>11}" + "".join(f"{p:>11}" for p in peers)
    print(header + f"{'best peer':>12}{'difference':>12}")
    for measure in MEASURE_NAMES:
        best = max(peers, key=lambda p: figures[p][measure])
        row = f"{measure:10}{figures['chcsearch'][measure]:>11.3f}"
        row += "".join(f"{figures[p][measure]:>11.3f}" for p in peers)
        delta = figures["chcsearch"][measure] - figures[best][measure]
        print(row + f"{best:>12}{delta:>+12.3f}")
    empty = {
        s: sum(1 for qid, _ in collection.queries if not run.get(qid)) for s, run in runs.items()
    }
    print("queries with no results: " + ", ".join(f"{s} {n}" for s, n in empty.items()))
    for qid, error in refused.items():
        print(f"refused by chcsearch (exit 2, scored 0): query {qid}: {error}")
    print("seconds: " + "; ".join(f"{step} {secs:.1f}" for step, secs in times.items()))
    best_ndcg = max(figures[p]["nDCG@10"] for p in peers)
    return Outcome(name, figures, figures["chcsearch"]["nDCG@10"] - best_ndcg)


def verdict(outcome: Outcome) -> str:
    ok = outcome.delta_ndcg >= 0.01
    return (
        f"{outcome.name}: chcsearch ahead of the best peer by >= 0.01 nDCG@10: "
        f"{'PASS' if ok else 'FAIL'} ({outcome.delta_ndcg:+.3f})"
    )


def run_all() -> list[str]:
    """Every collection found: tables printed; the verdict lines returned."""
    root = collections_root()
    names = available(root)
    mode = (
        f"quick, the first {QUICK_QUERIES} judged queries of each (CHCSEARCH_BENCH_QUICK=1)"
        if quick_mode()
        else f"full, every judged query (CHCSEARCH_BENCH_QUICK=1: the first {QUICK_QUERIES})"
    )
    print(f"\npublic test collections; mode: {mode}; rank-bm25 stems: {porter_stemmer()[0]}")
    if not names:
        line = (
            f"test collections: skipped, none found at {root} (set CHCSEARCH_COLLECTIONS "
            "to the folder holding cranfield/ and cisi/)"
        )
        print(line)
        return [line]
    missing = [n for n in NAMES if n not in names]
    if missing:
        print(f"skipped, not found under {root}: {', '.join(missing)}")
    return [verdict(report_collection(name, root)) for name in names]


if __name__ == "__main__":
    for text in run_all():
        print(text)
