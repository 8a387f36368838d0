"""The index schema, declared once: every field name, its kind, and the version.

This module is plain data; ``chcsearch.index`` turns it into a Whoosh
schema. Change ``SCHEMA_VERSION`` whenever a field or analyzer changes: an
index written with another version is refused with a message to rebuild it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SCHEMA_VERSION = 7

FieldKind = Literal["id", "text", "keyword", "stored", "spelling"]


@dataclass(frozen=True)
class FieldSpec:
    kind: FieldKind
    stored: bool = False
    sortable: bool = False
    #: text fields: the ``spelling`` field that keeps their unstemmed words
    spelling: str = ""


# Field names, so that no other module spells them.
ID = "id"
SOURCE = "source"
KIND = "kind"
TITLE = "title"
HEADINGS = "headings"
BODY = "body"
CONTEXT = "context"
RESOURCE_TITLES = "resource_titles"
SECTION = "section"
ANCESTORS = "ancestors"
BREADCRUMB = "breadcrumb"
LEVEL = "level"
LEVEL_PATH = "level_path"
LEVEL_KEY = "level_key"
WEIGHT = "weight"
GROUP = "group"
LINKED_FROM = "linked_from"
PAGE = "page"
PAGE_COUNT = "page_count"
URL = "url"
ORPHAN = "orphan"
RESOURCES = "resources"
WORDS = "words"
AUTHORS = "authors"
AUTHOR_TERMS = "author_terms"
YEAR = "year"
TAGS = "tags"
PAGE_LABEL = "page_label"
SPELL_TITLE = "spell_title"
SPELL_BODY = "spell_body"

FIELDS: dict[str, FieldSpec] = {
    ID: FieldSpec("id", stored=True),
    SOURCE: FieldSpec("id", stored=True),
    KIND: FieldSpec("id", stored=True, sortable=True),
    TITLE: FieldSpec("text", stored=True, spelling=SPELL_TITLE),
    HEADINGS: FieldSpec("text", stored=True),
    BODY: FieldSpec("text", stored=True, spelling=SPELL_BODY),
    CONTEXT: FieldSpec("text", stored=True),
    RESOURCE_TITLES: FieldSpec("text"),
    SECTION: FieldSpec("id", stored=True, sortable=True),
    ANCESTORS: FieldSpec("keyword", stored=True),
    BREADCRUMB: FieldSpec("stored"),
    LEVEL: FieldSpec("id", stored=True),
    LEVEL_PATH: FieldSpec("keyword"),
    LEVEL_KEY: FieldSpec("id", sortable=True),
    # numbers are only shown, filtered and sorted from stored values: indexing
    # them would add 8 to 16 range-query postings per document
    WEIGHT: FieldSpec("stored"),
    GROUP: FieldSpec("id", stored=True, sortable=True),
    LINKED_FROM: FieldSpec("keyword", stored=True),
    PAGE: FieldSpec("stored"),
    PAGE_COUNT: FieldSpec("stored"),
    URL: FieldSpec("stored"),
    ORPHAN: FieldSpec("stored"),
    RESOURCES: FieldSpec("stored"),
    WORDS: FieldSpec("stored"),
    AUTHORS: FieldSpec("stored"),
    AUTHOR_TERMS: FieldSpec("keyword"),
    YEAR: FieldSpec("stored"),
    TAGS: FieldSpec("keyword", stored=True),
    PAGE_LABEL: FieldSpec("stored"),
    # the unstemmed words of title and body, once per document: "did you mean"
    SPELL_TITLE: FieldSpec("spelling"),
    SPELL_BODY: FieldSpec("spelling"),
}

#: Keyword fields hold several values joined by commas.
KEYWORD_SEPARATOR = ","


_NAME_WORD = re.compile(r"[^\W\d_]+")


def author_terms(name: str) -> list[str]:
    """The filter terms of an author's name: its words, lower-cased (``"Peter Diggle"`` -> peter, diggle)."""
    return [word.lower() for word in _NAME_WORD.findall(name) if len(word) > 1]


def keyword_term(value: str) -> str:
    """One keyword value as indexed: commas escaped, since they separate values."""
    return value.replace("%", "%25").replace(",", "%2C")
