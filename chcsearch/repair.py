"""Repair text extracted from PDFs before it is indexed.

* Unicode compatibility forms are folded (NFKC): ligatures such as ``ﬁ``,
  mathematical italic letters, odd spaces.
* Private-use characters, which Symbol and Wingdings fonts use for bullets,
  become ``•`` (U+F020, a Symbol-font space, becomes a space).
* End-of-line hyphens are resolved with the document's own vocabulary: most
  are real compounds (``data-\\ndriven``) and keep their hyphen; a word split
  for the line break (``treat-\\nment``) is joined when the joined word occurs
  elsewhere in the document, or when the part after the break is no word of
  the document.
* Lines are joined into paragraphs (blank lines separate paragraphs, one per
  output line), table-of-contents leader dots are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

REPAIR_VERSION = 2

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# a match starts only where a word starts: the same matches as without the
# look-behind, without trying again at every letter of every word (3x faster)
_BREAK = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-[ \t]*\n[ \t]*([^\W\d_]+)")
_LINE_END_HYPHEN = re.compile(r"-[ \t]*\n")  # cheap test before _BREAK
_SOFT_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")
_LEADERS = re.compile(r"(?:\. ?){4,}|…{2,}|_{4,}")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SPACE = re.compile(r"\s+")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_SUFFIX = re.compile(
    r"^(?:ment|ments|tion|tions|sion|sions|ing|ings|ed|ly|ity|ities|ness|ance|ances|ence|ences|"
    r"able|ible|ive|ives|al|ally|ous|ise|ised|ize|ized|isation|ization|er|ers|est|ism|ist|ists|"
    r"ful|less|ship|ary|ory|ure|ures|ate|ated|ates|ic|ical|y|s|es)$"
)


def normalize_chars(text: str) -> str:
    """NFKC-fold the text and replace private-use bullets and form feeds."""
    text = text.replace("\uf020", " ")
    text = _PRIVATE_USE.sub("•", text)
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\f", "\n\n").replace("\r\n", "\n").replace("\r", "\n")


def vocabulary(pages: Sequence[str]) -> Counter[str]:
    """Lower-cased words and hyphenated compounds of a document, with counts.

    Words broken at a line end are not counted as words of their own.
    """
    counts: Counter[str] = Counter()
    for page in pages:
        unbroken = _BREAK.sub(" ", page) if _LINE_END_HYPHEN.search(page) else page
        counts.update(map(str.lower, _WORD.findall(unbroken)))
    for word, count in [(w, c) for w, c in counts.items() if "-" in w]:
        for part in word.split("-"):
            counts[part] += count
    return counts


def resolve_hyphen(left: str, right: str, vocab: Counter[str]) -> str:
    """How ``left-⏎right`` should read: joined, or kept as a hyphenated compound."""
    joined = (left + right).lower()
    compound = f"{left}-{right}".lower()
    if vocab[joined] > vocab[compound]:
        return left + right
    if vocab[compound]:
        return f"{left}-{right}"
    # The part after the break is no word of this document: a word split for the
    # line (``hospi-talisation``), unless the part before it is a word and the
    # part after does not read as a word ending (``data-driven``).
    if (
        right[:1].islower()
        and not vocab[right.lower()]
        and (not vocab[left.lower()] or _SUFFIX.match(right.lower()))
    ):
        return left + right
    return f"{left}-{right}"


def repair_page(text: str, vocab: Counter[str]) -> str:
    """One page's text, repaired: paragraphs one per line, words whole."""
    text = _SOFT_BREAK.sub("", text).replace("\u00ad", "")
    if _LINE_END_HYPHEN.search(text):
        text = _BREAK.sub(lambda m: resolve_hyphen(m.group(1), m.group(2), vocab), text)
    if ". ." in text or ".." in text or "……" in text or "____" in text:
        text = _LEADERS.sub(" ", text)
    paragraphs = (_SPACE.sub(" ", block).strip() for block in _PARAGRAPH.split(text))
    return "\n".join(p for p in paragraphs if p)


def repair_document(pages: Sequence[str]) -> list[str]:
    """Repair every page of one PDF, with the whole document as vocabulary."""
    normalized = [normalize_chars(page) for page in pages]
    vocab = vocabulary(normalized)
    return [repair_page(page, vocab) for page in normalized]
