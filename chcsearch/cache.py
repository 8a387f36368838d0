"""The extraction cache: PDF text keyed by the PDF's content hash.

An unchanged PDF (same bytes, wherever it lives and whatever it is called)
is never extracted twice. Entries are gzip-compressed JSON written
atomically; an unreadable entry is treated as missing. The key includes the
extractor's settings, so changing them starts a fresh cache.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .model import PdfText, Problem

_CHUNK = 1 << 20


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

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.json.gz"

    def get(self, sha256: str, src_path: str, *, timeout: float) -> PdfText | None:
        """The cached text for this content, with problems re-addressed to ``src_path``.

        A cached time-out counts only if it happened with at least ``timeout``
        seconds, so raising the limit retries the file.
        """
        try:
            with gzip.open(self._path(sha256), "rt", encoding="utf-8") as handle:
                data: dict[str, Any] = json.load(handle)
            if data.get("extractor") != self.extractor_key:
                return None
            if data.get("timed_out_after", float("inf")) < timeout:
                return None
            return PdfText(
                sha256=sha256,
                page_count=int(data["page_count"]),
                pages=tuple(data["pages"]),
                title=str(data.get("title", "")),
                problems=tuple(
                    Problem(p["kind"], src_path, p["message"], p.get("line"))
                    for p in data.get("problems", [])
                ),
                seconds=float(data.get("seconds", 0.0)),
                authors=tuple(data.get("authors", ())),
                year=data.get("year"),
                labels=tuple(data.get("labels", ())),
                heading=str(data.get("heading", "")),
            )
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None

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
