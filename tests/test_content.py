"""The sample site's PDFs are exactly what scripts/make_sample_pdfs.py writes."""

from __future__ import annotations

import importlib.util

from helpers import PROJECT


def test_committed_sample_pdfs_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sample_pdfs", PROJECT / "scripts" / "make_sample_pdfs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from pdfgen import make_pdf

    for rel, pdf_spec in module.REPORTS.items():
        assert (PROJECT / "content" / rel).read_bytes() == make_pdf(pdf_spec), rel
