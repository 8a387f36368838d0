"""chcsearch: full-text search for report-heavy websites and archives of PDF reports.

The library is the product; the ``chcsearch`` command is a thin layer over it.

>>> from chcsearch import IndexSettings, Searcher, build_index  # doctest: +SKIP
"""

from __future__ import annotations

import warnings

__version__ = "0.1.0"

# Whoosh 2.7.4 predates the compile-time warnings of newer Pythons (invalid
# escape sequences in its regex literals, "is" with a literal). Silence exactly
# those, for Whoosh's own files only, before any module of ours imports it.
for _category in (DeprecationWarning, SyntaxWarning):
    for _message in (r"invalid escape sequence", r'"is" with a literal'):
        warnings.filterwarnings(
            "ignore", message=_message, category=_category, module=r".*[/\\]whoosh[/\\]"
        )

from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from .config import IndexSettings
    from .deadline import Deadline
    from .errors import ChcSearchError
    from .ingest import build_index
    from .model import BuildSummary, Problem
    from .query import Searcher
    from .results import SearchRequest, SearchResults

_EXPORTS = {
    "IndexSettings": "config",
    "ChcSearchError": "errors",
    "Deadline": "deadline",
    "build_index": "ingest",
    "BuildSummary": "model",
    "Problem": "model",
    "SearchRequest": "results",
    "SearchResults": "results",
    "Searcher": "query",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, so that ``chcsearch query`` need not load pdfminer."""
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'chcsearch' has no attribute {name!r}")


__all__ = [
    "BuildSummary",
    "ChcSearchError",
    "Deadline",
    "IndexSettings",
    "Problem",
    "SearchRequest",
    "SearchResults",
    "Searcher",
    "__version__",
    "build_index",
]
