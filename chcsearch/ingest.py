"""The ingest pipeline: discover -> parse -> extract -> documents -> index.

``build_index`` is the one library call behind ``chcsearch index``. It is
incremental: a file whose size and modification time match the last run is
not read again (its parsed metadata comes from the manifest); a PDF whose
content hash is in the extraction cache is not extracted again; and only
documents whose fingerprint changed are rewritten. Removed files leave the
index. Each run that changes anything writes a new index generation and
swaps it in atomically (see ``chcsearch.index``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .cache import ExtractionCache, file_sha256
from .config import DEFAULT_PDF_MEMORY_MB, IndexSettings
from .discover import (
    FOLDER_TEXT_SUFFIXES,
    PAGE_SUFFIXES,
    SiteScan,
    resolve_resource_path,
    scan_site,
)
from .documents import pdf_pages_too_large, plan_archive_documents, plan_documents, with_text
from .errors import ConfigError, IndexDamagedError
from .extract import ExtractionReport, ExtractOptions, PdfJob, extract_pdfs
from .index import (
    Generation,
    IndexStore,
    now_iso,
    open_whoosh,
    recorded_extractor,
    schema_version_fault,
    write_documents,
    write_metadata,
)
from .model import BuildSummary, Document, PageMeta, PdfMeta, PdfText, Problem, SourceFile
from .parse import parse_page
from .schema import SCHEMA_VERSION
from .sidecars import load_sidecars

ProgressFn = Callable[[str, int, int], None]
"""``(stage, done, total)``; stages are ``read``, ``extract`` and ``index``."""


def _record(
    source: SourceFile, sha256: str, problems: list[Problem], **extra: Any
) -> dict[str, Any]:
    """A file's manifest entry: what identifies its version, and what was learnt from it."""
    return {
        "size": source.size,
        "mtime_ns": source.mtime_ns,
        "sha256": sha256,
        **extra,
        "problems": [p.to_dict() for p in problems],
    }


@dataclass
class _PageState:
    source: SourceFile
    sha256: str
    meta: PageMeta | None
    problems: list[Problem]
    body: str | None = None
    headings: tuple[str, ...] = ()
    read_now: bool = False

    def record(self) -> dict[str, Any]:
        return _record(
            self.source, self.sha256, self.problems, meta=self.meta.to_dict() if self.meta else None
        )


#: Problems that a higher ``--pdf-timeout`` may cure: extraction, or OCR, stopped by it.
TIME_LIMIT_PROBLEMS = ("pdf-timeout", "ocr-timeout")
#: Problems that a higher limit may cure: ``--pdf-timeout`` and ``--pdf-memory``.
LIMIT_PROBLEMS = (*TIME_LIMIT_PROBLEMS, "pdf-too-large")


@dataclass
class _PdfState:
    source: SourceFile
    public: str
    sha256: str
    meta: PdfMeta | None = None
    problems: list[Problem] = field(default_factory=list)
    read_now: bool = False
    #: the limits the file was last read with (``timeout``, ``memory_mb``)
    limits: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        learnt = self.meta.to_dict() if self.meta else {"page_count": 0, "title": ""}
        learnt.pop("src_path", None)
        learnt.pop("sha256", None)
        if self.limits and any(p.kind in LIMIT_PROBLEMS for p in self.problems):
            learnt["limits"] = self.limits
        return _record(self.source, self.sha256, self.problems, public=self.public, **learnt)


def _problems(records: Any) -> list[Problem]:
    return [Problem.from_dict(p) for p in records or []]


def _unchanged(record: Mapping[str, Any] | None, source: SourceFile) -> bool:
    return bool(record) and record["size"] == source.size and record["mtime_ns"] == source.mtime_ns  # type: ignore[index]


@dataclass(frozen=True)
class _Base:
    """The generation a run updates, with its ``chcsearch.json`` and manifest, read once."""

    generation: Generation
    meta: dict[str, Any]
    manifest: dict[str, Any]


def _previous(
    store: IndexStore, settings: IndexSettings, scan: SiteScan, options: ExtractOptions
) -> tuple[_Base | None, str]:
    """The generation to update, or None and the reason to build from nothing.

    A damaged index (``CURRENT``; a file of its generation missing,
    truncated, with other bytes than its checksum or not in its checksum
    manifest; a schema version that is not a whole number; or one Whoosh
    cannot open) is rebuilt, and the reason says so.
    """
    current, problem = store.read_current()
    if settings.rebuild:
        return None, "--rebuild was given"
    if problem:
        return None, f"repaired a damaged index ({problem})"
    if current is None:
        return None, "there was no index yet"
    try:
        meta = current.meta()
        manifest = current.manifest()
    except (OSError, ValueError):
        return None, "repaired a damaged index (its metadata could not be read)"
    # every byte against its checksum: about 15 ms for the real corpus's 12 MB
    integrity = current.check(full=True)
    damage = integrity.problems
    if damage:
        more = f" and {len(damage) - 1} more" if len(damage) > 1 else ""
        return None, f"repaired a damaged index ({current.name}/{damage[0]}{more})"
    version_fault = schema_version_fault(meta)
    if version_fault:
        return None, f"repaired a damaged index ({current.name}/{version_fault})"
    if integrity.checked == "none":
        # nothing can tell its bytes from damaged ones, and recording checksums
        # now would bless whatever is there: a rebuild from the text cache is cheap
        return None, "no checksums recorded (index written by an older chcsearch)"
    fault = _manifest_fault(manifest)
    if fault:
        return None, f"repaired a damaged index ({current.name}/manifest.json: {fault})"
    try:
        open_whoosh(current).close()
    except IndexDamagedError:
        return None, f"repaired a damaged index (Whoosh cannot open {current.name})"
    if meta.get("schema_version") != SCHEMA_VERSION:
        return (
            None,
            f"the index had schema version {meta.get('schema_version')}, now {SCHEMA_VERSION}",
        )
    if meta.get("site") != str(settings.site.resolve()):
        return None, f"the index was built from another site ({meta.get('site')})"
    if meta.get("generator") != scan.config.generator:
        return None, f"the site is now read as {scan.config.generator}, was {meta.get('generator')}"
    old_extractor = recorded_extractor(meta)
    if old_extractor != options.extractor:
        raise ConfigError(
            f"the index in {settings.index_dir} holds text read by the {old_extractor} extractor; "
            f"one index never mixes extractors. Rebuild it with --rebuild --extractor "
            f"{options.extractor}, or keep --extractor {old_extractor}."
        )
    if meta.get("extractor") != options.key:
        return None, "the PDF extractor or its settings changed"
    if "baseurl" in meta and meta["baseurl"] != scan.config.baseurl:
        # every link starts with it: pages that did not change would keep the old one
        return (
            None,
            f"the site's baseurl changed from {meta['baseurl']!r} to {scan.config.baseurl!r}",
        )
    return _Base(current, meta, manifest), ""


def _manifest_fault(manifest: Mapping[str, Any]) -> str:
    """What makes an index manifest unusable for an update (``""`` when nothing).

    Its bytes match their checksum by now, so this finds only records of
    another shape than this version reads (a file edited and its checksum
    with it, or another version's bug): the run rebuilds rather than crash.
    """
    try:
        for record in manifest["pages"].values():
            _check_record(record)
            if record.get("meta"):
                PageMeta.from_dict(record["meta"])
        for src, record in manifest["pdfs"].items():
            _check_record(record)
            PdfMeta.from_dict({**record, "src_path": src})
        for entry in manifest["docs"].values():
            if not isinstance(entry[0], str):
                raise TypeError("a document's fingerprint is not a string")
            int(entry[1])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _check_record(record: Any) -> None:
    """``TypeError`` or ``KeyError`` unless ``record`` is a manifest file record."""
    if not (
        isinstance(record["size"], int)
        and isinstance(record["mtime_ns"], int)
        and isinstance(record["sha256"], str)
    ):
        raise TypeError("a file record's size, mtime_ns or sha256 has another type")
    _problems(record["problems"])


def _read_pages(
    scan: SiteScan, old: Mapping[str, Any], on_progress: ProgressFn | None
) -> dict[str, _PageState]:
    states: dict[str, _PageState] = {}
    total = len(scan.pages)
    for done, source in enumerate(scan.pages, start=1):
        record = old.get(source.src_path)
        meta = PageMeta.from_dict(record["meta"]) if record and record.get("meta") else None
        if record is not None and _unchanged(record, source) and _links_unchanged(meta, scan):
            states[source.src_path] = _PageState(
                source, record["sha256"], meta, _problems(record["problems"])
            )
        else:
            states[source.src_path] = _parse(source, scan)
        if on_progress and (done % 20 == 0 or done == total):
            on_progress("read", done, total)
    return states


def _links_unchanged(meta: PageMeta | None, scan: SiteScan) -> bool:
    """Whether every local resource of an unchanged page is still as alive or dead as it was."""
    if meta is None:
        return True
    for resource in meta.resources:
        if resource.kind == "url":
            continue
        if resource.exists != (
            resource.target in scan.published
            if resource.exists
            else resolve_resource_path(scan, meta.src_path, resource.target)[0] is not None
        ):
            return False
    return True


def _parse(source: SourceFile, scan: SiteScan) -> _PageState:
    page, problems = parse_page(source, scan)
    try:
        sha = file_sha256(source.abs_path)
    except OSError:
        sha = ""
    if page is None:
        return _PageState(source, sha, None, problems, read_now=True)
    return _PageState(source, sha, page.meta, problems, page.body, page.headings, read_now=True)


def _limit_raised(record: Mapping[str, Any], options: ExtractOptions) -> bool:
    """Whether an unchanged PDF was given up at a limit that is higher now.

    A time-out (of extraction, or of OCR) is retried under a longer time
    limit, a ``pdf-too-large`` under a larger memory limit or none (0).
    Records written before limits were kept: any time-out is retried (the
    extraction cache keeps time-outs with their limit, so one that would
    time out again is not read again), and a memory failure above the
    default limit.
    """
    problems = [p for p in record.get("problems") or () if isinstance(p, dict)]
    kinds = {p.get("kind") for p in problems}
    limits = record.get("limits")
    limits = limits if isinstance(limits, dict) else {}
    timeout = limits.get("timeout")
    if kinds & set(TIME_LIMIT_PROBLEMS) and (
        not isinstance(timeout, (int, float)) or options.timeout > timeout
    ):
        return True
    memory = limits.get("memory_mb", DEFAULT_PDF_MEMORY_MB)
    if not isinstance(memory, int) or isinstance(memory, bool):
        memory = DEFAULT_PDF_MEMORY_MB
    return (
        "pdf-too-large" in kinds
        and memory > 0
        and (options.memory_mb == 0 or options.memory_mb > memory)
    )


def _hash_pdfs(
    scan: SiteScan, old: Mapping[str, Any], options: ExtractOptions
) -> dict[str, _PdfState]:
    states: dict[str, _PdfState] = {}
    public_of = {source.src_path: public for public, source in scan.published.items()}
    limits = {"timeout": options.timeout, "memory_mb": options.memory_mb}
    for source in scan.pdfs:
        record = old.get(source.src_path)
        public = public_of[source.src_path]
        if record is not None and _unchanged(record, source) and _limit_raised(record, options):
            state = _PdfState(source, public, record["sha256"], read_now=True, limits=limits)
        elif record is not None and _unchanged(record, source):
            state = _PdfState(source, public, record["sha256"])
            state.meta = PdfMeta.from_dict({**record, "src_path": source.src_path})
            state.problems = _problems(record["problems"])
            state.limits = record.get("limits")
        else:
            try:
                sha = file_sha256(source.abs_path)
            except OSError as exc:
                state = _PdfState(source, public, "")
                state.problems = [
                    Problem(
                        "unreadable-file", source.src_path, f"PDF cannot be read ({exc.strerror})."
                    )
                ]
                states[source.src_path] = state
                continue
            state = _PdfState(source, public, sha, read_now=True, limits=limits)
        states[source.src_path] = state
    return states


def _apply_texts(states: Mapping[str, _PdfState], texts: Mapping[str, PdfText]) -> None:
    for state in states.values():
        text = texts.get(state.sha256)
        if text is not None and state.read_now:
            state.meta = PdfMeta(
                state.source.src_path,
                state.sha256,
                text.page_count,
                text.title,
                authors=text.authors,
                year=text.year,
                labels=text.labels,
                heading=text.heading,
            )
            state.problems = [
                Problem(p.kind, state.source.src_path, p.message, p.line) for p in text.problems
            ]


def _check_tools(options: ExtractOptions) -> None:
    """Refuse at once, with the fix, an extractor or OCR that is not installed."""
    if options.extractor == "pdfium" and importlib.util.find_spec("pypdfium2") is None:
        raise ConfigError(
            'the pdfium extractor needs pypdfium2: pip install "chcsearch[pdfium]", '
            "or leave out --extractor pdfium."
        )
    if options.ocr:
        from .ocr import missing_tools

        missing = missing_tools()
        if missing:
            raise ConfigError(
                "OCR (--ocr, or an index built with it) needs Tesseract and poppler, which are "
                "not installed: " + ", ".join(missing) + ". Install them, or index with --no-ocr."
            )


def _extract_options(store: IndexStore, settings: IndexSettings) -> ExtractOptions:
    """The extractor and OCR setting asked for, else the existing index's, else the defaults."""
    recorded: dict[str, Any] = {}
    current = store.current()
    if current is not None and (settings.extractor is None or settings.ocr is None):
        try:
            recorded = current.meta()
        except (OSError, ValueError):
            recorded = {}
    extractor = settings.extractor or recorded_extractor(recorded)
    ocr = settings.ocr if settings.ocr is not None else bool(recorded.get("ocr", False))
    return ExtractOptions(extractor, settings.pdf_timeout, ocr, settings.pdf_memory)


@contextlib.contextmanager
def _write_errors(store: IndexStore, needed: Callable[[], int] = lambda: 0) -> Iterator[None]:
    """Turn a failed write (read-only, not permitted, full disk) into an ``IndexWriteError``."""
    try:
        yield
    except OSError as exc:
        error = store.write_error(exc, needed=needed())
        if error is exc:
            raise
        raise error from exc


def _nothing_found(scan: SiteScan, site: str) -> list[Problem]:
    """A warning when the folder holds nothing to index: most often, the wrong folder."""
    if scan.pages or scan.pdfs:
        return []
    generator = scan.config.generator
    if generator == "folder":
        looked = (
            f"PDFs (.pdf) and Markdown or text files ({', '.join(FOLDER_TEXT_SUFFIXES)}) "
            "in it and its subfolders"
        )
    else:
        where = f" under {scan.config.content_dir}/" if generator == "hugo" else ""
        looked = (
            f"pages{where} ({', '.join(PAGE_SUFFIXES)}, with front matter) "
            f"and the PDFs the {generator} site publishes"
        )
    return [
        Problem(
            kind="no-documents",
            src_path=site,
            message=f"no documents found: looked for {looked}. "
            "Give the folder that holds the site or the reports.",
        )
    ]


def build_index(settings: IndexSettings, *, on_progress: ProgressFn | None = None) -> BuildSummary:
    """Index the site ``settings.site`` into ``settings.index_dir``.

    Raises ``SiteError`` when the site folder is missing and
    ``IndexLockedError`` when another run holds the index. Problems with
    individual files never stop the run: they are in the returned summary.
    """
    start = time.perf_counter()
    store = IndexStore(settings.index_dir)
    # a wrong DIR or --index is refused before the index folder or its lock is made
    if not settings.site.is_dir():
        scan_site(settings.site, settings.generator)  # raises the SiteError that says why
    store.refuse_a_file()
    options = _extract_options(store, settings)
    _check_tools(options)
    cache = ExtractionCache(settings.cache_dir, options.key)
    with store.locked():
        store.remove_stale()
        scan = scan_site(settings.site, settings.generator)
        base, rebuild_reason = _previous(store, settings, scan, options)
        previous = base.generation if base else None
        old_meta = base.meta if base else {}
        old_manifest = base.manifest if base else {}
        with _write_errors(store):
            store.make_way_for_current()  # before any work that could not be published

        pages = _read_pages(scan, old_manifest.get("pages", {}), on_progress)
        pdfs = _hash_pdfs(scan, old_manifest.get("pdfs", {}), options)

        def extract(states: list[_PdfState]) -> ExtractionReport:
            jobs = [
                PdfJob(s.source.src_path, s.source.abs_path, s.sha256, s.source.size)
                for s in states
            ]
            if not jobs:
                return ExtractionReport({}, 0, 0)
            return extract_pdfs(
                jobs,
                cache=cache,
                workers=settings.jobs,
                options=options,
                on_progress=(lambda d, t, _p: on_progress("extract", d, t))
                if on_progress
                else None,
            )

        first = extract([s for s in pdfs.values() if s.read_now and s.sha256])
        texts, extracted, from_cache = first.texts, first.extracted, first.from_cache
        ocred, pages_ocred = first.ocred, first.pages_ocred
        _apply_texts(pdfs, texts)

        page_metas = {src: s.meta for src, s in pages.items() if s.meta is not None}
        indexed_pdfs = {
            src: s for src, s in pdfs.items() if s.meta is not None and s.meta.page_count > 0
        }
        page_shas = {src: s.sha256 for src, s in pages.items()}
        pdf_metas = {src: s.meta for src, s in indexed_pdfs.items() if s.meta}
        pdf_urls = {src: scan.config.public_url(s.public) for src, s in pdfs.items()}
        if scan.config.generator == "folder":
            archive = load_sidecars(scan)
            docs = plan_archive_documents(
                page_metas, page_shas, pdf_metas, pdf_urls, archive, schema_version=SCHEMA_VERSION
            )
            plan_problems = list(archive.problems)
        else:
            docs, plan_problems = plan_documents(
                page_metas,
                page_shas,
                pdf_metas,
                {s.public: src for src, s in pdfs.items()},
                pdf_urls,
                schema_version=SCHEMA_VERSION,
                content_dir=scan.config.content_dir if scan.config.generator == "hugo" else "",
            )

        old_docs: dict[str, list[Any]] = old_manifest.get("docs", {})
        read_now = {src for src, s in pages.items() if s.read_now} | {
            src for src, s in pdfs.items() if s.read_now
        }
        to_write = [
            d
            for d in docs
            if d.id not in old_docs or old_docs[d.id][0] != d.fingerprint or d.source in read_now
        ]
        new_ids = {d.id for d in docs}
        to_delete = [doc_id for doc_id in old_docs if doc_id not in new_ids]
        replaced = [d.id for d in to_write if d.id in old_docs]

        need_text = [
            pdfs[src]
            for src in sorted({d.source for d in to_write if d.kind == "pdf"})
            if pdfs[src].sha256 not in texts
        ]
        more = extract(need_text)
        texts.update(more.texts)
        extracted += more.extracted
        from_cache += more.from_cache
        ocred += more.ocred
        pages_ocred += more.pages_ocred

        words: dict[str, int] = {doc_id: int(entry[1]) for doc_id, entry in old_docs.items()}
        files_read = sum(1 for s in pages.values() if s.read_now) + sum(
            1 for s in pdfs.values() if s.read_now
        )

        current: dict[str, tuple[str, ...]] = {}

        def pdf_pages(src: str) -> tuple[str, ...]:
            """The page texts of one PDF, from the cache; one PDF is held at a time."""
            if src not in current:
                current.clear()
                sha = pdfs[src].sha256
                known = texts.get(sha)
                if known is not None and known.pages:
                    current[src] = known.pages
                else:
                    cached = cache.get(sha, src, timeout=options.timeout)
                    current[src] = cached.pages if cached else ()
            return current[src]

        def materialize() -> Iterator[Document]:
            nonlocal files_read
            for doc in to_write:
                if doc.kind == "page":
                    state = pages[doc.source]
                    if state.body is None:
                        fresh = _parse(state.source, scan)
                        files_read += 1
                        state.body, state.headings = fresh.body or "", fresh.headings
                    full = with_text(doc, state.body or "", state.headings)
                else:
                    pages_of = pdf_pages(doc.source)
                    body = pages_of[doc.page - 1] if doc.page and doc.page <= len(pages_of) else ""
                    # the PDF's words for "did you mean" once, on its first page: a
                    # third fewer postings to write than giving each page its own
                    spelling = "\n".join(pages_of) if doc.page == 1 else ""
                    if doc.page == 1:  # pages whose text with_text cuts, warned once per PDF
                        state_of = pdfs[doc.source]
                        for problem in pdf_pages_too_large(doc.source, pages_of):
                            if problem not in state_of.problems:
                                state_of.problems.append(problem)
                                problems.append(problem)
                    full = with_text(doc, body, spelling=spelling)
                words[doc.id] = full.words
                yield full

        # a PDF read now is recorded even when it gave no document (it failed
        # again under a higher limit, say), so the next run does not read it again
        pdfs_read = any(s.read_now for s in pdfs.values())
        changed = (
            bool(to_write or to_delete or pdfs_read)
            or previous is None
            or old_meta.get("site_url", "") != scan.config.site_url
        )
        problems = [
            *_nothing_found(scan, str(settings.site)),
            *scan.problems,
            *(p for s in pages.values() for p in s.problems),
            *(p for s in pdfs.values() for p in s.problems),
            *plan_problems,
        ]
        pdf_docs = [d for d in docs if d.kind == "pdf"]

        def summarize(generation: Generation) -> BuildSummary:
            return BuildSummary(
                site=str(settings.site),
                index_dir=str(settings.index_dir),
                generator=scan.config.generator,
                rebuilt=previous is None,
                rebuild_reason=rebuild_reason,
                pages=sum(1 for d in docs if d.kind == "page"),
                pdfs=len({d.source for d in pdf_docs}),
                pdf_pages=len(pdf_docs),
                documents=len(docs),
                words=sum(words.get(d.id, 0) for d in docs),
                files_read=files_read,
                pdfs_extracted=extracted,
                pdfs_from_cache=from_cache,
                docs_added=len(to_write) - len(replaced),
                docs_updated=len(replaced),
                docs_removed=len(to_delete),
                seconds=round(time.perf_counter() - start, 3),
                problems=tuple(problems),
                generation=generation.name,
                pdfs_ocred=ocred,
                pdf_pages_ocred=pages_ocred,
            )

        if not changed:
            assert previous is not None
            summary = summarize(previous)
            with _write_errors(store):
                previous.write_run({**summary.to_dict(), "finished": now_iso()})
            return summary

        new: Generation | None = None

        def needed() -> int:
            """Bytes a build needs: about what the current generation holds, or more."""
            current = store.current()
            return max(current.size() if current else 0, new.size() if new else 0)

        try:
            with _write_errors(store, needed):
                new = store.new_generation(previous)
                write_documents(
                    new,
                    create=previous is None,
                    delete_ids=[*to_delete, *replaced],
                    documents=materialize(),
                    total=len(to_write),
                    procs=settings.jobs,
                    on_progress=(lambda d, t: on_progress("index", d, t)) if on_progress else None,
                )
                summary = summarize(new)
                manifest = {
                    "pages": {src: s.record() for src, s in pages.items()},
                    "pdfs": {src: s.record() for src, s in pdfs.items()},
                    "docs": {d.id: [d.fingerprint, words.get(d.id, 0)] for d in docs},
                }
                created = old_meta.get("created")
                write_metadata(
                    new,
                    meta={
                        "site": str(settings.site.resolve()),
                        "generator": scan.config.generator,
                        "site_title": scan.config.title,
                        "site_url": scan.config.site_url,
                        "baseurl": scan.config.baseurl,
                        "extractor": options.key,
                        "extractor_name": options.extractor,
                        "ocr": options.ocr,
                        "chcsearch_version": __version__,
                        "created": created or now_iso(),
                        "counts": {
                            "documents": summary.documents,
                            "pages": summary.pages,
                            "pdfs": summary.pdfs,
                            "pdf_pages": summary.pdf_pages,
                            "words": summary.words,
                        },
                    },
                    manifest=manifest,
                    run={**summary.to_dict(), "finished": now_iso()},
                )
                store.publish(new)
        except BaseException:
            if new is not None:
                store.discard(new)
            raise
        store.remove_stale()
        return summary
