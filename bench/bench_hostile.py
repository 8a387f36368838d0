"""Hostile-load benchmark: `chcsearch serve` on the real corpus, with and without a query storm.

    make bench-hostile          # or: python bench/bench_hostile.py --seconds 30

One server process, answer cache off (``CHCSEARCH_RESULT_CACHE=0``), so
every request searches. Clients are asyncio tasks in this process on raw
HTTP/1.1 keep-alive sockets (light, since they share the cores):

* phase A: 16 normal clients replaying the judged queries (with their section
  filters), and a ``/healthz`` poller (every 50 ms);
* phase B: the same, plus 4 storm clients cycling through 32 two-letter
  prefixes, leading wildcards, 500-character queries, deep parentheses and
  boost overflows.

Printed side by side: normal requests/s, p50/p99; answers by status (normal
and storm); ``/healthz`` p99; the server's CPU seconds in the 3 s after the
storm stops; normal answers whose total or top-10 sources differ from a
fresh ``Searcher``'s; the server's RSS before and after. Targets on 2 cores:
no 5xx but 503 for storm queries, normal p99 <= 500 ms, ``/healthz`` p99 <=
100 ms, <= 0.3 s CPU after the storm, no differing answers, RSS after <= 1.5x
before. ``CHCSEARCH_BENCH_SECONDS`` (or ``--seconds``) shortens the phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PROJECT, corpus_index, free_port, start_server

from chcsearch.evaluate import load_queries
from chcsearch.query import Searcher

QUERIES = PROJECT / "tests" / "relevance" / "queries.jsonl"
NORMAL_CLIENTS = 16
STORM_CLIENTS = 4
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    differing: int = 0
    failures: int = 0  # sockets closed or timed out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fingerprint(answer: dict[str, object]) -> tuple[object, ...]:
    results = answer["results"]
    assert isinstance(results, list)
    return (answer["total"], tuple(hit["source"] for hit in results[:10]))


def normal_mix(index_dir: Path) -> list[tuple[str, tuple[object, ...]]]:
    """The judged queries as request paths, each with a fresh Searcher's answer."""
    mix = []
    with Searcher(index_dir) as searcher:
        for q in load_queries(QUERIES):
            params = [("q", q.query)] + [("section", s) for s in q.sections]
            expected = searcher.search(q.query, sections=q.sections).to_dict()
            mix.append(("/api/search?" + urllib.parse.urlencode(params), fingerprint(expected)))
    return mix


def storm_queries(rng: random.Random) -> list[str]:
    letters = string.ascii_lowercase

    def prefixes() -> str:
        return " ".join(rng.choice(letters) + rng.choice(letters) + "*" for _ in range(32))

    return [
        prefixes(),
        " ".join("*" + rng.choice(letters) + rng.choice(letters) for _ in range(8)),
        " ".join(rng.choice(["stroke", "care", "jury", "asthma", "copd"]) for _ in range(100))[
            :500
        ],
        "(" * 200 + "stroke" + ")" * 200,
        "stroke^" + "9" * 400 + " care^1e308",
    ]


class Connection:
    """One HTTP/1.1 keep-alive connection; reconnects when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        try:
            self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            body = await asyncio.wait_for(self.reader.readexactly(length), 10)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            self.close()
            raise ConnectionError from None
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def normal_client(
    port: int, mix: list[tuple[str, tuple[object, ...]]], start: int, until: float, tally: Tally
) -> None:
    connection, i = Connection(port), start
    while time.monotonic() < until:
        path, expected = mix[i % len(mix)]
        i += 1
        began = time.monotonic()
        try:
            status, body = await connection.get(path)
        except ConnectionError:
            tally.failures += 1
            continue
        tally.latencies.append(time.monotonic() - began)
        tally.statuses[status] += 1
        if status == 200 and fingerprint(json.loads(body)) != expected:
            tally.differing += 1
    connection.close()


async def storm_client(port: int, seed: int, until: float, tally: Tally) -> None:
    connection, rng = Connection(port), random.Random(seed)
    while time.monotonic() < until:
        for query in storm_queries(rng):
            try:
                status, _ = await connection.get(
                    "/api/search?" + urllib.parse.urlencode({"q": query})
                )
            except ConnectionError:
                tally.failures += 1
                continue
            tally.statuses[status] += 1
    connection.close()


async def health_poller(port: int, until: float, tally: Tally) -> None:
    connection = Connection(port)
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            status, _ = await connection.get("/healthz")
        except ConnectionError:
            tally.failures += 1
            continue
        tally.latencies.append(time.monotonic() - began)
        tally.statuses[status] += 1
        await asyncio.sleep(0.05)
    connection.close()


async def phase(
    port: int, mix: list[tuple[str, tuple[object, ...]]], seconds: float, storm: bool
) -> dict[str, Tally]:
    until = time.monotonic() + seconds
    tallies = {"normal": Tally(), "storm": Tally(), "healthz": Tally()}
    tasks = [
        normal_client(port, mix, n * 5, until, tallies["normal"]) for n in range(NORMAL_CLIENTS)
    ]
    tasks.append(health_poller(port, until, tallies["healthz"]))
    if storm:
        tasks += [storm_client(port, n, until, tallies["storm"]) for n in range(STORM_CLIENTS)]
    await asyncio.gather(*tasks)
    return tallies


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def statuses(tally: Tally) -> str:
    parts = [f"{code}:{count}" for code, count in sorted(tally.statuses.items())]
    if tally.failures:
        parts.append(f"socket:{tally.failures}")
    return " ".join(parts) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = float(os.environ.get("CHCSEARCH_BENCH_SECONDS", "30"))
    parser.add_argument("--seconds", type=float, default=default, help="length of each phase")
    args = parser.parse_args()
    index_dir = corpus_index()
    mix = normal_mix(index_dir)
    port = free_port()
    server = start_server(index_dir, port, workers=1, cache=False)
    load_before = os.getloadavg()
    try:
        asyncio.run(phase(port, mix, min(5.0, args.seconds), storm=False))  # warm-up
        rss_before = rss_mb(server.pid)
        quiet = asyncio.run(phase(port, mix, args.seconds, storm=False))
        stormy = asyncio.run(phase(port, mix, args.seconds, storm=True))
        cpu_at_end = cpu_seconds(server.pid)
        time.sleep(3)
        cpu_after = cpu_seconds(server.pid) - cpu_at_end
        rss_after = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()

    print(
        f"chcsearch serve, 1 worker, answer cache off; {NORMAL_CLIENTS} normal clients "
        f"(judged queries), a /healthz poller, and in phase B {STORM_CLIENTS} storm clients; "
        f"{args.seconds:g} s a phase; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (other work on the machine "
        "and these clients count)"
    )
    rows: list[tuple[str, Callable[[dict[str, Tally]], str]]] = [
        ("normal requests/s", lambda t: f"{len(t['normal'].latencies) / args.seconds:.1f}"),
        ("normal p50 ms", lambda t: f"{percentile(t['normal'].latencies, 0.5):.1f}"),
        ("normal p99 ms", lambda t: f"{percentile(t['normal'].latencies, 0.99):.1f}"),
        ("normal answers by status", lambda t: statuses(t["normal"])),
        ("normal answers differing", lambda t: str(t["normal"].differing)),
        ("storm answers by status", lambda t: statuses(t["storm"])),
        ("/healthz p99 ms", lambda t: f"{percentile(t['healthz'].latencies, 0.99):.1f}"),
        ("/healthz answers by status", lambda t: statuses(t["healthz"])),
    ]
    print(f"{'':28}{'A: normal':>30}{'B: normal + storm':>30}")
    for label, cell in rows:
        print(f"{label:28}{cell(quiet):>30}{cell(stormy):>30}")
    print(f"server CPU in the 3 s after the storm: {cpu_after:.2f} s")
    print(f"server RSS: {rss_before:.0f} MB before, {rss_after:.0f} MB after")

    normal_5xx = sum(
        n for t in (quiet, stormy) for s, n in t["normal"].statuses.items() if s >= 500
    )
    storm_bad = sum(n for s, n in stormy["storm"].statuses.items() if s >= 500 and s != 503)
    health_bad = sum(
        n for t in (quiet, stormy) for s, n in t["healthz"].statuses.items() if s != 200
    )
    checks = {
        "no 5xx for normal queries or /healthz, only 503 for storm queries": normal_5xx
        + storm_bad
        + health_bad
        == 0,
        "normal p99 <= 500 ms under the storm": percentile(stormy["normal"].latencies, 0.99) <= 500,
        "/healthz p99 <= 100 ms under the storm": percentile(stormy["healthz"].latencies, 0.99)
        <= 100,
        "<= 0.3 s CPU in the 3 s after the storm": cpu_after <= 0.3,
        "no differing answers": quiet["normal"].differing + stormy["normal"].differing == 0,
        "RSS after <= 1.5x before": rss_after <= 1.5 * rss_before,
    }
    for label, ok in checks.items():
        print(f"  {'met   ' if ok else 'MISSED'} {label}")


if __name__ == "__main__":
    main()
