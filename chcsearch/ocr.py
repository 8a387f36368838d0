"""OCR of PDF pages that have no text layer: Tesseract, when it is installed.

A page is rendered to a grey-scale image by poppler's ``pdftoppm`` and read by
``tesseract``; both are Debian packages (``poppler-utils``,
``tesseract-ocr``). ``missing_tools`` tells the caller, before indexing
starts, which ones are absent.

``read_pages`` records each page in an ``OcrRun`` as soon as it is read, so a
caller whose time limit interrupts it keeps the pages already read and knows
which were not.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .model import Problem

TOOLS = {"tesseract": "tesseract-ocr", "pdftoppm": "poppler-utils"}
PAGE_SECONDS = 120


def missing_tools() -> list[str]:
    """Install hints for the OCR tools that are not on PATH (empty when all are)."""
    return [
        f"{tool} (apt-get install {package})"
        for tool, package in TOOLS.items()
        if shutil.which(tool) is None
    ]


def page_list(numbers: Sequence[int]) -> str:
    """Page numbers for a message: the first 12, and how many more."""
    shown = ", ".join(str(n) for n in numbers[:12])
    return shown + (f" and {len(numbers) - 12} more" if len(numbers) > 12 else "")


@dataclass
class OcrRun:
    """What OCR of one file has done so far: the text of each page read (1-based
    page number: text, possibly empty) and the pages that failed, with why."""

    found: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def problems(self) -> list[Problem]:
        """At most one ``ocr-failed`` problem, naming every page that failed."""
        if self.missing:
            return [
                Problem("ocr-failed", "", "OCR tools are missing: " + ", ".join(self.missing) + ".")
            ]
        if not self.failed:
            return []
        numbers = sorted(self.failed)
        reasons = ", ".join(dict.fromkeys(self.failed[n] for n in numbers))
        return [
            Problem(
                "ocr-failed",
                "",
                f"OCR of page(s) {page_list(numbers)} failed ({reasons}); they stay without text.",
            )
        ]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        tool = Path(str(exc.cmd[0])).name if exc.cmd else "OCR"
        return f"{tool} exited with status {exc.returncode}"
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"a page took longer than {PAGE_SECONDS} s"
    return type(exc).__name__


def read_pages(path: str, numbers: Sequence[int], run: OcrRun) -> None:
    """Read the given physical pages (1-based) with Tesseract into ``run``."""
    missing = missing_tools()
    if missing:
        run.missing = missing
        return
    with tempfile.TemporaryDirectory(prefix="chcsearch-ocr-") as folder:
        for number in numbers:
            image = Path(folder) / f"page-{number}"
            try:
                subprocess.run(
                    [
                        "pdftoppm",
                        "-r",
                        "200",
                        "-gray",
                        "-png",
                        "-singlefile",
                        "-f",
                        str(number),
                        "-l",
                        str(number),
                        path,
                        str(image),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=PAGE_SECONDS,
                )
                result = subprocess.run(
                    ["tesseract", str(image) + ".png", "stdout", "quiet"],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=PAGE_SECONDS,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                run.failed[number] = _reason(exc)
                continue
            run.found[number] = result.stdout
