"""Deadlines that a search checks as it goes, so that it stops when its time is up.

A search gets a ``Deadline`` when it starts; its loops (prefix expansion,
scoring, snippets) call ``check()``, which raises ``SearchTimeoutError``
once the time has passed. Work stopped this way leaves nothing behind:
shared caches are written only from completed work.
"""

from __future__ import annotations

import time

from .errors import SearchTimeoutError


class Deadline:
    """``seconds`` from now (``None``: never). ``check()`` raises once it has passed."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return self.at is not None and time.monotonic() > self.at

    def remaining(self) -> float | None:
        """Seconds left (0 once passed), or None for no limit."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def error(self) -> SearchTimeoutError:
        """The error a search stopped by this deadline raises."""
        return SearchTimeoutError(
            f"the search took longer than {self.seconds or 0:g} s and was stopped; "
            "try fewer or more specific words"
        )

    def check(self) -> None:
        """Raise ``SearchTimeoutError`` if the deadline has passed."""
        if self.at is not None and time.monotonic() > self.at:
            raise self.error()


#: The deadline of a search with no time limit.
NEVER = Deadline(None)
