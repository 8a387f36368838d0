"""Static-bundle benchmark: the search box over `chcsearch bundle` in Chromium, beside serve mode.

    make bench-static

Builds (or brings up to date) the real-corpus index, writes the static
bundle into a temporary site folder served by ``python -m http.server``
(no chcsearch process for static mode), and drives the search box in
Debian's Chromium through Playwright:

* relevance: the judged query set typed into the static box (section filters
  applied by clicking the chips), beside ``chcsearch serve``'s JSON API and
  the serve-mode box, as MRR@10, nDCG@10 and success@1;
* first-query bytes: what a new visitor (empty cache) fetches from the bundle
  between typing the first character of "stroke" and its results;
* in-browser query time: the ``ms`` of the box's ``chcsearch:results`` events
  over rounds of the judged queries' texts, static beside serve mode.

Targets: static MRR@10 >= 0.92, first query <= 500 KB, static p50 <= 50 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PROJECT,
    corpus_index,
    free_port,
    start_static_site,
    stop,
    wait_for,
)

from chcsearch.bundle import PAGEFIND_DIR, write_bundle
from chcsearch.evaluate import JudgedQuery, load_queries, score_rankings
from chcsearch.index import IndexStore, stored_documents

QUERIES = PROJECT / "tests" / "relevance" / "queries.jsonl"
TOP = 10
TIMING_QUERIES = 30
TIMING_ROUNDS = 3
EVENT_TIMEOUT_MS = 30_000
TARGET_MRR = 0.92
TARGET_FIRST_KB = 500
TARGET_P50_MS = 50.0

HOST_CSS = """
body { margin: 0; font: 15px/1.4 sans-serif; }
.nav { display: flex; align-items: center; gap: 12px; height: 40px; padding: 0 12px;
       background: #123; color: #fff; }
.nav .grow { flex: 1; }
.nav input { width: 180px; }
main { padding: 12px; }
"""


def host_page(css: str, script: str) -> str:
    """A page of a site: a 40 px flex navbar holding the box, then some text."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/host.css">
<link rel="stylesheet" href="{css}">
<title>Host</title></head><body>
<header class="nav"><a href="/">Home</a><span class="grow"></span>
<input type="search" data-chcsearch aria-label="Search" placeholder="Search"></header>
<main><p>{"Some page text. " * 200}</p></main>
{script}
</body></html>"""


# ---- servers ---------------------------------------------------------------------------------


def start_serve(index_dir: Path, port: int, origin: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chcsearch", "serve", "--index", str(index_dir)]
    command += ["--port", str(port), "--cors-origin", origin]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/healthz", process, "chcsearch serve")
    return process


# ---- results back to sources -----------------------------------------------------------------


def link_sources(index_dir: Path) -> dict[str, str]:
    """Result link (path, unquoted, no #page) -> the source the judgments name.

    A page's link is its own; a report's pages group under the page that links
    them (that page's link), and an unlinked report's result links its PDF.
    """
    docs = stored_documents(IndexStore(index_dir).open_current())
    found: dict[str, str] = {}
    for doc in docs:
        if doc.get("kind") == "pdf":
            path = urllib.parse.unquote(str(doc.get("url") or "").split("#")[0])
            found.setdefault(path, str(doc.get("source") or ""))
    for doc in docs:  # pages last: a page's own link always names the page
        if doc.get("kind") == "page":
            found[urllib.parse.unquote(str(doc.get("url") or ""))] = str(doc.get("source") or "")
    return found


def to_source(href: str, links: dict[str, str], unmapped: list[str]) -> str:
    parsed = urllib.parse.urlsplit(href)
    path = urllib.parse.unquote(parsed.path)
    if path in links:
        return links[path]
    unmapped.append(href)
    return href


def ranking_of(hrefs: list[str], links: dict[str, str], unmapped: list[str]) -> list[str]:
    ranking: list[str] = []
    for href in hrefs:
        source = to_source(href, links, unmapped)
        if source not in ranking:
            ranking.append(source)
    return ranking[:TOP]


# ---- the box in the browser ------------------------------------------------------------------

LISTEN = """() => {
  window.__chc = window.__chc || [];
  const box = document.querySelector('input[data-chcsearch]');
  if (!box.__chcListening) {
    box.__chcListening = true;
    box.addEventListener('chcsearch:results', e => window.__chc.push(e.detail));
  }
}"""

WAIT_EVENT = """([from, query, page]) =>
  (window.__chc || []).slice(from).some(e => e.query === query && e.page === page)"""

FIND_EVENT = """([from, query, page]) =>
  (window.__chc || []).slice(from).filter(e => e.query === query && e.page === page).pop()"""


def where(message: Any) -> str:
    """The address a console message is about (a failed resource's own), as a path."""
    location = message.location or {}
    return urllib.parse.urlsplit(str(location.get("url") or "")).path or "?"


class Box:
    """The search box of one host page in one browser page."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.problems: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"console {msg.type}: {msg.text} [{where(msg)}]")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"HTTP {r.status} for {urllib.parse.urlsplit(r.url).path}")
                if r.status >= 400
                else None
            ),
        )

    def open(self) -> None:
        self.page.goto(self.url)
        self.page.wait_for_selector("input[data-chcsearch][data-chcsearch-ready]")
        self.page.evaluate(LISTEN)

    def events(self) -> int:
        return int(self.page.evaluate("() => (window.__chc || []).length"))

    def wait(self, since: int, query: str, page: int = 1) -> dict[str, Any]:
        self.page.wait_for_function(WAIT_EVENT, arg=[since, query, page], timeout=EVENT_TIMEOUT_MS)
        detail: dict[str, Any] = self.page.evaluate(FIND_EVENT, [since, query, page])
        return detail

    def search(self, query: str) -> dict[str, Any]:
        """Clear the box, type ``query`` (one input event), and wait for its results."""
        box = self.page.locator("input[data-chcsearch]")
        box.fill("")
        since = self.events()
        box.fill(query)  # sets the value and dispatches an input event
        return self.wait(since, query.strip())

    def click_and_wait(self, locator: Any, query: str, page: int) -> dict[str, Any]:
        since = self.events()
        locator.click()
        return self.wait(since, query, page)

    def hrefs(self) -> list[str]:
        found: list[str] = self.page.locator(".chcsearch-result a.chcsearch-title").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        return found

    def top(self, query: str) -> list[str]:
        """The first ``TOP`` result links, asking for more while fewer are shown."""
        more = self.page.locator("button.chcsearch-more")
        page = 1
        while len(self.hrefs()) < TOP and more.is_visible():
            page += 1
            self.click_and_wait(more, query, page)
        return self.hrefs()[:TOP]


def run_judged(box: Box, queries: list[JudgedQuery]) -> tuple[dict[str, list[str]], list[str], int]:
    """Each judged query through the box: its hrefs, the filters that could not be applied,
    and the chips clicked."""
    hrefs: dict[str, list[str]] = {}
    unapplied: list[str] = []
    clicked = 0
    box.open()
    for q in queries:
        text = q.query.strip()
        try:
            if q.sections:
                box.open()  # a fresh box: no filter left from an earlier query
            box.search(text)
            for section in q.sections:
                parts = section.split("/")
                for depth in range(1, len(parts) + 1):
                    value = "/".join(parts[:depth])
                    chip = box.page.locator(
                        f'button.chcsearch-chip[data-section="{value}"]:not(.chcsearch-chip-on)'
                    )
                    if not chip.count():
                        unapplied.append(f"{q.id}: no chip {value!r} offered for {section!r}")
                        break
                    box.click_and_wait(chip.first, text, 1)
                    clicked += 1
            hrefs[q.id] = box.top(text)
        except Exception as exc:  # a query that never answers is a result worth printing
            unapplied.append(f"{q.id}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            hrefs[q.id] = box.hrefs()[:TOP] if not box.page.is_closed() else []
            box.open()
        if q.sections:
            box.open()
    return hrefs, unapplied, clicked


def api_rankings(port: int, queries: list[JudgedQuery]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for q in queries:
        params = [("q", q.query), ("limit", str(TOP))] + [("section", s) for s in q.sections]
        params += [("level", v) for v in q.levels] + [("kind", k) for k in q.kinds]
        url = f"http://127.0.0.1:{port}/api/search?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            data = json.load(answer)
        found[q.id] = [str(r["source"]) for r in data["results"]][:TOP]
    return found


def query_times(box: Box, texts: list[str]) -> tuple[float, list[float]]:
    """The first (cold) query's ms, then every later query's over the rounds."""
    box.open()
    cold = float(box.search(texts[0])["ms"])
    times: list[float] = []
    for _ in range(TIMING_ROUNDS):
        for text in texts:
            times.append(float(box.search(text)["ms"]))
    return cold, times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def first_query_bytes(browser: Any, url: str) -> tuple[dict[str, Any], list[str]]:
    """What a new visitor fetches from /search/ while typing "stroke", and just after."""
    context = browser.new_context()
    try:
        page = context.new_page()
        box = Box(page, url)
        responses: list[tuple[str, Any]] = []
        phase = {"now": "load"}
        page.on(
            "response",
            lambda r: (
                responses.append((phase["now"], r))
                if urllib.parse.urlsplit(r.url).path.startswith("/search/")
                else None
            ),
        )
        box.open()
        field = page.locator("input[data-chcsearch]")
        field.click()
        since = box.events()
        phase["now"] = "query"
        field.press_sequentially("stroke", delay=30)
        event = box.wait(since, "stroke")
        phase["now"] = "after"
        page.wait_for_timeout(2000)
        phase["now"] = "done"
        sizes: dict[str, list[int]] = {"load": [], "query": [], "after": []}
        largest: list[tuple[int, str]] = []
        for when, response in responses:
            if when not in sizes:
                continue
            try:
                size = len(response.body())
            except Exception:  # a response without a body (redirect, aborted)
                size = 0
            sizes[when].append(size)
            if when == "query":
                largest.append((size, urllib.parse.urlsplit(response.url).path))
        largest.sort(reverse=True)
        result = {
            "event": event,
            "sizes": sizes,
            "largest": [f"{size / 1024:.1f} KB {path}" for size, path in largest[:6]],
        }
        return result, box.problems
    finally:
        context.close()


# ---- output ----------------------------------------------------------------------------------


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _cpu_ticks() -> dict[int, tuple[str, int]]:
    """pid -> (command name, user + system clock ticks so far), from /proc."""
    found: dict[int, tuple[str, int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (name, int(fields[11]) + int(fields[12]))
    return found


def busy_processes(seconds: float = 1.0) -> str:
    """The processes that used the most CPU over the next ``seconds`` (Linux /proc)."""
    if not Path("/proc/self/stat").is_file():
        return "(no /proc here)"
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    hertz = os.sysconf("SC_CLK_TCK")
    used = [
        (100.0 * (ticks - before[pid][1]) / hertz / seconds, name)
        for pid, (name, ticks) in after.items()
        if pid in before and ticks > before[pid][1]
    ]
    used.sort(reverse=True)
    busy = [f"{name} {cpu:.0f}%" for cpu, name in used[:6] if cpu >= 2]
    return ", ".join(busy) or "nothing above 2% of a core"


def load_line(label: str) -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"{label}: load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores; "
        f"CPU over 1 s: {busy_processes()}"
    )


@contextmanager
def timed(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"  ({label}: {time.perf_counter() - started:.1f} s)", file=sys.stderr)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    if CHROMIUM is None:
        raise SystemExit("Chromium not found; install Debian's chromium package (make browser)")
    from playwright.sync_api import sync_playwright

    print(load_line("at start"))
    index_dir = corpus_index()
    queries = load_queries(QUERIES)
    links = link_sources(index_dir)
    site = Path(tempfile.mkdtemp(prefix="chcsearch-bench-static-"))
    static_server: subprocess.Popen[bytes] | None = None
    serve: subprocess.Popen[bytes] | None = None
    try:
        # site_url "": result links stay on this test site, whatever the corpus configures
        summary = write_bundle(index_dir, site / "search", site_url="")
        pf_files, pf_bytes = folder_size(site / "search" / PAGEFIND_DIR)
        box_js = (site / "search" / "chcsearch.js").read_bytes()
        print(
            f"bundle: {summary.bytes / 1e6:.1f} MB in {summary.files} files "
            f"(Pagefind {pf_bytes / 1e6:.1f} MB in {pf_files} files; "
            f"{summary.pages} pages + {summary.pdf_pages} PDF pages as records, "
            f"{summary.vocabulary:,} vocabulary words), built in {summary.seconds:.1f} s"
        )
        print(
            f"box: chcsearch.js {len(box_js):,} bytes, "
            f"sha256 {hashlib.sha256(box_js).hexdigest()[:12]}"
        )
        site_port, serve_port = free_port(), free_port()
        while serve_port == site_port:
            serve_port = free_port()
        origin = f"http://127.0.0.1:{site_port}"
        service = f"http://127.0.0.1:{serve_port}"
        (site / "host.css").write_text(HOST_CSS, encoding="utf-8")
        (site / "index.html").write_text(
            host_page(
                "/search/chcsearch.css",
                '<script src="/search/chcsearch.js" data-bundle="/search/" defer></script>',
            ),
            encoding="utf-8",
        )
        (site / "serve.html").write_text(
            host_page(
                f"{service}/static/chcsearch.css",
                f'<script src="{service}/static/chcsearch.js" data-endpoint="{service}" '
                "defer></script>",
            ),
            encoding="utf-8",
        )
        static_server = start_static_site(site, site_port)
        serve = start_serve(index_dir, serve_port, origin)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                print(f"browser: Chromium {browser.version} (Playwright, headless)")
                problems: dict[str, list[str]] = {}

                # first-query bytes first, while nothing of the bundle has been fetched yet
                with timed("first-query bytes"):
                    fetched, problems["first query"] = first_query_bytes(
                        browser, origin + "/index.html"
                    )

                context = browser.new_context()
                try:
                    static_box = Box(context.new_page(), origin + "/index.html")
                    with timed("static box, judged set"):
                        static_hrefs, static_unapplied, static_clicks = run_judged(
                            static_box, queries
                        )
                    serve_box = Box(context.new_page(), origin + "/serve.html")
                    with timed("serve box, judged set"):
                        serve_hrefs, serve_unapplied, serve_clicks = run_judged(serve_box, queries)
                finally:
                    context.close()
                problems["static box"] = static_box.problems
                problems["serve box"] = serve_box.problems

                texts = list(dict.fromkeys(q.query.strip() for q in queries))[:TIMING_QUERIES]
                timing: dict[str, tuple[float, list[float]]] = {}
                loads = [os.getloadavg()[0]]
                for mode, path in (("static", "/index.html"), ("serve", "/serve.html")):
                    context = browser.new_context()
                    try:
                        box = Box(context.new_page(), origin + path)
                        with timed(f"{mode} box, query times"):
                            timing[mode] = query_times(box, texts)
                        problems[f"{mode} timing"] = box.problems
                        loads.append(os.getloadavg()[0])
                    finally:
                        context.close()
            finally:
                browser.close()
        with timed("serve API, judged set"):
            api = api_rankings(serve_port, queries)
    finally:
        stop(serve)
        stop(static_server)
        shutil.rmtree(site, ignore_errors=True)

    # ---- relevance
    unmapped: list[str] = []
    static_rank = {qid: ranking_of(h, links, unmapped) for qid, h in static_hrefs.items()}
    serve_box_rank = {qid: ranking_of(h, links, unmapped) for qid, h in serve_hrefs.items()}
    scores = {
        "static box": score_rankings(queries, static_rank),
        "serve API": score_rankings(queries, api),
        "serve box": score_rankings(queries, serve_box_rank),
    }
    print(f"\nrelevance: {len(queries)} judged queries ({QUERIES.relative_to(PROJECT)}), top {TOP}")
    print(f"{'':14}" + "".join(f"{name:>13}" for name in scores))
    for figure in scores["static box"].as_row():
        print(f"{figure:14}" + "".join(f"{s.as_row()[figure]:>13.3f}" for s in scores.values()))
    mrr = scores["static box"].mrr10
    print(f"target: static MRR@10 >= {TARGET_MRR}: {verdict(mrr >= TARGET_MRR)} ({mrr:.3f})")
    filtered = [q for q in queries if q.sections]
    wanted = sum(len(s.split("/")) for q in filtered for s in q.sections)
    print(
        f"  section filters: {len(filtered)} queries, {wanted} chip clicks needed; clicked "
        f"{static_clicks} in the static box, {serve_clicks} in the serve box"
    )
    for label, notes in (("static box", static_unapplied), ("serve box", serve_unapplied)):
        for note in notes:
            print(f"  {label}: filter not applied / query problem: {note}")
    if unmapped:
        print(f"  result links that map to no indexed page or PDF: {sorted(set(unmapped))[:10]}")
    empty = [qid for qid, h in static_hrefs.items() if not h]
    if empty:
        print(f"  static box showed no results for: {', '.join(empty)}")

    static_scores = scores["static box"]
    misses = [q for q in queries if static_scores.per_query[q.id] < 1]
    print(f"\nstatic box: queries whose first relevant result is not at rank 1 ({len(misses)}):")
    for q in misses:
        rr = static_scores.per_query[q.id]
        rank = str(round(1 / rr)) if rr else "-"
        api_rr = scores["serve API"].per_query[q.id]
        api_rank = str(round(1 / api_rr)) if api_rr else "-"
        print(
            f"  {q.id} rank {rank:>2} (serve API {api_rank:>2}) {q.query!r}"
            + (f" sections={list(q.sections)}" if q.sections else "")
            + f" -> {static_rank[q.id][:2]}"
        )

    # ---- first-query bytes
    sizes = fetched["sizes"]
    query_bytes = sum(sizes["query"])
    print(
        f"\nfirst query (new context, empty cache; host page and box files loaded before typing: "
        f"{sum(sizes['load']) / 1024:.1f} KB in {len(sizes['load'])} requests)"
    )
    print(
        f'  typing "stroke" until its results: {query_bytes / 1024:.1f} KB in '
        f"{len(sizes['query'])} requests from /search/, {fetched['event']['ms']:.0f} ms in the box "
        f"({fetched['event']['results']} results shown)"
    )
    for line in fetched["largest"]:
        print(f"    {line}")
    print(
        f"  within 2 s after (background): {sum(sizes['after']) / 1024:.1f} KB in "
        f"{len(sizes['after'])} requests"
    )
    print(
        f"target: first query <= {TARGET_FIRST_KB} KB: {verdict(query_bytes <= TARGET_FIRST_KB * 1024)}"
    )

    # ---- query time
    print(
        f"\nin-browser query time (the box's own ms, search start to results rendered; "
        f"{TIMING_ROUNDS} rounds of {len(texts)} queries after a first one, one page each)"
    )
    print(
        "  1-minute load average before / after static / after serve: "
        + " / ".join(f"{value:.2f}" for value in loads)
    )
    for mode, (cold, times) in timing.items():
        print(
            f"  {mode:6} p50 {statistics.median(times):6.1f} ms  p90 {percentile(times, 0.9):6.1f} ms"
            f"  max {max(times):6.1f} ms  (n={len(times)}); first (cold) query {cold:.0f} ms"
        )
        # round 1: each query new to the page (its index chunks and results not yet fetched)
        fresh = times[: len(texts)]
        print(
            f"  {'':6} round 1 alone: p50 {statistics.median(fresh):6.1f} ms  "
            f"p90 {percentile(fresh, 0.9):6.1f} ms  (n={len(fresh)})"
        )
    p50 = statistics.median(timing["static"][1][: len(texts)])
    print(
        f"target: static p50 <= {TARGET_P50_MS:.0f} ms, queries new to the page: "
        f"{verdict(p50 <= TARGET_P50_MS)} ({p50:.1f} ms)"
    )

    # ---- console
    print("\nbrowser console errors and page errors:")
    any_problem = False
    for label, found in problems.items():
        for problem in dict.fromkeys(found):
            any_problem = True
            print(f"  {label}: {problem}")
    if not any_problem:
        print("  none")
    print("\n" + load_line("at end"))


if __name__ == "__main__":
    main()
