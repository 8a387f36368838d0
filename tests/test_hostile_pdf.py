"""PDFs built to exhaust memory or time.

A few hundred kilobytes that inflate to 200 MB are each given up with a
``pdf-too-large`` warning that names the file and the setting to raise, the
rest of the site is indexed, and the indexing process with all its PDF
workers stays within a gigabyte. A few hundred bytes whose objects refer to
each other in a loop get a ``pdf-corrupt`` warning at once, not after the
time limit. A few kilobytes of forms drawing forms millions of times cost only
the rest of their page's forms.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import re
import signal
import sys
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import pytest
from helpers import page, run_cli, run_cli_measured
from hypothesis import given
from hypothesis import strategies as st
from pdfgen import (
    form_tree_pdf,
    inflating_pdf,
    page_labels_loop_pdf,
    reference_loop_pdf,
    self_length_pdf,
    text_pdf,
)
from pdfminer import pdftypes
from pdfminer.lzw import lzwdecode
from pdfminer.pdftypes import PDFObjRef

from chcsearch.cache import ExtractionCache
from chcsearch.config import DEFAULT_PDF_MEMORY_MB, resolve_index_settings
from chcsearch.errors import ConfigError
from chcsearch.extract import (
    MAX_FORM_DEPTH,
    MAX_FORMS_PER_PAGE,
    MAX_REFERENCE_HOPS,
    ExtractOptions,
    PdfJob,
    PdfReferenceLoop,
    _bounded_lzwdecode,
    _bounded_references,
    _BoundedZlib,
    _death_problem,
    _new_pool,
    _StreamTooLarge,
    extract_pdf,
    extract_pdfs,
)

MakeSite = Callable[[Mapping[str, str | bytes]], Path]
GIGABYTE = 1_000_000_000
HAS_PDFIUM = importlib.util.find_spec("pypdfium2") is not None
EXTRACTORS = [
    "pdfminer",
    pytest.param("pdfium", marks=pytest.mark.skipif(not HAS_PDFIUM, reason="needs pypdfium2")),
]
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _reports_site(make_site: MakeSite, body: str, pdfs: Mapping[str, bytes]) -> Path:
    """A site whose one page, ``reports.md``, lists each of ``pdfs`` as ``/assets/<name>``."""
    return make_site(
        {
            "_config.yml": "title: Hostile\n",
            "reports.md": page(
                "Reports", body, resources="".join(f"\n  - path: /assets/{n}" for n in pdfs)
            ),
            **{f"assets/{name}": data for name, data in pdfs.items()},
        }
    )


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """0.4 MB; its page's content stream is 200 MB of ``0 0 m 1 1 l S``.

    Unguarded, pdfminer passed 1.4 GB on it and PDFium 4 GB.
    """
    return inflating_pdf(200, filler=b"0 0 m 1 1 l S\n")


def test_the_memory_limit_is_a_setting_like_the_time_limit(tmp_path: Path) -> None:
    def memory(flags: dict[str, object], env: dict[str, str]) -> int:
        return resolve_index_settings(flags, env=env, cwd=tmp_path).pdf_memory

    assert memory({}, {}) == DEFAULT_PDF_MEMORY_MB == ExtractOptions().memory_mb == 512
    (tmp_path / "chcsearch.toml").write_text("[index]\npdf_memory = 1024\n")
    assert memory({}, {}) == 1024
    assert memory({}, {"CHCSEARCH_PDF_MEMORY": "2048"}) == 2048
    assert memory({"pdf_memory": 0}, {"CHCSEARCH_PDF_MEMORY": "2048"}) == 0
    with pytest.raises(ConfigError, match="CHCSEARCH_PDF_MEMORY: pdf_memory must be a whole"):
        memory({}, {"CHCSEARCH_PDF_MEMORY": "1GB"})
    with pytest.raises(ConfigError, match="at least 64"):
        memory({"pdf_memory": 10}, {})


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _inflated_size(data: bytes) -> int:
    inflater = zlib.decompressobj()
    size = 0
    while data and not inflater.eof:
        size += len(inflater.decompress(data, 1 << 24))
        data = inflater.unconsumed_tail
    return size


def test_the_bomb_is_small_on_disk_and_inflates_to_200_mb(bomb: bytes) -> None:
    assert len(bomb) < 600_000
    starts = [m.end() for m in re.finditer(rb"\bstream\r?\n", bomb)]
    assert max(_inflated_size(bomb[start:]) for start in starts) >= 200 << 20


def test_pdfminer_stops_inflating_at_an_eighth_of_the_memory_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.pdf", inflating_pdf(20, filler=b" "))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60, memory_mb=64))
    assert not timed_out and text.page_count == 0
    [problem] = text.problems
    assert problem.kind == "pdf-too-large"
    assert "inflates past 8 MB" in problem.message
    assert "raise the limit of 64 MB per PDF with --pdf-memory" in problem.message


def test_a_stream_under_the_cap_is_read_as_usual(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.pdf", inflating_pdf(6, lines=["Under the cap"], filler=b" "))
    text, _ = extract_pdf(str(path), "sha", ExtractOptions(timeout=60, memory_mb=64))
    assert text.pages == ("Under the cap",) and not text.problems


def test_no_memory_limit_means_no_cap(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.pdf", inflating_pdf(20, lines=["No cap"], filler=b" "))
    text, _ = extract_pdf(str(path), "sha", ExtractOptions(timeout=60, memory_mb=0))
    assert text.pages == ("No cap",) and not text.problems


def test_the_cap_is_lifted_after_each_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.pdf", inflating_pdf(20, filler=b" "))
    extract_pdf(str(path), "sha", ExtractOptions(timeout=60, memory_mb=64))
    assert vars(pdftypes)["zlib"] is zlib


@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=4), st.integers(0, 255))
def test_bounded_inflating_reads_damaged_streams_as_pdfminer_does(
    data: bytes, cut: int, byte: int
) -> None:
    damaged = zlib.compress(data)[:-cut] + bytes([byte])

    def outcome(function: Callable[[bytes], bytes]) -> bytes | str:
        try:
            return function(damaged)
        except zlib.error:
            return "error"

    bounded = _BoundedZlib(1 << 20)
    assert outcome(bounded.decompress_corrupted) == outcome(pdftypes.decompress_corrupted)
    assert outcome(bounded.decompress) == outcome(zlib.decompress)


def _lzw_literals(text: bytes) -> bytes:
    """LZW codes for ``text`` as literals, each after a clear-table code (9 bits each)."""
    bits = "".join(f"{256:09b}{char:09b}" for char in text) + f"{257:09b}"
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_lzw_streams_are_capped_too() -> None:
    data = _lzw_literals(b"abc" * 400)
    assert _bounded_lzwdecode(1200)(data) == lzwdecode(data) == b"abc" * 400
    with pytest.raises(_StreamTooLarge):
        _bounded_lzwdecode(1199)(data)


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_bomb_in_the_pool_is_given_up_and_the_other_pdfs_are_read(
    tmp_path: Path, bomb: bytes, extractor: str
) -> None:
    bad = _write(tmp_path, "bomb.pdf", bomb)
    jobs = [PdfJob("bomb.pdf", bad, "a" * 64, bad.stat().st_size)]
    for n in range(1, 6):
        fine = _write(tmp_path, f"fine{n}.pdf", text_pdf([[f"fine words {n}"]]))
        jobs.append(PdfJob(fine.name, fine, str(n) * 64, fine.stat().st_size))
    cache = ExtractionCache(tmp_path / "cache", extractor)
    options = ExtractOptions(extractor, timeout=120, memory_mb=256)
    report = extract_pdfs(jobs, cache=cache, workers=2, options=options)
    [problem] = report.texts["a" * 64].problems
    assert (problem.kind, problem.src_path) == ("pdf-too-large", "bomb.pdf")
    assert "256 MB per PDF" in problem.message and "--pdf-memory" in problem.message
    for n in range(1, 6):
        assert report.texts[str(n) * 64].page_count == 1 and not report.texts[str(n) * 64].problems
    # not cached: raising the limit reads the file again
    assert cache.get("a" * 64, "bomb.pdf", timeout=120) is None


def test_pdfminer_running_out_of_memory_gives_up_the_file(tmp_path: Path) -> None:
    # 11 MB is under the 12 MB cap; pdfminer keeps every unpainted ``m`` of a path
    path = _write(tmp_path, "paths.pdf", inflating_pdf(11, filler=b"0 0 m\n"))
    job = PdfJob("paths.pdf", path, "c" * 64, path.stat().st_size)
    options = ExtractOptions(timeout=120, memory_mb=96)
    report = extract_pdfs([job], cache=ExtractionCache(tmp_path, "x"), workers=1, options=options)
    [problem] = report.texts["c" * 64].problems
    assert problem.kind == "pdf-too-large"
    assert problem.message.startswith("reading this PDF needed more memory than the limit")


def test_the_pdf_memory_flag_reaches_the_extraction(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site(
        {
            "_config.yml": "",
            "a.md": page("A", "Text.", resources="\n  - path: /big.pdf"),
            "big.pdf": inflating_pdf(20, filler=b" "),
        }
    )
    index = str(tmp_path / "index")
    result = run_cli("index", str(site), "--index", index, "--pdf-memory", "96", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "big.pdf: [pdf-too-large] a compressed stream in this PDF inflates past 12 MB" in (
        result.stderr
    )
    assert "raise the limit of 96 MB per PDF" in result.stderr


@pytest.mark.parametrize(
    ("end", "memory_mb", "kind"),
    [
        ((os.abort, ()), 512, "pdf-too-large"),  # how PDFium ends when an allocation fails
        ((signal.raise_signal, (signal.SIGKILL,)), 512, "pdf-too-large"),  # the OOM killer
        ((signal.raise_signal, (signal.SIGSEGV,)), 512, "pdf-crashed"),
        ((os.abort, ()), 0, "pdf-crashed"),
    ],
)
def test_how_a_worker_died_names_the_problem(
    end: tuple[Callable[..., object], tuple[object, ...]], memory_mb: int, kind: str
) -> None:
    process = multiprocessing.get_context("spawn").Process(target=end[0], args=end[1])
    process.start()
    assert _death_problem([process], memory_mb).kind == kind


@LINUX
@pytest.mark.slow
@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_site_with_a_bomb_is_indexed_within_a_gigabyte(
    make_site: MakeSite, tmp_path: Path, bomb: bytes, extractor: str
) -> None:
    review = text_pdf(
        [["Waiting times in the northern region"], ["Quillwort survey results"]],
        title="Waiting Times Review",
    )
    site = _reports_site(make_site, "Two reports.", {"bomb.pdf": bomb, "review.pdf": review})
    index = str(tmp_path / "index")
    result, peak, seconds = run_cli_measured(
        "index", str(site), "--index", index, "--extractor", extractor, "--jobs", "2", "-q"
    )
    assert result.returncode == 0, result.stderr
    # the indexing process and its PDF workers, summed while they ran
    assert peak <= GIGABYTE, f"peak {peak / 1e6:.0f} MB"
    assert seconds < 120

    status = run_cli("status", "--index", index)
    assert status.returncode == 0
    [line] = [line for line in status.stdout.splitlines() if "assets/bomb.pdf" in line]
    assert "[pdf-too-large]" in line and "--pdf-memory" in line

    found = run_cli("query", "quillwort", "--index", index, "-f", "json")
    assert found.returncode == 0 and "assets/review.pdf" in found.stdout


# ----------------------------------------------------------------------------------------
# Reference loops

LOOP = "reference loop (5 0 R -> 6 0 R -> 5 0 R)"


def test_the_loop_pdf_is_tiny_and_its_objects_refer_to_each_other() -> None:
    data = reference_loop_pdf()
    assert len(data) < 1000
    assert b"5 0 obj\n6 0 R\nendobj" in data and b"6 0 obj\n5 0 R\nendobj" in data


@pytest.mark.parametrize("where", ["Contents", "Resources"])
def test_a_page_tree_reference_loop_is_a_corrupt_pdf_at_once(tmp_path: Path, where: str) -> None:
    path = _write(tmp_path, "loop.pdf", reference_loop_pdf(where))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert not timed_out and text.page_count == 0
    [problem] = text.problems
    assert problem.kind == "pdf-corrupt"
    assert f"it has a {LOOP}" in problem.message and "re-export it" in problem.message


def test_a_font_reference_loop_costs_only_its_page(tmp_path: Path) -> None:
    path = _write(tmp_path, "loop.pdf", reference_loop_pdf("Font"))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert not timed_out and text.page_count == 1
    [problem] = text.problems
    assert problem.kind == "pdf-corrupt"
    assert problem.message == (
        f"page(s) 1 could not be read (the file has a {LOOP}) and are indexed without text."
    )


@pytest.mark.skipif(not HAS_PDFIUM, reason="needs pypdfium2")
@pytest.mark.parametrize("where", ["Contents", "Resources", "Font"])
def test_pdfium_reads_reference_loops_without_hanging(tmp_path: Path, where: str) -> None:
    path = _write(tmp_path, "loop.pdf", reference_loop_pdf(where))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions("pdfium", timeout=60))
    assert not timed_out and text.page_count == 1
    # PDFium drops what the loop hides: the page's text for Contents, nothing else
    assert text.pages == (("",) if where == "Contents" else ("Looped",))


def test_the_reference_guard_is_lifted_after_each_file(tmp_path: Path) -> None:
    def resolvers() -> dict[tuple[str, str], object]:
        return {
            (name, function): vars(module)[function]
            for name, module in sorted(sys.modules.items())
            if name.startswith("pdfminer") and module is not None
            for function in ("resolve1", "resolve_all")
            if function in vars(module)
        }

    before = resolvers()
    assert ("pdfminer.pdfpage", "resolve1") in before and (
        "pdfminer.pdffont",
        "resolve_all",
    ) in before
    with _bounded_references():
        during = resolvers()
    assert all(during[key] is not before[key] for key in before)
    extract_pdf(str(_write(tmp_path, "loop.pdf", reference_loop_pdf())), "sha", ExtractOptions())
    assert resolvers() == before and before[("pdfminer.pdftypes", "resolve1")] is pdftypes.resolve1


def _ref(doc: object, objid: int) -> PDFObjRef:
    """A reference into a stand-in document (anything with ``getobj``)."""
    return PDFObjRef(cast(Any, doc), objid)


class _Chain:
    """A stand-in document whose object n is a reference to object n + 1."""

    def getobj(self, objid: int) -> object:
        return _ref(self, objid + 1)


def test_a_long_chain_of_references_stops_after_the_hop_limit() -> None:
    with _bounded_references() as guard, pytest.raises(PdfReferenceLoop) as caught:
        pdftypes.resolve1(_ref(_Chain(), 1))
    assert str(caught.value) == (
        f"reference loop (more than {MAX_REFERENCE_HOPS} references in a row from 1 0 R)"
    )
    assert len(guard.loops) == 1


class _Objects:
    def __init__(self, objects: dict[int, object]) -> None:
        self.objects = objects

    def getobj(self, objid: int) -> object:
        return self.objects[objid]


def test_resolve_all_stops_at_a_dictionary_that_contains_itself() -> None:
    doc = _Objects({})
    doc.objects[5] = {"Kids": [_ref(doc, 5)]}
    with _bounded_references(), pytest.raises(PdfReferenceLoop, match="contains itself"):
        pdftypes.resolve_all(_ref(doc, 5))


def test_resolve_all_still_resolves_shared_objects_without_a_loop() -> None:
    doc = _Objects({})
    doc.objects.update({1: [_ref(doc, 2), _ref(doc, 2)], 2: {"W": _ref(doc, 3)}, 3: 7})
    with _bounded_references():
        resolved = pdftypes.resolve_all(_ref(doc, 1))
    assert resolved == [{"W": 7}, {"W": 7}] == pdftypes.resolve_all(_ref(doc, 1))


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_a_site_with_a_reference_loop_pdf_is_indexed_without_waiting_for_the_time_limit(
    make_site: MakeSite, tmp_path: Path, extractor: str
) -> None:
    review = text_pdf([["Quillwort survey results"]], title="Review")
    site = _reports_site(
        make_site, "Two reports.", {"loop.pdf": reference_loop_pdf(), "review.pdf": review}
    )
    index = str(tmp_path / "index")
    result = run_cli(
        "index", str(site), "--index", index, "--extractor", extractor, "--pdf-timeout", "60"
    )
    assert result.returncode == 0, result.stderr
    # without the guard this is [pdf-timeout] after 60 s
    if extractor == "pdfminer":
        assert f"assets/loop.pdf: [pdf-corrupt] PDF could not be read: it has a {LOOP}" in (
            result.stderr
        )
    assert "pdf-timeout" not in result.stderr
    found = run_cli("query", "quillwort", "--index", index, "-f", "json")
    assert found.returncode == 0 and "assets/review.pdf" in found.stdout


def test_a_stream_whose_length_is_itself_is_a_reference_loop(tmp_path: Path) -> None:
    path = _write(tmp_path, "self.pdf", self_length_pdf())
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert not timed_out and text.page_count == 0
    [problem] = text.problems
    assert problem.kind == "pdf-corrupt"
    assert "it has a reference loop (5 0 R -> 5 0 R)" in problem.message
    assert "RecursionError" not in problem.message


def test_a_page_labels_loop_costs_only_the_labels(tmp_path: Path) -> None:
    path = _write(tmp_path, "labels.pdf", page_labels_loop_pdf("Labelled quillwort"))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert not timed_out
    assert text.pages == ("Labelled quillwort",) and text.labels == ()
    [problem] = text.problems
    assert (problem.kind, problem.message) == (
        "pdf-corrupt",
        "PDF's page labels (/PageLabels) could not be read: it has a reference loop "
        "(6 0 R is met twice). Its pages are numbered 1, 2, 3... instead; the text was "
        "indexed. Re-export the file to keep its page labels.",
    )


def test_page_labels_without_a_loop_are_read_as_before(tmp_path: Path) -> None:
    data = text_pdf(
        [["Alpha"], ["Beta"], ["Gamma"]], page_labels=[(0, "r", "", 1), (2, "D", "A-", 7)]
    )
    text, _ = extract_pdf(str(_write(tmp_path, "l.pdf", data)), "sha", ExtractOptions(timeout=60))
    assert text.labels == ("i", "ii", "A-7") and not text.problems


def test_the_form_bomb_is_tiny_and_draws_millions_of_forms() -> None:
    data = form_tree_pdf(9, 8)
    assert len(data) < 3000 and data.count(b"/X Do") == 8 * 8 + 1
    assert 8**8 > 16_000_000


def test_forms_drawn_millions_of_times_cost_only_the_rest_of_their_page(tmp_path: Path) -> None:
    path = _write(tmp_path, "dag.pdf", form_tree_pdf(9, 8, text="Quillwort survey"))
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert not timed_out and text.seconds < 20
    assert text.page_count == 1 and text.pages[0].startswith("Quillwort survey")
    [problem] = text.problems
    assert problem.kind == "pdf-corrupt"
    assert problem.message.startswith(
        "page(s) 1 draw forms (Form XObjects) nested or repeated beyond the limit "
        f"(more than {MAX_FORMS_PER_PAGE:,} forms drawn on one page), so the rest of those "
        "pages' forms was not read; the rest of the file was indexed."
    )


def test_forms_nested_too_deep_are_not_drawn(tmp_path: Path) -> None:
    deep = _write(tmp_path, "deep.pdf", form_tree_pdf(MAX_FORM_DEPTH + 1, 1, last="Deepest"))
    text, _ = extract_pdf(str(deep), "sha", ExtractOptions(timeout=60))
    assert text.pages[0].startswith("Forms") and "Deepest" not in text.pages[0]
    [problem] = text.problems
    assert f"(forms nested more than {MAX_FORM_DEPTH} deep)" in problem.message

    within = _write(tmp_path, "within.pdf", form_tree_pdf(MAX_FORM_DEPTH, 1, last="Deepest"))
    text, _ = extract_pdf(str(within), "sha", ExtractOptions(timeout=60))
    assert "Deepest" in text.pages[0] and not text.problems


def test_forms_drawn_a_few_times_are_all_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "forms.pdf", form_tree_pdf(3, 3, last="Leaf"))
    text, _ = extract_pdf(str(path), "sha", ExtractOptions(timeout=60))
    assert text.pages[0].count("Leaf") == 9 and not text.problems


def test_a_pdf_worker_writes_nothing_to_standard_error(capfd: pytest.CaptureFixture[str]) -> None:
    # CPython's "Fatal Python error" dump goes straight to file descriptor 2
    executor = _new_pool(1, 0)
    try:
        assert executor.submit(os.write, 2, b"Fatal Python error: dump\n").result() > 0
    finally:
        executor.shutdown()
    assert "Fatal Python error" not in capfd.readouterr().err


def test_a_site_with_form_bombs_and_loops_is_indexed_with_named_warnings(
    make_site: MakeSite, tmp_path: Path
) -> None:
    pdfs = {
        "dag.pdf": form_tree_pdf(9, 8, text="Formbomb opening words"),
        "self.pdf": self_length_pdf(),
        "labels.pdf": page_labels_loop_pdf("Labelloop quillwort"),
        "review.pdf": text_pdf([["Waiting times review"]], title="Review"),
    }
    site = _reports_site(make_site, "Four reports.", pdfs)
    index = str(tmp_path / "index")
    result = run_cli("index", str(site), "--index", index, "--jobs", "2", "--pdf-timeout", "60")
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert "pdf-timeout" not in err and "pdf-too-large" not in err
    assert "assets/dag.pdf: [pdf-corrupt] page(s) 1 draw forms (Form XObjects) nested or" in err
    assert "assets/self.pdf: [pdf-corrupt] PDF could not be read: it has a reference loop" in err
    assert "assets/labels.pdf: [pdf-corrupt] PDF's page labels (/PageLabels) could not" in err
    for crash in ("Fatal Python error", "Traceback", "RecursionError", "Thread 0x"):
        assert crash not in err
    for word, pdf in (
        ("formbomb", "dag.pdf"),
        ("labelloop", "labels.pdf"),
        ("waiting", "review.pdf"),
    ):
        found = run_cli("query", word, "--index", index, "-f", "json")
        assert found.returncode == 0 and f"assets/{pdf}" in found.stdout, word
