"""Static stage: the index as a Pagefind bundle that any static host serves.

``chcsearch bundle OUT_DIR`` writes one folder::

    OUT_DIR/
      pagefind/                  Pagefind's bundle: its script, WebAssembly, index chunks
      chcsearch.js, .css         the search box (static mode when given data-bundle)
      chcsearch-bundle.json      section titles and what the box needs to know
      chcsearch-vocabulary.json  the words "did you mean" chooses from (fetched only then)

Every page and every PDF page of the index is one record, written as a small
HTML document so that Pagefind weights its parts as our ranking does: the
title most, then headings and the titles of the reports a page links, then
breadcrumb context and body text. As in the index, a report's pages are found
by their own text; its title counts once, on the page that links it. Section
ancestors, kind and level are Pagefind filters; breadcrumb, group, page number
and page label are metadata the box groups and links results by.

Pagefind is driven through its Python API (``pip install "chcsearch[static]"``,
which ships its binary); nothing else imports it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gzip
import html
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import schema as S
from .errors import ConfigError, IndexWriteError, OptionValueError
from .index import IndexStore, section_titles, spelling_vocabulary, stored_documents
from .sources import absolute_link, normalize_site_url

#: Files of the box copied into the bundle, and the files chcsearch writes beside Pagefind's.
BOX_FILES = ("chcsearch.js", "chcsearch.css")
BUNDLE_FILE = "chcsearch-bundle.json"
RESULTS_FILE = "chcsearch-results.json"
VOCABULARY_FILE = "chcsearch-vocabulary.json"
PAGEFIND_DIR = "pagefind"
BUNDLE_FORMAT = 1

#: Pagefind content weights (0-10, multiplying a word's count) for each part of a record,
#: in the proportions of ``chcsearch.query.FIELD_BOOSTS`` (title 3, headings and resource
#: titles 1.5, context and body 1).
WEIGHTS = {S.TITLE: 6.0, S.HEADINGS: 3.0, S.RESOURCE_TITLES: 3.0, S.CONTEXT: 2.0, S.BODY: 2.0}
#: Words "did you mean" may offer: the most frequent this many, found in two documents or a title.
VOCABULARY_SIZE = 30_000
#: A record's text is cut to this many characters (the index's own page cap).
MAX_RECORD_CHARS = 100_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Record:
    """One Pagefind record: a page or one PDF page, as the HTML Pagefind indexes."""

    url: str
    html: str
    kind: str
    #: the result it groups under: its page's source (or the report's own, unlinked)
    group: str = ""
    #: (title, link, breadcrumb, section) of that result
    head: tuple[str, str, tuple[str, ...], str] = ("", "", (), "")
    page: int = 0
    page_label: str = ""


@dataclass(frozen=True)
class BundleSummary:
    """What ``write_bundle`` wrote."""

    out_dir: Path
    pages: int
    pdf_pages: int
    files: int
    bytes: int
    vocabulary: int
    site_url: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "records": self.pages + self.pdf_pages,
            "pages": self.pages,
            "pdf_pages": self.pdf_pages,
            "files": self.files,
            "bytes": self.bytes,
            "vocabulary": self.vocabulary,
            "site_url": self.site_url,
            "seconds": round(self.seconds, 2),
        }


def _clip(value: Any) -> str:
    return str(value or "")[:MAX_RECORD_CHARS]


def _text(value: Any) -> str:
    return html.escape(_clip(value), quote=True)


def _filter(name: str, value: str) -> str:
    # the value in an attribute of its own: Pagefind's inline "name:value" form splits at commas
    return f'<span data-pagefind-filter="{name}[data-v]" data-v="{_text(value)}"></span>'


def _meta(name: str, value: Any) -> str:
    return f'<span data-pagefind-meta="{name}[data-v]" data-v="{_text(value)}"></span>'


def _searchable_title(doc: dict[str, Any]) -> bool:
    """As in the index: a report page's title and context count only on a report's first
    page when no page links it (``chcsearch.index.document_fields``)."""
    if doc.get(S.KIND) != "pdf":
        return True
    return doc.get(S.GROUP) == doc.get(S.SOURCE) and doc.get(S.PAGE) == 1


def record_of(doc: dict[str, Any], head: dict[str, Any] | None, site_url: str) -> Record:
    """The Pagefind record of one stored document; ``head`` is its group's page (if indexed)."""
    kind = str(doc.get(S.KIND) or "page")
    url = absolute_link(str(doc.get(S.URL) or ""), site_url)
    title = str(doc.get(S.TITLE) or "")
    parts = ['<html lang="en"><head><meta charset="utf-8"></head><body>']
    lead: list[str] = []  # the text before the body: snippets are taken from the body
    if _searchable_title(doc):
        parts.append(f'<h1 data-pagefind-weight="{WEIGHTS[S.TITLE]:g}">{_text(title)}</h1>')
        lead.append(title)
        if doc.get(S.CONTEXT):
            weight = WEIGHTS[S.CONTEXT]
            parts.append(f'<p data-pagefind-weight="{weight:g}">{_text(doc[S.CONTEXT])}</p>')
            lead.append(str(doc[S.CONTEXT]))
        for author in doc.get(S.AUTHORS) or ():
            parts.append(f'<p data-pagefind-weight="{WEIGHTS[S.CONTEXT]:g}">{_text(author)}</p>')
            lead.append(str(author))
    for heading in str(doc.get(S.HEADINGS) or "").splitlines():
        if heading.strip():
            weight = WEIGHTS[S.HEADINGS]
            parts.append(f'<h2 data-pagefind-weight="{weight:g}">{_text(heading)}</h2>')
            lead.append(heading)
    for resource in doc.get(S.RESOURCES) or ():
        if isinstance(resource, dict) and resource.get("title"):
            weight = WEIGHTS[S.RESOURCE_TITLES]
            parts.append(f'<h3 data-pagefind-weight="{weight:g}">{_text(resource["title"])}</h3>')
            lead.append(str(resource["title"]))
    parts.append(f'<div data-pagefind-weight="{WEIGHTS[S.BODY]:g}">{_text(doc.get(S.BODY))}</div>')
    # what the box shows and groups by, never indexed as words
    parts.append(_meta("title", title or url))
    parts.append(_meta("link", url))
    # words of Pagefind's content before the body (it splits its content at white space)
    parts.append(_meta("lead", sum(len(_clip(text).split()) for text in lead)))
    parts.append(_meta("kind", kind))
    parts.append(_meta("source", doc.get(S.SOURCE) or ""))
    parts.append(_meta("crumbs", json.dumps(list(doc.get(S.BREADCRUMB) or ()))))
    group = str(doc.get(S.GROUP) or doc.get(S.SOURCE) or "")
    parts.append(_meta("group", group))
    if kind == "pdf":
        parts.append(_meta("page", doc.get(S.PAGE) or ""))
        if doc.get(S.PAGE_LABEL):
            parts.append(_meta("page_label", doc[S.PAGE_LABEL]))
        if head is not None:
            parts.append(_meta("group_title", head.get(S.TITLE) or ""))
            parts.append(_meta("group_url", absolute_link(str(head.get(S.URL) or ""), site_url)))
            crumbs = json.dumps(list(head.get(S.BREADCRUMB) or ()))
            parts.append(_meta("group_crumbs", crumbs))
    for ancestor in doc.get(S.ANCESTORS) or ():
        parts.append(_filter("section", str(ancestor)))
    parts.append(_filter("kind", kind))
    if doc.get(S.LEVEL):
        level = str(doc[S.LEVEL])
        pieces = level.split(".")
        for depth in range(1, len(pieces) + 1):
            parts.append(_filter("level", ".".join(pieces[:depth])))
    parts.append("</body></html>")
    if kind == "pdf" and head is not None:
        shown = (
            str(head.get(S.TITLE) or ""),
            absolute_link(str(head.get(S.URL) or ""), site_url),
            tuple(head.get(S.BREADCRUMB) or ()),
            str(head.get(S.SECTION) or ""),
        )
    else:
        shown = (
            title or url,
            url.split("#", 1)[0],
            tuple(doc.get(S.BREADCRUMB) or ()),
            str(doc.get(S.SECTION) or ""),
        )
    return Record(
        url=url,
        html="".join(parts),
        kind=kind,
        group=group,
        head=shown,
        page=int(doc.get(S.PAGE) or 0) if kind == "pdf" else 0,
        page_label=str(doc.get(S.PAGE_LABEL) or ""),
    )


def records(docs: Iterable[dict[str, Any]], site_url: str) -> list[Record]:
    """The records of every stored document by group: its page first, then each report's pages
    in order."""
    docs = list(docs)
    pages = {d[S.SOURCE]: d for d in docs if d.get(S.KIND) == "page"}

    def order(doc: dict[str, Any]) -> tuple[str, bool, str, int]:
        return (
            str(doc.get(S.GROUP) or ""),
            doc.get(S.KIND) != "page",
            str(doc.get(S.SOURCE) or ""),
            int(doc.get(S.PAGE) or 0),
        )

    return [
        record_of(d, pages.get(str(d.get(S.GROUP) or "")), site_url)
        for d in sorted(docs, key=order)
    ]


def vocabulary_words(pairs: Iterable[tuple[str, int, bool]]) -> list[str]:
    """The words did-you-mean chooses from, most frequent first: letters only, 3 to 24 of them,
    in two documents or more or in a title, at most ``VOCABULARY_SIZE``."""
    kept = [
        (word, count)
        for word, count, in_title in pairs
        if 3 <= len(word) <= 24 and word.isalpha() and (count >= 2 or in_title)
    ]
    kept.sort(key=lambda wc: (-wc[1], wc[0]))
    return [word for word, _ in kept[:VOCABULARY_SIZE]]


def _fragments(folder: Path) -> dict[str, int]:
    """Pagefind's result id of each record, by the record's number: read back from the
    fragments Pagefind wrote (gzip, a signature, JSON whose ``url`` is the record's file).
    A fragment that cannot be read is left out (``_check_written`` then refuses the bundle)."""
    ids: dict[str, int] = {}
    for path in folder.glob("*.pf_fragment"):
        try:
            raw = gzip.decompress(path.read_bytes())
            url = json.loads(raw[raw.index(b"{") :]).get("url", "")
        except (OSError, ValueError, EOFError, AttributeError, gzip.BadGzipFile):
            continue
        number = str(url).strip("/").removesuffix(".html")
        if number.isdigit():
            ids[path.name.removesuffix(".pf_fragment")] = int(number)
    return ids


def _check_written(folder: Path, readable: int, records: int, out_dir: Path) -> None:
    """Pagefind reports no failure to write (a full disk, say): check what it wrote."""
    empty = [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size == 0]
    if readable != records or empty or not (folder / "pagefind-entry.json").is_file():
        found = f"{len(empty):,} empty files" if empty else f"{readable:,} of {records:,} records"
        raise IndexWriteError(
            f"{out_dir}: Pagefind's output is incomplete ({found}; is the disk full?); "
            "the previous bundle there is unchanged"
        )


def _remove_stale(out: Path) -> None:
    """Temporary folders of bundle runs that were killed (older than ten minutes)."""
    cutoff = time.time() - 600
    for path in out.glob(".chcsearch-*"):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)


def result_table(found: list[Record], ids: dict[str, int]) -> dict[str, Any]:
    """What the box needs to group and link results without fetching each one's data:
    ``groups`` as ``[title, link, breadcrumb, section]``, ``reports`` as report URLs, and
    ``records`` by Pagefind result id as ``[group, page, report, page label]`` (page 0 and
    report -1 for a site page)."""
    groups: dict[str, int] = {}
    heads: list[list[Any]] = []
    reports: dict[str, int] = {}
    table: dict[str, list[Any]] = {}
    for result_id, number in sorted(ids.items(), key=lambda kv: kv[1]):
        if not 0 <= number < len(found):
            continue
        record = found[number]
        if record.group not in groups:
            groups[record.group] = len(heads)
            title, link, crumbs, section = record.head
            heads.append([title, link, list(crumbs), section])
        entry: list[Any] = [groups[record.group], record.page, -1]
        if record.kind == "pdf":
            report = record.url.split("#", 1)[0]
            entry[2] = reports.setdefault(report, len(reports))
            if record.page_label:
                entry.append(record.page_label)
        table[result_id] = entry
    return {"groups": heads, "reports": list(reports), "records": table}


def _pagefind() -> Any:
    try:
        from pagefind.service import PagefindService
    except ImportError as exc:
        raise ConfigError(
            "chcsearch bundle needs Pagefind, which is not installed: "
            'pip install "chcsearch[static]" (it ships Pagefind\'s binary)'
        ) from exc
    return PagefindService


async def _settled(folder: Path, seconds: float = 10.0) -> None:
    """Wait until the files in ``folder`` stop changing and none is empty (at most
    ``seconds``). Pagefind answers "write the files" before its last writes are done,
    and stopping its process then leaves files empty (1 bundle in 12, measured)."""
    before: dict[Path, int] | None = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = {p: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        if now and now == before and all(now.values()):
            return
        before = now
        await asyncio.sleep(0.05)


async def _write_pagefind(found: list[Record], work: Path, progress: Progress | None) -> None:
    service_class = _pagefind()
    # Records go through files: the service answers one request per 0.1 s (it polls), so
    # 1,300 records one by one take two minutes; a folder of them is one request.
    records_dir = work / "records"
    records_dir.mkdir()
    width = len(str(len(found)))
    for number, record in enumerate(found):
        (records_dir / f"{number:0{width}d}.html").write_text(record.html, encoding="utf-8")
    if progress is not None:
        progress("bundling", len(found), len(found))
    output = work / PAGEFIND_DIR
    config = {"force_language": "en", "output_path": str(output)}
    async with service_class() as service:  # leaving it stops Pagefind's process
        index = await service.create_index(config)
        await index.add_directory(str(records_dir))
        await index.write_files()
        await _settled(output)
    shutil.rmtree(records_dir)


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end, also when the caller is itself inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(work)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


def _swap_in(work: Path, out: Path) -> None:
    """Move every file of ``work`` into ``out``: the old ones aside first, then the new ones in;
    if any move fails, the old ones are put back and the new ones removed."""
    stamp = time.time_ns()
    names = sorted(child.name for child in work.iterdir())
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for name in names:
            target = out / name
            if target.exists() or target.is_symlink():
                old = out / f".chcsearch-old-{stamp}-{name}"
                target.rename(old)
                aside.append((old, target))
        for name in names:
            (work / name).rename(out / name)
            placed.append(out / name)
    except OSError:
        for path in placed:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for old, target in aside:
            old.rename(target)
        raise
    for old, _ in aside:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _files_in(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _check_out_dir(out_dir: Path, index_dir: Path) -> Path:
    out = out_dir.expanduser().resolve()
    index = index_dir.expanduser().resolve()
    if out == index or index in out.parents or out in index.parents:
        raise ConfigError(
            f"{out_dir}: the bundle folder must not be the index folder {index_dir}, inside it "
            "or around it; give a folder of the site's build, e.g. _site/search"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out_dir} is a file, not a folder; give a folder for the bundle")
    return out


def write_bundle(
    index_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    site_url: str | None = None,
    progress: Progress | None = None,
) -> BundleSummary:
    """Write the static search bundle of the index in ``index_dir`` to ``out_dir``.

    ``site_url`` (``None``: the address the index recorded from the site's
    configuration, if any; ``""``: none) makes result links absolute. Only
    the bundle's own files in ``out_dir`` are replaced, each once the whole
    new bundle is written; anything else there is left alone, and a failure
    leaves the previous bundle as it was.
    """
    started = time.perf_counter()
    index_dir, out_dir = Path(index_dir), Path(out_dir)
    _pagefind()  # before anything is written
    out = _check_out_dir(out_dir, index_dir)
    generation = IndexStore(index_dir).open_current()
    if site_url is None:
        recorded = generation.meta().get("site_url")
        site_url = normalize_site_url(recorded) or "" if isinstance(recorded, str) else ""
    elif site_url:
        normalized = normalize_site_url(site_url)
        if normalized is None:
            raise OptionValueError(
                f"--site-url {site_url!r} is not a site's public address; give an http:// or "
                "https:// address such as https://example.org/reports"
            )
        site_url = normalized
    docs = stored_documents(generation)
    found = records(docs, site_url)
    titles = section_titles(docs)
    words = vocabulary_words(spelling_vocabulary(generation))
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_stale(out)
        work = Path(tempfile.mkdtemp(prefix=".chcsearch-bundle-", dir=out))
    except OSError as exc:
        raise IndexWriteError(
            f"{out_dir}: cannot write the bundle there ({exc.strerror or exc})"
        ) from exc
    try:
        _run(_write_pagefind(found, work, progress))
        static = resources.files("chcsearch") / "static"
        for name in BOX_FILES:
            (work / name).write_bytes((static / name).read_bytes())
        (work / BUNDLE_FILE).write_text(
            json.dumps(
                {
                    "format": BUNDLE_FORMAT,
                    "generation": generation.name,
                    "site_url": site_url,
                    "records": len(found),
                    "sections": titles,
                },
                ensure_ascii=False,
                sort_keys=True,
            ),
            encoding="utf-8",
        )
        ids = _fragments(work / PAGEFIND_DIR / "fragment")
        _check_written(work / PAGEFIND_DIR, len(ids), len(found), out_dir)
        table = result_table(found, ids)
        (work / RESULTS_FILE).write_text(
            json.dumps(table, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        (work / VOCABULARY_FILE).write_text(
            # one string, a word per line: a third smaller than a list of strings
            json.dumps({"words": "\n".join(words)}, ensure_ascii=False),
            encoding="utf-8",
        )
        files, size = _files_in(work)
        _swap_in(work, out)
    except OSError as exc:
        raise IndexWriteError(
            f"{out_dir}: the bundle could not be written ({exc.strerror or exc}); "
            "the previous bundle there is unchanged"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BundleSummary(
        out_dir=out,
        pages=sum(1 for r in found if r.kind == "page"),
        pdf_pages=sum(1 for r in found if r.kind == "pdf"),
        files=files,
        bytes=size,
        vocabulary=len(words),
        site_url=site_url,
        seconds=time.perf_counter() - started,
    )
