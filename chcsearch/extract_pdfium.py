"""The optional fast extractor: PDFium through pypdfium2 (``pip install "chcsearch[pdfium]"``).

About 20 times faster than pdfminer.six on the real corpus, for large
archives. pypdfium2 is imported here and nowhere else. Its text goes through
the same repairs as pdfminer's (``chcsearch.repair``).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pypdfium2 as pdfium

from .pdfmeta import META_VERSION, PdfInfo, merge_info, parse_xmp

PDFIUM_KEY = f"pypdfium2-{metadata.version('pypdfium2')}-meta{META_VERSION}"
_XMP = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta>", re.S)


def _xmp(data: bytes) -> PdfInfo:
    """XMP packets are usually stored uncompressed; PDFium has no call for them."""
    match = _XMP.search(data)
    return parse_xmp(match.group()) if match else PdfInfo()


def read_pages(path: str) -> tuple[list[str], PdfInfo, tuple[str, ...], list[int]]:
    """Raw text per physical page, what the PDF says about itself, page labels, failed pages."""
    data = Path(path).read_bytes()  # read once: PDFium parses it, the XMP is found in it
    document = pdfium.PdfDocument(data)
    try:
        meta = document.get_metadata_dict()
        info = merge_info(
            _xmp(data), meta.get("Title", ""), meta.get("Author", ""), meta.get("CreationDate", "")
        )
        pages: list[str] = []
        failed: list[int] = []
        labels: list[str] = []
        for index in range(len(document)):
            try:
                page = document[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_bounded().replace("\r\n", "\n"))
                textpage.close()
                page.close()
            except pdfium.PdfiumError:
                failed.append(index + 1)
                pages.append("")
            labels.append(document.get_page_label(index) or "")
        return pages, info, tuple(labels) if any(labels) else (), failed
    finally:
        document.close()
