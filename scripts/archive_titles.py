"""Print the title and authors chosen for every PDF of a folder archive.

    python scripts/archive_titles.py FOLDER [--extractor pdfium] [--cache DIR]

FOLDER is a folder archive of PDFs, or a Jekyll site such as the CHC corpus
(it has a ``_config.yml``): its PDFs are then laid out as the archive tests
lay them out, ``reports/<region>/<chapter>/<file>.pdf``, in a temporary
folder. One line per PDF: ``title | authors | year | file``. For checking by
eye that titles are ones a person would write.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from chcsearch.config import IndexSettings
from chcsearch.index import IndexStore, stored_documents
from chcsearch.ingest import build_index


def _as_archive(site: Path, root: Path) -> Path:
    """The site's PDFs as reports/<region>/<chapter>/<file>.pdf under ``root``."""
    for pdf in sorted(site.rglob("*.pdf")):
        number = re.match(r"Section (\d+\.\d+)", pdf.name)
        chapter = number.group(1) if number else "other"
        target = root / "reports" / pdf.parent.name / chapter / pdf.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, target)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--extractor", default="pdfminer", choices=["pdfminer", "pdfium"])
    parser.add_argument("--cache", type=Path, help="extraction cache folder to reuse")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = args.folder
        if (folder / "_config.yml").is_file():
            folder = _as_archive(folder, work / "archive")
        settings = IndexSettings(
            site=folder,
            index_dir=work / "index",
            cache_dir=args.cache or work / "cache",
            jobs=2,
            extractor=args.extractor,
        )
        build_index(settings)
        generation = IndexStore(work / "index").open_current()
        first_pages = {
            str(d["source"]): d for d in stored_documents(generation, kind="pdf") if d["page"] == 1
        }
        for source, doc in sorted(first_pages.items()):
            authors = "; ".join(doc.get("authors") or ())
            print(f"{doc['title']} | {authors} | {doc.get('year') or ''} | {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
