"""Metadata sidecars of a folder archive.

``report.pdf.yml`` beside a file sets that file's metadata; ``_meta.yml`` in
a folder sets it for the files of that folder and of the folders below it
(a nearer sidecar wins, field by field). Keys: ``title``, ``authors`` (or
``author``; text or a list), ``year``, ``tags`` (text or a list), ``url``;
``_meta.yml`` may also give ``folder_title``, the folder's name in
breadcrumbs and facets. ``url`` must be an http(s) address or a path on the
site (``discover.safe_link``). A bad sidecar gives a warning naming the file
and key; what can be used is used.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from .discover import ACCEPTED_LINKS, SIDECAR_FOLDER_NAMES, SiteScan, safe_link
from .model import Problem, Sidecar
from .parse import decode_text
from .pdfmeta import (
    MAX_AUTHORS,
    TITLE_MAX_CHARS,
    TITLE_MAX_WORDS,
    clean_names,
    has_letter_or_digit,
    title_sized,
    visible_text,
)
from .sources import host_fault
from .yamlsafe import YamlTooComplex, load_yaml, too_complex_problem

FILE_KEYS = ("title", "authors", "author", "year", "tags", "url")
FOLDER_KEYS = (*FILE_KEYS, "folder_title")


@dataclass(frozen=True)
class ArchiveMetadata:
    """Every sidecar of an archive, read and checked."""

    files: Mapping[str, Sidecar] = field(default_factory=dict)
    folders: Mapping[str, Sidecar] = field(default_factory=dict)
    folder_titles: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def for_file(self, src_path: str) -> Sidecar:
        """The metadata that applies to a file: its own sidecar over its folders', nearest first."""
        result = self.files.get(src_path, Sidecar())
        folder = posixpath.dirname(src_path)
        while True:
            if folder in self.folders:
                result = result.over(self.folders[folder])
            if not folder:
                return result
            folder = posixpath.dirname(folder)


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None


def read_sidecar(src_path: str, data: bytes, *, folder: bool) -> tuple[Sidecar, str, list[Problem]]:
    """One sidecar file: its metadata, a folder title (``_meta.yml`` only) and problems."""
    text, problems = decode_text(data, src_path)
    try:
        loaded = load_yaml(text) if text.strip() else {}
    except YamlTooComplex as exc:
        kept = "it was ignored and the file it describes is indexed without it"
        problems.append(too_complex_problem(src_path, exc, what="metadata file", kept=kept))
        return Sidecar(), "", problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                "sidecar-invalid",
                src_path,
                "metadata file is not valid YAML ("
                + str(getattr(exc, "problem", exc)).strip()
                + "); it was ignored. "
                "Write it as 'key: value' lines.",
                line=mark.line + 1 if mark is not None else None,
            )
        )
        return Sidecar(), "", problems
    if not isinstance(loaded, dict):
        problems.append(
            Problem(
                "sidecar-invalid",
                src_path,
                "metadata file is not a mapping of keys to values; it was ignored.",
            )
        )
        return Sidecar(), "", problems

    def bad(key: str, what: str) -> None:
        problems.append(
            Problem(
                "sidecar-bad-value",
                src_path,
                f"{key}: {what}; it was ignored.",
                line=_line_of(text, key),
            )
        )

    allowed = FOLDER_KEYS if folder else FILE_KEYS
    values: dict[str, Any] = {}
    for key, value in loaded.items():
        if key not in allowed:
            bad(str(key), f"unknown key; use {', '.join(k for k in allowed if k != 'author')}")
        elif key in ("title", "url", "folder_title"):
            if not isinstance(value, (str, int, float)) or not str(value).strip():
                bad(key, f"should be text, got {value!r}")
            elif key != "url":
                title = visible_text(str(value))
                if not has_letter_or_digit(title):
                    bad(key, f"{value!r} shows no letter or digit")
                elif not title_sized(title):
                    bad(
                        key,
                        f"is {len(title):,} characters long; a title has at most "
                        f"{TITLE_MAX_CHARS} characters and {TITLE_MAX_WORDS} words",
                    )
                else:
                    values[key] = title
            elif (link := safe_link(str(value))) is not None:
                values[key] = link
            else:
                bad(
                    key,
                    f"{str(value).strip()!r} is not a link results can carry"
                    f"{_host_fault(str(value))}; use {ACCEPTED_LINKS}",
                )
        elif key in ("authors", "author", "tags"):
            items = _strings(value)
            if items is None:
                bad(key, f"should be text or a list of texts, got {value!r}")
            elif key == "tags":
                values[key] = items
            else:
                names = clean_names(items, limit=MAX_AUTHORS + 1)
                if len(names) > MAX_AUTHORS:
                    problems.append(
                        Problem(
                            "sidecar-bad-value",
                            src_path,
                            f"{key}: lists more than {MAX_AUTHORS} names; the first "
                            f"{MAX_AUTHORS} were kept.",
                            line=_line_of(text, key),
                        )
                    )
                values["authors"] = names[:MAX_AUTHORS]
        else:  # year
            text_value = str(value).strip()
            if re.fullmatch(r"\d{4}", text_value):
                values["year"] = int(text_value)
            else:
                bad(key, f"should be a four-digit year, got {value!r}")
    sidecar = Sidecar(
        title=values.get("title", ""),
        authors=values.get("authors", ()),
        year=values.get("year"),
        tags=values.get("tags", ()),
        url=values.get("url", ""),
    )
    return sidecar, values.get("folder_title", ""), problems


def _host_fault(address: str) -> str:
    """Why ``safe_link`` refused ``address`` for its host, as ``": it has the host
    …"`` (``sources.host_fault``: a look-alike host, one that is not a DNS name or
    an IP address), or '' when the host is not at fault."""
    try:
        host = urlsplit(address.strip()).hostname
    except ValueError:
        return ""
    fault = host_fault(host) if host else None
    return f": it {fault}" if fault else ""


def load_sidecars(scan: SiteScan) -> ArchiveMetadata:
    """Read every sidecar the scan found."""
    files: dict[str, Sidecar] = {}
    folders: dict[str, Sidecar] = {}
    titles: dict[str, str] = {}
    problems: list[Problem] = []
    for rel, source in sorted(scan.sidecars.items()):
        is_folder = posixpath.basename(rel) in SIDECAR_FOLDER_NAMES
        try:
            data = source.abs_path.read_bytes()
        except OSError as exc:
            problems.append(
                Problem("sidecar-invalid", rel, f"metadata file cannot be read ({exc.strerror}).")
            )
            continue
        sidecar, folder_title, found = read_sidecar(rel, data, folder=is_folder)
        problems.extend(found)
        if is_folder:
            folder = posixpath.dirname(rel)
            folders[folder] = sidecar
            if folder_title:
                titles[folder] = folder_title
        else:
            files[posixpath.splitext(rel)[0]] = sidecar
    return ArchiveMetadata(files, folders, titles, tuple(problems))
