"""Parse stage: front matter and Markdown into a ``Page``.

Front matter is split and loaded with python-frontmatter's handlers. Values
keep their text form: ``level: 4.10`` stays ``"4.10"`` (YAML would make it
the float 4.1). Invalid YAML does not lose the page: what can be recovered
(the title at least) is used and a ``front-matter-invalid`` problem names
the file and line.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
from collections.abc import Mapping
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from .discover import SiteScan, page_url, resolve_resource_path
from .model import Page, PageMeta, Problem, Resource, ResourceKind, SourceFile
from .pdfmeta import YEAR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class TextKeepingLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves decimal-looking scalars as text.

    Front matter numbers like ``level: 2.10`` are labels, not quantities;
    integers (``weight: 3``) are still integers.
    """


TextKeepingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class TomlHandler(BaseHandler):
    """TOML front matter between ``+++`` lines (Hugo), read with tomllib."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_YAML = YAMLHandler()
_TOML = TomlHandler()


def decode_text(data: bytes, src_path: str) -> tuple[str, list[Problem]]:
    """Decode a text file as UTF-8; fall back to Windows-1252 with a problem."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        line = data[: exc.start].count(b"\n") + 1
        return text, [
            Problem(
                "encoding",
                src_path,
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "it was read as Windows-1252. Save the file as UTF-8.",
                line=line,
            )
        ]


def _handler_for(text: str) -> BaseHandler | None:
    if text.startswith("---"):
        return _YAML
    if text.startswith("+++"):
        return _TOML
    return None


def split_front_matter(text: str) -> tuple[str | None, str, BaseHandler | None]:
    """``(front matter text, body, handler)``; front matter is None when absent."""
    handler = _handler_for(text)
    if handler is None:
        return None, text, None
    try:
        fm, body = handler.split(text)
    except ValueError:
        return text.split("\n", 1)[1] if "\n" in text else "", "", handler
    return fm, body, handler


def _error_line(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line)
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) - 1 if match else None


def _load(handler: BaseHandler, fm: str) -> Any:
    if handler is _YAML:
        return _YAML.load(fm, Loader=TextKeepingLoader)
    return handler.load(fm)


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*[:=]\s*(.*)$")


def _salvage(fm: str) -> dict[str, Any]:
    """Top-level ``key: plain text`` lines, read one by one (the last resort)."""
    data: dict[str, Any] = {}
    for line in fm.splitlines():
        match = _TOP_KEY.match(line)
        value = match.group(2).strip() if match else ""
        if match and value and value[0] not in "[{|>&*!%@`#":
            data[match.group(1)] = value.strip("'\"")
    return data


def load_front_matter(
    fm: str, handler: BaseHandler, src_path: str
) -> tuple[dict[str, Any], list[Problem]]:
    """Load front matter text; on a syntax error, recover what can be recovered.

    Recovery tries, in order: reading the offending line as a continuation of
    the line before (a wrapped long value, the commonest hand-editing slip),
    dropping offending lines one at a time, and reading top-level
    ``key: value`` lines. The problem reports the first error's file line.
    """
    try:
        data = _load(handler, fm)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
        first_error = exc
    else:
        if data is None:
            return {}, []
        if not isinstance(data, dict):
            return {}, [
                Problem(
                    "front-matter-invalid",
                    src_path,
                    "front matter is not a mapping of keys to values; it was ignored. "
                    "Write it as 'key: value' lines.",
                    line=2,
                )
            ]
        return data, []

    line0 = _error_line(first_error)
    # fm starts right after the opening delimiter line, so fm line i is file line i + 1.
    file_line = line0 + 1 if line0 is not None else None
    reason = str(getattr(first_error, "problem", None) or first_error).strip().splitlines()[0]
    lines = fm.split("\n")
    recovered: dict[str, Any] | None = None
    how = ""
    if line0 is not None and 0 < line0 < len(lines):
        joined = [
            *lines[: line0 - 1],
            lines[line0 - 1].rstrip() + " " + lines[line0].strip(),
            *lines[line0 + 1 :],
        ]
        try:
            candidate = _load(handler, "\n".join(joined))
            if isinstance(candidate, dict):
                recovered, how = candidate, "read it as a continuation of the line before"
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError):
            pass
    if recovered is None:
        attempt = list(lines)
        for _ in range(20):
            try:
                candidate = _load(handler, "\n".join(attempt))
            except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
                bad = _error_line(exc)
                if bad is None or not 0 <= bad < len(attempt):
                    break
                del attempt[bad]
                continue
            if isinstance(candidate, dict):
                recovered, how = candidate, "skipped the lines it could not read"
            break
    if recovered is None:
        recovered, how = {}, "kept only its plain 'key: value' lines"
    for key, value in _salvage(fm).items():
        recovered.setdefault(key, value)
    where = f"line {file_line}" if file_line else "front matter"
    return recovered, [
        Problem(
            "front-matter-invalid",
            src_path,
            f"front matter is not valid ({where}: {reason}); chcsearch {how}. "
            "Indent continuation lines further than their key, or quote the value.",
            line=file_line,
        )
    ]


# ----------------------------------------------------------------------------------------
# Markdown to text

_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_IAL = re.compile(r"\{:[^}]*\}|\{::[^}]*/?\}")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S.*$", re.M)
_FOOTNOTE = re.compile(r"\[\^[^\]]+\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>]+)>")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*:?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~|`+)|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("|", " ")
    return _SPACES.sub(" ", html.unescape(text)).strip()


def markdown_to_text(markdown: str) -> tuple[str, tuple[str, ...]]:
    """Plain text (one paragraph a line) and the headings of a Markdown page.

    Liquid tags, HTML tags, comments, scripts and kramdown attribute lists are
    removed; link and image text is kept; lines that are bold and nothing
    else count as headings, as they are used that way on report sites.
    """
    text = _COMMENT.sub(" ", markdown)
    text = _SCRIPT.sub(" ", text)
    text = _LIQUID.sub(" ", text)
    text = _IAL.sub(" ", text)
    text = _REF_DEF.sub("", text)
    paragraphs: list[str] = []
    headings: list[str] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        if current:
            joined = _inline(" ".join(current))
            if joined:
                paragraphs.append(joined)
            current.clear()

    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            current.append(line)
            continue
        atx = _ATX.match(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        bold = _BOLD_LINE.match(line)
        if atx or bold:
            flush()
            heading = _inline(atx.group(2) if atx else bold.group(2))  # type: ignore[union-attr]
            if heading:
                headings.append(heading)
                paragraphs.append(heading)
            continue
        if line.strip() and _SETEXT.match(following) and not _LIST.match(line):
            flush()
            heading = _inline(line)
            if heading:
                headings.append(heading)
                paragraphs.append(heading)
            continue
        if _SETEXT.match(line) and not current:
            continue
        if not line.strip() or _TABLE_RULE.match(line):
            flush()
            continue
        unquoted = _QUOTE.sub("", line)
        if _LIST.match(unquoted):
            flush()
            unquoted = _LIST.sub("", unquoted)
        current.append(unquoted)
    flush()
    return "\n".join(paragraphs), tuple(headings)


# ----------------------------------------------------------------------------------------
# Pages

_NUMBER_PREFIX = re.compile(r"^(?:section\s*)?\d+(?:\.\d+)*[\s_\-–:.]+", re.I)


def title_from_filename(path: str) -> str:
    """A readable title from a file name: ``Section 2.5.1_Citizens Juries.pdf`` -> ``Citizens Juries``."""
    stem = posixpath.splitext(posixpath.basename(path))[0]
    text = stem.replace("_", " ")
    stripped = _NUMBER_PREFIX.sub("", text)
    text = stripped if stripped.strip() else text
    text = re.sub(r"\s+", " ", text).strip(" -")
    if text and text == text.lower() and "-" in text and " " not in text:
        text = text.replace("-", " ")
    return text[:1].upper() + text[1:] if text else stem


def section_from_path(src_path: str, content_dir: str = "") -> str:
    """The section path a page has when its front matter gives none."""
    rel = posixpath.relpath(src_path, content_dir) if content_dir else src_path
    folder, name = posixpath.split(rel)
    stem = posixpath.splitext(name)[0]
    if stem in ("index", "_index"):
        return folder
    return posixpath.join(folder, stem) if folder else stem


def _clean_section(value: str) -> str:
    return "/".join(part for part in value.strip().split("/") if part and part != ".")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _local_resource(scan: SiteScan, public: str, title: str) -> Resource:
    kind: ResourceKind = "pdf" if public.lower().endswith(".pdf") else "file"
    return Resource(
        kind, title or title_from_filename(public), public, scan.config.public_url(public)
    )


def _resources(
    raw: Any, scan: SiteScan, src_path: str, text: str
) -> tuple[tuple[Resource, ...], list[Problem]]:
    problems: list[Problem] = []
    resources: list[Resource] = []
    if raw is None:
        return (), problems
    if not isinstance(raw, list):
        problems.append(
            Problem(
                "bad-value",
                src_path,
                f"resources should be a list of entries with path: or url:, got {type(raw).__name__}; "
                "it was ignored.",
                line=_line_of(text, "resources"),
            )
        )
        return (), problems
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            problems.append(
                Problem(
                    "bad-value",
                    src_path,
                    f"resources entry {position} is not a mapping with path: or url:; it was ignored.",
                    line=_line_of(text, "resources"),
                )
            )
            continue
        title = _as_text(item.get("title"))
        local = item.get("path") or item.get("src")
        if isinstance(local, str) and local.strip():
            public, problem = resolve_resource_path(scan, src_path, local)
            if problem is not None:
                problems.append(
                    Problem(
                        problem.kind, problem.src_path, problem.message, line=_line_of(text, local)
                    )
                )
                resources.append(
                    Resource(
                        "file", title or title_from_filename(local), local.strip(), "", exists=False
                    )
                )
                continue
            assert public is not None
            resources.append(_local_resource(scan, public, title))
            continue
        url = item.get("url")
        if isinstance(url, str) and url.strip():
            address = url.strip()
            if address.startswith(("/", "./", "../")) or "://" not in address:
                public, problem = resolve_resource_path(scan, src_path, address)
                if public is not None:
                    resources.append(_local_resource(scan, public, title))
                    continue
            resources.append(Resource("url", title or address, address, address))
            continue
        problems.append(
            Problem(
                "bad-value",
                src_path,
                f"resources entry {position} has neither path: nor url:; it was ignored.",
                line=_line_of(text, "resources"),
            )
        )
    return tuple(resources), problems


def parse_page(source: SourceFile, scan: SiteScan) -> tuple[Page | None, list[Problem]]:
    """Read and parse one page file. ``None`` when the file is not a page after all."""
    src_path = source.src_path
    try:
        data = source.abs_path.read_bytes()
    except OSError as exc:
        return None, [
            Problem(
                "unreadable-file",
                src_path,
                f"file cannot be read ({exc.strerror}); check its permissions.",
            )
        ]
    if not data.strip():
        return None, [
            Problem(
                "empty-file", src_path, "file is empty; it was not indexed. Add text or delete it."
            )
        ]
    text, problems = decode_text(data, src_path)
    fm_text, body, handler = split_front_matter(text.replace("\r\n", "\n"))
    metadata: dict[str, Any] = {}
    if fm_text is not None and handler is not None:
        metadata, fm_problems = load_front_matter(fm_text, handler, src_path)
        problems.extend(fm_problems)
    config = scan.config
    is_html = src_path.lower().endswith((".html", ".htm"))
    if src_path.lower().endswith(".txt"):
        plain, headings = text_to_paragraphs(body)
    else:
        plain, headings = (
            markdown_to_text(body) if not is_html else markdown_to_text(_TAG.sub("\n", body))
        )
    lead_parts = [
        _inline(_as_text(metadata.get(key)))
        for key in ("intro", "description", "summary")
        if isinstance(metadata.get(key), str)
    ]
    plain = "\n".join([*[p for p in lead_parts if p], plain]).strip()

    title = _as_text(metadata.get("title"))
    if not title:
        title = headings[0] if headings else title_from_filename(src_path)

    section_raw = metadata.get("section")
    parent_raw = metadata.get("parent")
    content_dir = config.content_dir if config.generator == "hugo" else ""
    if isinstance(section_raw, str) and _clean_section(section_raw):
        section = _clean_section(section_raw)
    elif isinstance(parent_raw, str) and _clean_section(parent_raw):
        leaf = posixpath.basename(section_from_path(src_path, content_dir)) or "index"
        section = _clean_section(parent_raw) + "/" + leaf
    elif config.generator == "folder":
        section = posixpath.dirname(src_path)
    else:
        section = section_from_path(src_path, content_dir)
    if isinstance(parent_raw, str) and _clean_section(parent_raw):
        parent = _clean_section(parent_raw)
        if section != parent and not section.startswith(parent + "/"):
            problems.append(
                Problem(
                    "bad-value",
                    src_path,
                    f"section {section!r} is not inside its parent {parent!r}; the page is placed by "
                    "its section. Make section start with the parent's path.",
                    line=_line_of(text, "section:"),
                )
            )

    level = _as_text(metadata.get("level"))
    weight_raw = metadata.get("weight")
    weight: float | None = None
    if isinstance(weight_raw, (int, float)) and not isinstance(weight_raw, bool):
        weight = float(weight_raw)
    elif weight_raw is not None:
        try:
            weight = float(str(weight_raw))
        except ValueError:
            problems.append(
                Problem(
                    "bad-value",
                    src_path,
                    f"weight {weight_raw!r} is not a number; it was ignored.",
                    line=_line_of(text, "weight:"),
                )
            )

    authors = _strings(metadata.get("authors", metadata.get("author")))
    year = _year(metadata.get("year", metadata.get("date")))
    tags = _strings(metadata.get("tags"))
    resources, resource_problems = _resources(metadata.get("resources"), scan, src_path, text)
    problems.extend(resource_problems)
    if config.generator == "hugo" and metadata.get("draft") is True:
        return None, problems

    meta = PageMeta(
        src_path=src_path,
        url=page_url(config, src_path, metadata),
        title=title,
        section=section,
        level=level,
        weight=weight,
        resources=resources,
        authors=authors,
        year=year,
        tags=tags,
    )
    return Page(meta=meta, headings=headings, body=plain), problems


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in re.split(r"\s*;\s*", value) if v.strip())
    if isinstance(value, list):
        return tuple(
            str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()
        )
    return ()


def _year(value: Any) -> int | None:
    match = YEAR.search(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def text_to_paragraphs(text: str) -> tuple[str, tuple[str, ...]]:
    """A plain-text note as paragraphs (one a line); its first line counts as its heading."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    paragraphs = [b for b in blocks if b]
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    heading = first_line if first_line and len(first_line.split()) <= 15 else ""
    return "\n".join(paragraphs), (heading,) if heading else ()
