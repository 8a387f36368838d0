"""Helpers shared by the tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from chcsearch.config import IndexSettings

PROJECT = Path(__file__).resolve().parents[1]
TEST_CACHE = PROJECT / ".cache" / "test-extract"


def corpus_path() -> Path:
    configured = os.environ.get("CHCSEARCH_CORPUS")
    return Path(configured) if configured else (PROJECT.parent / "shared" / "corpus" / "chc-site")


def settings_for(site: Path, index_dir: Path, **overrides: object) -> IndexSettings:
    values: dict[str, object] = {
        "site": site,
        "index_dir": index_dir,
        "cache_dir": index_dir / "cache",
        "jobs": 2,
        "pdf_timeout": 60.0,
    }
    values.update(overrides)
    return IndexSettings(**values)  # type: ignore[arg-type]


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root`` (made if missing); return it."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    return root


def page(title: str, body: str = "Some text.", **front: object) -> str:
    """A Markdown page with YAML front matter (values written as given)."""
    lines = ["---", f"title: {title}"]
    lines += [f"{key}: {value}" for key, value in front.items()]
    lines += ["---", "", body, ""]
    return "\n".join(lines)


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m chcsearch`` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "chcsearch", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """``chcsearch serve`` on a free port in a process of its own, once ``/healthz`` answers."""

    def __init__(self, index_dir: Path, *options: str, start_timeout: float = 60) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        command = [sys.executable, "-m", "chcsearch", "serve", "--index", str(index_dir)]
        command += ["--port", str(self.port), *options]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                _, err = self.process.communicate()
                raise RuntimeError(f"chcsearch serve did not start: {err!r}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it, from ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0  # gone meanwhile
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0  # a zombie has no memory


def run_cli_measured(
    *args: str, timeout: float = 300, interval: float = 0.05
) -> tuple[subprocess.CompletedProcess[str], int, float]:
    """Run ``python -m chcsearch`` and sample the resident memory of it and all its
    descendants every ``interval`` seconds (Linux only).

    Returns the result, the peak of the summed resident memory in bytes (what
    the process tree held at once, counting pages shared after a fork once per
    process, so never less than the truth) and the seconds taken.
    """
    import time

    start = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "chcsearch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        peak = 0
        try:
            while process.poll() is None:
                if time.monotonic() - start > timeout:
                    raise subprocess.TimeoutExpired(process.args, timeout)
                peak = max(peak, sum(_rss_bytes(pid) for pid in _descendants(process.pid)))
                time.sleep(interval)
        except BaseException:
            for pid in reversed(_descendants(process.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
            raise
        out, err = process.communicate()
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return result, peak, time.monotonic() - start


class StaticServer:
    """``python -m http.server`` over a folder on a free port: a static host, no chcsearch."""

    def __init__(self, folder: Path, *, start_timeout: float = 30) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"]
        command += ["--directory", str(folder)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"http.server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def index_of(factory: Any, name: str, files: Mapping[str, str | bytes]) -> Path:
    """A site written from ``files`` into a fresh temporary folder and indexed; the index folder.

    ``factory`` is pytest's ``tmp_path_factory``, for module-scoped fixtures.
    """
    from chcsearch.ingest import build_index

    root = factory.mktemp(name)
    build_index(settings_for(write_files(root / "site", files), root / "index"))
    return Path(root / "index")


def tesseract_or_skip() -> None:
    """Skip a test that needs Tesseract and poppler when they are missing (fail under CI)."""
    if shutil.which("tesseract") and shutil.which("pdftoppm"):
        return
    message = "tesseract-ocr and poppler-utils are not installed (make test installs them as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (required when CI=true)")
    pytest.skip(message)


def copy_as_region_archive(corpus_dir: Path, root: Path) -> Path:
    """The corpus's 65 PDFs under ``root`` as reports/<region>/<chapter>/<file>.pdf
    (``Section 4.10.1_….pdf`` in assets/north-west-coast -> north-west-coast/4.10); ``root``."""
    for pdf in sorted((corpus_dir / "assets").rglob("*.pdf")):
        number = re.match(r"Section (\d+\.\d+)", pdf.name)
        assert number, pdf.name
        target = root / "reports" / pdf.parent.name / number.group(1) / pdf.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, target)
    return root


#: The extractors a test runs with: pdfium only when pypdfium2 is installed.
HAS_PDFIUM = importlib.util.find_spec("pypdfium2") is not None
EXTRACTORS = [
    "pdfminer",
    pytest.param(
        "pdfium", marks=pytest.mark.skipif(not HAS_PDFIUM, reason="pypdfium2 is not installed")
    ),
]

#: What only Typer, click, pydantic or rich would print: never in a chcsearch error.
FOREIGN_WORDS = ("Value error", "Usage:", "Try '", "Invalid value", "Input should", "╭", "│", "╰")


def one_error_line(stderr: str) -> str:
    """The one line of a CLI error: ``error: …``, in our words, no traceback or box."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert not any(word in stderr for word in FOREIGN_WORDS), stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    return lines[0]
