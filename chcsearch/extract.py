"""Extract stage: the text of each physical page of a PDF, with pdfminer.six.

pdfminer is imported in this module only. How it is driven, and why (figures
measured on the real corpus, 65 PDFs, 1,194 pages, on a 2-core machine):

* Each PDF is parsed once: one page interpreter feeds one ``TextConverter``
  and the output is cut after every page (``extract_text`` per page parses
  the file again for every page).
* ``LAParams(all_texts=True, boxes_flow=None)``: ``all_texts`` runs layout
  analysis inside figures too, which keeps chart labels apart (334,014 words
  and 797 tokens over 25 characters, against 864 without it);
  ``boxes_flow=None`` skips pdfminer's hierarchical box grouping, whose ties
  are broken by object addresses and so reorder text between runs; it costs
  the same (74.9 s against 76.0 s of CPU). ``laparams=None`` glues words.
* About 80 % of pdfminer's time goes into tokenizing content streams in pure
  Python. ``FastContentParser`` tokenizes a page's streams with one regular
  expression into the very objects pdfminer's parser yields and falls back
  to pdfminer's parser for anything unusual (inline images, odd tokens).
  It halves extraction time (136 s to 74 s of CPU for the corpus) with the
  same text; ``tests/test_extract.py`` checks it object for object against
  pdfminer's own parser.
* Files are extracted in a process pool, largest first, each under a time
  limit (``SIGALRM`` in the worker; pdfminer is pure Python, so the limit
  interrupts it anywhere). A worker that dies takes only its file with it.
* Each worker also has a memory limit (``RLIMIT_DATA``: the heap and other
  private memory, not shared libraries), so one PDF cannot take the machine
  down: a 0.4 MB file whose content stream inflates to 200 MB drove pdfminer
  past 1 GB (until its time limit) and PDFium to 4 GB; the real corpus needs
  at most 100 MB a worker with either. Workers are forked, so the limit is
  set above what the worker holds when it starts (the indexing process's
  heap, which a library caller may have made large) and measures the PDF's
  own cost. pdfminer gives ``MemoryError``; PDFium aborts
  the process. Either way the file gets a ``pdf-too-large`` problem.
* For pdfminer, compressed streams (Flate, LZW) are inflated with a cap of an
  eighth of the memory limit (64 MB of the default 512 MB): pdfminer's
  objects for a content stream can take more than eight times its size (15
  MB of unpainted path operators needed over 128 MB), so a larger stream
  would likely reach the limit anyway, only later and less clearly. In the
  real corpus the biggest stream pdfminer inflates (content, form, font)
  is 1.4 MB; images, up to 25 MB, are not inflated for text.
* pdfminer follows indirect references (``5 0 R``) without a limit, so a
  562-byte file whose object 5 is ``6 0 R`` and object 6 is ``5 0 R`` held a
  core until the time limit. While a file is read, every pdfminer module's
  ``resolve1`` and ``resolve_all`` are replaced by ones that stop at a loop
  (or after ``MAX_REFERENCE_HOPS`` references in a row): the file, or the
  page, gets a ``pdf-corrupt`` problem that names the loop, at once. An
  object needed again while it is being read (a stream whose ``/Length`` is
  the stream itself) is a loop too. pdfminer reads the ``/PageLabels`` tree
  recursively while it lists the pages; here it is read with a loop check,
  so a damaged tree costs only the labels.
* Forms (Form XObjects) may draw forms: a 2.5 KB file whose forms draw the
  next level eight times, nine levels deep, asks for 16.7 million drawings
  (35 s of CPU and all of 512 MB before it was stopped). Each page may draw
  at most ``MAX_FORMS_PER_PAGE`` forms, nested at most ``MAX_FORM_DEPTH``
  deep, holding at most the stream cap of content in all; past that the
  page's remaining forms are skipped with a ``pdf-corrupt`` problem, and the
  rest of the file is read. Real files draw a few forms a page, two or
  three deep.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import logging
import os
import re
import signal
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pdfminer
from pdfminer import pdfinterp, pdftypes
from pdfminer.converter import TextConverter
from pdfminer.data_structures import NumberTree
from pdfminer.layout import LAParams, LTChar, LTContainer, LTPage, LTTextBox, LTTextLine
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfcolor import PDFColorSpace
from pdfminer.pdfdevice import PDFDevice, PDFTextSeq
from pdfminer.pdfdocument import PageLabels, PDFDocument, PDFEncryptionError, PDFNoPageLabels
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFObjRef, int_value, stream_value
from pdfminer.psparser import KWD, LIT, PSEOF, PSLiteral
from pdfminer.utils import MATRIX_IDENTITY, Matrix, choplist, decode_text

from .cache import ExtractionCache
from .config import DEFAULT_PDF_MEMORY_MB
from .model import PdfText, Problem
from .ocr import OcrRun, page_list, read_pages
from .pdfmeta import (
    META_VERSION,
    PdfInfo,
    Run,
    centre_inside,
    first_heading,
    first_paragraph,
    has_letter,
    labels_list,
    merge_info,
    new_run,
    parse_xmp,
    prominent_lines,
    seen_runs,
    title_lines,
    usable_size,
)
from .repair import REPAIR_VERSION, repair_document


def _laparams() -> LAParams:
    """Layout analysis inside figures too; no hierarchical box grouping (see above)."""
    return LAParams(all_texts=True, boxes_flow=None)


EXTRACTOR_KEY = (
    f"pdfminer.six-{pdfminer.__version__}-all_texts-noflow-fasttok1-guard2"
    f"-meta{META_VERSION}-repair{REPAIR_VERSION}"
)

# ----------------------------------------------------------------------------------------
# A faster content-stream tokenizer

_DELIM = rb"(?=[\s/\[\]<>(){}%]|\Z)"
_TOKEN = re.compile(
    rb"(?P<ws>\s+|%[^\r\n]*)"
    rb"|(?P<int>[-+]?\d+)"
    + _DELIM
    + rb"|(?P<float>[-+]?(?:\d+\.\d*|\.\d+))"
    + _DELIM
    + rb"|/(?P<name>[^\s/\[\]<>(){}%#]*)"
    + _DELIM
    + rb"|\((?P<str>[^()\\]*)\)"
    rb"|(?P<cstr>\()"
    rb"|(?P<open><<|\[|\{)"
    rb"|(?P<close>>>|\]|\})"
    rb"|<(?P<hex>[0-9A-Fa-f\s]*)>"
    rb"|(?P<kw>[A-Za-z][^\s/\[\]<>(){}%#\\]*|['\"])" + _DELIM
)
_STRING_SPECIAL = re.compile(rb"[()\\]")
_OCTAL = re.compile(rb"[0-7]{1,3}")
_ESCAPES = {
    b"b": b"\x08",
    b"t": b"\t",
    b"n": b"\n",
    b"f": b"\x0c",
    b"r": b"\r",
    b"(": b"(",
    b")": b")",
    b"\\": b"\\",
}
_HEX_PAIR = re.compile(rb"[0-9a-fA-F]{2}|.", re.S)
_WHITESPACE = re.compile(rb"\s")
_INLINE_IMAGE = frozenset({b"BI", b"ID", b"EI"})


class _Unusual(Exception):
    """Raised by the fast tokenizer when pdfminer's own parser should take over."""


def _literal_string(data: bytes, pos: int) -> tuple[bytes, int]:
    """A ``(...)`` string with escapes or nested parentheses; ``pos`` is after ``(``.

    Follows pdfminer's reading: unknown escapes drop the backslash and the
    character, a backslash before a line end continues the string.
    """
    out = bytearray()
    depth = 1
    while True:
        match = _STRING_SPECIAL.search(data, pos)
        if match is None:
            raise _Unusual
        j = match.start()
        out += data[pos:j]
        char = data[j : j + 1]
        if char == b"\\":
            octal = _OCTAL.match(data, j + 1)
            following = data[j + 1 : j + 2]
            if octal:
                code = int(octal.group(), 8)
                if code > 255:
                    raise _Unusual
                out.append(code)
                pos = octal.end()
            elif following in _ESCAPES:
                out += _ESCAPES[following]
                pos = j + 2
            elif following == b"\r" and data[j + 2 : j + 3] == b"\n":
                pos = j + 3
            elif not following:
                raise _Unusual
            else:
                pos = j + 2
            continue
        if char == b"(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return bytes(out), j + 1
        out += char
        pos = j + 1


def tokenize_content(data: bytes) -> list[Any]:
    """The top-level objects of a content stream, as pdfminer's parser yields them.

    Raises ``_Unusual`` for anything this tokenizer does not handle exactly
    like pdfminer (inline images, stray delimiters, keywords inside arrays).
    """
    objects: list[Any] = []
    stack: list[tuple[bytes, list[Any]]] = []
    current = objects
    pos = 0
    end = len(data)
    match_at = _TOKEN.match
    while pos < end:
        match = match_at(data, pos)
        if match is None:
            raise _Unusual
        kind = match.lastgroup
        pos = match.end()
        if kind == "ws":
            continue
        value = match.group(kind)  # type: ignore[arg-type]
        if kind == "int":
            current.append(int(value))
        elif kind == "float":
            current.append(float(value))
        elif kind == "kw":
            if value == b"true":
                current.append(True)
            elif value == b"false":
                current.append(False)
            elif value in _INLINE_IMAGE or current is not objects:
                raise _Unusual
            else:
                current.append(KWD(value))
        elif kind == "str":
            current.append(value)
        elif kind == "name":
            try:
                current.append(LIT(str(value, "utf-8")))
            except UnicodeDecodeError:
                current.append(LIT(value))
        elif kind == "cstr":
            string, pos = _literal_string(data, pos)
            current.append(string)
        elif kind == "hex":
            digits = _WHITESPACE.sub(b"", value)
            current.append(_HEX_PAIR.sub(lambda m: bytes((int(m.group(), 16),)), digits))
        elif kind == "open":
            stack.append((value, current))
            current = []
        else:  # close
            if not stack:
                raise _Unusual
            opener, parent = stack.pop()
            if opener == b"<<":
                if value != b">>" or len(current) % 2:
                    raise _Unusual
                mapping: dict[str, Any] = {}
                for key, item in zip(current[::2], current[1::2], strict=True):
                    if not isinstance(key, PSLiteral) or not isinstance(key.name, str):
                        raise _Unusual
                    if item is not None:
                        mapping[key.name] = item
                parent.append(mapping)
            elif (opener, value) in ((b"[", b"]"), (b"{", b"}")):
                parent.append(current)
            else:
                raise _Unusual
            current = parent
    if stack:
        raise _Unusual
    return objects


class FastContentParser(pdfinterp.PDFContentParser):
    """pdfminer's content parser, with a one-regex fast path for whole pages."""

    def __init__(self, streams: Sequence[object]) -> None:
        super().__init__(streams)
        self._fast: list[Any] | None
        try:
            data = b"\n".join(stream_value(s).get_data() for s in streams)
            self._fast = tokenize_content(data)
            self._fast.reverse()
        except _Unusual:
            self._fast = None

    def nextobject(self) -> tuple[int, Any]:
        if self._fast is None:
            return super().nextobject()
        if not self._fast:
            raise PSEOF("end of content stream")
        return 0, self._fast.pop()


# ----------------------------------------------------------------------------------------
# Inflating streams with a cap


class _StreamTooLarge(BaseException):
    """Raised inside pdfminer when a stream inflates past the cap.

    A ``BaseException``, like the time limit, so that pdfminer's and this
    module's ``except Exception`` (a page that fails, damaged metadata) let
    it through: the whole file is given up.
    """


class _BoundedZlib:
    """Stands in for the ``zlib`` module in ``pdfminer.pdftypes`` (which uses
    ``decompress``, ``decompressobj`` and ``error``) and for its
    ``decompress_corrupted``: none inflates more than ``limit`` bytes."""

    error = zlib.error

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def decompress(self, data: bytes) -> bytes:
        inflater = zlib.decompressobj()
        out = inflater.decompress(data, self.limit + 1)
        if len(out) > self.limit:
            raise _StreamTooLarge
        if not inflater.eof:  # as zlib.decompress does for a truncated stream
            raise zlib.error("incomplete or truncated stream")
        return out

    def decompressobj(self) -> _BoundedInflater:
        return _BoundedInflater(self.limit)

    def decompress_corrupted(self, data: bytes) -> bytes:
        """pdfminer's reading of a Flate stream with a bad checksum, in linear time.

        pdfminer feeds the stream one byte at a time onto a growing ``bytes``,
        quadratic in the output; the result is the same when all but the last
        three bytes (where a bad checksum is forgiven) go in at once.
        """
        inflater = self.decompressobj()
        parts = [inflater.decompress(data[:-3])]
        for i in range(max(0, len(data) - 3), len(data)):
            try:
                parts.append(inflater.decompress(data[i : i + 1]))
            except zlib.error:
                break
        return b"".join(parts)


class _BoundedInflater:
    """A ``zlib.decompressobj`` that stops once ``limit`` bytes have come out."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self._inflater = zlib.decompressobj()

    def decompress(self, data: bytes) -> bytes:
        out = self._inflater.decompress(data, self.left + 1)
        self.left -= len(out)
        if self.left < 0:
            raise _StreamTooLarge
        return out


def _bounded_lzwdecode(limit: int) -> Callable[[bytes], bytes]:
    def lzwdecode(data: bytes) -> bytes:
        parts: list[bytes] = []
        left = limit
        for part in LZWDecoder(io.BytesIO(data)).run():
            left -= len(part)
            if left < 0:
                raise _StreamTooLarge
            parts.append(part)
        return b"".join(parts)

    return lzwdecode


@contextlib.contextmanager
def _stream_cap(limit: int) -> Iterator[None]:
    """While inside, pdfminer inflates no stream past ``limit`` bytes (0: no cap)."""
    if limit <= 0:
        yield
        return
    namespace = vars(pdftypes)  # the names pdfminer's stream decoding looks up
    saved = {name: namespace[name] for name in ("zlib", "decompress_corrupted", "lzwdecode")}
    bounded = _BoundedZlib(limit)
    namespace.update(
        zlib=bounded,
        decompress_corrupted=bounded.decompress_corrupted,
        lzwdecode=_bounded_lzwdecode(limit),
    )
    try:
        yield
    finally:
        namespace.update(saved)


# ----------------------------------------------------------------------------------------
# Following references with a limit

#: Indirect references followed in a row (``5 0 R`` naming ``6 0 R`` naming ...)
#: before the chain counts as a loop; real files use one or two.
MAX_REFERENCE_HOPS = 64


class PdfReferenceLoop(Exception):
    """A reference that leads back to itself, or a chain of references too long to follow.

    An ``Exception``: pdfminer gives up what it was reading (a page, a font,
    the metadata) and goes on, as for any damaged object.
    """


def _ref(objid: object) -> str:
    return f"{objid} 0 R"


class _ReferenceGuard:
    """pdfminer's ``resolve1`` and ``resolve_all``, stopping at reference loops.

    ``loops`` describes each loop met, for the problem report.
    """

    def __init__(self) -> None:
        self.loops: list[str] = []
        # objects being fetched now, outermost first: reading one may need another
        # (a stream's /Length), and needing one of these again is a loop
        self._fetching: list[object] = []

    def _loop(self, description: str) -> PdfReferenceLoop:
        if description not in self.loops:
            self.loops.append(description)
        return PdfReferenceLoop(f"reference loop ({description})")

    def resolve1(self, x: object, default: object = None) -> Any:
        if not isinstance(x, PDFObjRef):
            return x
        chain: list[object] = []
        while isinstance(x, PDFObjRef):
            objid = x.objid
            if objid in chain:
                raise self._loop(" -> ".join(_ref(n) for n in (*chain, objid)))
            if objid in self._fetching:
                # e.g. a stream whose /Length names the stream itself
                looped = self._fetching[self._fetching.index(objid) :]
                raise self._loop(" -> ".join(_ref(n) for n in (*looped, objid)))
            if len(chain) == MAX_REFERENCE_HOPS:
                raise self._loop(
                    f"more than {MAX_REFERENCE_HOPS} references in a row from {_ref(chain[0])}"
                )
            chain.append(objid)
            self._fetching.append(objid)
            try:
                x = x.resolve(default=default)
            finally:
                self._fetching.pop()
        return x

    def resolve_all(self, x: object, default: object = None) -> Any:
        return self._resolve_nested(x, default, ())

    def _resolve_nested(self, x: object, default: object, open_ids: tuple[int, ...]) -> Any:
        """As pdfminer's ``resolve_all`` (which fills dictionaries in place), but an
        array or dictionary met again inside itself is a loop, not endless recursion."""
        x = self.resolve1(x, default)
        if isinstance(x, (list, dict)):
            if id(x) in open_ids:
                raise self._loop("an array or dictionary that contains itself")
            inner = (*open_ids, id(x))
            if isinstance(x, list):
                return [self._resolve_nested(v, default, inner) for v in x]
            for key, value in x.items():
                x[key] = self._resolve_nested(value, default, inner)
        return x


_RESOLVERS = {"resolve1": pdftypes.resolve1, "resolve_all": pdftypes.resolve_all}


@contextlib.contextmanager
def _bounded_references() -> Iterator[_ReferenceGuard]:
    """While inside, pdfminer follows no reference loop: each pdfminer module that
    imported ``resolve1`` or ``resolve_all`` by name gets the guard's instead."""
    guard = _ReferenceGuard()
    swapped: list[tuple[dict[str, Any], str, Any]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "pdfminer" or name.startswith("pdfminer.")):
            continue
        namespace = vars(module)
        for function, original in _RESOLVERS.items():
            if namespace.get(function) is original:
                namespace[function] = getattr(guard, function)
                swapped.append((namespace, function, original))
    try:
        yield guard
    finally:
        for namespace, function, original in swapped:
            namespace[function] = original


# ----------------------------------------------------------------------------------------
# One PDF


class _TimeLimitReached(BaseException):
    """Raised inside a worker when a PDF takes longer than its time limit."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[Callable[[], None]]:
    """Raise ``_TimeLimitReached`` after ``seconds``; the value given is ``stop``, which
    ends the limit early (after it, the limit never fires, even if it was due)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield lambda: None
        return
    armed = [True]

    def expire(signum: int, frame: object) -> None:
        if armed[0]:
            raise _TimeLimitReached

    def stop() -> None:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield stop
    finally:
        stop()
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------------------
# Drawing forms within a budget

#: Forms drawn inside forms, at most (the page's content is level 0).
MAX_FORM_DEPTH = 12
#: Forms drawn on one page, at most, counting every time one is drawn.
MAX_FORMS_PER_PAGE = 2000


class _FormBudget:
    """What is left of one page's form drawing; shared by the page's interpreters."""

    def __init__(self, byte_cap: int) -> None:
        self.byte_cap = byte_cap  # content bytes of all forms drawn on a page (0: no cap)
        self.start_page()

    def start_page(self) -> None:
        self.drawn = 0
        self.content_bytes = 0
        self.exceeded = ""  # why the page's remaining forms are skipped

    def admit(self, depth: int, streams: Sequence[object]) -> bool:
        """Whether a form at ``depth`` may be drawn; once one may not, none may."""
        if self.exceeded:
            return False
        self.drawn += 1
        self.content_bytes += sum(len(stream_value(s).get_data()) for s in streams)
        if depth > MAX_FORM_DEPTH:
            self.exceeded = f"forms nested more than {MAX_FORM_DEPTH} deep"
        elif self.drawn > MAX_FORMS_PER_PAGE:
            self.exceeded = f"more than {MAX_FORMS_PER_PAGE:,} forms drawn on one page"
        elif self.byte_cap and self.content_bytes > self.byte_cap:
            self.exceeded = f"forms drawn amount to more than {self.byte_cap >> 20} MB of content"
        return not self.exceeded


class _BoundedInterpreter(PDFPageInterpreter):
    """pdfminer's page interpreter, drawing forms within a ``_FormBudget`` per page.

    pdfminer draws a form (``Do``) with a sub-interpreter (``dup``), which
    here is one level deeper and shares the budget.
    """

    def __init__(
        self, rsrcmgr: PDFResourceManager, device: PDFDevice, budget: _FormBudget, depth: int = 0
    ) -> None:
        super().__init__(rsrcmgr, device)
        self.budget = budget
        self.depth = depth

    def dup(self) -> _BoundedInterpreter:
        return _BoundedInterpreter(self.rsrcmgr, self.device, self.budget, self.depth + 1)

    def process_page(self, page: PDFPage) -> None:
        self.budget.start_page()
        super().process_page(page)

    def do_Do(self, xobjid_arg: Any) -> None:
        if not self.budget.exceeded:
            super().do_Do(xobjid_arg)

    def render_contents(
        self,
        resources: dict[object, object],
        streams: Sequence[object],
        ctm: Matrix = MATRIX_IDENTITY,
    ) -> None:
        if self.depth and not self.budget.admit(self.depth, streams):
            return
        super().render_contents(resources, streams, ctm)


# ----------------------------------------------------------------------------------------
# Page labels that cost only themselves when damaged


class _PageLabelTree(PageLabels):
    """A ``/PageLabels`` number tree, read at once without recursion.

    pdfminer recurses once per level of ``/Kids``, for ever when a node is
    its own kid. A node met twice is a loop here.
    """

    def __init__(self, obj: Any) -> None:
        super().__init__(obj)
        self._items = _number_tree_items(obj)

    def _parse(self) -> list[tuple[int, Any]]:
        return list(self._items)


def _number_tree_items(root: Any) -> list[tuple[int, Any]]:
    """The ``(number, value)`` pairs of a number tree, in pdfminer's order (depth first)."""
    items: list[tuple[int, Any]] = []
    seen: set[object] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, PDFObjRef):
            if node.objid in seen:
                raise PdfReferenceLoop(f"reference loop ({_ref(node.objid)} is met twice)")
            seen.add(node.objid)
        tree = NumberTree(node)
        items += [(int_value(k), v) for k, v in choplist(2, tree.nums or ())]
        pending.extend(reversed(list(tree.kids or ())))
    return items


class _Document(PDFDocument):
    """pdfminer's document, whose ``/PageLabels`` are read once, with a loop check.

    ``labels_damage`` says why they could not be read (empty if they could, or
    if there are none); the pages are then listed without labels.
    """

    labels_damage = ""
    _label_tree: _PageLabelTree | None = None

    def get_page_labels(self) -> Iterator[str]:
        if self._label_tree is None:
            if self.labels_damage or "PageLabels" not in (self.catalog or {}):
                raise PDFNoPageLabels
            try:
                self._label_tree = _PageLabelTree(self.catalog["PageLabels"])
            except PdfReferenceLoop as exc:
                self.labels_damage = f"it has a {exc}"
                raise PDFNoPageLabels from exc
            except Exception as exc:  # a malformed tree only costs the labels
                self.labels_damage = f"its tree is malformed ({type(exc).__name__})"
                raise PDFNoPageLabels from exc
        return self._label_tree.labels


# ----------------------------------------------------------------------------------------
# Reading one PDF


@dataclass
class _Damage:
    """What a read skipped without giving up the file."""

    forms: dict[int, str] = field(default_factory=dict)  # page number: why its forms stopped
    labels: str = ""  # why the page labels could not be read


def _info_value(document: PDFDocument, key: str) -> str:
    for info in document.info:
        raw = pdftypes.resolve1(info.get(key))
        if isinstance(raw, bytes):
            return decode_text(raw)
        if isinstance(raw, str):
            return raw
    return ""


def _document_info(document: PDFDocument) -> PdfInfo:
    """Title, authors and year from XMP and the information dictionary."""
    xmp = PdfInfo()
    try:
        stream = pdftypes.resolve1(document.catalog.get("Metadata"))
        if stream is not None:
            xmp = parse_xmp(stream_value(stream).get_data())
    except Exception:  # a damaged metadata stream only costs the metadata
        xmp = PdfInfo()
    return merge_info(
        xmp,
        _info_value(document, "Title"),
        _info_value(document, "Author"),
        _info_value(document, "CreationDate"),
    )


def _page_labels(document: PDFDocument, count: int) -> tuple[str, ...]:
    try:
        return labels_list(document.get_page_labels(), count)
    except Exception:  # no /PageLabels (PDFNoPageLabels), or a malformed tree
        return ()


class _InvisibleState(pdfinterp.PDFGraphicState):
    """The graphics state of text drawn invisible (render mode 3, or 7: a clip
    only), marking its characters for ``_layout_runs``."""


def _layout_runs(ltpage: LTPage) -> list[Run]:
    """The page's lines as ``(text, font size, top)`` runs for ``prominent_lines``
    and ``first_paragraph``, in the order of the page's text; a line set in two
    sizes gives two runs, the last run of a line ends with a line break and that
    of a text box with two.

    Only what a reader sees counts, as for PDFium (``extract_pdfium._runs``): a
    word (characters between spaces) is kept whole when its first character's
    centre is inside the page box (``pdfmeta.centre_inside``), dropped whole when
    not; characters drawn invisible are dropped unless the page has no other text
    with letters (``pdfmeta.seen_runs``); a character of a size no reader could
    see (``pdfmeta.usable_size``) is dropped.
    """
    height = (ltpage.y1 - ltpage.y0) or 1.0
    box = (ltpage.x0, ltpage.y0, ltpage.x1, ltpage.y1)

    def line_runs(line: LTTextLine, hidden: bool) -> list[Run]:
        top = (ltpage.y1 - line.y1) / height
        runs: list[Run] = []
        text, size, in_word, keep = "", 0.0, False, False
        for char in line:
            glyph = char.get_text()
            if not glyph.strip():  # a space, written or found by layout analysis
                text, in_word = (text + " " if text else text), False
                continue
            if not isinstance(char, LTChar):
                continue
            if not in_word:
                in_word, keep = True, centre_inside(box, char.x0, char.y0, char.x1, char.y1)
            if not keep or (isinstance(char.graphicstate, _InvisibleState) and not hidden):
                continue
            if not usable_size(char.size):
                continue
            if new_run(char.size, size):
                runs.append((text, size, top))
                text = ""
            size = char.size
            text += glyph
        if text.strip():
            runs.append((text, size, top))
        if runs:
            runs[-1] = (runs[-1][0].rstrip() + "\n", runs[-1][1], top)
        return runs

    def walk(item: object, hidden: bool) -> list[Run]:
        if isinstance(item, LTTextLine):
            return line_runs(item, hidden)
        if not isinstance(item, LTContainer):
            return []
        runs = [run for child in item for run in walk(child, hidden)]
        if isinstance(item, LTTextBox) and runs:  # a blank line ends it, as in the page's text
            runs[-1] = (runs[-1][0] + "\n", *runs[-1][1:])
        return runs

    return seen_runs(lambda hidden: walk(ltpage, hidden))


class _CoverConverter(TextConverter):
    """Plain text, as TextConverter writes it, noting the font sizes of the first
    page with words on it in ``cover`` (one page's walk: a cover's title is the
    largest type on it)."""

    def __init__(
        self,
        resources: PDFResourceManager,
        out: io.StringIO,
        laparams: LAParams,
        cover: list[Run],
    ) -> None:
        super().__init__(resources, out, laparams=laparams)
        self.cover = cover

    def render_string(
        self,
        textstate: pdfinterp.PDFTextState,
        seq: PDFTextSeq,
        ncs: PDFColorSpace,
        graphicstate: pdfinterp.PDFGraphicState,
    ) -> None:
        # drawn invisible: noted for _layout_runs, which reads only the pages up to
        # the cover's (receive_layout), so not once the cover is found
        if not self.cover and textstate.render in (3, 7):
            invisible = _InvisibleState()
            vars(invisible).update(vars(graphicstate))
            graphicstate = invisible
        super().render_string(textstate, seq, ncs, graphicstate)

    def receive_layout(self, ltpage: LTPage) -> None:
        super().receive_layout(ltpage)
        if not self.cover:
            try:
                runs = _layout_runs(ltpage)
            except Exception:  # a title heuristic never costs a page its text
                runs = []
            if any(has_letter(text) for text, _, _ in runs):
                self.cover.extend(runs)


def _quiet_pdfminer() -> None:
    logging.getLogger("pdfminer").setLevel(logging.CRITICAL + 1)


def _read_pages(
    path: str, stream_cap: int, damage: _Damage
) -> tuple[list[str], PdfInfo, tuple[str, ...], list[int]]:
    """Raw text per physical page, what the PDF says about itself, page labels, failed pages.

    What was skipped without failing a page is noted in ``damage``.
    """
    with _stream_cap(stream_cap), Path(path).open("rb") as handle:
        document = _Document(PDFParser(handle), password="")
        info = _document_info(document)
        resources = PDFResourceManager(caching=True)
        out = io.StringIO()
        budget = _FormBudget(stream_cap)
        cover: list[Run] = []

        def fresh() -> _BoundedInterpreter:
            return _BoundedInterpreter(
                resources, _CoverConverter(resources, out, _laparams(), cover), budget
            )

        interpreter = fresh()
        pages: list[str] = []
        failed: list[int] = []
        out_of_memory = False
        for number, page in enumerate(PDFPage.create_pages(document), start=1):
            try:
                interpreter.process_page(page)
            except MemoryError:
                out_of_memory = True  # the file is too large, not this page damaged
                break
            except Exception:
                failed.append(number)
                interpreter = fresh()
            if budget.exceeded:
                damage.forms[number] = budget.exceeded
            pages.append(out.getvalue())
            out.seek(0)
            out.truncate(0)
        if out_of_memory:
            # raised again here, after the page's objects are let go, so that
            # unwinding (closing pdfminer's generators) has memory to work with
            del interpreter
            raise MemoryError
        labels = _page_labels(document, len(pages))
        damage.labels = document.labels_damage
    return pages, replace(info, prominent=_cover_candidates(cover)), labels, failed


def _cover_candidates(cover: list[Run]) -> tuple[str, ...]:
    """The title candidates of the cover's runs; none when they cannot be read (a
    title heuristic never costs a file its text)."""
    try:
        return prominent_lines(cover) + first_paragraph(cover)
    except Exception:
        return ()


def _has_eof_marker(path: str) -> bool:
    with Path(path).open("rb") as handle:
        handle.seek(max(0, Path(path).stat().st_size - 2048))
        return b"%%EOF" in handle.read()


@dataclass(frozen=True)
class ExtractOptions:
    """How PDFs are read: the extractor, the per-file time limit, OCR of pages with no
    text, and the memory one PDF's worker may use in MB (0: no limit).

    The limits do not change the text of a file that stays within them, so
    they are not part of ``key``; files that reach them are not cached.
    """

    extractor: str = "pdfminer"
    timeout: float = 300.0
    ocr: bool = False
    memory_mb: int = DEFAULT_PDF_MEMORY_MB

    @property
    def key(self) -> str:
        """Names everything that changes the text, for the extraction cache."""
        return extractor_key(self.extractor) + ("-ocr" if self.ocr else "")

    @property
    def stream_cap(self) -> int:
        """The most bytes pdfminer inflates one stream to: an eighth of the memory limit."""
        return (self.memory_mb << 20) // 8


def extractor_key(extractor: str) -> str:
    if extractor == "pdfium":
        from .extract_pdfium import PDFIUM_KEY

        return f"{PDFIUM_KEY}-repair{REPAIR_VERSION}"
    return EXTRACTOR_KEY


def _read(
    path: str, options: ExtractOptions, damage: _Damage
) -> tuple[list[str], PdfInfo, tuple[str, ...], list[int]]:
    if options.extractor == "pdfium":
        from .extract_pdfium import read_pages

        return read_pages(path)
    return _read_pages(path, options.stream_cap, damage)


def _too_large_message(options: ExtractOptions, what: str) -> str:
    return (
        f"{what}, so it was not indexed. If the file is genuine, raise the limit of "
        f"{options.memory_mb} MB per PDF with --pdf-memory (or CHCSEARCH_PDF_MEMORY); "
        "otherwise replace the file."
    )


#: the words that tell the problem of ``_failed_pages_problem`` from the others
_PAGES_FAILED = " could not be read"


def _failed_pages_problem(failed: Sequence[int], loops: str) -> Problem:
    """The problem naming the pages that could not be read (``_names_failed_pages``)."""
    return Problem(
        "pdf-corrupt",
        "",
        f"page(s) {page_list(failed)}{_PAGES_FAILED}"
        + (f" (the file has a {loops})" if loops else "")
        + " and are indexed without text.",
    )


def _names_failed_pages(problem: Problem) -> bool:
    """Whether ``problem`` is one made by ``_failed_pages_problem``."""
    return (
        problem.kind == "pdf-corrupt"
        and problem.message.startswith("page(s) ")
        and _PAGES_FAILED in problem.message
    )


def extract_pdf(path: str, sha256: str, options: ExtractOptions) -> tuple[PdfText, bool]:
    """Extract one PDF. Never raises for a bad file: problems say what went wrong.

    Returns the text and whether the time limit was reached (by extraction, or
    by OCR: then the text read so far is kept). Problems carry an empty
    ``src_path``; the caller knows which file it asked for.
    """
    text, timed_out, _ = _extract_pdf(path, sha256, options)
    return text, timed_out


def _extract_pdf(path: str, sha256: str, options: ExtractOptions) -> tuple[PdfText, bool, int]:
    """``extract_pdf``, and the number of pages OCR read."""
    _quiet_pdfminer()
    start = time.perf_counter()
    timeout = options.timeout

    def failure(kind: str, message: str, timed_out: bool = False) -> tuple[PdfText, bool, int]:
        text = PdfText(
            sha256,
            0,
            (),
            problems=(Problem(kind, "", message),),
            seconds=time.perf_counter() - start,
        )
        return text, timed_out, 0

    if Path(path).stat().st_size == 0:
        return failure("pdf-empty", "PDF file is empty (0 bytes); replace it with the real file.")
    damage = _Damage()
    try:
        with (
            warnings.catch_warnings(),
            _time_limit(timeout) as stop,
            _bounded_references() as guard,
        ):
            warnings.simplefilter("ignore")
            raw_pages, info, labels, failed = _read(path, options, damage)
            pages = repair_document(raw_pages)
            empty = [
                n
                for n, text in enumerate(pages, start=1)
                if n not in failed and not _has_words(text)
            ]
            ocr = _OcrOutcome(pages, empty)
            if options.ocr and empty:
                ocr = _ocr_empty_pages(path, pages, empty, timeout, stop)
    except _TimeLimitReached:
        return failure(
            "pdf-timeout",
            f"text extraction took longer than {timeout:g} s and was stopped; raise the limit "
            "with --pdf-timeout if the file is just large.",
            timed_out=True,
        )
    except _StreamTooLarge:
        return failure(
            "pdf-too-large",
            _too_large_message(
                options,
                f"a compressed stream in this PDF inflates past {options.stream_cap >> 20} MB "
                "(an eighth of the memory limit)",
            ),
        )
    except MemoryError:
        return failure(
            "pdf-too-large",
            _too_large_message(options, "reading this PDF needed more memory than the limit"),
        )
    except PDFEncryptionError as exc:
        return failure("pdf-encrypted", _encrypted_message(type(exc).__name__))
    except PdfReferenceLoop as exc:
        return failure(
            "pdf-corrupt",
            f"PDF could not be read: it has a {exc}, which would keep a reader busy for "
            "ever. The file is damaged (or made to hang readers); re-export it.",
        )
    except RecursionError:  # e.g. a page tree thousands of levels deep
        return failure(
            "pdf-corrupt",
            "PDF could not be read: its objects are nested too deeply to follow (a page tree "
            "or dictionary thousands of levels deep). The file is damaged (or made to crash "
            "readers); re-export it.",
        )
    except Exception as exc:  # a bad file may break a parser anywhere; never crash on one
        if "password" in str(exc).lower():
            return failure("pdf-encrypted", _encrypted_message(type(exc).__name__))
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        return failure(
            "pdf-corrupt",
            f"PDF could not be read ({type(exc).__name__}{': ' + detail if detail else ''}); "
            "the file may be truncated or damaged. Re-export or re-upload it.",
        )

    pages, empty = list(ocr.pages), list(ocr.still)
    problems: list[Problem] = list(ocr.problems)
    loops = f"reference loop ({'; '.join(guard.loops)})" if guard.loops else ""
    if not _has_eof_marker(path):
        problems.append(
            Problem(
                "pdf-corrupt",
                "",
                "PDF has no end-of-file marker, so it is probably truncated; what could be read "
                "was indexed. Re-upload the complete file.",
            )
        )
    if not raw_pages:
        problems.append(
            Problem("pdf-corrupt", "", "PDF has no pages that could be read; re-export it.")
        )
    if failed:
        problems.append(_failed_pages_problem(failed, loops))
    elif loops:
        problems.append(
            Problem(
                "pdf-corrupt",
                "",
                f"PDF has a {loops}, so part of it (its metadata, a font?) could not be read; "
                "the rest was indexed. Re-export the file.",
            )
        )
    if damage.forms:
        reasons = "; ".join(dict.fromkeys(damage.forms.values()))
        problems.append(
            Problem(
                "pdf-corrupt",
                "",
                f"page(s) {page_list(list(damage.forms))} draw forms (Form XObjects) nested or "
                f"repeated beyond the limit ({reasons}), so the rest of those pages' forms "
                "was not read; the rest of the file was indexed. The file may be made to "
                "exhaust readers; re-export it if text is missing.",
            )
        )
    if damage.labels:
        problems.append(
            Problem(
                "pdf-corrupt",
                "",
                f"PDF's page labels (/PageLabels) could not be read: {damage.labels}. Its pages "
                "are numbered 1, 2, 3... instead; the text was indexed. Re-export the file to "
                "keep its page labels.",
            )
        )
    problems += _no_text_problems(len(pages), empty, ocr=options.ocr, stopped=ocr.stopped)
    return (
        PdfText(
            sha256=sha256,
            page_count=len(pages),
            pages=tuple(pages),
            title=info.title,
            problems=tuple(problems),
            seconds=time.perf_counter() - start,
            authors=info.authors,
            year=info.year,
            labels=labels,
            heading=title_lines(info.prominent),
        ),
        ocr.stopped,
        ocr.read,
    )


def _encrypted_message(kind: str) -> str:
    return (
        f"PDF is encrypted and cannot be opened without a password ({kind}); "
        "publish an unencrypted copy to make it searchable."
    )


_MONTHS = frozenset(
    {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "page",
    }
)
_LETTERS = re.compile(r"[^\W\d_]{3,}")
#: a number: digits, maybe joined by ``. , / : -`` (``3.14``, ``12/03/2019``, ``1,194``)
_NUMBER = re.compile(r"\d+(?:[.,/:-]\d+)*")
#: a page with this many numbers holds data, not a running footer: the busiest
#: footer ("12 March 2019, page 7 of 40") has four
NUMBERS_NOT_FOOTER = 5


def _has_words(text: str) -> bool:
    """True when a page has real text, not just a running footer (page number, date).

    Real text is a word of three or more letters other than a month name or
    "page", or ``NUMBERS_NOT_FOOTER`` numbers (a page of figures or a table).
    """
    if any(word.lower() not in _MONTHS for word in _LETTERS.findall(text)):
        return True
    return len(_NUMBER.findall(text)) >= NUMBERS_NOT_FOOTER


# ----------------------------------------------------------------------------------------
# OCR of the pages without text

_NO_TEXT_KINDS = frozenset({"pdf-no-text", "pdf-pages-no-text"})


@dataclass(frozen=True)
class _OcrOutcome:
    """A file's pages after OCR, the pages still without words, OCR's problems, how
    many pages OCR read, and whether the time limit stopped it."""

    pages: Sequence[str]
    still: Sequence[int]
    problems: Sequence[Problem] = ()
    read: int = 0
    stopped: bool = False


def _with_ocr(before: str, ocr: str) -> str:
    """A page's text with what OCR read of it added after it, never instead of it."""
    found = repair_document([ocr])[0].strip()
    if not before.strip():
        return found
    return before.rstrip() + "\n" + found if found else before


def _ocr_empty_pages(
    path: str,
    pages: Sequence[str],
    empty: Sequence[int],
    timeout: float,
    stop: Callable[[], None],
) -> _OcrOutcome:
    """Read the pages numbered ``empty`` (1-based) with Tesseract, under the time
    limit whose ``stop`` is given; OCR's text is added to what each page had.

    When the limit passes, the pages read so far are kept and the others keep
    what they had, with one ``ocr-timeout`` problem that says OCR was stopped.
    """
    run = OcrRun()
    try:
        read_pages(path, empty, run)
        stop()
    except _TimeLimitReached:
        pass
    read = list(pages)
    for number, text in run.found.items():
        read[number - 1] = _with_ocr(pages[number - 1], text)
    problems = run.problems()
    left = [n for n in empty if n not in run.found and n not in run.failed and not run.missing]
    if left:
        problems.append(_ocr_stopped(timeout, len(run.found), empty, left))
    return _OcrOutcome(
        read,
        [n for n in empty if not _has_words(read[n - 1])],
        problems,
        len(run.found),
        bool(left),
    )


def _ocr_stopped(timeout: float, read: int, empty: Sequence[int], left: Sequence[int]) -> Problem:
    return Problem(
        "ocr-timeout",
        "",
        f"OCR was stopped at the time limit of {timeout:g} s after reading {read:,} of {len(empty):,} "
        f"page(s) without text; page(s) {page_list(left)} were not read and keep only the "
        "text they had. Raise the limit with --pdf-timeout.",
    )


def _no_text_problems(
    page_count: int, empty: Sequence[int], *, ocr: bool, stopped: bool = False
) -> list[Problem]:
    """The problem for pages without words: all of them, or some (with OCR's outcome)."""
    if not ocr:
        advice = " Index with --ocr to read them with Tesseract."
    elif stopped:
        advice = " OCR was stopped at the time limit before it read them all."
    else:
        advice = ""
    if page_count and len(empty) == page_count:
        return [
            Problem(
                "pdf-no-text",
                "",
                "PDF has no text layer (scanned or image-only); only its title is searchable."
                + (advice or " OCR found no text either."),
            )
        ]
    if empty:
        return [
            Problem(
                "pdf-pages-no-text",
                "",
                f"page(s) {page_list(empty)} have no text (images only?); they are indexed by title."
                + advice,
            )
        ]
    return []


def _page_count(path: str, options: ExtractOptions) -> int | None:
    """How many pages the file has, by its page tree (no page is read); ``None``
    when that cannot be told within the memory limit. The caller sets the time
    limit."""
    try:
        with (
            warnings.catch_warnings(),
            _bounded_references(),
            _stream_cap(options.stream_cap),
            Path(path).open("rb") as handle,
        ):
            warnings.simplefilter("ignore")
            document = _Document(PDFParser(handle), password="")
            return sum(1 for _ in PDFPage.create_pages(document))
    except (Exception, _StreamTooLarge):
        return None


def _pages_to_ocr(text: PdfText) -> list[int] | None:
    """The pages of a text read without OCR that an OCR run would read, or ``None``
    when the text cannot be completed (nothing was read, or pages failed: a full
    read with OCR leaves failed pages alone, and the entry does not list them all)."""
    failed_pages = any(_names_failed_pages(p) for p in text.problems)
    if text.page_count == 0 or failed_pages or len(text.pages) != text.page_count:
        return None
    return [n for n, page in enumerate(text.pages, start=1) if not _has_words(page)]


def ocr_cached_pdf(
    path: str, sha256: str, options: ExtractOptions, plain: ExtractionCache
) -> tuple[PdfText, bool, int]:
    """Complete the text of one PDF cached without OCR by reading its pages without
    text with Tesseract, within the per-file time limit; as ``extract_pdf``
    otherwise (problems carry an empty ``src_path``; the flag is a time-out),
    and the number of pages OCR read.

    The result is what ``extract_pdf`` with OCR gives, but for ``seconds``. On a
    time-out the cached text is kept, with an ``ocr-timeout`` problem. Without a
    usable entry (it went away, or it does not have the file's number of
    pages) the file is read whole.
    """
    start = time.perf_counter()
    cached = plain.get(sha256, "", timeout=options.timeout)
    empty = _pages_to_ocr(cached) if cached is not None else None
    if cached is None or empty is None:
        return _extract_pdf(path, sha256, options)
    try:
        with _time_limit(options.timeout) as stop:
            matches = _page_count(path, options) == cached.page_count
            if matches:
                ocr = _ocr_empty_pages(path, cached.pages, empty, options.timeout, stop)
    except _TimeLimitReached:  # before OCR began
        matches = True
        ocr = _OcrOutcome(
            cached.pages, empty, [_ocr_stopped(options.timeout, 0, empty, empty)], 0, True
        )
    if not matches:  # the entry is not this file's text
        return _extract_pdf(path, sha256, options)
    kept = [p for p in cached.problems if p.kind not in _NO_TEXT_KINDS]
    no_text = _no_text_problems(len(ocr.pages), ocr.still, ocr=True, stopped=ocr.stopped)
    return (
        replace(
            cached,
            pages=tuple(ocr.pages),
            problems=(*ocr.problems, *kept, *no_text),
            seconds=cached.seconds + time.perf_counter() - start,
            heading=_heading_after_ocr(cached, ocr.pages),
        ),
        ocr.stopped,
        ocr.read,
    )


def _heading_after_ocr(cached: PdfText, pages: Sequence[str]) -> str:
    """``title_lines`` of the pages after OCR, from the cached heading.

    The heading is the first page's largest type (not cached apart) and then
    the first line of its on-page text (``pdfmeta.first_paragraph``): only that last line can change.
    """
    before = first_heading(cached.pages)
    if first_heading(pages) == before:
        return cached.heading
    lines = cached.heading.split("\n") if cached.heading else []
    prominent = lines[:-1] if lines and lines[-1] == before else lines
    return title_lines(prominent, pages)


# ----------------------------------------------------------------------------------------
# Many PDFs, in a process pool


@dataclass(frozen=True)
class PdfJob:
    """One PDF to extract: where it is, and its content hash."""

    src_path: str
    abs_path: Path
    sha256: str
    size: int


ProgressFn = Callable[[int, int, str], None]


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int, memory_mb: int) -> None:
    """Worker set-up: the fast tokenizer, quiet logs, the memory limit, and no life
    after the parent's."""
    pdfinterp.PDFContentParser = FastContentParser  # type: ignore[misc]
    _quiet_pdfminer()
    faulthandler.disable()  # a PDF that ends its worker is a warning, not a dump on stderr
    _silence_stderr()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_mb > 0:
        _limit_memory(_private_memory() + (memory_mb << 20))
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _silence_stderr() -> None:
    """Send this worker's standard error to the null device.

    CPython writes some deaths straight to file descriptor 2, whatever
    ``faulthandler`` says: out of memory while raising ``MemoryError`` it
    prints "Fatal Python error" and every thread's stack, then aborts. The
    parent reports the death as a warning; the dump would only bury it.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    os.dup2(null, 2)
    os.close(null)


def _private_memory() -> int:
    """Bytes this process holds now of what ``RLIMIT_DATA`` counts (0 where unknown)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_memory(limit: int) -> None:
    """At most ``limit`` bytes of heap and other private memory for this process."""
    if sys.platform == "win32":  # pragma: no cover - no resource limits there
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _new_pool(size: int, memory_mb: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=size,
        initializer=_init_worker,
        initargs=(os.getpid(), memory_mb),
    )


def _worker_processes(executor: ProcessPoolExecutor) -> list[Any]:
    return list((getattr(executor, "_processes", None) or {}).values())


def _death_problem(processes: Sequence[Any], memory_mb: int) -> Problem:
    """Why a worker died, as far as can be told from how it ended."""
    codes = set()
    for process in processes:
        process.join(5)
        codes.add(process.exitcode)
    # PDFium aborts when an allocation fails; the kernel's OOM killer sends SIGKILL
    by_memory = codes & {-signal.SIGABRT, -signal.SIGKILL} or not codes - {None}
    if memory_mb > 0 and by_memory:
        return Problem(
            "pdf-too-large",
            "",
            f"the PDF reader process ran out of memory on this file (limit {memory_mb} MB "
            "per PDF), so it was not indexed. If the file is genuine, raise the limit with "
            "--pdf-memory (or CHCSEARCH_PDF_MEMORY); otherwise replace the file.",
        )
    return Problem(
        "pdf-crashed",
        "",
        "the PDF reader process died on this file (out of memory?); it was not indexed.",
    )


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list(getattr(executor, "_processes", {}).values()):
        process.terminate()


def _readdress(text: PdfText, src_path: str) -> PdfText:
    problems = tuple(Problem(p.kind, src_path, p.message, p.line) for p in text.problems)
    return replace(text, problems=problems)


@dataclass(frozen=True)
class ExtractionReport:
    """What was learnt of each PDF by content hash, and how it was learnt.

    Each distinct PDF is counted once: ``extracted`` (read from the file),
    ``from_cache`` (its text was cached), or ``ocred`` (its text was cached
    without OCR, and its pages without text were given to OCR now;
    ``pages_ocred`` counts the pages OCR read, which is fewer when the time
    limit stopped it).

    ``texts`` hold everything but the page texts (``pages`` is empty), so that
    a large archive's text is never held in memory: it is in the cache, read
    back one PDF at a time when its documents are written.
    """

    texts: dict[str, PdfText]
    extracted: int
    from_cache: int
    ocred: int = 0
    pages_ocred: int = 0


def extract_pdfs(
    jobs: Sequence[PdfJob],
    *,
    cache: ExtractionCache,
    workers: int,
    options: ExtractOptions,
    on_progress: ProgressFn | None = None,
) -> ExtractionReport:
    """Extract every job's PDF (each distinct content once), using and filling the cache.

    With OCR, a PDF whose text is cached without OCR is not read again: only
    its pages without text are read by OCR (``ocr_cached_pdf``), and the
    result is cached under the OCR key. Problems in the returned texts are
    addressed to the first job's ``src_path`` for that content.
    """
    timeout = options.timeout
    texts: dict[str, PdfText] = {}
    first_path: dict[str, PdfJob] = {}
    for job in jobs:
        first_path.setdefault(job.sha256, job)
    unique = list(first_path.values())
    total = len(unique)
    done = 0
    plain = cache.with_key(replace(options, ocr=False).key) if options.ocr else None
    missing: list[PdfJob] = []
    to_ocr: dict[str, int] = {}  # content hash: pages to read by OCR
    pages_ocred = 0

    def finish(job: PdfJob, text: PdfText, timed_out: bool, ocr_read: int = 0) -> None:
        nonlocal done, pages_ocred
        if job.sha256 in to_ocr:
            pages_ocred += ocr_read
        text = _readdress(text, job.src_path)
        kept = text
        if not any(p.kind in ("pdf-crashed", "pdf-too-large") for p in text.problems):
            try:
                cache.put(text, timed_out_after=timeout if timed_out else None)
                kept = replace(text, pages=())
            except OSError:
                pass  # an unwritable cache: keep this text in memory instead
        texts[job.sha256] = kept
        done += 1
        if on_progress:
            on_progress(done, total, job.src_path)

    for job in unique:
        cached = cache.get(job.sha256, job.src_path, timeout=timeout)
        if cached is not None:
            texts[job.sha256] = replace(cached, pages=())
            done += 1
            continue
        base = plain.get(job.sha256, job.src_path, timeout=timeout) if plain else None
        empty = _pages_to_ocr(base) if base is not None else None
        if base is None or empty is None:
            missing.append(job)
        elif empty:
            to_ocr[job.sha256] = len(empty)
        else:  # every page has text: OCR would change nothing
            finish(job, base, False)
    from_cache = done
    if on_progress:
        on_progress(done, total, "")

    def submit(executor: ProcessPoolExecutor, job: PdfJob) -> Future[tuple[PdfText, bool, int]]:
        if plain is not None and job.sha256 in to_ocr:
            return executor.submit(ocr_cached_pdf, str(job.abs_path), job.sha256, options, plain)
        return executor.submit(_extract_pdf, str(job.abs_path), job.sha256, options)

    # OCR first, most pages first (a page takes seconds), then the largest files first
    pending = sorted(
        [*missing, *(job for job in unique if job.sha256 in to_ocr)],
        key=lambda j: (-to_ocr.get(j.sha256, 0), -j.size),
    )
    solo = 0  # after a worker died: files to read one per fresh pool, to learn which kills it
    while pending:
        batch, pending = pending, []
        size = 1 if solo else max(1, min(workers, len(batch)))
        executor = _new_pool(size, options.memory_mb)
        try:
            if solo:
                job = batch.pop(0)
                pending = batch
                solo -= 1
                future = submit(executor, job)
                processes = _worker_processes(executor)
                try:
                    finish(job, *future.result())
                except BrokenProcessPool:
                    problem = _death_problem(processes, options.memory_mb)
                    finish(job, PdfText(job.sha256, 0, (), problems=(problem,)), False)
                continue
            futures: dict[Future[tuple[PdfText, bool, int]], PdfJob] = {
                submit(executor, job): job for job in batch
            }
            try:
                for future in as_completed(futures):
                    finish(futures[future], *future.result())
            except BrokenProcessPool:
                pending = [job for future, job in futures.items() if job.sha256 not in texts]
                # only the files a worker had taken (at most one more than the workers;
                # they are taken in order) can have killed it; the rest go back in a pool
                solo = size + 1
        except BaseException:
            _stop_workers(executor)
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    return ExtractionReport(
        texts=texts,
        extracted=len(missing),
        from_cache=from_cache,
        ocred=len(to_ocr),
        pages_ocred=pages_ocred,
    )
