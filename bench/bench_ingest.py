"""Ingest benchmark: cold and no-change builds of the real corpus, beside Recoll.

    make bench-ingest            # or: python bench/bench_ingest.py --runs 3

Each run of chcsearch is a separate ``chcsearch index`` process (start-up
included) with the default extractor and all cores:

* cold: an empty index folder and an empty extraction cache;
* no-change: the same command again on the finished index.

Recoll (Debian ``recollcmd``, PDFs through poppler's ``pdftotext``) indexes
the same tree in the same run, cold (fresh config and database each time).
Figures are medians; targets on a 2-core machine are cold <= 75 s and
no-change <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TARGET_COLD = 75.0
TARGET_NOCHANGE = 2.0


def corpus() -> Path:
    configured = os.environ.get("CHCSEARCH_CORPUS")
    return Path(configured) if configured else PROJECT.parent / "shared" / "corpus" / "chc-site"


def chcsearch_cmd() -> list[str]:
    return [sys.executable, "-m", "chcsearch"]


def timed(cmd: list[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return elapsed, result


def run_chcsearch(site: Path, runs: int) -> dict[str, object]:
    cold: list[float] = []
    nochange: list[float] = []
    summary: dict[str, object] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="chcsearch-bench-") as tmp:
            index = Path(tmp) / "index"
            seconds, result = timed(
                [*chcsearch_cmd(), "index", str(site), "--index", str(index), "--json", "-q"]
            )
            cold.append(seconds)
            summary = json.loads(result.stdout)
            assert summary["pdfs_extracted"] == summary["pdfs"], "cold build must extract every PDF"
            seconds, result = timed(
                [*chcsearch_cmd(), "index", str(site), "--index", str(index), "--json", "-q"]
            )
            again = json.loads(result.stdout)
            assert again["pdfs_extracted"] == 0 and again["files_read"] == 0
            nochange.append(seconds)
    return {"cold": cold, "nochange": nochange, "summary": summary}


def run_recoll(site: Path, runs: int) -> list[float] | str:
    if shutil.which("recollindex") is None:
        return "not installed (apt-get install recollcmd poppler-utils)"
    if shutil.which("pdftotext") is None:
        return "pdftotext missing (apt-get install poppler-utils); Recoll would skip the PDFs"
    times: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="recoll-bench-") as tmp:
            conf = Path(tmp)
            (conf / "recoll.conf").write_text(
                f"topdirs = {site}\nskippedNames = .git\nloglevel = 1\nidxflushmb = 50\n",
                encoding="utf-8",
            )
            seconds, _ = timed(
                ["recollindex", "-c", str(conf), "-z"], env={**os.environ, "HOME": tmp}
            )
            times.append(seconds)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of each measurement (median is reported)"
    )
    args = parser.parse_args()
    site = corpus()
    if not (site / "_config.yml").is_file():
        raise SystemExit(f"real corpus not found at {site}; set CHCSEARCH_CORPUS")
    print(f"corpus {site}; {os.cpu_count()} cores; {args.runs} runs each", flush=True)
    recoll = run_recoll(site, args.runs)
    ours = run_chcsearch(site, args.runs)
    cold = median(ours["cold"])  # type: ignore[arg-type]
    nochange = median(ours["nochange"])  # type: ignore[arg-type]
    summary = ours["summary"]
    print(
        f"indexed: {summary['pages']} pages, {summary['pdfs']} PDFs, {summary['pdf_pages']} PDF pages, "  # type: ignore[index]
        f"{summary['words']:,} words"  # type: ignore[index]
    )
    print(f"{'':24}{'median s':>10}  runs")
    print(
        f"{'chcsearch cold build':24}{cold:>10.2f}  " + " ".join(f"{t:.2f}" for t in ours["cold"])
    )  # type: ignore[attr-defined]
    print(
        f"{'chcsearch no-change':24}{nochange:>10.2f}  "
        + " ".join(f"{t:.2f}" for t in ours["nochange"])
    )  # type: ignore[attr-defined]
    if isinstance(recoll, list):
        peer = median(recoll)
        print(f"{'recoll cold build':24}{peer:>10.2f}  " + " ".join(f"{t:.2f}" for t in recoll))
        print(f"ratio chcsearch cold / recoll cold: {cold / peer:.1f}x")
        print(f"ratio chcsearch no-change / recoll cold: {nochange / peer:.2f}x")
    else:
        print(f"recoll: {recoll}")
    ok_cold = cold <= TARGET_COLD
    ok_nochange = nochange <= TARGET_NOCHANGE
    print(
        f"targets: cold <= {TARGET_COLD:.0f} s {'met' if ok_cold else 'MISSED'}; "
        f"no-change <= {TARGET_NOCHANGE:.0f} s {'met' if ok_nochange else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
