"""Generate a synthetic archive of PDF reports with the real corpus's vocabulary.

    python bench/make_archive.py OUT --pages 12000 [--seed 1]

Sentences are taken from the text of the real corpus's 65 PDFs (read once
with chcsearch's own extractor, pdfium when it is installed) and dealt at
random into new reports, so word frequencies follow the real ones while
every file is new (no extraction cache hits). Report lengths follow the real
corpus's (its PDFs' page counts), pages hold about as many words as its pages
(~280), and reports sit in nested folders (region / chapter / batch). Each
report has a title, authors and a creation date in its information
dictionary, and one in four has roman-numbered front matter in /PageLabels.
Output is deterministic for a given seed and size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))
sys.path.insert(0, str(PROJECT / "tests"))

from common import BENCH_DIR, corpus  # noqa: E402
from pdfgen import PageSpec, PdfSpec, make_pdf  # noqa: E402

WORDS_PER_PAGE = 280
SURNAMES = [
    "Ahmed",
    "Baker",
    "Chen",
    "Davies",
    "Evans",
    "Fisher",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
]
FORENAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Dev",
    "Ellen",
    "Farah",
    "George",
    "Hana",
    "Ian",
    "Jo",
    "Kiran",
    "Lucy",
    "Mo",
    "Nia",
    "Omar",
]


def source_text() -> tuple[list[str], list[int], list[str]]:
    """Sentences, page counts and folder names of the real corpus (cached under .cache/bench)."""
    cached = BENCH_DIR / "archive-source.json"
    if cached.is_file():
        data = json.loads(cached.read_text(encoding="utf-8"))
        return data["sentences"], data["page_counts"], data["folders"]
    from chcsearch.extract import ExtractOptions, extract_pdf

    try:
        import pypdfium2  # noqa: F401

        options = ExtractOptions("pdfium", timeout=300)
    except ImportError:
        options = ExtractOptions("pdfminer", timeout=300)
    sentences: list[str] = []
    page_counts: list[int] = []
    folders: set[str] = set()
    for pdf in sorted((corpus() / "assets").rglob("*.pdf")):
        text, _ = extract_pdf(str(pdf), "x", options)
        page_counts.append(text.page_count)
        number = re.match(r"Section (\d+\.\d+)", pdf.name)
        folders.add(f"{pdf.parent.name}/{number.group(1) if number else 'misc'}")
        for page in text.pages:
            for sentence in re.split(r"(?<=[.!?])\s+", page):
                words = sentence.split()
                if (
                    5 <= len(words) <= 60
                    and sentence.encode("cp1252", "ignore").decode("cp1252") == sentence
                ):
                    sentences.append(" ".join(words))
    data = {"sentences": sentences, "page_counts": page_counts, "folders": sorted(folders)}
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(data), encoding="utf-8")
    return sentences, page_counts, sorted(folders)


def _page(rng: random.Random, sentences: list[str]) -> PageSpec:
    words = 0
    chosen: list[str] = []
    target = rng.randint(WORDS_PER_PAGE - 120, WORDS_PER_PAGE + 120)
    while words < target:
        sentence = rng.choice(sentences)
        chosen.append(sentence)
        words += len(sentence.split())
    lines = textwrap.wrap(" ".join(chosen), width=110)
    return PageSpec(lines=tuple(lines), font_size=7.0)


def make_archive(out: Path, pages: int, seed: int) -> dict[str, int]:
    """Write reports under ``out`` until they hold ``pages`` pages in all."""
    sentences, page_counts, folders = source_text()
    rng = random.Random(seed)
    written = 0
    files = 0
    while written < pages:
        count = min(rng.choice(page_counts), pages - written)
        folder = f"{rng.choice(folders)}/batch-{files // 40:03d}"
        title_words = rng.choice(sentences).split()[: rng.randint(5, 10)]
        title = " ".join(title_words).rstrip(",.;:")
        authors = "; ".join(
            f"{rng.choice(FORENAMES)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 3))
        )
        labels: tuple[tuple[int, str, str, int], ...] = ()
        if count > 4 and rng.random() < 0.25:
            labels = ((0, "r", "", 1), (2, "D", "", 1))
        spec = PdfSpec(
            pages=[_page(rng, sentences) for _ in range(count)],
            title=f"{title} ({seed}-{files})",
            author=authors,
            created=f"D:{rng.randint(2010, 2024)}0{rng.randint(1, 9)}15120000Z",
            page_labels=labels,
        )
        name = hashlib.sha1(f"{seed}-{files}".encode()).hexdigest()[:10]
        path = out / folder / f"report-{name}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_pdf(spec))
        written += count
        files += 1
    return {"files": files, "pages": written}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    made = make_archive(args.out, args.pages, args.seed)
    print(f"{made['files']:,} reports, {made['pages']:,} pages in {args.out}")


if __name__ == "__main__":
    main()
