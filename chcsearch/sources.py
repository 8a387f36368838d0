"""What ``chcsearch serve`` hands out besides its API: the indexed source files, and
result links made absolute on the site's public address.

Three names, never mixed: a document's ``src_path`` (its ``source`` field,
relative to the site root), its ``abs_path`` (where it is on this machine)
and its ``url`` (its public address, as the index records it).

Only files the index records are served, each at the path of its own
``url``: a PDF at ``/assets/hub/report.pdf`` (its pages' ``#page=N`` links
open it at that page), a page's source file at its page's path. Nothing else
under the site root is: no dot-file, nothing inside the index folder, nothing
that resolves outside the site root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

#: What may not stand raw in a link that an export or the API writes, nor anywhere in a
#: site's address: white space and control characters (C0, DEL, C1: browsers drop some of
#: them inside an address), the characters RFC 3986 never allows in a URL (``"<>\\{}|^``
#: and the backquote), which close a BibTeX field, an HTML attribute or a Markdown link,
#: and the bidirectional overrides, which show a link as another.
_NOT_IN_LINKS = re.compile(r'[\x00-\x20\x7f-\x9f"<>\\{}|^`\s\u202a-\u202e\u2066-\u2069]')


def quote_unsafe(link: str) -> str:
    """``link`` with every character that may not stand raw in a URL percent-encoded (UTF-8),
    ``%`` left as it is: so a link already encoded is unchanged, and encoding twice is
    encoding once. Every link an export or the API writes has been through it."""
    return _NOT_IN_LINKS.sub(
        lambda m: "".join(f"%{byte:02X}" for byte in m.group().encode("utf-8")), link
    )


def unsafe_in_link(text: str) -> str | None:
    """The first character of ``text`` that may not stand raw in a link, or None."""
    found = _NOT_IN_LINKS.search(text)
    return found.group() if found else None


def normalize_site_url(raw: str) -> str | None:
    """``raw`` as a site's public address (``https://example.org/docs``, no trailing ``/``),
    or None unless it is an http(s) address with a host and nothing after its path."""
    text = raw.strip()
    if not text or _NOT_IN_LINKS.search(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port  # a port that is not a number raises
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc or parts.query or parts.fragment or text.endswith(("?", "#")):
        return None
    if port is not None and not 1 <= port <= 65535:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}"


def absolute_link(url: str, site_url: str) -> str:
    """``url`` on ``site_url``; a path that already starts with the site URL's path (the
    site's ``baseurl``) does not get it twice. Addresses off the site are left where they
    are; every address comes back through ``quote_unsafe``."""
    if not site_url or not url.startswith("/") or url.startswith("//"):
        return quote_unsafe(url)
    parts = urlsplit(site_url)
    origin, base = f"{parts.scheme}://{parts.netloc}", parts.path
    if base and (url == base or url.startswith((base + "/", base + "#", base + "?"))):
        return quote_unsafe(origin + url)
    return quote_unsafe(site_url + url)


def with_site_url(answer: dict[str, Any], site_url: str) -> dict[str, Any]:
    """A copy of an API answer (search results or suggestions) with every ``url`` on
    ``site_url`` (when there is one) and through ``quote_unsafe`` (always: an index built
    before links were encoded may hold a raw ``"`` or ``<``); the answer itself unchanged
    (it may be cached)."""

    def moved(item: dict[str, Any]) -> dict[str, Any]:
        out = dict(item)
        if "url" in item:
            out["url"] = absolute_link(str(item["url"]), site_url)
        if "group_url" in item:
            out["group_url"] = absolute_link(str(item["group_url"]), site_url)
        if isinstance(item.get("parts"), list):
            out["parts"] = [moved(part) for part in item["parts"]]
        return out

    copy = dict(answer)
    for key in ("results", "suggestions"):
        if isinstance(answer.get(key), list):
            copy[key] = [moved(item) for item in answer[key]]
    return copy


@dataclass(frozen=True)
class ServedFile:
    """One indexed file as ``serve`` hands it out."""

    src_path: str
    abs_path: Path
    kind: str  # "page" or "pdf"


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


def served_files(
    site_root: Path, index_dir: Path, documents: Iterable[tuple[str, str, str]]
) -> dict[str, ServedFile]:
    """The files to serve, by the decoded path of their public ``url``, from the index's
    ``(source, url, kind)`` triples.

    Left out: documents whose url is off the site or whose source or url path has a
    dot-file or dot-folder in it, and sources that resolve outside ``site_root`` or
    inside ``index_dir``. A path claimed by two sources is left out too (which to serve
    could not be told).
    """
    root = site_root.resolve()
    index = index_dir.resolve()
    found: dict[str, ServedFile] = {}
    clashes: set[str] = set()
    for src_path, url, kind in documents:
        if not src_path or not url.startswith("/") or url.startswith("//"):
            continue
        path = unquote(urlsplit(url).path)
        if _hidden(src_path) or _hidden(path) or src_path.startswith("/") or "\\" in src_path:
            continue
        abs_path = (root / src_path).resolve()
        if not abs_path.is_relative_to(root) or abs_path.is_relative_to(index):
            continue
        served = ServedFile(src_path=src_path, abs_path=abs_path, kind=kind)
        if path in found and found[path].abs_path != abs_path:
            clashes.add(path)
        elif kind == "pdf" or path not in found:
            found[path] = served
    for path in clashes:
        del found[path]
    return found


_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)


def find_served(files: dict[str, ServedFile], path: str, raw_path: bytes) -> ServedFile | None:
    """The file served at the request path ``path`` (decoded; ``raw_path`` as sent), or None.

    Only exact matches of an indexed url count; an encoded separator or a ``.``/``..``
    segment is refused even when it would name an indexed file, and so is a file that is
    no longer a regular file inside the site root (a symlink swapped in meanwhile).
    """
    if _ENCODED_SEPARATOR.search(raw_path) or "\\" in path:
        return None
    if any(part in (".", "..") for part in path.split("/")):
        return None
    served = files.get(path)
    if served is None or not served.abs_path.is_file():
        return None
    if served.abs_path.resolve() != served.abs_path:
        return None
    return served
