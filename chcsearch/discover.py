"""Discover stage: which files a static-site generator publishes, and where.

Two site generators are understood, and plain folders:

* **Jekyll** (a ``_config.yml`` at the root): files and folders whose names
  start with ``_``, ``.``, ``#`` or end with ``~`` are not published unless
  listed in ``include:``; ``exclude:`` (added to Jekyll's own defaults) is
  honoured; only files that begin with front matter are pages, everything
  else is a static file published at its own path. Collections with
  ``output: true`` and ``_posts`` are pages too.
* **Hugo** (``hugo.toml``/``config.toml``/... beside a ``content/`` folder):
  every Markdown or HTML file under ``content/`` is a page (``_index.md`` is
  a section page); files under ``static/`` are published at the site root and
  other files under ``content/`` beside their page.

* **A plain folder of reports** (no generator's config): every PDF,
  Markdown and text file is a document, placed in its folder; hidden files
  are skipped; ``report.pdf.yml`` beside a file and ``_meta.yml`` in a folder
  are metadata sidecars (``chcsearch.sidecars``).

Page URLs follow each generator's rules (``permalink``, ``baseurl``,
``slug``, ``url``, pretty or ugly URLs).
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml

from .errors import SiteError
from .model import Problem, SourceFile
from .sources import host_fault, normalize_site_url, quote_unsafe
from .text import CONTROL
from .yamlsafe import YamlTooComplex, load_yaml, too_complex_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PAGE_SUFFIXES = (".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mkdown", ".mkdn", ".mkd")
FOLDER_TEXT_SUFFIXES = (*MARKDOWN_SUFFIXES, ".txt")
SIDECAR_FOLDER_NAMES = ("_meta.yml", "_meta.yaml")
JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
HUGO_CONFIGS = (
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.yml",
    "config.json",
)
JEKYLL_DEFAULT_EXCLUDES = (
    ".sass-cache",
    ".jekyll-cache",
    "gemfiles",
    "Gemfile",
    "Gemfile.lock",
    "node_modules",
    "vendor/bundle",
    "vendor/cache",
    "vendor/gems",
    "vendor/ruby",
)
_FRONT_MATTER_START = re.compile(rb"\A(?:\xef\xbb\xbf)?---[ \t]*\r?\n")


@dataclass(frozen=True)
class SiteConfig:
    """The publishing rules of one site, read from its generator's config."""

    generator: str
    root: Path
    title: str = ""
    baseurl: str = ""
    permalink: str = "date"
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    collections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    content_dir: str = ""
    static_dirs: tuple[str, ...] = ()
    ugly_urls: bool = False
    #: The site's public address (Jekyll ``url`` + ``baseurl``, Hugo ``baseURL``), or "".
    site_url: str = ""

    def public_url(self, public_path: str) -> str:
        """The URL of a static file published at ``public_path``."""
        return _join_base(self.baseurl, "/" + quote(public_path))


@dataclass(frozen=True)
class SiteScan:
    """Everything discovery found.

    ``pages`` are page candidates (their front matter is read later);
    ``published`` maps the public path of every published static file
    (``assets/hub/x.pdf``) to its source; ``pdfs`` are the PDFs among them.
    ``unpublished`` holds files that exist but the generator does not publish,
    so that a link to one can be reported precisely.
    """

    config: SiteConfig
    pages: tuple[SourceFile, ...]
    published: Mapping[str, SourceFile]
    pdfs: tuple[SourceFile, ...]
    unpublished: frozenset[str]
    problems: tuple[Problem, ...]
    sidecars: Mapping[str, SourceFile] = field(default_factory=dict)
    """Folder archives: metadata files (``report.pdf.yml``, ``_meta.yml``) by path."""


def _join_base(baseurl: str, path: str) -> str:
    base = "/" + baseurl.strip("/") if baseurl.strip("/") else ""
    return base + path


def detect_generator(root: Path) -> str:
    """``jekyll``, ``hugo`` or ``folder``, judged from the files at the root.

    A ``_config.yml`` means Jekyll; a Hugo config beside ``content/`` (or
    ``_index.md`` files under it) means Hugo; anything else is a plain folder
    of reports.
    """
    if any((root / name).is_file() for name in JEKYLL_CONFIGS):
        return "jekyll"
    if any((root / name).is_file() for name in HUGO_CONFIGS) and (root / "content").is_dir():
        return "hugo"
    if (root / "content").is_dir() and any((root / "content").rglob("_index.md")):
        return "hugo"
    return "folder"


def _read_config(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = load_yaml(text, keep_text=False)
    except YamlTooComplex as exc:
        kept = "using the generator's defaults"
        return {}, [too_complex_problem(path.name, exc, what="site config", kept=kept)]
    except RecursionError:
        # tomllib and json recurse once per nested array; CPython stops them cleanly.
        msg = (
            "site config nests its values too deeply to read; using the generator's defaults. "
            "Flatten the nested lists or tables."
        )
        return {}, [Problem("bad-value", path.name, msg)]
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        msg = (
            f"site config could not be read ({exc}); using the generator's defaults. Fix the file."
        )
        return {}, [Problem("bad-value", path.name, msg)]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        msg = "site config is not a mapping of settings; using the generator's defaults."
        return {}, [Problem("bad-value", path.name, msg)]
    return data, []


def _base_path(value: Any, key: str, config_name: str, *, hugo: bool) -> tuple[str, Problem | None]:
    """The path every URL of the site starts with (``/docs``, or ``""``), from its
    ``baseurl`` (or Hugo's ``baseURL``, which may be an http(s) address).

    Every result link starts with it, so it gets the same rules as
    ``safe_link``: ``/\\evil.example`` would send each link to another host.
    A value that breaks them is ignored, with a ``bad-value`` problem.
    """
    if value is None or value == "":
        return "", None
    path: str | None = None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if hugo and _SCHEME.match(text):
            path = urlsplit(text).path if safe_link(text) is not None else None
        else:
            # both generators put a / before a base that lacks one
            path = text if text.startswith("/") else "/" + text
            path = path if safe_link(path) is not None else None
        if path is not None:
            path = "/" + path.strip("/") if path.strip("/") else ""
            if path and safe_link(path) is None:
                path = None
    elif isinstance(value, str):
        return "", None
    if path is not None:
        return path, None
    accepted = "a path on the site that starts with / (not // or /\\)" + (
        ", or an http:// or https:// address with a host," if hugo else ""
    )
    fault = "would send result links off the site" if isinstance(value, str) else "is not text"
    return "", Problem(
        "bad-value",
        config_name,
        f"{key}: {value!r} {fault}, so it was ignored and links start at /. "
        f"Use {accepted} with no control characters, such as /docs.",
    )


def _str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    return ()


def load_site_config(root: Path, generator: str = "auto") -> tuple[SiteConfig, list[Problem]]:
    """Read the generator's config file into a ``SiteConfig``."""
    if generator == "auto":
        generator = detect_generator(root)
    if generator == "folder":
        return SiteConfig(generator="folder", root=root, title=root.resolve().name), []
    names = JEKYLL_CONFIGS if generator == "jekyll" else HUGO_CONFIGS
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    config_name = names[0]
    for name in names:
        if (root / name).is_file():
            data, problems = _read_config(root / name)
            config_name = name
            break
    title = str(data.get("title") or "")
    if generator == "jekyll":
        baseurl, problem = _base_path(data.get("baseurl"), "baseurl", config_name, hugo=False)
        problems += [problem] if problem else []
        origin = data.get("url")
        site_url = normalize_site_url(origin) if isinstance(origin, str) else None
        collections_raw = data.get("collections") or {}
        collections: dict[str, Mapping[str, Any]] = {}
        if isinstance(collections_raw, list):
            collections_raw = {str(name): {} for name in collections_raw}
        if isinstance(collections_raw, dict):
            for name, opts in collections_raw.items():
                collections[str(name)] = opts if isinstance(opts, dict) else {}
        return (
            SiteConfig(
                generator="jekyll",
                root=root,
                title=title,
                baseurl=baseurl,
                permalink=str(data.get("permalink") or "date"),
                exclude=JEKYLL_DEFAULT_EXCLUDES + _str_list(data.get("exclude")),
                include=_str_list(data.get("include")),
                collections=collections,
                site_url=site_url + baseurl if site_url else "",
            ),
            problems,
        )
    key = "baseURL" if data.get("baseURL") else "baseurl"
    base_path, problem = _base_path(data.get(key), key, config_name, hugo=True)
    problems += [problem] if problem else []
    static = _str_list(data.get("staticDir")) or ("static",)
    return (
        SiteConfig(
            generator="hugo",
            root=root,
            title=title,
            baseurl=base_path,
            content_dir=str(data.get("contentDir") or "content"),
            static_dirs=static,
            ugly_urls=bool(data.get("uglyURLs") or data.get("uglyurls")),
            site_url=normalize_site_url(data[key]) or "" if isinstance(data.get(key), str) else "",
        ),
        problems,
    )


def _matches(rel: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pat = pattern.strip().strip("/")
        if not pat:
            continue
        if rel == pat or rel.startswith(pat + "/") or fnmatch.fnmatchcase(rel, pat):
            return True
    return False


def _is_special(name: str) -> bool:
    return name.startswith(("_", ".", "#")) or name.endswith("~")


@dataclass
class _Walker:
    """Walks a folder tree inside the site root, following safe symlinks."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.real_root = os.path.realpath(self.root)

    def rel(self, path: str) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def inside(self, real: str) -> bool:
        return real == self.real_root or real.startswith(self.real_root.rstrip(os.sep) + os.sep)

    def walk(self, top: Path, keep: Any) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """Yield ``(rel_path, entry)`` for files under ``top`` that ``keep(rel, name, is_dir)`` allows."""
        yield from self._walk(str(top), keep, (os.path.realpath(top),))

    def _walk(
        self, folder: str, keep: Any, chain: tuple[str, ...]
    ) -> Iterator[tuple[str, os.DirEntry[str]]]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(
                Problem(
                    "unreadable-file", self.rel(folder), f"folder cannot be read ({exc.strerror})."
                )
            )
            return
        for entry in entries:
            rel = self.rel(entry.path)
            if not _is_utf8(rel):
                self.problems.append(_name_not_utf8(rel))
                continue
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if entry.is_symlink():
                try:
                    real = os.path.realpath(entry.path, strict=True)
                except OSError:
                    self.problems.append(
                        Problem(
                            "symlink-loop",
                            rel,
                            "symbolic link is broken or loops back on itself; it was skipped. "
                            "Point it at a real file or remove it.",
                        )
                    )
                    continue
                if not self.inside(real):
                    self.problems.append(
                        Problem(
                            "path-outside-site",
                            rel,
                            "symbolic link points outside the site folder and was not read. "
                            "Copy the file into the site instead.",
                        )
                    )
                    continue
                if is_dir and any(real == seen for seen in chain):
                    self.problems.append(
                        Problem(
                            "symlink-loop",
                            rel,
                            "symbolic link points back to a folder that contains it; skipped.",
                        )
                    )
                    continue
            if not keep(rel, entry.name, is_dir):
                continue
            if is_dir:
                yield from self._walk(entry.path, keep, (*chain, os.path.realpath(entry.path)))
            elif is_file:
                yield rel, entry
            else:
                self.problems.append(_not_regular(rel, entry))


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(rel: str, entry: os.DirEntry[str]) -> Problem:
    """The warning for a name that is neither a file nor a folder. It is never
    opened: opening a FIFO waits for a writer, for ever."""
    try:
        mode = entry.stat().st_mode
    except OSError as exc:
        return Problem(
            "unreadable-file", rel, f"file cannot be read ({exc.strerror}); it was skipped."
        )
    what = next((name for test, name in _SPECIAL_FILES if test(mode)), "a special file")
    return Problem(
        "unreadable-file",
        rel,
        f"is not a regular file ({what}); it was skipped. Replace it with the file itself.",
    )


def _is_utf8(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """A file name as text that can be printed and stored: bytes that are not UTF-8 as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def _name_not_utf8(rel: str) -> Problem:
    return Problem(
        "file-name-not-utf8",
        printable_name(rel),
        "file or folder name is not valid UTF-8, so it cannot be shown or linked; it was "
        "skipped. Rename it (for example with 'convmv -f latin1 -t utf8').",
    )


def _source(rel: str, entry: os.DirEntry[str], kind: str) -> SourceFile:
    status = entry.stat()
    return SourceFile(
        src_path=rel,
        abs_path=Path(entry.path),
        kind=kind,  # type: ignore[arg-type]
        size=status.st_size,
        mtime_ns=status.st_mtime_ns,
    )


def has_front_matter(path: Path) -> bool:
    """True when the file's first line is ``---``: Jekyll's test for a page."""
    try:
        with path.open("rb") as handle:
            line = handle.readline(4096)
    except OSError:
        return False
    return bool(_FRONT_MATTER_START.match(line))


def _not_hidden(rel: str, name: str, is_dir: bool) -> bool:
    """Walk filter for Hugo sites and plain folders: skip dot-files and dot-folders."""
    return not name.startswith(".")


def scan_site(root: Path, generator: str = "auto") -> SiteScan:
    """Find the pages and published files of the site at ``root``."""
    if not root.exists():
        raise SiteError(f"site folder {root} does not exist; pass the folder that holds your site.")
    if not root.is_dir():
        raise SiteError(f"{root} is not a folder; pass the folder that holds your site.")
    config, problems = load_site_config(root, generator)
    walker = _Walker(root)
    pages: list[SourceFile] = []
    published: dict[str, SourceFile] = {}
    sidecars: dict[str, SourceFile] = {}
    unpublished: set[str] = set()

    if config.generator == "jekyll":
        output_collections = {
            f"_{name}" for name, opts in config.collections.items() if opts.get("output")
        } | {"_posts"}

        def keep(rel: str, name: str, is_dir: bool) -> bool:
            if _matches(rel, config.include):
                return True
            special = _is_special(name) and not (is_dir and rel in output_collections)
            if special or _matches(rel, config.exclude):
                unpublished.add(rel)
                return False
            return True

        for rel, entry in walker.walk(root, keep):
            suffix = posixpath.splitext(rel)[1].lower()
            if suffix in PAGE_SUFFIXES and has_front_matter(Path(entry.path)):
                pages.append(_source(rel, entry, "page"))
                continue
            source = _source(rel, entry, "pdf" if suffix == ".pdf" else "page")
            published[rel] = source
            if suffix in MARKDOWN_SUFFIXES:
                problems.append(_no_front_matter(rel, source.size))
    elif config.generator == "folder":
        files = dict(walker.walk(root, _not_hidden))
        for rel, entry in files.items():
            name = posixpath.basename(rel)
            suffix = posixpath.splitext(rel)[1].lower()
            if suffix == ".pdf":
                published[rel] = _source(rel, entry, "pdf")
            elif suffix in FOLDER_TEXT_SUFFIXES:
                pages.append(_source(rel, entry, "page"))
            elif suffix in (".yml", ".yaml") and (
                name in SIDECAR_FOLDER_NAMES or posixpath.splitext(rel)[0] in files
            ):
                sidecars[rel] = _source(rel, entry, "page")
    else:
        content = root / config.content_dir

        if content.is_dir():
            for rel, entry in walker.walk(content, _not_hidden):
                suffix = posixpath.splitext(rel)[1].lower()
                if suffix in PAGE_SUFFIXES:
                    pages.append(_source(rel, entry, "page"))
                else:
                    public = posixpath.relpath(rel, config.content_dir)
                    published[public] = _source(rel, entry, "pdf" if suffix == ".pdf" else "page")
        for static in config.static_dirs:
            if (root / static).is_dir():
                for rel, entry in walker.walk(root / static, _not_hidden):
                    public = posixpath.relpath(rel, static.strip("/"))
                    suffix = posixpath.splitext(rel)[1].lower()
                    published[public] = _source(rel, entry, "pdf" if suffix == ".pdf" else "page")

    problems.extend(walker.problems)
    pdfs = tuple(
        sorted((s for s in published.values() if s.kind == "pdf"), key=lambda s: s.src_path)
    )
    return SiteScan(
        config=config,
        pages=tuple(sorted(pages, key=lambda s: s.src_path)),
        published=published,
        pdfs=pdfs,
        unpublished=frozenset(unpublished),
        problems=tuple(problems),
        sidecars=sidecars,
    )


def _no_front_matter(rel: str, size: int) -> Problem:
    if size == 0:
        return Problem(
            "empty-file",
            rel,
            "file is empty, so it is not a page and was not indexed. Add front matter and text, "
            "or delete it.",
        )
    return Problem(
        "no-front-matter",
        rel,
        "Markdown file has no front matter, so the generator copies it as a plain file instead of "
        "publishing a page; it was not indexed. Start it with a '---' front matter block (or add it "
        "to exclude: in the site config).",
    )


# ----------------------------------------------------------------------------------------
# URLs


#: What a ``url:`` written by hand (a sidecar's, a front-matter resource's) may be.
ACCEPTED_LINKS = "an http:// or https:// address, or a path on the site starting with /"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def safe_link(address: str) -> str | None:
    """``address`` as a result may link to it, or None when it may not: spaces and what
    may not stand raw in a URL (``"<>\\{}|^`` and the backquote) percent-encoded
    (``sources.quote_unsafe``), so that no index, export or API answer holds them.

    Only ``http:``/``https:`` addresses with a host and paths on the site
    (``/reports/x.pdf``) are accepted: anything else (``javascript:``,
    ``data:``, ``//other.host``, ``x.pdf``) would run in, or lead away from,
    the search page. Browsers drop tabs and line ends inside an address
    (``java`` tab ``script:`` is ``javascript:``), so an address holding any
    control character is refused too, and so is a host holding a space or a
    character not allowed in a URL (``x.org\\@evil`` is one host to a
    browser, another to other readers) and a host ``sources.host_fault``
    refuses, as ``--base-url`` does: one that is not a DNS name or an IP
    address, or not ASCII (``аррӏе.com`` in Cyrillic letters shows as
    ``apple.com``). Used for every address written by hand: sidecars' ``url:``
    and front-matter resources' ``url:``.
    """
    address = address.strip()
    if not address or CONTROL.search(address):
        return None
    scheme = _SCHEME.match(address)
    if scheme is not None:
        rest = address[scheme.end() :]
        netloc = re.match(r"//([^/?#]+)", rest)
        try:
            host = urlsplit(address).hostname or ""
        except ValueError:
            host = ""
        accepted = (
            scheme.group(1).lower() in ("http", "https")
            and netloc is not None
            and quote_unsafe(netloc.group(1)) == netloc.group(1)
            and bool(host)
            and host_fault(host) is None
        )
    else:
        accepted = address.startswith("/") and not address.startswith(("//", "/\\"))
    return quote_unsafe(address) if accepted else None


def _slugify_title(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")


def page_url(config: SiteConfig, src_path: str, front_matter: Mapping[str, Any]) -> str:
    """The public URL of a page, by the generator's permalink rules."""
    if config.generator == "hugo":
        return _hugo_url(config, src_path, front_matter)
    if config.generator == "folder":
        return "/" + quote(src_path)
    return _jekyll_url(config, src_path, front_matter)


def _jekyll_url(config: SiteConfig, src_path: str, fm: Mapping[str, Any]) -> str:
    permalink = fm.get("permalink")
    if isinstance(permalink, str) and permalink.strip():
        url = "/" + permalink.strip().lstrip("/")
        return _join_base(config.baseurl, quote(url, safe="/#%:@!$&'()*+,;="))
    folder, name = posixpath.split(src_path)
    stem = posixpath.splitext(name)[0]
    top = src_path.split("/", 1)[0]
    style = config.permalink
    if top == "_posts":
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})-(.+)", stem)
        if match:
            year, month, day, slug = match.groups()
            categories = fm.get("categories") or fm.get("category") or ()
            cats = "/".join(
                _str_list(categories) if not isinstance(categories, str) else categories.split()
            )
            prefix = f"/{cats}" if cats else ""
            if style == "pretty":
                url = f"{prefix}/{year}/{month}/{day}/{slug}/"
            elif style == "none":
                url = f"{prefix}/{slug}.html"
            elif style == "ordinal":
                url = f"{prefix}/{year}/{slug}.html"
            else:
                url = f"{prefix}/{year}/{month}/{day}/{slug}.html"
            return _join_base(config.baseurl, quote(url))
    if top.startswith("_") and top[1:] in config.collections:
        collection = top[1:]
        inner = posixpath.relpath(posixpath.join(folder, stem), top)
        url = f"/{collection}/{inner}" + ("/" if style == "pretty" else ".html")
        return _join_base(config.baseurl, quote(url))
    pretty = style == "pretty" or style.endswith("/")
    if stem == "index":
        url = "/" + (folder + "/" if folder else "")
    elif pretty:
        url = "/" + posixpath.join(folder, stem) + "/"
    else:
        url = "/" + posixpath.join(folder, stem) + ".html"
    return _join_base(config.baseurl, quote(url))


def _hugo_url(config: SiteConfig, src_path: str, fm: Mapping[str, Any]) -> str:
    explicit = fm.get("url")
    if isinstance(explicit, str) and explicit.strip():
        return _join_base(config.baseurl, quote("/" + explicit.strip().lstrip("/")))
    rel = posixpath.relpath(src_path, config.content_dir)
    folder, name = posixpath.split(rel)
    stem = posixpath.splitext(name)[0]
    if stem in ("_index", "index"):
        parts = [p for p in folder.split("/") if p]
        url = "/" + "/".join(parts) + ("/" if parts else "")
        if config.ugly_urls and parts:
            url = "/" + "/".join(parts) + ".html" if stem == "index" else url
    else:
        slug = fm.get("slug")
        last = str(slug).strip() if isinstance(slug, str) and slug.strip() else stem
        path = "/".join(p for p in (folder, last) if p)
        url = "/" + path + (".html" if config.ugly_urls else "/")
    return _join_base(config.baseurl, quote(url.lower()))


def resolve_resource_path(
    scan: SiteScan, page_src: str, raw: str
) -> tuple[str | None, Problem | None]:
    """Find the published file a page's ``path:`` resource names.

    The path may start with ``/`` or not, include the site's ``baseurl``, and
    be URL-encoded or not. A path that leaves the site root is refused.
    Returns the public path of the file, or ``None`` with a problem.
    """
    text = raw.strip()
    base = scan.config.baseurl.strip("/")
    candidates: list[str] = []
    for variant in (text, unquote(text)):
        path = variant.split("#", 1)[0].split("?", 1)[0]
        relative_to_page = not path.startswith("/")
        path = path.lstrip("/")
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base) :].lstrip("/")
        norm = posixpath.normpath(path) if path else ""
        if norm.startswith("../") or norm == "..":
            return None, Problem(
                "path-outside-site",
                page_src,
                f"resource path {raw!r} leaves the site folder and was not read. "
                "Use a path inside the site, such as /assets/report.pdf.",
            )
        candidates.append(norm)
        if relative_to_page and scan.config.generator == "hugo":
            bundle = posixpath.dirname(posixpath.relpath(page_src, scan.config.content_dir))
            candidates.append(posixpath.normpath(posixpath.join(bundle, path)))
    for candidate in candidates:
        if candidate in scan.published:
            return candidate, None
    for candidate in candidates:
        if candidate in scan.unpublished or any(
            candidate.startswith(u + "/") for u in scan.unpublished
        ):
            return None, Problem(
                "not-published",
                page_src,
                f"resource {raw!r} exists but the site generator does not publish it "
                "(its folder starts with '_' or '.', or it is excluded). Move the file or "
                "fix the path.",
            )
    target = (scan.config.root / candidates[0]).resolve() if candidates and candidates[0] else None
    if (
        target is not None
        and target.exists()
        and not target.is_relative_to(scan.config.root.resolve())
    ):
        return None, Problem(
            "path-outside-site",
            page_src,
            f"resource path {raw!r} leads outside the site folder through a symbolic link and "
            "was not read. Copy the file into the site.",
        )
    return None, Problem(
        "dead-link",
        page_src,
        f"resource path {raw!r} does not exist in the site. Fix the path in the front matter "
        "or add the file.",
    )
