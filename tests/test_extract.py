"""PDF extraction: the fast tokenizer, bad files, the pool and the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfgen import PageSpec, PdfSpec, make_pdf, text_pdf
from pdfminer import pdfinterp
from pdfminer.pdfpage import PDFPage
from pdfminer.psparser import PSEOF

from chcsearch.cache import ExtractionCache
from chcsearch.extract import (
    EXTRACTOR_KEY,
    ExtractOptions,
    FastContentParser,
    PdfJob,
    _Unusual,
    extract_pdf,
    extract_pdfs,
    tokenize_content,
)


def _objects(parser: pdfinterp.PDFContentParser) -> list[object]:
    out: list[object] = []
    while True:
        try:
            out.append(parser.nextobject()[1])
        except PSEOF:
            return out


def _typed(value: object) -> object:
    """A comparable form that also tells ints, floats and bools apart."""
    if isinstance(value, list):
        return ["list", [_typed(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", sorted((k, _typed(v)) for k, v in value.items())]
    return [type(value).__name__, repr(value)]


def _assert_same_as_pdfminer(path: Path, pages: int | None = None) -> int:
    fast_used = 0
    with path.open("rb") as handle:
        for number, pdf_page in enumerate(PDFPage.get_pages(handle), start=1):
            if pages is not None and number > pages:
                break
            streams = pdf_page.contents
            slow = _objects(pdfinterp.PDFContentParser(streams))
            fast_parser = FastContentParser(streams)
            fast_used += fast_parser._fast is not None
            fast = _objects(fast_parser)
            assert [_typed(o) for o in fast] == [_typed(o) for o in slow], (
                f"{path.name} page {number}"
            )
    return fast_used


CONTENT_SAMPLES = [
    b"BT /F1 12 Tf 72 712 Td (Hello \\(world\\) \\101\\102 \\q) Tj ET",
    b"[(A) -250 (B) 12.5 (C)] TJ /Span <</ActualText <FEFF0041> /Lang (en)>> BDC EMC",
    b"q 1 0 0 1 -0.5 .25 cm 0 0 595.3 841.9 re W* n Q % a comment\n1 g 0 G",
    b"BT (nested (parens (deep)) ok) Tj (line\\\ncontinued) Tj (tab\\tnl\\n) Tj ET",
    b"/Name#20With#20Hex 1 Tf <48 65 6C6C 6F> Tj <414> Tj [true false] 0 d",
]


@pytest.mark.parametrize("content", CONTENT_SAMPLES)
def test_fast_tokenizer_matches_pdfminer_on_tricky_streams(tmp_path: Path, content: bytes) -> None:
    from pdfminer.pdftypes import PDFStream

    stream = PDFStream({}, content)
    stream.data = content
    stream.set_objid(1, 0)
    slow = _objects(pdfinterp.PDFContentParser([stream]))
    fast = FastContentParser([stream])
    assert [_typed(o) for o in _objects(fast)] == [_typed(o) for o in slow]


def test_fast_tokenizer_leaves_inline_images_to_pdfminer() -> None:
    with pytest.raises(_Unusual):
        tokenize_content(b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fast_tokenizer_never_fails_differently_from_pdfminer(data: bytes) -> None:
    """On arbitrary bytes it either falls back or agrees with pdfminer."""
    from pdfminer.pdftypes import PDFStream

    stream = PDFStream({}, data)
    stream.data = data
    stream.set_objid(1, 0)
    try:
        slow = [_typed(o) for o in _objects(pdfinterp.PDFContentParser([stream]))]
    except Exception:
        return  # pdfminer itself fails; the file would be reported as corrupt either way
    parser = FastContentParser([stream])
    if parser._fast is not None:
        assert [_typed(o) for o in _objects(parser)] == slow


def test_fast_tokenizer_matches_pdfminer_on_generated_pdfs(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(
        make_pdf(
            PdfSpec(
                pages=[
                    PageSpec(lines=["Hello (world)", "café – “quoted” • item", "back\\slash"]),
                    PageSpec(vector_ops=50, lines=["drawn"]),
                    PageSpec(image_only=True),
                ]
            )
        )
    )
    assert _assert_same_as_pdfminer(path) == 3


@pytest.mark.corpus
def test_fast_tokenizer_matches_pdfminer_on_the_real_corpus(corpus_dir: Path) -> None:
    """The first page of every real PDF, object for object."""
    fast_pages = sum(
        _assert_same_as_pdfminer(p, pages=1) for p in sorted(corpus_dir.rglob("*.pdf"))
    )
    assert fast_pages >= 60  # the fast path, not the fallback, handled nearly all of them


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_text_is_cut_per_physical_page_and_repaired(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "r.pdf",
        text_pdf(
            [
                ["Intro \u2022 point", "the treat-", "ment worked on data"],
                [],
                ["data-", "driven care"],
            ],
            title="Report title",
        ),
    )
    text, timed_out = extract_pdf(str(path), "sha", ExtractOptions(timeout=10))
    assert not timed_out and text.page_count == 3 and text.title == "Report title"
    assert text.pages[0] == "Intro • point the treatment worked on data"
    assert text.pages[1] == "" and text.pages[2] == "data-driven care"
    assert [p.kind for p in text.problems] == ["pdf-pages-no-text"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "pdf-empty"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 4, "pdf-corrupt"),
        (text_pdf([["one"], ["two"]])[:350], "pdf-corrupt"),
        (make_pdf(PdfSpec(pages=[["x"]], user_password="pw")), "pdf-encrypted"),
        (make_pdf(PdfSpec(pages=[PageSpec(image_only=True)])), "pdf-no-text"),
    ],
)
def test_bad_pdfs_give_a_named_problem(tmp_path: Path, data: bytes, kind: str) -> None:
    text, _ = extract_pdf(str(_write(tmp_path, "bad.pdf", data)), "sha", ExtractOptions(timeout=10))
    assert kind in {p.kind for p in text.problems}


def test_the_pool_applies_the_time_limit_and_fills_the_cache(tmp_path: Path) -> None:
    slow = _write(tmp_path, "slow.pdf", make_pdf(PdfSpec(pages=[PageSpec(vector_ops=200_000)])))
    fine = _write(tmp_path, "fine.pdf", text_pdf([["fine words"]]))
    cache = ExtractionCache(tmp_path / "cache", EXTRACTOR_KEY)
    jobs = [
        PdfJob("slow.pdf", slow, "a" * 64, slow.stat().st_size),
        PdfJob("fine.pdf", fine, "b" * 64, 10),
    ]
    seen: list[tuple[int, int]] = []
    report = extract_pdfs(
        jobs,
        cache=cache,
        workers=2,
        options=ExtractOptions(timeout=0.3),
        on_progress=lambda d, t, _: seen.append((d, t)),
    )
    assert report.extracted == 2 and report.from_cache == 0
    assert [p.kind for p in report.texts["a" * 64].problems] == ["pdf-timeout"]
    assert report.texts["a" * 64].problems[0].src_path == "slow.pdf"
    assert report.texts["b" * 64].pages == ()  # page texts stay in the cache, not in memory
    stored = cache.get("b" * 64, "fine.pdf", timeout=0.3)
    assert stored is not None and stored.pages == ("fine words",)
    assert seen[-1] == (2, 2)
    again = extract_pdfs(jobs, cache=cache, workers=2, options=ExtractOptions(timeout=0.3))
    assert again.extracted == 0 and again.from_cache == 2


def test_a_damaged_cache_entry_is_extracted_again(tmp_path: Path) -> None:
    fine = _write(tmp_path, "fine.pdf", text_pdf([["fine words"]]))
    cache = ExtractionCache(tmp_path / "cache", EXTRACTOR_KEY)
    job = PdfJob("fine.pdf", fine, "c" * 64, 10)
    extract_pdfs([job], cache=cache, workers=1, options=ExtractOptions(timeout=10))
    for entry in (tmp_path / "cache").rglob("*.json.gz"):
        entry.write_bytes(b"not gzip")
    report = extract_pdfs([job], cache=cache, workers=1, options=ExtractOptions(timeout=10))
    assert report.extracted == 1 and report.texts["c" * 64].page_count == 1
    assert cache.get("c" * 64, "fine.pdf", timeout=10).pages == ("fine words",)  # type: ignore[union-attr]
