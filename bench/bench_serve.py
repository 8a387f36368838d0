"""HTTP benchmark: `chcsearch serve` on the real corpus under 32 concurrent clients.

    make bench-serve            # or: python bench/bench_serve.py --seconds 30

wrk (Debian package ``wrk``) drives ``/api/search`` with a fixed query mix
(the judged query set, with its section filters, pages 1-3) for 30 s from
32 connections, against ``chcsearch serve --workers 2``, after 10 s of the
same load to warm each worker up (they read each term's postings once):

* as deployed: each server process keeps its 256 most recent answers;
* every request searched: the answer cache off (``CHCSEARCH_RESULT_CACHE=0``);
* the peer, measured the same way: ``/healthz``, the HTTP stack alone.

Prints requests/s, p50/p99 latency and errors (non-2xx answers and socket
errors). Targets on 2 cores: no errors, >= 150 requests/s, p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PROJECT, corpus_index, free_port, start_server

from chcsearch.evaluate import load_queries

QUERIES = PROJECT / "tests" / "relevance" / "queries.jsonl"


def mix_script(folder: Path) -> Path:
    paths = []
    for page in (1, 2, 3):
        for q in load_queries(QUERIES):
            params = [("q", q.query), ("page", str(page))] + [("section", s) for s in q.sections]
            paths.append("/api/search?" + urllib.parse.urlencode(params))
    lines = ",\n".join('  "' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script = folder / "mix.lua"
    script.write_text(
        "local paths = {\n" + lines + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def run_wrk(url: str, seconds: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout

    def millis(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    requests = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": millis("50"),
        "p99": millis("99"),
        "requests": float(requests.group(1)) if requests else 0.0,
        "errors": float(
            (int(non2xx.group(1)) if non2xx else 0)
            + (sum(map(int, sockets.groups())) if sockets else 0)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=30, help="measured run")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured run first, same load")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    index_dir = corpus_index()
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="chcsearch-serve-") as tmp:
        script = mix_script(Path(tmp))
        for label, cache, path, lua in (
            ("search, as deployed (answer cache on)", True, "", script),
            ("search, every request searched", False, "", script),
            ("peer: /healthz (HTTP stack alone)", True, "/healthz", None),
        ):
            port = free_port()
            server = start_server(index_dir, port, workers=2, cache=cache)
            try:
                url = f"http://127.0.0.1:{port}{path}"
                run_wrk(
                    url, args.warmup, lua
                )  # each worker reads the postings of its queries' terms once
                rows.append((label, run_wrk(url, args.seconds, lua)))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(
        f"wrk: 32 connections, 2 threads, {args.seconds} s after {args.warmup} s warm-up; "
        f"server: 2 worker processes; {os.cpu_count()} cores"
    )
    print(f"{'':42}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
    for label, r in rows:
        print(
            f"{label:42}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['requests']:>10.0f}{r['errors']:>8.0f}"
        )
    peer = rows[2][1]["rps"]
    for label, r in rows[:2]:
        ok = r["errors"] == 0 and r["rps"] >= 150 and r["p99"] <= 250
        print(
            f"{label}: {r['rps'] / peer:.2f}x the peer's requests/s; "
            f"targets (no errors, >= 150 req/s, p99 <= 250 ms) {'met' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
