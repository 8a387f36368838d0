"""YAML from strangers: one loader with limits checked before anything can explode.

Every YAML file chcsearch reads (front matter, ``_config.yml`` and Hugo's
YAML configs, ``_meta.yml`` and ``report.pdf.yml`` sidecars) is loaded by
``load_yaml``. Two things in a small YAML file can take a run down:

* aliases: PyYAML shares an aliased node, so a "billion laughs" document is
  small in memory until something walks it (``str()``, JSON, a loop over its
  items) and expands every alias, which takes gigabytes;
* nesting: PyYAML's composer recurses once per level, so ``[[[[...`` 20,000
  deep ends in ``RecursionError``.

The loader counts alias uses, the values they stand for and the nesting depth
while the document is composed, and raises ``YamlTooComplex`` as soon as a
limit is passed: before the expansion, and long before Python's stack runs
out. Decimal-looking scalars stay text, as ``TextKeepingLoader`` says.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

from .model import Problem

#: Alias uses (``*name``) allowed in one YAML document.
MAX_ALIASES = 100
#: Values that all alias uses together may stand for (each counted expanded).
MAX_ALIAS_VALUES = 10_000
#: Collections nested inside each other, at most.
MAX_DEPTH = 50

_LIMITS = (
    f"chcsearch reads at most {MAX_ALIASES} aliases standing for {MAX_ALIAS_VALUES:,} values "
    f"in all, and collections nested at most {MAX_DEPTH} deep"
)


class YamlTooComplex(yaml.MarkedYAMLError):
    """A YAML document past one of the loader's limits; ``reason`` says which."""

    def __init__(self, reason: str, mark: Any) -> None:
        super().__init__(problem=reason, problem_mark=mark)
        self.reason = reason

    @property
    def line(self) -> int | None:
        """The 1-based line, within the YAML text, where the limit was passed."""
        return self.problem_mark.line + 1 if self.problem_mark is not None else None


class TextKeepingLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves decimal-looking scalars as text, within limits.

    Front matter numbers like ``level: 2.10`` are labels, not quantities;
    integers (``weight: 3``) are still integers. Aliases and nesting are
    limited (``MAX_ALIASES``, ``MAX_ALIAS_VALUES``, ``MAX_DEPTH``).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        self._aliases = 0
        self._alias_values = 0
        self._sizes: dict[str, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise YamlTooComplex(f"collections nested more than {MAX_DEPTH} deep", event.start_mark)
        start = self._values
        self._values += 1
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._sizes[anchor] = self._values - start
        return node

    def _count_alias(self, event: AliasEvent) -> None:
        anchor = str(event.anchor)
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise YamlTooComplex(f"more than {MAX_ALIASES} aliases", event.start_mark)
        if anchor in self.anchors and anchor not in self._sizes:
            raise YamlTooComplex(
                f"alias *{anchor} is used inside the value it names", event.start_mark
            )
        size = self._sizes.get(anchor, 1)
        self._values += size
        self._alias_values += size
        if self._alias_values > MAX_ALIAS_VALUES:
            raise YamlTooComplex(
                f"aliases standing for more than {MAX_ALIAS_VALUES:,} values", event.start_mark
            )

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        self._sizes = {}
        return node


TextKeepingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class PlainLoader(TextKeepingLoader):
    """The same limits with YAML's own scalar types (``1.5`` is a float): site configs."""


PlainLoader.yaml_implicit_resolvers = yaml.SafeLoader.yaml_implicit_resolvers


def load_yaml(text: str, *, keep_text: bool = True) -> Any:
    """One YAML document, within the limits; raises ``yaml.YAMLError`` or ``YamlTooComplex``.

    ``keep_text``: decimal-looking scalars stay text (front matter, sidecars);
    False reads them as YAML's floats (a generator's config).
    """
    return yaml.load(text, Loader=TextKeepingLoader if keep_text else PlainLoader)


def too_complex_problem(
    src_path: str, exc: YamlTooComplex, *, what: str, first_line: int = 1, kept: str
) -> Problem:
    """The ``yaml-too-complex`` warning: the file, the line, the limit and the fix.

    ``first_line`` is the file line of the YAML text's first line (front
    matter text starts on its ``---`` line); ``kept`` says what chcsearch did instead.
    """
    line = exc.line + first_line - 1 if exc.line is not None else None
    where = f"line {line}: " if line else ""
    return Problem(
        "yaml-too-complex",
        src_path,
        f"{what} is too complex to read safely ({where}{exc.reason}); {kept}. "
        f"{_LIMITS}: write the values out instead of repeating aliases (*name), "
        "or flatten the nesting.",
        line=line,
    )
