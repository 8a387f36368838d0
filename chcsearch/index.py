"""Index stage: the on-disk index, its generations, its lock, and Whoosh writing.

Layout of an index folder::

    index/
      .lock            held (flock) by the one indexer that may write
      CURRENT          name of the generation readers should open
      gen-000007/      a complete Whoosh index plus chcsearch.json (schema
                       version, source), manifest.json (what was indexed from
                       which file), run.json (the last run's summary) and
                       checksums.json (size and SHA-256 of every other file)
      cache/           extracted PDF text by content hash (chcsearch.cache)

Every write builds a new generation beside the current one — a rebuild from
nothing, an update from hard links to the current generation's files (Whoosh
never changes a segment file once written) — and then replaces ``CURRENT``
atomically. A crash, Ctrl-C or SIGKILL at any point leaves the previous
generation in place and searchable; a stale half-written generation is
removed by the next run. Opening a generation checks that every file its
checksum manifest lists is there with its size, and that the manifest lists
every file there is (and every file Whoosh's table of contents names);
``chcsearch status --verify`` checks the bytes too; a damaged generation is
rebuilt by the next run. A
generation's ``chcsearch.json`` says that it has a checksum manifest, so a
missing or emptied manifest is damage too; a generation from before manifests
(no such flag, no manifest) is searched as it is and rebuilt by the next run,
never given checksums for bytes nobody verified.

Whoosh is imported here and in the query modules only (``plan``, ``engine``,
``engine_array``, ``spelling``, ``query``).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import json
import os
import pickle
import queue
import re
import shutil
import stat
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import snowballstemmer

from . import schema as S
from .atomic import write_atomic
from .cache import file_sha256
from .errors import (
    ConfigError,
    IndexDamagedError,
    IndexLockedError,
    IndexNotFoundError,
    IndexWriteError,
    SchemaVersionError,
)
from .levels import level_key, level_prefixes

if TYPE_CHECKING:
    from .model import Document


def _import_whoosh_compat() -> None:
    """Import ``whoosh.compat`` without letting it import ``urllib.request``.

    That Python-2-era module imports ``urlretrieve`` (which chcsearch never
    calls) and with it HTTP, e-mail and SSL: 50 ms of the 300 ms a whole
    ``chcsearch query`` process may take. It gets a stand-in whose
    ``urlretrieve`` loads the real one on first use; the stand-in is removed
    at once, so any later ``import urllib.request`` is the real module.
    """
    if "whoosh.compat" in sys.modules or "urllib.request" in sys.modules:
        return

    def urlretrieve(*args: Any, **kwargs: Any) -> Any:
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    stand_in = types.ModuleType("urllib.request")
    stand_in.urlretrieve = urlretrieve  # type: ignore[attr-defined]
    sys.modules["urllib.request"] = stand_in
    try:
        importlib.import_module("whoosh.compat")
    finally:
        del sys.modules["urllib.request"]
        urllib = sys.modules.get("urllib")
        if urllib is not None and getattr(urllib, "request", None) is stand_in:
            del urllib.request


_import_whoosh_compat()

from whoosh import analysis, fields, multiproc  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402
from whoosh.analysis import STOP_WORDS  # noqa: E402
from whoosh.codec import whoosh3  # noqa: E402
from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.support.charset import accent_map  # noqa: E402
from whoosh.system import pack_uint  # noqa: E402
from whoosh.util import random_name  # noqa: E402


def _cached_column_reader(self: Any, fieldname: str, column: Any) -> Any:
    """Whoosh's ``W3PerDocReader._cached_reader``, remembering absent columns too.

    Whoosh asks for a field-length column for every posting it writes and,
    for fields that have none (ID and keyword fields), checks the disk again
    each time: 227,000 ``stat`` calls for the real corpus. A segment never
    changes once written, so the answer can be kept. Measured: a full build's
    indexing time 14.3 s -> 12.1 s.
    """
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
        return reader


whoosh3.W3PerDocReader._cached_reader = _cached_column_reader


def _doc_field_length(self: Any, docnum: int, fieldname: str, default: int = 0) -> int | None:
    """Whoosh's ``W3PerDocReader.doc_field_length``, decoding each length column once.

    Writing a segment asks for the field length of every posting's document
    (340,000 times for the real corpus), each time decoding one byte from the
    column file. The column is decoded into a list on first use instead.
    Same answers, including Whoosh's ``None`` for a zero length.
    """
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    decoded = self.__dict__.setdefault("_decoded_lengths", {})
    values = decoded.get(fieldname)
    if values is None:
        reader = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        values = (
            [whoosh3.byte_to_length(b) if b else None for b in reader] if reader is not None else ()
        )
        decoded[fieldname] = values
    if not values:
        return default
    return values[docnum]  # type: ignore[no-any-return]


whoosh3.W3PerDocReader.doc_field_length = _doc_field_length


def _subwriter_run(self: Any) -> None:
    """Whoosh's writer process, ending with the errno of a failed write, not a traceback.

    Whoosh's writer processes print a traceback when a write fails (a full
    disk) and vanish, and the parent commits without their segment. Here
    the process exits quietly with the error's errno as its exit code, and
    ``_check_writer_processes`` turns that into the parent's ``OSError``.
    """
    try:
        _whoosh_subwriter_run(self)
    except OSError as exc:
        if not exc.errno or exc.errno > 255:
            raise
        sys.exit(exc.errno)


def _enqueue(self: Any) -> None:
    """Whoosh's ``MpWriter._enqueue``, giving up when its writer processes have died.

    Whoosh waits for room in the job queue for ever; with every writer
    process gone (a full disk) there is never room.
    """
    filename = f"{random_name()}.doclist"
    with self.temp_storage().create_file(filename).raw_file() as handle:
        for item in self.docbuffer:
            pickle.dump(item, handle, 2)
    if len(self.tasks) < self.procs:
        self._new_task()
    job = (filename, len(self.docbuffer))
    while True:
        try:
            self.jobqueue.put(job, timeout=0.5)
            break
        except queue.Full:
            _check_writer_processes(self)
    self.docbuffer = []


def _check_writer_processes(writer: Any) -> None:
    """Raise the error that ended one of a multi-process writer's processes, if one did."""
    for task in getattr(writer, "tasks", ()):
        code = task.exitcode
        if code == 1 or (code is not None and code < 0):
            raise RuntimeError(f"a Whoosh writer process failed (exit code {code})")
        if code:
            raise OSError(code, os.strerror(code))


def _stop_writer_processes(writer: Any) -> None:
    """End a multi-process writer's processes (Whoosh's ``cancel`` only flags them)."""
    for task in getattr(writer, "tasks", ()):
        if task.is_alive():
            task.terminate()
        task.join()


_whoosh_subwriter_run = multiproc.SubWriterTask.run
multiproc.SubWriterTask.run = _subwriter_run
multiproc.MpWriter._enqueue = _enqueue

INDEX_NAME = "MAIN"
MULTIPROCESS_MIN_DOCS = 300
# Whoosh's writer sorts its postings in memory up to WRITER_MB per process and
# merges sorted runs from disk beyond that, in Python: at ten times the real
# corpus that doubled the writing time. Documents are written in batches of
# SEGMENT_DOCS per process, one segment each, which stay under the limit.
WRITER_MB = 256
SEGMENT_DOCS = 3_000
# Segments are kept as separate files, not assembled into one compound file:
# Whoosh reads a compound file's parts through an in-memory copy (BytesIO over
# the mapped file), so every reader held a copy of the whole index. At 40 times
# the real corpus: a searcher's memory 555 MB -> 149 MB, the build's peak
# 774 MB -> 522 MB, queries p95 +3 ms (files read through the OS cache).
COMPOUND_SEGMENTS = False
META_FILE = "chcsearch.json"
MANIFEST_FILE = "manifest.json"
RUN_FILE = "run.json"
# The checksum manifest: name -> size and SHA-256 of every other file but
# run.json, written when a generation is published. SHA-256 is the fastest
# hashlib offers where the CPU has SHA instructions (12.6 MB: sha256 13 ms,
# sha1 12 ms, blake2b 18 ms, md5 22 ms).
CHECKSUMS_FILE = "checksums.json"
CHECKSUMS_FORMAT = 1
CHECKSUM_ALGORITHM = "sha256"  # what cache.file_sha256 computes
# The key of chcsearch.json that says its generation has a checksum manifest
# (the manifest's format): without it a deleted manifest would look like an
# index from before manifests, which is trusted as it is.
META_CHECKSUMS = "checksums"
CURRENT_FILE = "CURRENT"
LOCK_FILE = ".lock"
_GENERATION = re.compile(r"^gen-(\d{6})$")
_TOC = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")  # Whoosh's table of contents


STOP_MIN_SIZE = 2  # StopFilter's default: one-letter words are dropped too


_stemmers = threading.local()


def stem(word: str) -> str:
    """The Porter stem of a lower-case word: Porter's original algorithm (Snowball's
    ``porter``), not Whoosh's variant, which measured 0.006-0.008 lower nDCG@10 on
    Cranfield and CISI. A stemmer object keeps state, so each thread has its own."""
    stemmer = getattr(_stemmers, "porter", None)
    if stemmer is None:
        stemmer = _stemmers.porter = snowballstemmer.stemmer("porter")
    return str(stemmer.stemWord(word))


def text_analyzer() -> analysis.Analyzer:
    """Words, lower-cased, accents folded, English stop words dropped, stemmed.

    A ``%`` sign is the word ``percent``, so that "percent" finds "53%".
    ``WordAnalysis`` does the same at index time; a test holds them equal.
    """
    return (
        analysis.RegexTokenizer(r"\w+(\.?\w+)*|%")
        | analysis.LowercaseFilter()
        | analysis.SubstitutionFilter(r"^%$", "percent")
        | analysis.CharsetFilter(accent_map)
        | analysis.StopFilter(STOP_WORDS, minsize=STOP_MIN_SIZE)
        | analysis.StemFilter(stem, cachesize=50000)
    )


def whoosh_schema() -> fields.Schema:
    """The Whoosh schema built from ``chcsearch.schema.FIELDS``."""
    analyzer = text_analyzer()
    built: dict[str, fields.FieldType] = {}
    for name, spec in S.FIELDS.items():
        if spec.kind == "id":
            built[name] = fields.ID(stored=spec.stored, unique=name == S.ID, sortable=spec.sortable)
        elif spec.kind == "text":
            built[name] = FastText(analyzer=analyzer, stored=spec.stored, phrase=True)
        elif spec.kind == "keyword":
            built[name] = fields.KEYWORD(
                stored=spec.stored, commas=True, lowercase=False, scorable=False
            )
        elif spec.kind == "spelling":
            built[name] = SpellingWords(lowercase=False, commas=False, scorable=False)
        else:
            built[name] = fields.STORED()
    return fields.Schema(**built)


_WORD = re.compile(r"\w+(?:\.?\w+)*|%")  # the analyzer's tokenizer, without its group


class WordAnalysis:
    """Index-time analysis that gives exactly what ``text_analyzer()`` gives, faster.

    Whoosh's analyzer passes every token through six generator stages (about
    4 s of a 10 s build of the real corpus, twice over for the spelling
    words). The stages after the tokenizer act on one token at a time, so
    each distinct word is analysed once by the real analyzer and remembered:
    a text becomes a regular-expression scan and dictionary lookups. The
    index receives the words as a list (consecutive positions, as the stop
    filter renumbers them) and the original text as the stored value.
    """

    LIMIT = 500_000  # distinct words remembered before starting afresh

    def __init__(self) -> None:
        self._term: dict[str, str] = {}  # raw token -> indexed term ("" when stopped)
        self._plain: dict[str, str] = {}  # raw token -> unstemmed word ("" when stopped)

    def _learn(self, raws: Iterable[str]) -> None:
        new = set(raws).difference(self._term)
        if not new:
            return
        if len(self._term) + len(new) > self.LIMIT:
            self._term.clear()
            self._plain.clear()
            new = set(raws)
        # text_analyzer()'s filters, applied to one token
        for raw in new:
            word = raw.lower()
            word = "percent" if word == "%" else word.translate(accent_map)
            if len(word) < STOP_MIN_SIZE or word in STOP_WORDS:
                self._term[raw] = self._plain[raw] = ""
            else:
                self._term[raw], self._plain[raw] = stem(word), word

    def terms(self, text: str) -> list[str]:
        """The indexed terms of ``text``, in order."""
        raws = _WORD.findall(text)
        self._learn(raws)
        return [t for t in map(self._term.__getitem__, raws) if t]

    def words(self, text: str) -> list[str]:
        """The distinct unstemmed words of ``text``, sorted (for spelling suggestions)."""
        raws = set(_WORD.findall(text))
        self._learn(raws)
        return sorted({w for w in map(self._plain.__getitem__, raws) if w})


#: One ``WordAnalysis`` per process (Whoosh's multi-process writer analyses in
#: its worker processes); fields find it here rather than carry it, since
#: Whoosh pickles field objects into the index's table of contents.
_ANALYSIS: dict[int, WordAnalysis] = {}


def word_analysis() -> WordAnalysis:
    """This process's ``WordAnalysis`` (terms of a text as the index has them)."""
    pid = os.getpid()
    found = _ANALYSIS.get(pid)
    if found is None:
        _ANALYSIS.clear()
        found = _ANALYSIS[pid] = WordAnalysis()
    return found


def _positions(words: Iterable[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for number, word in enumerate(words):
        seen = found.get(word)
        if seen is None:
            found[word] = [number]
        else:
            seen.append(number)
    return found


class FastText(fields.TEXT):  # type: ignore[misc]
    """Whoosh's TEXT field, indexing text through ``WordAnalysis``.

    The postings are those ``fields.TEXT`` makes (the same terms, counts,
    weights; positions counted from 0, as its stop filter renumbers them);
    building them from the analysed word list saves a token object and a
    generator step per word. Queries still use the field's analyzer.
    """

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        encode = self.format.encode
        for word, found in _positions(word_analysis().terms(value)).items():
            yield word.encode("utf-8"), len(found), len(found) * boost, encode(found)


class SpellingWords(fields.KEYWORD):  # type: ignore[misc]
    """The distinct unstemmed words of a text, for "did you mean" (not scored)."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        # what Whoosh's Frequency format gives a word that occurs once
        boost, once = self.format.field_boost, pack_uint(1)
        for word in word_analysis().words(value):
            yield word.encode("utf-8"), 1, boost, once


def _keywords(values: Iterable[str]) -> str:
    return S.KEYWORD_SEPARATOR.join(S.keyword_term(v) for v in values)


def document_fields(doc: Document) -> dict[str, Any]:
    """The keyword arguments for Whoosh's ``add_document``."""
    values: dict[str, Any] = {
        S.ID: doc.id,
        S.SOURCE: doc.source,
        S.KIND: doc.kind,
        S.TITLE: doc.title,
        S.HEADINGS: "\n".join(doc.headings),
        S.BODY: doc.body,
        S.CONTEXT: doc.context,
        S.RESOURCE_TITLES: "\n".join(r.title for r in doc.resources),
        S.SECTION: doc.section,
        S.ANCESTORS: _keywords(doc.ancestors),
        f"_stored_{S.ANCESTORS}": list(doc.ancestors),
        S.BREADCRUMB: list(doc.breadcrumb),
        S.LEVEL: doc.level,
        S.LEVEL_PATH: _keywords(level_prefixes(doc.level)),
        S.LEVEL_KEY: level_key(doc.level),
        S.GROUP: doc.group,
        S.LINKED_FROM: _keywords(doc.linked_from),
        f"_stored_{S.LINKED_FROM}": list(doc.linked_from),
        S.URL: doc.url,
        S.ORPHAN: doc.orphan,
        S.RESOURCES: [r.to_dict() for r in doc.resources],
        S.WORDS: doc.words,
        S.AUTHORS: list(doc.authors),
        S.AUTHOR_TERMS: _keywords(term for name in doc.authors for term in S.author_terms(name)),
        S.TAGS: _keywords(tag.lower() for tag in doc.tags),
        f"_stored_{S.TAGS}": list(doc.tags),
        S.PAGE_LABEL: doc.page_label,
    }
    if doc.authors:
        values[S.CONTEXT] = "\n".join([doc.context, *doc.authors])
        values[f"_stored_{S.CONTEXT}"] = doc.context
    if doc.kind == "pdf" and not (doc.group == doc.source and doc.page == 1):
        # A report page is found by its own text. The report's title, place and
        # authors are searchable once: on the page that links it (its resource
        # titles), or on its own first page when no page links it, so that 80
        # pages of one report do not all match its title.
        values[f"_stored_{S.TITLE}"], values[S.TITLE] = doc.title, ""
        values[f"_stored_{S.CONTEXT}"], values[S.CONTEXT] = doc.context, ""
    if not doc.title_weighted:
        values[f"_stored_{S.TITLE}"], values[S.TITLE] = doc.title, ""
    if doc.year is not None:
        values[S.YEAR] = doc.year
    if doc.weight is not None:
        values[S.WEIGHT] = doc.weight
    if doc.page is not None:
        values[S.PAGE] = doc.page
        values[S.PAGE_COUNT] = doc.page_count
    for name, spec in S.FIELDS.items():
        if spec.kind == "text" and spec.spelling:
            values[spec.spelling] = values[name]
    if doc.spelling is not None:
        values[S.SPELL_BODY] = doc.spelling
    return values


def recorded_extractor(meta: dict[str, Any]) -> str:
    """The extractor that read an index's PDF text, from its ``chcsearch.json``.

    Indexes written before the choice existed were all read by pdfminer.
    """
    return str(meta.get("extractor_name") or "pdfminer")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object; ``ValueError`` when it holds anything else."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"it holds a JSON {type(data).__name__}, not an object")
    return data


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


@dataclass(frozen=True)
class Integrity:
    """What a check of a generation's files against its checksum manifest found.

    ``checked`` is ``"sizes"`` (every listed file exists with its recorded
    size), ``"checksums"`` (and its bytes hash to the recorded value) or
    ``"none"`` (a generation written before manifests were recorded: no
    manifest, and no ``META_CHECKSUMS`` in its ``chcsearch.json``).
    """

    checked: str
    files: int
    size: int
    seconds: float
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "files": self.files,
            "bytes": self.size,
            "seconds": self.seconds,
            "problems": list(self.problems),
        }


def _checksummed(name: str) -> bool:
    """Files a checksum manifest lists: all but itself, run.json (rewritten by runs
    that change nothing), Whoosh's lock file and temporary files (``.tmp``, and
    the dot files ``write_atomic`` writes before renaming them). Whoosh reads
    none of those, so every file it reads is checksummed."""
    return not (
        name in (CHECKSUMS_FILE, RUN_FILE)
        or name.startswith(".")
        or name.endswith(("WRITELOCK", ".tmp"))
    )


def _shown(name: str) -> str:
    return name if len(name) <= 40 else name[:40] + "…"


_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _manifest_fault(recorded: Any) -> str:
    """What is wrong with a parsed checksum manifest, or ``""``.

    Every manifest ever written lists ``chcsearch.json``, and each entry has
    a whole-number size and a hex digest, so anything else is damage.
    """
    files = recorded.get("files") if isinstance(recorded, dict) else None
    if not isinstance(files, dict) or recorded.get("algorithm") != CHECKSUM_ALGORITHM:
        return f"{CHECKSUMS_FILE} is not a checksum manifest"
    if not files:
        return f"{CHECKSUMS_FILE} lists no files"
    if META_FILE not in files:
        return f"{CHECKSUMS_FILE} does not list {META_FILE}"
    for name, entry in files.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        digest = entry.get(CHECKSUM_ALGORITHM) if isinstance(entry, dict) else None
        if (
            not _checksummed(name)
            or name != Path(name).name
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
            or not isinstance(digest, str)
            or not _HEX_DIGEST.match(digest)
        ):
            return f"{CHECKSUMS_FILE} has a bad entry for {_shown(name)!r}"
    return ""


def schema_version_fault(meta: dict[str, Any]) -> str:
    """What is wrong with the schema version a ``chcsearch.json`` records, or ``""``.

    Every version ever written is a whole number; anything else (``"5"``,
    ``5.0``, none at all) is damage, not another version to rebuild from.
    Another whole number is not a fault: the caller decides what it means.
    """
    version = meta.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool):
        return ""
    if "schema_version" not in meta:
        return f"{META_FILE} records no schema version"
    return f"{META_FILE} has schema version {_shown(repr(version))}, not a whole number"


def _latest_toc(names: Iterable[str]) -> tuple[int, str] | None:
    """The generation number and name of the table of contents Whoosh opens, of ``names``."""
    found = [(int(m.group(1)), m.group(0)) for name in names if (m := _TOC.match(name))]
    return max(found) if found else None


def _toc_files(path: Path, number: int) -> list[str]:
    """The files the Whoosh table of contents ``number`` in ``path`` names, but itself.

    For each segment: its terms, postings and stored fields (files every
    segment Whoosh 2.7 writes), or its compound file. Raises what Whoosh
    raises for a table of contents it cannot read. About 0.3 ms.
    """
    toc = whoosh_index.TOC.read(FileStorage(str(path)), INDEX_NAME, gen=number)
    names: list[str] = []
    for segment in toc.segments:
        if segment.is_compound():
            names.append(segment.make_filename(".seg"))
        elif isinstance(segment, whoosh3.W3Segment):
            names += [
                segment.make_filename(whoosh3.W3Codec.TERMS_EXT),
                segment.make_filename(whoosh3.W3Codec.POSTS_EXT),
                whoosh3.W3Codec.column_filename(segment, "_stored"),
            ]
    return names


def _failure(exc: BaseException) -> str:
    """An unexpected error, in a line short enough for a message."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 120 else text[:120] + "…"


@dataclass(frozen=True)
class Generation:
    """One complete index generation on disk."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def meta(self) -> dict[str, Any]:
        """``chcsearch.json``; ``OSError`` or ``ValueError`` when it cannot be read as an object."""
        return _read_object(self.path / META_FILE)

    def manifest(self) -> dict[str, Any]:
        """``manifest.json``; ``OSError`` or ``ValueError`` when it cannot be read as an object."""
        return _read_object(self.path / MANIFEST_FILE)

    def run(self) -> dict[str, Any] | None:
        """The last run's summary, or None when ``run.json`` is missing or not an object."""
        try:
            return _read_object(self.path / RUN_FILE)
        except (OSError, ValueError):
            return None

    def records_checksums(self) -> bool:
        """Whether this generation was written with a checksum manifest (its meta says so).

        An unreadable ``chcsearch.json`` counts as yes: only a readable one
        without the flag makes a generation one from before manifests.
        """
        try:
            return bool(self.meta().get(META_CHECKSUMS))
        except (OSError, ValueError):
            return True

    def write_run(self, run: dict[str, Any]) -> None:
        _write_json(self.path / RUN_FILE, run)

    def size(self) -> int:
        """Bytes in the generation's files (hard links to another generation's count too)."""
        total = 0
        with contextlib.suppress(OSError):
            for item in self.path.iterdir():
                with contextlib.suppress(OSError):
                    total += item.stat().st_size if item.is_file() else 0
        return total

    def write_checksums(self) -> None:
        """Record the size and checksum of every file but ``run.json``, for ``check``."""
        files = {
            item.name: {"size": item.stat().st_size, CHECKSUM_ALGORITHM: file_sha256(item)}
            for item in sorted(self.path.iterdir())
            if item.is_file() and _checksummed(item.name)
        }
        _write_json(
            self.path / CHECKSUMS_FILE,
            {"format": CHECKSUMS_FORMAT, "algorithm": CHECKSUM_ALGORITHM, "files": files},
        )

    def _unlisted(self, files: dict[str, Any], *, whoosh: bool) -> list[str]:
        """Files of the generation that a checksum manifest listing ``files`` leaves out:
        in the folder, and with ``whoosh``, named by Whoosh's table of contents."""
        try:
            present = sorted(item.name for item in self.path.iterdir())
        except OSError as exc:
            return [f"the folder cannot be listed ({exc.strerror})"]
        problems = [
            f"{_shown(name)} is not in the checksum manifest"
            for name in present
            if _checksummed(name) and name not in files
        ]
        if problems or not whoosh:
            return problems
        latest = _latest_toc(files)
        if latest is None:
            return [f"{CHECKSUMS_FILE} lists no Whoosh table of contents (_{INDEX_NAME}_N.toc)"]
        number, toc_name = latest
        try:
            named = _toc_files(self.path, number)
        except Exception as exc:  # bytes changed at their size: Whoosh cannot open the index
            return [f"{toc_name} cannot be opened ({_failure(exc)})"]
        return [
            f"{name}, which {toc_name} names, is neither in the checksum manifest nor on disk"
            for name in named
            if name not in files
        ]

    def check(self, *, full: bool = False) -> Integrity:
        """Compare the generation's files with its checksum manifest.

        The cheap check (``full=False``, a ``stat`` per file, well under a
        millisecond) finds missing and truncated files; ``full`` also hashes
        every byte (about 15 ms for 12 MB). A generation from before
        manifests passes with ``checked="none"``; a missing, unreadable or
        empty manifest of a generation whose meta records one is a problem.

        The manifest must cover the whole generation: a file in the folder
        that it does not list (other than those ``_checksummed`` leaves out)
        is a problem, and so is one that Whoosh's table of contents names and
        the manifest does not list, since its bytes could be anything. The
        table of contents is read for that when every listed file is in order.
        """
        start = time.perf_counter()
        checked = "checksums" if full else "sizes"
        try:
            recorded = _read_json(self.path / CHECKSUMS_FILE)
        except FileNotFoundError:
            if not self.records_checksums():
                return Integrity("none", 0, 0, 0.0, ())
            return Integrity(checked, 0, 0, 0.0, (f"{CHECKSUMS_FILE} is missing",))
        except (OSError, ValueError) as exc:
            return Integrity(checked, 0, 0, 0.0, (f"{CHECKSUMS_FILE} cannot be read ({exc})",))
        fault = _manifest_fault(recorded)
        if fault:
            return Integrity(checked, 0, 0, 0.0, (fault,))
        files: dict[str, dict[str, Any]] = recorded["files"]
        problems: list[str] = []
        size = 0
        for name, entry in sorted(files.items()):
            want = entry["size"]
            try:
                have = (self.path / name).stat().st_size
            except FileNotFoundError:
                problems.append(f"{name} is missing")
                continue
            except OSError as exc:
                problems.append(f"{name} cannot be read ({exc.strerror})")
                continue
            size += have
            if have != want:
                how = "truncated" if have < want else "changed"
                problems.append(f"{name} is {how} ({have:,} bytes, {want:,} recorded)")
            elif full:
                try:
                    same = file_sha256(self.path / name) == entry.get(CHECKSUM_ALGORITHM)
                except OSError as exc:
                    problems.append(f"{name} cannot be read ({exc.strerror})")
                    continue
                if not same:
                    problems.append(f"{name} does not match its checksum")
        problems += self._unlisted(files, whoosh=not problems)
        return Integrity(
            checked,
            len(files),
            size,
            round(time.perf_counter() - start, 4),
            tuple(problems),
        )


def _what_is_there(path: Path) -> str:
    """What ``path``, which exists but is no folder, is: ``"is a file"``, ``"is a symbolic
    link loop"``..., for a message that says why it cannot be an index folder."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if path.is_symlink():
            return "is a symbolic link that leads nowhere"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return "is a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe"
    return "is a socket" if stat.S_ISSOCK(mode) else "is a device"


class IndexStore:
    """An index folder: its generations, its lock and its cache."""

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir)

    # ---- reading -------------------------------------------------------------------

    def refuse_a_file(self) -> None:
        """``ConfigError`` (exit 3) when the index folder is a file or lies under one: it is
        the ``--index`` given that is wrong, not an index that is damaged."""
        for path in (self.index_dir, *self.index_dir.parents):
            if not os.path.lexists(path):
                continue
            if path.is_dir():
                return
            found = _what_is_there(path)
            what = (
                f"{found}, not an index folder"
                if path == self.index_dir
                else f"cannot be an index folder: {path} {found}"
            )
            raise ConfigError(
                f"{self.index_dir} {what}; give --index the folder that chcsearch index "
                "wrote (or a new folder to index into)."
            )

    def read_current(self) -> tuple[Generation | None, str]:
        """The generation ``CURRENT`` names, and what is wrong with ``CURRENT`` if anything.

        ``(None, "")`` when there is no index yet; ``(None, problem)`` when
        ``CURRENT`` is unreadable, holds anything but a generation's name, or
        names a generation that is missing or incomplete.
        """
        path = self.index_dir / CURRENT_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None, ""
        except OSError as exc:
            return None, f"{CURRENT_FILE} cannot be read ({exc.strerror})"
        name = raw.decode("utf-8", errors="replace").strip()
        if not name:
            return None, f"{CURRENT_FILE} is empty"
        if not _GENERATION.match(name):
            return None, f"{CURRENT_FILE} does not name a generation (it holds {_shown(name)!r})"
        generation = self.index_dir / name
        if not generation.is_dir():
            return None, f"{CURRENT_FILE} names {name}, which does not exist"
        if not (generation / META_FILE).is_file():
            return None, f"{CURRENT_FILE} names {name}, which has no {META_FILE}"
        return Generation(generation), ""

    def current(self) -> Generation | None:
        """The generation ``CURRENT`` names, or None when there is none (or it is damaged)."""
        return self.read_current()[0]

    def damaged(self, problems: Iterable[str], site: str | None = None) -> IndexDamagedError:
        """The error for a damaged index: what is wrong, and the command that repairs it."""
        found = list(problems)
        listed = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        return IndexDamagedError(
            f"the index in {self.index_dir} is damaged: {listed}. Run chcsearch index "
            f"{site or 'SITE'} --index {self.index_dir} to repair it (it is rebuilt from the "
            "extracted text it keeps)."
        )

    def open_current(self) -> Generation:
        """The current generation, checked: it exists, has this schema version, and every
        file its checksum manifest lists is there with its recorded size."""
        generation, problem = self.read_current()
        if generation is None:
            self.refuse_a_file()  # only then: a generation found is inside a folder
        if problem:
            raise self.damaged([problem])
        if generation is None:
            raise IndexNotFoundError(
                f"no index in {self.index_dir}; build one with: chcsearch index SITE --index {self.index_dir}"
            )
        try:
            meta = generation.meta()
        except (OSError, ValueError) as exc:
            raise self.damaged([f"{generation.name}/{META_FILE} cannot be read ({exc})"]) from exc
        fault = schema_version_fault(meta)
        if fault:
            found = [fault, *generation.check().problems]
            raise self.damaged((f"{generation.name}/{p}" for p in found), meta.get("site"))
        version = meta["schema_version"]
        if version != S.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the index in {self.index_dir} has schema version {version}, this chcsearch "
                f"uses {S.SCHEMA_VERSION}; rebuild it with: chcsearch index SITE --index "
                f"{self.index_dir} --rebuild"
            )
        found = list(generation.check().problems)
        if found:
            raise self.damaged((f"{generation.name}/{p}" for p in found), meta.get("site"))
        return generation

    def damage_behind(self, generation: Generation, error: Exception) -> IndexDamagedError | None:
        """What an unexpected ``error`` reading ``generation`` means: ``IndexDamagedError``
        when its files differ from their checksums (about 15 ms for 12 MB), or when it
        has no checksums to tell damage from a bug; None when every file matches (a bug).

        A generation from before checksums is rebuilt by the next ``chcsearch index``
        run anyway, so an error reading it is reported as damage that run repairs.
        """
        integrity = generation.check(full=True)
        site = None
        with contextlib.suppress(OSError, ValueError):
            site = generation.meta().get("site")
        if integrity.problems:
            return self.damaged((f"{generation.name}/{p}" for p in integrity.problems), site)
        if integrity.checked != "none":
            return None
        return IndexDamagedError(
            f"the index in {self.index_dir} cannot be read ({_failure(error)}), and it has no "
            "checksums to check it against (it was written by an older chcsearch), so it is "
            f"taken to be damaged. Run chcsearch index {site or 'SITE'} --index "
            f"{self.index_dir} to rebuild it (from the extracted text it keeps)."
        )

    # ---- locking -------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the index's write lock, or raise ``IndexLockedError`` at once.

        A POSIX record lock (``lockf``): the kernel drops it when the process
        dies, however it dies, and child processes (PDF workers, Whoosh's
        writer processes) do not inherit it, so none can outlive the run
        holding it. Such locks are per process, so a registry catches a second
        writer inside this process too. A folder that cannot be written, or a
        lock path that is not a file, is an ``IndexWriteError``, not a lock.
        """
        lock_path = self.index_dir / LOCK_FILE
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self.write_error(exc) from exc
        key = os.path.realpath(self.index_dir)
        with _HELD_GUARD:
            held_here = key in _HELD
            _HELD.add(key)
        fd = -1
        try:
            if held_here:
                raise self._locked_error()
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)  # less the umask
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise IsADirectoryError(errno.EISDIR, "not a file", str(lock_path))
            except OSError as exc:
                raise self.write_error(exc, lock_path) from exc
            try:
                _lock(fd)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise self._locked_error() from exc
                raise self.write_error(exc, lock_path) from exc
        except BaseException:
            if fd >= 0:
                os.close(fd)
            if not held_here:
                with _HELD_GUARD:
                    _HELD.discard(key)
            raise
        try:
            yield
        finally:
            os.close(fd)
            with _HELD_GUARD:
                _HELD.discard(key)

    def _locked_error(self) -> IndexLockedError:
        return IndexLockedError(
            f"index {self.index_dir} is locked: another 'chcsearch index' is writing it. "
            "Wait for it to finish, then run again."
        )

    def write_error(
        self, exc: OSError, path: Path | None = None, *, needed: int = 0
    ) -> IndexWriteError | OSError:
        """What a failed write means for the user, as an ``IndexWriteError``.

        A read-only or unwritable folder, a lock path that is not a file, a
        full disk. Any other ``OSError`` is returned as it was (a bug to report).
        """
        where = Path(exc.filename) if exc.filename else path or self.index_dir
        untouched = (
            "the previous index is untouched"
            if self.current() is not None
            else "no index was written"
        )
        if path is not None and path.name == LOCK_FILE and exc.errno in _NOT_A_FILE:
            return IndexWriteError(
                f"{path} is not a file; remove it (it is the index's lock file, recreated "
                "by the next run), then run again."
            )
        if exc.errno in (errno.EEXIST, errno.ENOTDIR) and not self.index_dir.is_dir():
            return IndexWriteError(
                f"{self.index_dir} is not a folder; give --index a folder (a new one is made)."
            )
        if exc.errno == errno.ENOENT and not self.index_dir.is_dir():
            return IndexWriteError(
                f"cannot make the index folder {self.index_dir}: {exc.strerror}; give --index "
                "a folder that can be made and written."
            )
        if exc.errno == errno.EROFS:
            return IndexWriteError(
                f"cannot write to {self.index_dir}: read-only file system; {untouched}. "
                "Remount it read-write, or give --index a folder that can be written."
            )
        if exc.errno in (errno.EACCES, errno.EPERM):
            return IndexWriteError(
                f"cannot write to {where}: permission denied; {untouched}. Run as a user "
                "who may write the index folder, or give --index another folder."
            )
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            free = ""
            with contextlib.suppress(OSError):
                free = f", {shutil.disk_usage(self.index_dir).free / 1e6:,.1f} MB free"
            need = f"; the build needs about {max(1, round(needed / 1e6)):,} MB" if needed else ""
            return IndexWriteError(
                f"no space left on {_mount_point(self.index_dir)} (the file system of "
                f"{self.index_dir}{free}){need}; {untouched}. Free some space, or give "
                "--index a folder on a larger disk, then run again."
            )
        return exc

    # ---- writing -------------------------------------------------------------------

    def _generations(self) -> list[Path]:
        if not self.index_dir.is_dir():
            return []
        return sorted(
            p for p in self.index_dir.iterdir() if _GENERATION.match(p.name) and p.is_dir()
        )

    def remove_stale(self) -> None:
        """Delete generations other than the current one and the one before it.

        While ``CURRENT`` is damaged nothing is deleted: the generations are
        all that is left until a new one is published.
        """
        current, problem = self.read_current()
        if problem:
            return
        keep: set[str] = set()
        if current is not None:
            keep.add(current.name)
            older = [p for p in self._generations() if p.name < current.name]
            if older:
                keep.add(older[-1].name)
        for path in self._generations():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def new_generation(self, base: Generation | None) -> Generation:
        """A fresh generation folder; with ``base``, its Whoosh files hard-linked in.

        Its number follows every name a generation could have, folder or not,
        and any name taken meanwhile is skipped.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        taken = (_GENERATION.match(p.name) for p in self.index_dir.iterdir())
        number = max((int(m.group(1)) for m in taken if m), default=0) + 1
        while True:
            path = self.index_dir / f"gen-{number:06d}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                number += 1
        if base is not None:
            for item in base.path.iterdir():
                if (
                    item.is_file()
                    and not item.name.endswith(("WRITELOCK", ".tmp"))
                    and item.suffix != ".json"
                ):
                    try:
                        os.link(item, path / item.name)
                    except OSError:
                        shutil.copy2(item, path / item.name)
        return Generation(path)

    def discard(self, generation: Generation) -> None:
        """Delete a generation that was never published (after an error or Ctrl-C)."""
        if self.current() != generation:
            shutil.rmtree(generation.path, ignore_errors=True)

    def make_way_for_current(self) -> None:
        """Make sure ``CURRENT`` can be replaced: an empty folder in its place is removed
        (it holds nothing); any other folder there is an ``IndexWriteError``."""
        path = self.index_dir / CURRENT_FILE
        if not path.is_dir() or path.is_symlink():
            return
        try:
            path.rmdir()
        except OSError as exc:
            raise IndexWriteError(
                f"{path} is a folder, where the file naming the current generation belongs; "
                "remove it (the next run writes the file), then run again."
            ) from exc

    def publish(self, generation: Generation) -> None:
        """Record ``generation``'s checksums, then make it the current one, atomically."""
        self.make_way_for_current()
        generation.write_checksums()
        _fsync_dir(generation.path)
        write_atomic(self.index_dir / CURRENT_FILE, f"{generation.name}\n".encode())
        _fsync_dir(self.index_dir)


def _mount_point(path: Path) -> Path:
    """The mount point of the file system that holds ``path``."""
    path = path.resolve()
    try:
        device = path.stat().st_dev
        while path.parent != path and path.parent.stat().st_dev == device:
            path = path.parent
    except OSError:
        pass
    return path


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_NOT_A_FILE = (errno.EISDIR, errno.ENXIO, errno.ELOOP, errno.ENODEV)
_HELD: set[str] = set()
_HELD_GUARD = threading.Lock()


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


ProgressFn = Callable[[int, int], None]


def write_documents(
    generation: Generation,
    *,
    create: bool,
    delete_ids: Iterable[str],
    documents: Iterable[Document],
    total: int,
    procs: int = 1,
    on_progress: ProgressFn | None = None,
) -> None:
    """Apply deletions and additions to a generation's Whoosh index and commit.

    ``documents`` may be a generator, so that texts stream into the writer.
    A document whose id is already present must be in ``delete_ids``. With
    ``procs`` > 1 and many documents, Whoosh's multi-process writer analyses
    them in parallel and keeps one segment per process (full build of the
    real corpus: 10.8 s -> 5.6 s on 2 cores); large builds are written in
    batches of ``SEGMENT_DOCS`` documents per process (10 times the real
    corpus: 51 s -> 25 s).
    """
    path = str(generation.path)
    deletes = list(delete_ids)
    if create:
        ix = whoosh_index.create_in(path, whoosh_schema(), indexname=INDEX_NAME)
    else:
        ix = whoosh_index.open_dir(path, indexname=INDEX_NAME)
    parallel = procs > 1 and total >= MULTIPROCESS_MIN_DOCS
    chunk = SEGMENT_DOCS * (procs if parallel else 1)
    pending = iter(documents)
    done = 0
    try:
        while True:
            options: dict[str, Any] = {"limitmb": WRITER_MB, "compound": COMPOUND_SEGMENTS}
            if parallel and not (done == 0 and deletes):
                options.update(procs=procs, multisegment=True)
            writer = ix.writer(**options)
            try:
                if done == 0:
                    for doc_id in deletes:
                        writer.delete_by_term(S.ID, doc_id)
                added = 0
                for doc in pending:
                    writer.add_document(**document_fields(doc))
                    done += 1
                    added += 1
                    if on_progress and (done % 25 == 0 or done == total):
                        on_progress(done, total)
                    if added >= chunk:
                        break
                last = added < chunk
                if create:
                    # a new index: each batch its own segments, nothing merged again
                    writer.commit(optimize=last and done <= chunk, merge=False)
                else:
                    writer.commit()
                _check_writer_processes(writer)
            except BaseException:
                _stop_writer_processes(writer)
                with contextlib.suppress(Exception):
                    writer.cancel()
                raise
            if last:
                break
    finally:
        ix.close()
        # Whoosh's lock file, made 0777 less the umask; a published generation
        # is never written again, so it is not kept
        with contextlib.suppress(OSError):
            (generation.path / f"{INDEX_NAME}_WRITELOCK").unlink()
    write_query_data(generation)


def write_metadata(
    generation: Generation, *, meta: dict[str, Any], manifest: dict[str, Any], run: dict[str, Any]
) -> None:
    meta = {
        **meta,
        "schema_version": S.SCHEMA_VERSION,
        "written": now_iso(),
        META_CHECKSUMS: CHECKSUMS_FORMAT,  # publish() writes the manifest
    }
    _write_json(generation.path / MANIFEST_FILE, manifest)
    generation.write_run(run)
    _write_json(generation.path / META_FILE, meta)


QUERY_DATA_FILE = "querydata.json"
SCORED_FIELDS = (S.TITLE, S.HEADINGS, S.RESOURCE_TITLES, S.CONTEXT, S.BODY)


def query_data(reader: Any) -> dict[str, Any]:
    """Per-document data the query engine needs, read from a Whoosh reader in one pass.

    Field lengths (for BM25), group, section, kind, year, title and author
    names of every document number, whether it is live, the title of every
    section, and the titles that suggestions complete (pages, and PDFs no page
    links). Computed
    when a generation is written and kept beside it, so that a new process
    answers its first query without reading these from Whoosh one document
    at a time (about 60 ms on the real corpus).
    """
    count = reader.doc_count_all()
    names = (S.GROUP, S.SECTION, S.KIND)
    columns = {
        name: reader.column_reader(name) for name in names if count and reader.has_column(name)
    }
    data: dict[str, Any] = {
        "doc_count": count,
        "lengths": {
            name: [reader.doc_field_length(d, name, 0) or 0 for d in range(count)]
            for name in SCORED_FIELDS
        },
        **{
            name: [columns[name][d] if name in columns else "" for d in range(count)]
            for name in names
        },
        "live": [not reader.is_deleted(d) for d in range(count)],
        "year": [None] * count,
        "title": [""] * count,
        # the words of each author's name, for "every word of one name" filters
        "authors": [None] * count,
    }
    titles: dict[str, str] = {}
    pages: list[list[str]] = []
    for docnum, stored in reader.iter_docs():
        data["year"][docnum] = stored.get(S.YEAR)
        data["title"][docnum] = stored.get(S.TITLE, "")
        if stored.get(S.AUTHORS):
            data["authors"][docnum] = [S.author_terms(a) for a in stored[S.AUTHORS]]
        is_page = stored.get(S.KIND) == "page"
        crumbs = list(stored.get(S.BREADCRUMB) or [])
        _learn_section_titles(titles, stored)
        if is_page or (stored.get(S.GROUP) == stored.get(S.SOURCE) and stored.get(S.PAGE) == 1):
            url = stored[S.URL] if is_page else stored[S.URL].split("#", 1)[0]
            pages.append([stored[S.TITLE], url, " › ".join(crumbs)])
    data["section_titles"] = titles
    data["pages"] = sorted(pages)
    return data


def _learn_section_titles(titles: dict[str, str], stored: dict[str, Any]) -> None:
    """Add the title of each section a stored document names (by its ancestors and breadcrumb)."""
    crumbs = list(stored.get(S.BREADCRUMB) or [])
    for path, title in zip(
        stored.get(S.ANCESTORS) or [],
        [*crumbs, stored[S.TITLE]] if stored.get(S.KIND) == "page" else crumbs,
        strict=False,
    ):
        titles.setdefault(path, title)


def term_text(term: bytes | str) -> str:
    """A term as Whoosh's lexicon gives it (bytes in fields of raw terms), as text."""
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


def section_titles(docs: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The title of every section the stored documents name, by section path."""
    titles: dict[str, str] = {}
    for stored in docs:
        _learn_section_titles(titles, stored)
    return titles


def spelling_vocabulary(generation: Generation) -> list[tuple[str, int, bool]]:
    """``(word, documents, in a title)`` for every unstemmed word "did you mean" knows."""
    ix = open_whoosh(generation)
    try:
        with ix.reader() as reader:
            title_words = {term_text(term) for term in reader.lexicon(S.SPELL_TITLE)}
            counts: dict[str, int] = {}
            for name in (S.SPELL_BODY, S.SPELL_TITLE):
                for term, info in reader.iter_field(name):
                    word = term_text(term)
                    counts[word] = max(counts.get(word, 0), info.doc_frequency())
    finally:
        ix.close()
    return [(word, count, word in title_words) for word, count in counts.items()]


def write_query_data(generation: Generation) -> None:
    ix = whoosh_index.open_dir(str(generation.path), indexname=INDEX_NAME)
    try:
        with ix.reader() as reader:
            _write_json(generation.path / QUERY_DATA_FILE, query_data(reader))
    finally:
        ix.close()


def open_whoosh(generation: Generation) -> Any:
    """The Whoosh index of a generation; ``IndexDamagedError`` when Whoosh cannot open it.

    The checks of ``IndexStore.open_current`` find missing and truncated
    files; this catches what they cannot, such as a table of contents whose
    bytes changed but not its size.
    """
    try:
        return whoosh_index.open_dir(str(generation.path), indexname=INDEX_NAME)
    except Exception as exc:
        raise IndexStore(generation.path.parent).damaged(
            [f"{generation.name} cannot be opened ({type(exc).__name__}: {exc})"]
        ) from exc


def count_documents(generation: Generation) -> dict[str, int]:
    """Documents in a generation's Whoosh index, by kind (for status and tests)."""
    ix = open_whoosh(generation)
    try:
        with ix.searcher() as searcher:
            counts = {"total": searcher.doc_count()}
            for kind in ("page", "pdf"):
                counts[kind] = len(list(searcher.document_numbers(**{S.KIND: kind})))
            return counts
    finally:
        ix.close()


def stored_documents(generation: Generation, **terms: str) -> list[dict[str, Any]]:
    """Stored fields of the documents matching every ``field=value`` term."""
    ix = open_whoosh(generation)
    try:
        with ix.searcher() as searcher:
            if terms:
                return [dict(doc) for doc in searcher.documents(**terms)]
            return [dict(doc) for doc in searcher.all_stored_fields()]
    finally:
        ix.close()


def stored_links(generation: Generation) -> list[tuple[str, str, str]]:
    """``(source, url, kind)`` of every document, read one document at a time."""
    ix = open_whoosh(generation)
    try:
        with ix.searcher() as searcher:
            return [
                (str(doc.get(S.SOURCE, "")), str(doc.get(S.URL, "")), str(doc.get(S.KIND, "")))
                for doc in searcher.all_stored_fields()
            ]
    finally:
        ix.close()


_RUN_NUMBERS = ("seconds", "files_read", "pdfs_extracted")


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _readable_run(run: dict[str, Any]) -> dict[str, Any]:
    """``run.json`` (not checksummed: every run rewrites it) without values of another shape.

    What ``chcsearch status`` shows is kept only when it has the type a run
    writes: its numbers, its finishing time, and problems that are records
    with a kind, a file and a message.
    """
    kept = {
        key: value
        for key, value in run.items()
        if key != "problems"
        and (key not in _RUN_NUMBERS or _is_count(value))
        and (key != "finished" or isinstance(value, str))
    }
    problems = run.get("problems")
    kept["problems"] = [
        p
        for p in (problems if isinstance(problems, list) else [])
        if isinstance(p, dict)
        and all(isinstance(p.get(key), str) for key in ("kind", "src_path", "message"))
        and (p.get("line") is None or _is_count(p.get("line")))
    ]
    return kept


def index_status(index_dir: Path, *, verify: bool = False) -> dict[str, Any]:
    """What ``chcsearch status`` reports: source, last run, counts, schema, warnings.

    Raises ``IndexNotFoundError`` when there is no index, and
    ``IndexDamagedError`` when ``CURRENT`` or a file of the current
    generation is damaged: missing or of another size, or with ``verify``,
    of other bytes than its recorded checksum. An index of another schema
    version is described, with ``needs_rebuild`` set.
    """
    store = IndexStore(index_dir)
    generation, problem = store.read_current()
    if generation is None:
        store.refuse_a_file()  # only then: a generation found is inside a folder
    if problem:
        raise store.damaged([problem])
    if generation is None:
        raise IndexNotFoundError(
            f"no index in {index_dir}; build one with: chcsearch index SITE --index {index_dir}"
        )
    try:
        meta = generation.meta()
    except (OSError, ValueError) as exc:
        raise store.damaged([f"{generation.name}/{META_FILE} cannot be read ({exc})"]) from exc
    integrity = generation.check(full=verify)
    fault = schema_version_fault(meta)
    problems = [fault] if fault else []
    if integrity.problems or problems:
        raise store.damaged(
            (f"{generation.name}/{p}" for p in [*problems, *integrity.problems]),
            meta.get("site"),
        )
    run = _readable_run(generation.run() or {})
    from .model import PROBLEM_GROUPS

    grouped: dict[str, list[dict[str, Any]]] = {}
    for problem in run.get("problems", []):
        grouped.setdefault(PROBLEM_GROUPS.get(problem["kind"], "other"), []).append(problem)
    counts = meta.get("counts")
    return {
        "index_dir": str(index_dir),
        "generation": generation.name,
        "schema_version": meta.get("schema_version"),
        "needs_rebuild": meta.get("schema_version") != S.SCHEMA_VERSION,
        "site": meta.get("site"),
        "generator": meta.get("generator"),
        "extractor": meta.get("extractor"),
        "extractor_name": recorded_extractor(meta),
        "ocr": bool(meta.get("ocr", False)),
        "created": meta.get("created"),
        "written": meta.get("written"),
        "counts": {k: v for k, v in counts.items() if _is_count(v)}
        if isinstance(counts, dict)
        else {},
        "last_run": run,
        "warnings_by_group": {group: len(items) for group, items in sorted(grouped.items())},
        "integrity": integrity.to_dict(),
    }
