"""The extraction cache: PDF text keyed by the PDF's content hash.

An unchanged PDF (same bytes, wherever it lives and whatever it is called)
is never extracted twice. Entries are gzip-compressed JSON written
atomically; an unreadable entry is treated as missing. The key includes the
extractor's settings, so changing them starts a fresh cache; OCR is the
exception, since it only adds to what was read without it: an OCR run starts
from the entry of the same extractor without OCR (``with_key``) and reads
only the pages that had no text.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .model import PdfText, Problem

_CHUNK = 1 << 20
_log = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ExtractionCache:
    """Extracted PDF text under ``root/<extractor key>/<sha[:2]>/<sha>.json.gz``."""

    def __init__(self, root: Path, extractor_key: str) -> None:
        self.root = root
        self.extractor_key = extractor_key
        self.folder = root / hashlib.sha1(extractor_key.encode()).hexdigest()[:12]
        self.damaged: list[Path] = []  # entries ignored as unreadable or of the wrong shape

    def with_key(self, extractor_key: str) -> ExtractionCache:
        """The entries of another extractor key in the same cache folder."""
        return ExtractionCache(self.root, extractor_key)

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.json.gz"

    def get(self, sha256: str, src_path: str, *, timeout: float) -> PdfText | None:
        """The cached text for this content, with problems re-addressed to ``src_path``.

        A cached time-out counts only if it happened with at least ``timeout``
        seconds, so raising the limit retries the file. An entry that cannot
        be read, or is not what ``put`` writes, is a miss: it is noted in
        ``damaged`` (and a debug log line) and the next ``put`` replaces it.
        """
        path = self._path(sha256)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                data: Any = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            self._damaged(path, f"unreadable ({exc})")
            return None
        try:
            if data.get("extractor") != self.extractor_key:
                return None
            if data.get("timed_out_after", float("inf")) < timeout:
                return None
            return _entry_text(data, sha256, src_path)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            self._damaged(path, f"not a cache entry ({type(exc).__name__}: {exc})")
            return None

    def _damaged(self, path: Path, reason: str) -> None:
        self.damaged.append(path)
        _log.debug("ignoring extraction cache entry %s: %s", path, reason)

    def put(self, text: PdfText, *, timed_out_after: float | None = None) -> None:
        data: dict[str, Any] = {
            "extractor": self.extractor_key,
            "page_count": text.page_count,
            "pages": list(text.pages),
            "title": text.title,
            "problems": [
                {"kind": p.kind, "message": p.message, "line": p.line} for p in text.problems
            ],
            "seconds": round(text.seconds, 3),
            "authors": list(text.authors),
            "year": text.year,
            "labels": list(text.labels),
            "heading": text.heading,
        }
        if timed_out_after is not None:
            data["timed_out_after"] = timed_out_after
        payload = gzip.compress(json.dumps(data, ensure_ascii=False).encode("utf-8"), mtime=0)
        write_atomic(self._path(text.sha256), payload)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} is not a list of strings")
    return tuple(value)


def _entry_text(data: Mapping[str, Any], sha256: str, src_path: str) -> PdfText:
    """The ``PdfText`` of a cache entry; ``TypeError``/``KeyError`` when it has another shape."""
    page_count, year = data["page_count"], data.get("year")
    if not isinstance(page_count, int) or (year is not None and not isinstance(year, int)):
        raise TypeError("page_count or year is not a whole number")
    problems = data.get("problems", [])
    if not isinstance(problems, list) or not all(isinstance(p, dict) for p in problems):
        raise TypeError("problems is not a list of records")
    return PdfText(
        sha256=sha256,
        page_count=page_count,
        pages=_strings(data["pages"], "pages"),
        title=str(data.get("title", "")),
        problems=tuple(
            Problem(str(p["kind"]), src_path, str(p["message"]), p.get("line")) for p in problems
        ),
        seconds=float(data.get("seconds", 0.0)),
        authors=_strings(data.get("authors", []), "authors"),
        year=year,
        labels=_strings(data.get("labels", []), "labels"),
        heading=str(data.get("heading", "")),
    )
