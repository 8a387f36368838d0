"""OCR of PDF pages that have no text layer: Tesseract, when it is installed.

A page is rendered to a grey-scale image by poppler's ``pdftoppm`` and read by
``tesseract``; both are Debian packages (``poppler-utils``,
``tesseract-ocr``). ``missing_tools`` tells the caller, before indexing
starts, which ones are absent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
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


def ocr_pages(path: str, numbers: Sequence[int]) -> tuple[dict[int, str], list[Problem]]:
    """Text of the given physical pages (1-based) read by Tesseract."""
    found: dict[int, str] = {}
    problems: list[Problem] = []
    missing = missing_tools()
    if missing:
        return found, [
            Problem("ocr-failed", "", "OCR tools are missing: " + ", ".join(missing) + ".")
        ]
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
                problems.append(
                    Problem(
                        "ocr-failed",
                        "",
                        f"OCR of page {number} failed ({type(exc).__name__}); it stays without text.",
                    )
                )
                continue
            found[number] = result.stdout
    return found, problems
