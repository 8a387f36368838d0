"""Shared set-up for the benchmarks: the real corpus, and an index of it kept between runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT / ".cache" / "bench"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: The flags tests/test_browser.py launches Chromium with (no background networking:
#: this machine's closed network refuses it).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def corpus() -> Path:
    configured = os.environ.get("CHCSEARCH_CORPUS")
    path = Path(configured) if configured else PROJECT.parent / "shared" / "corpus" / "chc-site"
    if not (path / "_config.yml").is_file():
        raise SystemExit(f"real corpus not found at {path}; set CHCSEARCH_CORPUS")
    return path


def corpus_index() -> Path:
    """The real corpus indexed under .cache/bench (incremental after the first run)."""
    from chcsearch.config import IndexSettings
    from chcsearch.ingest import build_index

    index_dir = BENCH_DIR / "index"
    settings = IndexSettings(
        site=corpus(), index_dir=index_dir, cache_dir=BENCH_DIR / "cache", jobs=os.cpu_count() or 1
    )
    summary = build_index(settings)
    print(
        f"index: {summary.documents:,} documents ({summary.pages} pages, {summary.pdf_pages:,} PDF pages), "
        f"{summary.seconds:.1f} s to bring up to date",
        file=sys.stderr,
    )
    return index_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    index_dir: Path, port: int, *, workers: int, cache: bool
) -> subprocess.Popen[bytes]:
    """``chcsearch serve`` on 127.0.0.1:``port``, once its ``/healthz`` answers."""
    env = {**os.environ, "CHCSEARCH_RESULT_CACHE": "256" if cache else "0"}
    command = [sys.executable, "-m", "chcsearch", "serve", "--index", str(index_dir)]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(f"http://127.0.0.1:{port}/healthz", process, "chcsearch serve")
    return process


def wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Return once ``url`` answers; exit the benchmark if ``process`` ends or 60 s pass."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{what} did not start")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_static_site(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """``python -m http.server`` over ``folder`` (a static host), once its index.html answers."""
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    command += ["--directory", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/index.html", process, "python -m http.server")
    return process
