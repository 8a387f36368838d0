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

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .text import CONTROL_CHARS, INVISIBLE_CHARS, percent_encode

#: What may not stand raw in a link that an export or the API writes, nor anywhere in a
#: site's address: white space and control characters (``text.CONTROL``: browsers drop
#: some of them inside an address), the characters RFC 3986 never allows in a URL
#: (``"<>\\{}|^`` and the backquote), which close a BibTeX field, an HTML attribute or a
#: Markdown link, and what is ``INVISIBLE`` (``text.INVISIBLE``: bidirectional overrides,
#: zero-width spaces, Hangul fillers…), which shows a link as another.
_NOT_IN_LINKS = re.compile(rf'[{CONTROL_CHARS}{INVISIBLE_CHARS} "<>\\{{}}|^`\s]')


def quote_unsafe(link: str) -> str:
    """``link`` with every character that may not stand raw in a URL percent-encoded (UTF-8),
    ``%`` left as it is: so a link already encoded is unchanged, and encoding twice is
    encoding once. Every link an export or the API writes has been through it."""
    return percent_encode(_NOT_IN_LINKS, link)


def unsafe_in_link(text: str) -> str | None:
    """The first character of ``text`` that may not stand raw in a link, or None."""
    found = _NOT_IN_LINKS.search(text)
    return found.group() if found else None


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII | re.IGNORECASE)
#: What a path may hold raw when it is shown percent-encoded (RFC 3986 ``pchar`` and ``/``)
_PATH_CHARS = "/%:@!$&'()*+,;=-._~"


def host_fault(host: str) -> str | None:
    """Why ``host`` (as ``urlsplit`` gives its ``hostname``: an IPv6 address without its
    brackets) is no host a link may name, said as the end of a sentence, or None for a
    DNS name (labels of ASCII letters, digits and inner hyphens, at most 253 characters;
    a name whose last label is a number must be an IPv4 address) or an IP address.

    A host that is not ASCII is refused, with its IDNA form: ``аррӏе.com`` in Cyrillic
    letters shows as ``apple.com``, and a citation must not name a look-alike."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"has the host {host!r}, which is not an IPv6 address"
        return None
    if not host.isascii():
        try:
            encoded = host.encode("idna").decode("ascii")
        except UnicodeError:
            encoded = ""
        form = f"; if it is the host you mean, write its IDNA form {encoded!r}" if encoded else ""
        return f"has the host {host!r}, which is not ASCII and may imitate another host{form}"
    labels = host.split(".")
    if labels[-1].isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"has the host {host!r}, which is neither a DNS name nor an IPv4 address"
        return None
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return (
            f"has the host {host!r}, which is not a DNS name (dot-separated labels of "
            "letters, digits and inner hyphens) nor an IP address"
        )
    return None


def address_fault(address: str) -> str | None:
    """Why ``address`` (an ``http``/``https`` address or a ``file:`` URI, its scheme and
    shape checked by the caller) is no address to put links on, said as the end of a
    sentence that says what to write instead, or None.

    Refused: a ``%`` not followed by two hexadecimal digits; a character that is not
    ASCII (shown percent-encoded: a ``ｘ`` in full width reads as ``x``); a host that is
    not a DNS name or an IP address (``host_fault``), or for a ``file:`` URI any host
    but ``localhost`` (``file://server/share`` is a network share on Windows); and a
    ``.`` or ``..`` segment, which would move every link elsewhere than it says."""
    bad = _BAD_ESCAPE.search(address)
    if bad:
        return (
            f"holds {address[bad.start() : bad.start() + 3]!r}: a % must start an escape "
            "of two hexadecimal digits (write a % itself as %25)"
        )
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError:
        return "has a host that cannot be read"
    if parts.scheme.lower() == "file":
        if host not in ("", "localhost"):
            return (
                f"names the host {host!r}: a file: URI with a host is a network share on "
                "Windows; give a folder on this machine, file:///path/to/folder"
            )
    else:
        fault = host_fault(host)
        if fault:
            return fault
    if not parts.path.isascii():
        shown = parts._replace(path=quote(parts.path, safe=_PATH_CHARS)).geturl()
        odd = next(char for char in parts.path if not char.isascii())
        return f"holds {odd!r}, which is not ASCII; write it percent-encoded: {shown}"
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        return "has a . or .. segment in its path; give the folder's own path, with none"
    return None


def normalize_site_url(raw: str) -> str | None:
    """``raw`` as a site's public address (``https://example.org/docs``, no trailing ``/``),
    or None unless it is an http(s) address with a host and nothing after its path, and
    nothing ``address_fault`` refuses."""
    text = raw.strip()
    if not text or _NOT_IN_LINKS.search(text) or address_fault(text):
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
    are; every address comes back through ``quote_unsafe``. A slash that ends the site
    URL is not doubled (``file:///`` + ``/a.pdf`` is ``file:///a.pdf``)."""
    if not site_url or not url.startswith("/") or url.startswith("//"):
        return quote_unsafe(url)
    parts = urlsplit(site_url)
    origin, base = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    if base and (url == base or url.startswith((base + "/", base + "#", base + "?"))):
        return quote_unsafe(origin + url)
    return quote_unsafe(origin + base + url)


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
