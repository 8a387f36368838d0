"""Repairs applied to extracted PDF text."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from chcsearch.repair import normalize_chars, repair_document, resolve_hyphen, vocabulary


def test_ligatures_math_letters_and_private_use_bullets_are_folded() -> None:
    assert (
        normalize_chars("e\ufb03cient \U0001d456\U0001d461 \uf0b7 item\uf020x")
        == "efficient it • item x"
    )


def test_line_end_hyphens_keep_real_compounds_and_join_split_words() -> None:
    vocab = vocabulary(["the treatment of data-driven care", "well-being matters"])
    assert resolve_hyphen("treat", "ment", vocab) == "treatment"  # joined word is known
    assert resolve_hyphen("data", "driven", vocab) == "data-driven"  # compound is known
    assert (
        resolve_hyphen("multi", "stakeholder", Counter({"stakeholder": 2})) == "multi-stakeholder"
    )
    assert (
        resolve_hyphen("organ", "isation", Counter()) == "organisation"
    )  # 'isation' is no word here
    assert resolve_hyphen("North", "West", Counter()) == "North-West"


def test_pages_become_paragraph_lines_without_leader_dots() -> None:
    pages = repair_document(
        ["Contents\nIntroduction ........ 3\n\nA para-\ngraph that\nwraps.\f", ""]
    )
    assert pages == ["Contents Introduction 3\nA paragraph that wraps.", ""]


@given(st.lists(st.text(max_size=200), max_size=4))
def test_repair_keeps_page_count_and_removes_control_characters(pages: list[str]) -> None:
    repaired = repair_document(pages)
    assert len(repaired) == len(pages)
    for text in repaired:
        assert "\f" not in text and "\r" not in text and "\n\n" not in text
        assert not any("\ue000" <= ch <= "\uf8ff" for ch in text)
        assert text == text.strip()
