"""The one error hierarchy of chcsearch.

Every error a user can cause is a ``ChcSearchError``: its message names the
file, field or value at fault and says what to do next. Each class knows the
exit code the CLI returns and the HTTP status a web layer answers with.
Problems in the *content* being indexed are not errors: they become
``Problem`` records (see ``chcsearch.model``) and indexing goes on.
"""

from __future__ import annotations


class ChcSearchError(Exception):
    """Base class: a failure the user can fix. Exit code 1, HTTP 500."""

    exit_code = 1
    http_status = 500


class UsageError(ChcSearchError):
    """The command line asks for something that cannot be done: a missing or empty query,
    a bad option value, options that exclude each other. Exit code 2, HTTP 400."""

    exit_code = 2
    http_status = 400


class ConfigError(ChcSearchError):
    """A setting, flag, environment variable or config file value is invalid."""

    exit_code = 3
    http_status = 400


class OptionValueError(UsageError, ConfigError):
    """A command-line option's value is wrong (``--jobs -3``, ``--generator gatsby``).

    A usage error (exit code 2), and a ``ConfigError`` too, so that code that
    catches bad settings from any source also catches the ones given as flags."""


class SiteError(ChcSearchError):
    """The site or folder to index is missing or cannot be read."""

    exit_code = 3
    http_status = 400


class IndexAccessError(ChcSearchError):
    """The index is missing, unreadable, or was built by another schema version."""

    exit_code = 4
    http_status = 503


class IndexNotFoundError(IndexAccessError):
    """There is no index at the given location."""


class SchemaVersionError(IndexAccessError):
    """The index was written with another schema version and must be rebuilt."""


class IndexLockedError(ChcSearchError):
    """Another indexer holds the index's write lock."""

    exit_code = 5
    http_status = 409


class IndexDamagedError(IndexAccessError):
    """The index's files do not match the checksums its generation recorded.

    ``chcsearch index`` repairs it (the next run rebuilds from the text cache).
    """


class IndexWriteError(ChcSearchError):
    """The index folder cannot be written: read-only, full, or a lock path that is not a file.

    The previous index is left as it was.
    """

    exit_code = 3
    http_status = 500


class QueryRefusedError(ChcSearchError):
    """A query the engine will not run because of what it would cost (a leading wildcard, say)."""

    exit_code = 2
    http_status = 400


class SearchTimeoutError(ChcSearchError):
    """A search passed its time limit and was stopped; nothing it computed was kept."""

    exit_code = 6
    http_status = 503


EXIT_CODES: dict[int, str] = {
    0: "success (warnings about the content do not change this)",
    1: "unexpected internal error (please report it, with --traceback output)",
    2: "usage error: unknown command or option, a bad option value, or a missing or empty query",
    3: (
        "bad input: the site folder, a config file or environment setting is wrong, "
        "or the index folder is a file or cannot be written"
    ),
    4: "index problem: no index there, it is damaged, or it must be rebuilt (--rebuild)",
    5: "the index is locked by another chcsearch index run",
    6: "the search passed its time limit and was stopped",
    130: "interrupted (Ctrl-C); the previous index is left as it was",
    141: "the output was closed before all of it was written (| head, say)",
}
