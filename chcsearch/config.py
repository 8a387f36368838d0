"""Settings, merged once: defaults, then a config file, then ``CHCSEARCH_*``
environment variables, then command-line flags.

The result is a frozen settings object that is passed down; nothing below
this module reads the environment or a config file.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, OptionValueError

GENERATORS = ("auto", "jekyll", "hugo", "folder")
EXTRACTORS = ("pdfminer", "pdfium")
CONFIG_FILE_NAME = "chcsearch.toml"
DEFAULT_SITE = Path("content")
DEFAULT_INDEX = Path("index")
DEFAULT_PDF_TIMEOUT = 300.0
DEFAULT_PDF_MEMORY_MB = 512
#: The fewest and most seconds each time setting may be, from any source: a search's time
#: limit, how long a connection may idle, take to send a request or leave an answer untaken,
#: how long one PDF's extraction may take. Below the floors nothing useful could finish.
SECONDS_LIMITS = {
    "time_limit": (0.01, 60.0),
    "idle_timeout": (0.1, 300.0),
    "pdf_timeout": (0.1, 86_400.0),
}
#: A path as the Python API takes it: text or any ``os.PathLike``.
StrPath = str | os.PathLike[str]
#: A number of seconds as text: ASCII digits, plain decimal or exponent notation
#: (not "1_0", "٣", "0x10", "inf" or "nan", which Python's float() would read or try).
#: No two digit runs may stand side by side unparted: "1" * n + "x" would backtrack as n**2.
_SECONDS_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def whole_number(raw: object, least: int, most: int | None = None) -> int | None:
    """``raw`` as a whole number from ``least`` to ``most`` (no upper end when None), or None.

    Text is ASCII digits only, white space around them aside: not "1_0", "+5", "٨" or "８",
    which Python's int() would read. An int (a flag's value, a TOML number) is taken as it
    is, a bool is not. More than 4,000 digits (leading zeros aside) are refused before
    int() meets them: it raises ValueError above 4,300."""
    if isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if isinstance(raw, int):
        number = raw
    elif not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 4000:
        return None
    else:
        number = int(text)
    if number < least or (most is not None and number > most):
        return None
    return number


@dataclass(frozen=True)
class IndexSettings:
    """Everything one ``chcsearch index`` run needs to know.

    ``jobs`` is the number of PDF extraction processes (at least 1);
    ``pdf_timeout`` the seconds one PDF may take before it is given up with a
    ``pdf-timeout`` warning (0.1 s to a day); ``pdf_memory`` the megabytes one PDF's extraction
    process may use before the file is given up with a ``pdf-too-large``
    warning (0: no limit). ``extractor`` is ``pdfminer`` or ``pdfium`` and
    ``ocr`` reads pages with no text layer with Tesseract; ``None`` for
    either means "as the existing index was built" (a new index: pdfminer,
    no OCR). ``cache_dir`` holds extracted PDF text keyed by content hash; it
    lives beside the index generations so that a rebuild reuses it. The three
    paths may be given as text or any ``os.PathLike``; they are kept as ``Path``.
    """

    site: Path
    index_dir: Path
    cache_dir: Path
    generator: str = "auto"
    jobs: int = 1
    pdf_timeout: float = DEFAULT_PDF_TIMEOUT
    pdf_memory: int = DEFAULT_PDF_MEMORY_MB
    rebuild: bool = False
    extractor: str | None = None
    ocr: bool | None = None

    def __post_init__(self) -> None:
        for name in ("site", "index_dir", "cache_dir"):
            object.__setattr__(self, name, Path(getattr(self, name)))


# name -> (environment variable, kind)
_KEYS: dict[str, tuple[str, str]] = {
    "site": ("CHCSEARCH_SITE", "path"),
    "index": ("CHCSEARCH_INDEX", "path"),
    "cache_dir": ("CHCSEARCH_CACHE_DIR", "path"),
    "generator": ("CHCSEARCH_GENERATOR", "generator"),
    "jobs": ("CHCSEARCH_JOBS", "jobs"),
    "pdf_timeout": ("CHCSEARCH_PDF_TIMEOUT", "seconds"),
    "pdf_memory": ("CHCSEARCH_PDF_MEMORY", "megabytes"),
    "host": ("CHCSEARCH_HOST", "host"),
    "port": ("CHCSEARCH_PORT", "port"),
    "workers": ("CHCSEARCH_WORKERS", "workers"),
    "cors_origins": ("CHCSEARCH_CORS_ORIGINS", "origins"),
    "time_limit": ("CHCSEARCH_TIME_LIMIT", "seconds"),
    "result_cache": ("CHCSEARCH_RESULT_CACHE", "count"),
    "max_queue": ("CHCSEARCH_MAX_QUEUE", "count"),
    "frame_ancestors": ("CHCSEARCH_FRAME_ANCESTORS", "ancestors"),
    "idle_timeout": ("CHCSEARCH_IDLE_TIMEOUT", "seconds"),
    "extractor": ("CHCSEARCH_EXTRACTOR", "extractor"),
    "ocr": ("CHCSEARCH_OCR", "bool"),
    "site_url": ("CHCSEARCH_SITE_URL", "site_url"),
}


def normal_path(path: str | os.PathLike[str], base: str | os.PathLike[str] | None = None) -> Path:
    """``path`` (relative to ``base`` when not absolute) with ``.`` and ``..`` worked out,
    as a shell does, without following symlinks: ``/a/project/../shared`` is ``/a/shared``."""
    return Path(os.path.normpath(Path(base, path) if base is not None else Path(path)))


def _convert(name: str, kind: str, raw: Any, origin: str, base: Path, option: str = "") -> Any:
    """Check and convert one raw setting; ``origin`` names where it came from, ``option``
    the command-line option it was given as (its messages name only the option)."""
    subject = option or f"{origin}: {name}"

    def item_subject(what: str) -> str:
        return option or f"{origin}: {what}"

    if kind == "path":
        if not isinstance(raw, (str, os.PathLike)) or not str(raw).strip():
            raise ConfigError(f"{subject} must be a folder path, got {raw!r}.")
        return normal_path(Path(os.fspath(raw)).expanduser(), base)
    if kind in ("generator", "extractor"):
        value = str(raw).strip().lower()
        known = GENERATORS if kind == "generator" else EXTRACTORS
        if value not in known:
            raise ConfigError(f"{subject} {raw!r} is not known; use one of {', '.join(known)}.")
        return value
    if kind == "jobs":
        jobs = whole_number(raw, 0)
        if jobs is None:
            raise ConfigError(
                f"{subject} must be a whole number of processes (0 means all cores), got {raw!r}."
            )
        return jobs
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"{subject} must be true or false, got {raw!r}.")
        return text in ("1", "true", "yes", "on")
    if kind == "host":
        value = str(raw).strip()
        if not value or any(c.isspace() for c in value):
            raise ConfigError(f"{subject} must be an address such as 127.0.0.1, got {raw!r}.")
        return value
    if kind in ("port", "workers", "count"):
        low, high = {"port": (1, 65535), "workers": (1, 64), "count": (0, 1_000_000)}[kind]
        number = whole_number(raw, low, high)
        if number is None:
            raise ConfigError(
                f"{subject} must be a whole number from {low} to {high}, got {raw!r}."
            )
        return number
    if kind == "origins":
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        origins = tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())
        for item in origins:
            if item != "*" and not re.match(r"^https?://[^/\s]+$", item):
                raise ConfigError(
                    f"{item_subject('CORS origin')} {item!r} is not of the form "
                    "https://example.org (no path)."
                )
        return origins
    if kind == "ancestors":
        items = raw if isinstance(raw, (list, tuple)) else str(raw).replace(",", " ").split()
        sources = tuple(
            f"'{item.strip(chr(39)).lower()}'"
            if item.strip("'").lower() in ("none", "self")
            else item.rstrip("/")
            for item in map(str, items)
        )
        for item in sources:
            if item not in ("'none'", "'self'") and not re.match(
                r"^https?://(\*\.)?[^/\s*]+$", item
            ):
                raise ConfigError(
                    f"{item_subject('frame ancestor')} {item!r} is not none, self or an origin "
                    "such as https://example.org."
                )
        if not sources or ("'none'" in sources and len(sources) > 1):
            raise ConfigError(f"{subject} must be none, or self and/or origins, got {raw!r}.")
        return sources
    if kind == "site_url":
        from .sources import normalize_site_url

        address = normalize_site_url(raw) if isinstance(raw, str) else None
        if address is None:
            raise ConfigError(
                f"{subject} {raw!r} is not a site's public address; give an http:// "
                "or https:// address with a host and no query, such as https://example.org "
                "or https://example.org/docs."
            )
        return address
    if kind == "megabytes":
        megabytes = whole_number(raw, 0, 1_048_576)
        if megabytes is None or 0 < megabytes < 64:
            raise ConfigError(
                f"{subject} must be a whole number of megabytes, at least 64 "
                f"(0 means no limit), got {raw!r}."
            )
        return megabytes
    if kind == "seconds":
        least, most = SECONDS_LIMITS[name]
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            seconds = float(raw)  # a flag's value, or a TOML number
        elif isinstance(raw, str) and _SECONDS_TEXT.fullmatch(raw.strip()):
            seconds = float(raw.strip())
        else:
            seconds = math.nan
        if not least <= seconds <= most:  # also refuses nan and inf
            raise ConfigError(
                f"{subject} must be a number of seconds from {least:g} to {most:g}, got {raw!r}."
            )
        return seconds
    raise AssertionError(kind)  # pragma: no cover


def check_index_or_collection(index: object, collections: Sequence[object]) -> None:
    """``OptionValueError`` (a usage error) when both ``--index`` and ``--collection``
    were given: each names the index to use."""
    if index is not None and collections:
        raise OptionValueError("give --index or --collection, not both.")


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a ``chcsearch.toml``; keys may sit at the top or under ``[index]`` or ``[serve]``."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file {path} does not exist; create it or drop --config."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}. Fix the file.") from exc
    merged = {k: v for k, v in data.items() if not isinstance(v, dict)}
    merged.update(data.get("index", {}))
    merged.update(data.get("serve", {}))
    unknown = sorted(set(merged) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known settings are {', '.join(_KEYS)}."
        )
    return merged


def _layered(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    cwd: StrPath,
    config_path: StrPath | None,
) -> dict[str, Any]:
    cwd = normal_path(cwd)
    values: dict[str, Any] = {
        "site": cwd / DEFAULT_SITE,
        "index": cwd / DEFAULT_INDEX,
        "cache_dir": None,
        "generator": "auto",
        "jobs": 0,
        "pdf_timeout": DEFAULT_PDF_TIMEOUT,
        "pdf_memory": DEFAULT_PDF_MEMORY_MB,
        "host": "127.0.0.1",
        "port": 8000,
        "workers": 1,
        "cors_origins": (),
        "time_limit": 2.0,
        "result_cache": 256,
        "max_queue": 64,
        "frame_ancestors": ("'none'",),
        "idle_timeout": 5.0,
        "extractor": None,  # what the index was built with, else pdfminer
        "ocr": None,  # likewise: what the index was built with, else off
        "site_url": "",  # what the index recorded from the site's config, else none
    }
    if config_path is None and env.get("CHCSEARCH_CONFIG"):
        config_path = cwd / env["CHCSEARCH_CONFIG"]
    if config_path is None and (cwd / CONFIG_FILE_NAME).is_file():
        config_path = cwd / CONFIG_FILE_NAME
    if config_path is not None:
        config_path = normal_path(config_path, cwd)
        for name, raw in read_config_file(config_path).items():
            kind = _KEYS[name][1]
            values[name] = _convert(name, kind, raw, str(config_path), config_path.parent)
    for name, (var, kind) in _KEYS.items():
        if env.get(var, "").strip():
            values[name] = _convert(name, kind, env[var], f"environment {var}", cwd)
    collection = flags.get("collection")
    if collection:
        from .named import collection_dir

        check_index_or_collection(flags.get("index"), [collection])
        try:
            values["index"] = collection_dir(str(collection), env)
        except ConfigError as exc:
            raise OptionValueError(f"--collection: {exc}") from None
    for name, raw in flags.items():
        if name == "collection" or raw is None or raw in ((), []) or name == "rebuild":
            continue
        if name not in _KEYS:
            raise AssertionError(f"unknown flag {name}")  # pragma: no cover
        option = "--" + {"cors_origins": "cors-origin"}.get(name, name.replace("_", "-"))
        try:
            values[name] = _convert(name, _KEYS[name][1], raw, f"option {option}", cwd, option)
        except ConfigError as exc:  # a bad flag is a usage error (exit 2), not bad input
            raise OptionValueError(str(exc)) from None
    return values


def resolve_index_settings(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    cwd: StrPath,
    config_path: StrPath | None = None,
    cpu_count: int | None = None,
) -> IndexSettings:
    """Merge defaults, config file, environment and flags into ``IndexSettings``.

    ``flags`` holds the command-line options (``None`` means not given).
    ``config_path`` is an explicit ``--config``; otherwise ``CHCSEARCH_CONFIG``
    or ``./chcsearch.toml`` is read when present.
    """
    values = _layered(flags, env=env, cwd=cwd, config_path=config_path)
    index_dir = values["index"]
    return IndexSettings(
        site=values["site"],
        index_dir=index_dir,
        cache_dir=values["cache_dir"] or index_dir / "cache",
        generator=values["generator"],
        jobs=values["jobs"] or (cpu_count or os.cpu_count() or 1),
        pdf_timeout=values["pdf_timeout"],
        pdf_memory=values["pdf_memory"],
        rebuild=bool(flags.get("rebuild")),
        extractor=values["extractor"],
        ocr=values["ocr"],
    )


def resolve_index_dir(
    flag: StrPath | None,
    *,
    env: Mapping[str, str],
    cwd: StrPath,
    config_path: StrPath | None = None,
    collection: str | None = None,
) -> Path:
    """The index folder for commands that only read it, layered the same way."""
    values = _layered(
        {"index": flag, "collection": collection}, env=env, cwd=cwd, config_path=config_path
    )
    return values["index"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ServeSettings:
    """What ``chcsearch serve`` and ``chcsearch.web`` need.

    ``cors_origins`` are the web origins allowed to call the API from a
    browser (none by default). ``time_limit`` is the most seconds one search
    may take before the API answers 503 (0.01 to 60). ``result_cache`` is how many answers
    each server process keeps (0: none). The caps keep any one request cheap.
    ``max_queue`` is how many searches may wait for the search slot (more are
    answered 503 at once); ``frame_ancestors`` the CSP sources allowed to frame
    the pages (``'none'``, ``'self'`` or origins); ``idle_timeout`` the seconds
    a connection may sit idle, take to send a request, or leave an answer untaken
    (0.1 to 300). ``site_url`` is the site's public address that result links
    start with (``""``: the one the index recorded from the site's config, if any;
    without one, links are paths and ``serve`` serves the indexed files at them).
    """

    index_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    cors_origins: tuple[str, ...] = ()
    time_limit: float = 2.0
    result_cache: int = 256
    max_query_chars: int = 500
    max_limit: int = 50
    max_page: int = 20
    max_queue: int = 64
    frame_ancestors: tuple[str, ...] = ("'none'",)
    idle_timeout: float = 5.0
    site_url: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_dir", Path(self.index_dir))


def resolve_serve_settings(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    cwd: StrPath,
    config_path: StrPath | None = None,
) -> ServeSettings:
    """Merge defaults, config file (``[serve]``), environment and flags into ``ServeSettings``."""
    values = _layered(flags, env=env, cwd=cwd, config_path=config_path)
    return ServeSettings(
        index_dir=values["index"],
        host=values["host"],
        port=values["port"],
        workers=values["workers"],
        cors_origins=tuple(values["cors_origins"]),
        time_limit=values["time_limit"],
        result_cache=values["result_cache"],
        max_queue=values["max_queue"],
        frame_ancestors=tuple(values["frame_ancestors"]),
        idle_timeout=values["idle_timeout"],
        site_url=values["site_url"],
    )
