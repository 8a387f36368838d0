"""chcsearch: full-text search for report-heavy websites and archives of PDF reports.

The library is the product; the ``chcsearch`` command is a thin layer over it.

>>> from chcsearch import IndexSettings, build_index  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import IndexSettings
from .errors import ChcSearchError
from .ingest import build_index
from .model import BuildSummary, Problem

__all__ = [
    "BuildSummary",
    "ChcSearchError",
    "IndexSettings",
    "Problem",
    "__version__",
    "build_index",
]
