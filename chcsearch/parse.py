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
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .discover import ACCEPTED_LINKS, SiteScan, page_url, resolve_resource_path, safe_link
from .model import Page, PageMeta, Problem, Resource, ResourceKind, SourceFile
from .pdfmeta import YEAR, clean_names, has_letter_or_digit, visible_text
from .yamlsafe import YamlTooComplex, load_yaml, too_complex_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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
        return load_yaml(fm)
    try:
        return handler.load(fm)
    except RecursionError:
        # tomllib recurses once per nested array or table; CPython stops it cleanly.
        raise ValueError("values nested too deeply to read") from None


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
    Front matter past the YAML loader's limits (``chcsearch.yamlsafe``) is
    not tried again: only its plain top-level ``key: value`` lines are kept,
    with a ``yaml-too-complex`` problem.
    """
    try:
        data = _load(handler, fm)
    except YamlTooComplex as exc:
        problem = too_complex_problem(
            src_path,
            exc,
            what="front matter",
            kept="only its plain 'key: value' lines were read and the page is indexed",
        )
        return _salvage(fm), [problem]
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
#
# Every step here is linear in the page's length, whatever the page holds: the
# Liquid, comment, script and attribute-list removals are single forward scans
# with str.find, and markdown-it-py parses in linear time by design. (The
# regular expressions this replaced took seconds to minutes on one long line
# of spaces or of '[', '{% ' or '<!--'.) A page that still takes longer than
# PAGE_SECONDS stops being parsed: the rest of its text is kept as written.

#: Seconds one page's Markdown may take to become text.
PAGE_SECONDS = 5.0
#: Bytes of a page file that are read; the rest is left out with a warning.
MAX_PAGE_BYTES = 1_000_000
#: Characters of text indexed for one document (a page, or one page of a PDF):
#: about 15,000 words. A phrase search on a document of 100,000 characters takes
#: about 35 ms, on one of 1,000,000 about 1.3 s; ``documents.with_text`` applies
#: the cap to every document, and parse_page warns for a page.
MAX_TEXT_CHARS = 100_000
#: Block nesting (lists in lists, quotes in quotes) that markdown-it follows;
#: text nested deeper is left out. Each list level takes two.
MAX_NESTING = 40
#: A page of at least this many bytes whose text has fewer word characters than
#: ``MIN_WORD_SHARE`` of its size gets a ``page-mostly-markup`` warning: long
#: runs of spaces, brackets or tags are what hostile or broken files are made of.
MARKUP_CHECK_BYTES = 64 * 1024
MIN_WORD_SHARE = 0.05
_WORD_CHARS = re.compile(r"[^\W_]+")

_SCRIPT_OPEN = re.compile(r"<(script|style)\b", re.I)
_SCRIPT_CLOSE = {
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
}
_LIQUID_OPEN = re.compile(r"\{[%{]")
_ATX_ODD_SPACE = re.compile(r"^( {0,3}#{1,6})[\u00a0\u2000-\u200a\u202f\u3000]", re.M)
_SPACES = re.compile(r"[ \t\u00a0]+")


def _cut_spans(text: str, opener: re.Pattern[str], closer_of: Any, replacement: str = " ") -> str:
    """``text`` without the spans from each ``opener`` match to its closer.

    ``closer_of(match)`` gives the closing string, or a pattern to search for.
    An opener with no closer after it ends the scan: the rest is kept as it
    is, so every character is looked at a bounded number of times.
    """
    out: list[str] = []
    pos = 0
    while True:
        match = opener.search(text, pos)
        if match is None:
            break
        closer = closer_of(match)
        if isinstance(closer, str):
            end = text.find(closer, match.end())
            stop = end + len(closer)
        else:
            found = closer.search(text, match.end())
            end, stop = (found.start(), found.end()) if found else (-1, -1)
        if end < 0:
            break
        out += (text[pos : match.start()], replacement)
        pos = stop
    out.append(text[pos:])
    return "".join(out)


def _literal(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


_COMMENT_OPEN = _literal("<!--")
_IAL_OPEN = _literal("{:")


def strip_liquid(text: str) -> str:
    """Text without Liquid tags (``{% … %}``) and output (``{{ … }}``), in one forward scan."""
    return _cut_spans(text, _LIQUID_OPEN, lambda m: "%}" if m.group() == "{%" else "}}")


def strip_tags(text: str, replacement: str = " ") -> str:
    """Text without HTML tags (``<p>``, ``</div>``), in one forward scan; entities are kept."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0:
            break
        name = start + 2 if text.startswith("</", start) else start + 1
        if name < len(text) and text[name].isascii() and text[name].isalpha():
            end = text.find(">", name)
            if end < 0:
                break
            out += (text[pos:start], replacement)
            pos = end + 1
        else:
            out.append(text[pos : start + 1])
            pos = start + 1
    out.append(text[pos:])
    return "".join(out)


def _strip_markup(markdown: str) -> str:
    """Comments, scripts and styles, Liquid and kramdown attribute lists (``{: .x}``) removed.

    ``##`` followed by a no-break space starts a heading, as in kramdown (CommonMark wants a space).
    """
    text = _cut_spans(markdown, _COMMENT_OPEN, lambda m: "-->")
    text = _cut_spans(text, _SCRIPT_OPEN, lambda m: _SCRIPT_CLOSE[m.group(1).lower()])
    text = strip_liquid(text)
    text = _cut_spans(text, _IAL_OPEN, lambda m: "}")
    return _ATX_ODD_SPACE.sub(r"\1 ", text)


def _stop_when_late(state: StateInline, silent: bool) -> bool:
    """An inline rule run first at each step: past the deadline, the rest is plain text."""
    deadline = state.env.get("deadline")
    if silent or deadline is None or time.monotonic() < deadline:
        return False
    state.env["late"] = True
    state.pending += state.src[state.pos : state.posMax]
    state.pos = state.posMax
    return True


def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    parser.enable(["table", "strikethrough"])
    parser.inline.ruler.before("text", "stop_when_late", _stop_when_late)
    return parser


_MARKDOWN = _markdown_parser()


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text.replace("|", " ")).strip()


def _inline_text(children: list[Token]) -> str:
    """The words of inline tokens: link and image text kept, addresses and tags dropped."""
    parts: list[str] = []
    for token in children:
        if token.type in ("text", "text_special", "code_inline", "image"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak", "html_inline"):
            parts.append(" ")
    return _one_line(" ".join("".join(parts).split("\n")))


def _bold_line(line: list[Token]) -> str | None:
    """The text of a line that is bold and nothing else (``**Methods**:``), else None."""
    tokens = [t for t in line if not (t.type == "text" and not t.content.strip())]
    if tokens and tokens[-1].type == "text" and tokens[-1].content.strip() == ":":
        tokens.pop()
    if (
        len(tokens) >= 3
        and tokens[0].type == "strong_open"
        and tokens[-1].type == "strong_close"
        and not any(t.type == "strong_open" for t in tokens[1:-1])
    ):
        return _inline_text(tokens[1:-1]) or None
    return None


def _paragraph(children: list[Token], paragraphs: list[str], headings: list[str]) -> None:
    """A paragraph's lines; a line that is only bold text is a heading (as report sites use it)."""
    lines: list[list[Token]] = [[]]
    for token in children:
        if token.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(token)
    current: list[Token] = []
    for line in lines:
        heading = _bold_line(line)
        if heading is None:
            if current:
                current.append(Token("softbreak", "br", 0))
            current += line
            continue
        text = _inline_text(current)
        if text:
            paragraphs.append(text)
        current = []
        headings.append(heading)
        paragraphs.append(heading)
    text = _inline_text(current)
    if text:
        paragraphs.append(text)


@dataclass(frozen=True)
class MarkdownText:
    """A page's Markdown as text: paragraphs one a line, its headings, and whether it all fit.

    ``finished`` is False when conversion ran past its time budget; the text
    after that point is then kept as written, without markup removed.
    """

    text: str
    headings: tuple[str, ...]
    finished: bool = True


def convert_markdown(markdown: str, *, seconds: float = PAGE_SECONDS) -> MarkdownText:
    """Plain text and headings of a Markdown page, in time linear in its length.

    Liquid tags, HTML tags, comments, scripts and kramdown attribute lists are
    removed; link and image text is kept, addresses dropped; code and table
    cells are kept; lines that are bold and nothing else count as headings,
    as they are used that way on report sites. Inline parsing that runs past
    ``seconds`` stops and keeps the rest of the text as written.
    """
    env: dict[str, Any] = {"deadline": time.monotonic() + seconds}
    tokens = _MARKDOWN.parse(_strip_markup(markdown), env)
    paragraphs: list[str] = []
    headings: list[str] = []
    cells: list[str] | None = None
    in_heading = False
    for token in tokens:
        kind = token.type
        if kind == "inline":
            children = token.children or []
            if in_heading:
                heading = _inline_text(children)
                if heading:
                    headings.append(heading)
                    paragraphs.append(heading)
            elif cells is not None:
                cells.append(_inline_text(children))
            else:
                _paragraph(children, paragraphs, headings)
        elif kind == "heading_open":
            in_heading = True
        elif kind == "heading_close":
            in_heading = False
        elif kind == "table_open":
            cells = []
        elif kind == "table_close" and cells is not None:
            row = " ".join(cell for cell in cells if cell)
            if row:
                paragraphs.append(row)
            cells = None
        elif kind in ("fence", "code_block"):
            code = _SPACES.sub(" ", " ".join(token.content.split("\n"))).strip()
            if code:
                paragraphs.append(code)
        elif kind == "html_block":
            block = _one_line(html.unescape(strip_tags(token.content)).replace("\n", " "))
            if block:
                paragraphs.append(block)
    return MarkdownText("\n".join(paragraphs), tuple(headings), finished=not env.get("late"))


def markdown_to_text(markdown: str) -> tuple[str, tuple[str, ...]]:
    """Plain text (one paragraph a line) and the headings of a Markdown page (see ``convert_markdown``)."""
    converted = convert_markdown(markdown)
    return converted.text, converted.headings


# ----------------------------------------------------------------------------------------
# Pages

_NUMBER_PREFIX = re.compile(r"^(?:section\s*)?\d+(?:\.\d+)*[\s_\-–:.]+", re.I)


def title_from_filename(path: str) -> str:
    """A readable title from a file name: ``Section 2.5.1_Citizens Juries.pdf`` -> ``Citizens Juries``.

    Invisible characters are removed (``pdfmeta.visible_text``). A name that
    leaves no letter or digit (``___.pdf``, ``\u200b.pdf``) is its title with its
    extension, as written (``___.pdf``, ``.pdf``); a name with nothing visible at
    all, its characters' escapes: never an empty or invisible title.
    """
    name = posixpath.basename(path)
    stem = posixpath.splitext(name)[0]
    text = visible_text(stem.replace("_", " "))
    stripped = _NUMBER_PREFIX.sub("", text)
    text = stripped if stripped.strip() else text
    text = text.strip(" -")
    if text and text == text.lower() and "-" in text and " " not in text:
        text = text.replace("-", " ")
    if has_letter_or_digit(text):
        return text[:1].upper() + text[1:]
    return visible_text(name) or name.encode("unicode_escape").decode("ascii")


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
            link = safe_link(address)
            if link is None:
                problems.append(
                    Problem(
                        "bad-value",
                        src_path,
                        f"resources entry {position} url: {address!r} is not a link results can "
                        f"carry; use {ACCEPTED_LINKS} (or path: for a file of the site). "
                        "It was ignored.",
                        line=_line_of(text, address),
                    )
                )
                continue
            resources.append(Resource("url", title or link, link, link))
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
        with source.abs_path.open("rb") as handle:
            data = handle.read(MAX_PAGE_BYTES + 1)
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
    file_cut = len(data) > MAX_PAGE_BYTES
    if file_cut:
        data = _cut_bytes(data, MAX_PAGE_BYTES)
    text, problems = decode_text(data, src_path)
    fm_text, body, handler = split_front_matter(text.replace("\r\n", "\n"))
    metadata: dict[str, Any] = {}
    if fm_text is not None and handler is not None:
        metadata, fm_problems = load_front_matter(fm_text, handler, src_path)
        problems.extend(fm_problems)
    config = scan.config
    started = time.monotonic()
    lower = src_path.lower()
    guessed = ""
    if lower.endswith(".txt"):
        plain, guessed = text_to_paragraphs(body)
        headings: tuple[str, ...] = ()
    else:
        converted = convert_markdown(
            strip_tags(body, "\n") if lower.endswith((".html", ".htm")) else body,
            seconds=PAGE_SECONDS - (time.monotonic() - started),
        )
        plain, headings = converted.text, converted.headings
        if not converted.finished:
            problems.append(
                Problem(
                    "page-too-slow",
                    src_path,
                    f"page took more than {PAGE_SECONDS:g} seconds to read as Markdown; the rest "
                    "of it is indexed as written, with its markup. Split the page, or look for "
                    "long runs of brackets, stars or tags.",
                )
            )
    lead_parts = [
        convert_markdown(
            _as_text(metadata.get(key)), seconds=PAGE_SECONDS - (time.monotonic() - started)
        ).text
        for key in ("intro", "description", "summary")
        if isinstance(metadata.get(key), str)
    ]
    plain = "\n".join([*[p for p in lead_parts if p], plain]).strip()
    if not file_cut and source.size >= MARKUP_CHECK_BYTES:
        word_chars = sum(len(word) for word in _WORD_CHARS.findall(plain))
        if word_chars < MIN_WORD_SHARE * source.size:
            problems.append(
                Problem(
                    "page-mostly-markup",
                    src_path,
                    f"page is {source.size:,} bytes but only {word_chars:,} characters of it are "
                    "words; it is indexed, but check that the file is what you meant to publish "
                    "(long runs of spaces, brackets or tags).",
                )
            )
    if file_cut or len(plain) > MAX_TEXT_CHARS:
        size = f"{max(source.size, MAX_PAGE_BYTES + 1):,} bytes" if file_cut else ""
        chars = "" if file_cut else f"{len(plain):,} characters of text"
        problems.append(too_large_problem(src_path, f"page is too large ({size or chars})"))
        plain = cap_text(plain)

    title = visible_text(_as_text(metadata.get("title")))
    title = title if has_letter_or_digit(title) else ""
    guessed = visible_text(guessed or "")
    title_weighted = True
    if not title and guessed:
        # a note's first line: shown as its title, searched only as the text it is
        title, title_weighted = guessed, False
    if not title:
        heading = next((h for h in map(visible_text, headings) if has_letter_or_digit(h)), "")
        title = heading or title_from_filename(src_path)

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

    authors = clean_names(_strings(metadata.get("authors", metadata.get("author"))))
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
        title_weighted=title_weighted,
    )
    return Page(meta=meta, headings=headings, body=plain), problems


def _cut_bytes(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes or fewer, ending at a line end if one is near, never inside a character."""
    head = data[:limit]
    line_end = head.rfind(b"\n", max(0, limit - 65_536))
    if line_end > 0:
        return head[: line_end + 1]
    end = limit
    while end > 0 and data[end] & 0xC0 == 0x80:
        end -= 1
    return data[:end]


def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a line end or space when one is near."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for separator in ("\n", " "):
        end = head.rfind(separator, max(0, limit - 2_000))
        if end > 0:
            return head[:end]
    return head


def too_large_problem(src_path: str, what: str) -> Problem:
    """The ``page-too-large`` warning: ``what`` says how large the file or its text is."""
    return Problem(
        "page-too-large",
        src_path,
        f"{what}; only its first {MAX_TEXT_CHARS:,} characters of text are indexed (chcsearch "
        f"reads at most {MAX_PAGE_BYTES:,} bytes of a page and indexes at most "
        f"{MAX_TEXT_CHARS:,} characters of one document, so that no search pays for one huge "
        "file). Split it into smaller files.",
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    if isinstance(value, list):
        return tuple(
            str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()
        )
    return ()


def _year(value: Any) -> int | None:
    match = YEAR.search(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


#: Characters of a note's first line shown as its title (it is searched whole, as text).
GUESSED_TITLE_CHARS = 200


def text_to_paragraphs(text: str) -> tuple[str, str]:
    """A plain-text note as paragraphs (one a line), and its first line: the title it shows
    (cut to ``GUESSED_TITLE_CHARS`` at a word), whatever its length."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    paragraphs = [b for b in blocks if b]
    first_line = " ".join(next((ln for ln in text.splitlines() if ln.strip()), "").split())
    if len(first_line) > GUESSED_TITLE_CHARS:
        first_line = first_line[:GUESSED_TITLE_CHARS].rsplit(" ", 1)[0] + " …"
    return "\n".join(paragraphs), first_line
