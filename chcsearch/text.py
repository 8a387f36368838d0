"""What text may hold and still be shown, written or linked as it is: the one home of
the rules for control and invisible characters. Pure functions; no other chcsearch
module is imported.

Two kinds of characters are never shown raw:

- ``CONTROL``: the C0 and C1 control characters and DEL (a terminal obeys an ESC
  sequence, BEL rings, a line end starts a CSV row or a RIS field, browsers drop
  tabs inside an address);
- ``INVISIBLE``: what shows nothing, or changes how the text around it shows, so
  that a title, a link or an id holding it reads as another: every format
  character (Unicode category Cf: the soft hyphen, zero-width spaces and joiners,
  the byte order mark, bidirectional marks, overrides and isolates, tag
  characters…), every other default-ignorable code point (the Hangul fillers
  U+115F, U+1160, U+3164 and U+FFA0, the combining grapheme joiner, the reserved
  tag block) and every variation selector.

A zero-width joiner or non-joiner between two letters of a script that joins
(Arabic, Persian, Indic) shapes the word: text meant to be read keeps it
(``drop_invisible``); links and ids encode it as every other invisible character.
"""

from __future__ import annotations

import re

#: The C0 and C1 control characters and DEL, as the body of a character class.
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"
CONTROL = re.compile(f"[{CONTROL_CHARS}]")

#: ``INVISIBLE``'s characters as the body of a character class, written out rather than
#: found by a scan of Unicode at every start (14 ms of each command's start-up): every
#: format character (category Cf) of Unicode 14 (Python 3.11), and the other
#: default-ignorable code points (Unicode's Other_Default_Ignorable_Code_Point, unchanged
#: since Unicode 6.1: the combining grapheme joiner, the Hangul fillers, the Khmer
#: inherent vowels, the reserved tag block), the variation selectors, and the Egyptian
#: hieroglyph format controls (Cf from Unicode 15). A test scans Unicode and checks it.
INVISIBLE_CHARS = (
    "\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u115f-\u1160"
    "\u17b4-\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
#: What a terminal line or an export never holds raw: ``CONTROL`` and ``INVISIBLE``.
UNPRINTABLE = re.compile(f"[{CONTROL_CHARS}{INVISIBLE_CHARS}]")
#: What ends or breaks a line or a cell of an export: control characters and Unicode's
#: line and paragraph separators.
BREAKING = re.compile(f"[{CONTROL_CHARS}\u2028\u2029]")
#: A terminal's escape sequence (colour, cursor), removed whole: ``"\x1b[31m"``.
ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")

# the joiners shape letters of the scripts that join (Arabic, Syriac, Brahmic): a
# Persian word keeps its zero-width non-joiner; elsewhere they show nothing
_JOINING = "\u0600-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefc"
_KEPT_JOINER = re.compile(f"(?<=[{_JOINING}])[\u200c\u200d](?=[{_JOINING}])")


def drop_invisible(text: str) -> str:
    """``text`` without its ``INVISIBLE`` characters, except a zero-width joiner or
    non-joiner between two letters of a joining script (Arabic, Persian, Indic):
    it shapes the word. Control characters are left as they are."""
    if text.isascii():
        return text
    if "\u200c" not in text and "\u200d" not in text:
        return INVISIBLE.sub("", text)
    if "\ue000" in text or "\ue001" in text:  # the stand-ins below would be ambiguous
        return INVISIBLE.sub("", text)
    # the kept joiners stand in as private-use characters while the others go
    kept = _KEPT_JOINER.sub(lambda m: "\ue000" if m.group() == "\u200c" else "\ue001", text)
    return INVISIBLE.sub("", kept).replace("\ue000", "\u200c").replace("\ue001", "\u200d")


def visible_line(text: str) -> str:
    """``text`` as one line a terminal or a page shows as it is: terminal escape
    sequences removed whole, control characters and other whitespace (line and
    paragraph separators too) made single spaces or removed, ``INVISIBLE``
    characters removed (``drop_invisible``), whitespace folded."""
    text = CONTROL.sub(lambda m: " " if m.group().isspace() else "", ESCAPE_SEQUENCE.sub("", text))
    return " ".join(drop_invisible(text).split())


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: tabs and line ends as spaces, every other
    control character and the ``INVISIBLE`` ones removed (``drop_invisible``)."""
    text = CONTROL.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)
    return drop_invisible(text)


def one_cell(text: str) -> str:
    """``text`` as one cell or field of an export: ``INVISIBLE`` characters removed
    (``drop_invisible``), each control character and line or paragraph separator a
    space, so that no line end or carriage return can start a row, a field or a record."""
    return BREAKING.sub(" ", drop_invisible(text))


def one_line(text: str) -> str:
    """``one_cell`` with its whitespace folded: one line of single spaces."""
    return " ".join(one_cell(text).split())


def percent_encode(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with every character ``pattern`` matches percent-encoded (UTF-8)."""
    return pattern.sub(lambda m: "".join(f"%{byte:02X}" for byte in m.group().encode()), text)
