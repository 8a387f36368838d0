"""Levels and section paths as data: numbering and path prefixes, sort keys.

A level such as ``"2.10.1"`` is text, not a number; it sorts part by part
and is filtered by its prefixes. A section path such as ``hub/ppi/x`` is
filtered by its ancestor paths.
"""

from __future__ import annotations


def level_parts(level: str) -> tuple[str, ...]:
    """``"2.10.1"`` -> ``("2", "10", "1")``."""
    return tuple(part for part in level.strip().split(".") if part)


def level_key(level: str) -> str:
    """A text key that sorts levels part by part as numbers: 4.9 < 4.10."""
    parts = level_parts(level)
    if not parts:
        return "~"
    return ".".join(part.zfill(6) if part.isdigit() else part for part in parts)


def level_prefixes(level: str) -> tuple[str, ...]:
    """``"2.5.1"`` -> ``("2", "2.5", "2.5.1")``: the numbering subtree terms."""
    parts = level_parts(level)
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))


def ancestor_paths(section: str) -> tuple[str, ...]:
    """``"hub/ppi/x"`` -> ``("hub", "hub/ppi", "hub/ppi/x")``."""
    parts = [p for p in section.split("/") if p]
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))
