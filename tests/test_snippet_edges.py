"""Snippets never cut a word: window edges, ellipses, highlights, odd words."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from chcsearch.snippets import (
    EDGE_REACH,
    SNIPPET_CHARS,
    Snippet,
    WordFinder,
    is_break_boundary,
    is_space_boundary,
    make_snippet,
    one_line,
)

FILLER = (
    "The programme linked hospital, primary care and council records so that teams "
    "could follow patients across services and measure what changed for them. "
)


def snip(text: str, *words: str, size: int = SNIPPET_CHARS) -> Snippet:
    return make_snippet(text, WordFinder(words) if words else None, size)


def split(snippet: Snippet) -> tuple[str, str, str]:
    """The snippet's leading ellipsis, its text from the source, and its trailing ellipsis."""
    text = snippet.text
    prefix = next((p for p in ("… ", "…") if text.startswith(p)), "")
    rest = text[len(prefix) :]
    suffix = next((s for s in (" …", "…") if rest.endswith(s)), "")
    return prefix, rest[: len(rest) - len(suffix)], suffix


def space_boundary(text: str, index: int) -> bool:
    """The test's own statement of a space boundary: an end of the text, or next to whitespace."""
    return index in (0, len(text)) or text[index - 1].isspace() or text[index].isspace()


def marked(snippet: Snippet) -> list[str]:
    return [snippet.text[a:b] for a, b in snippet.spans]


def placements(source: str, snippet: Snippet) -> list[int]:
    """Where the snippet's text (without ellipses) can sit in ``source``, consistently with them."""
    prefix, body, suffix = split(snippet)
    found = []
    at = source.find(body)
    while at >= 0:
        end = at + len(body)
        ok_start = source[:at].strip() == "" if not prefix else source[:at].strip() != ""
        ok_end = source[end:].strip() == "" if not suffix else source[end:].strip() != ""
        if ok_start and ok_end:
            found.append(at)
        at = source.find(body, at + 1)
    return found


def assert_clean(source: str, snippet: Snippet) -> int:
    """The snippet is a piece of ``source`` cut at space boundaries; returns where it sits."""
    prefix, body, suffix = split(snippet)
    assert body == body.strip()
    assert prefix in ("", "… ") and suffix in ("", " …"), snippet.text
    spots = [
        at
        for at in placements(source, snippet)
        if space_boundary(source, at) and space_boundary(source, at + len(body))
    ]
    assert spots, (source, snippet.text)
    return spots[0]


# -- windows at the text's start and end ----------------------------------------------------


def test_a_short_text_is_whole_with_no_ellipses() -> None:
    text = "Connected Health Cities: asthma care in the north."
    snippet = snip(text, "asthma")
    assert snippet.text == text
    assert marked(snippet) == ["asthma"]
    assert snip(text).text == text


def test_opening_without_matches_ends_at_a_word() -> None:
    text = FILLER * 3
    snippet = snip(text)
    prefix, body, suffix = split(snippet)
    assert prefix == "" and suffix == " …"
    assert text.startswith(body)
    assert body.split()[-1] in text.split()
    assert_clean(text, snippet)


def test_match_at_the_very_start() -> None:
    text = "Asthma " + FILLER * 3
    snippet = snip(text, "asthma")
    assert snippet.text.startswith("Asthma programme") or snippet.text.startswith("Asthma The")
    assert marked(snippet) == ["Asthma"]
    assert_clean(text, snippet)


def test_match_near_the_start_keeps_the_opening_words() -> None:
    text = "In 2019 the asthma nurses " + FILLER * 3
    snippet = snip(text, "asthma")
    assert snippet.text.startswith("In 2019 the asthma nurses")
    assert_clean(text, snippet)


def test_match_at_the_very_end() -> None:
    text = FILLER * 3 + "more about asthma"
    snippet = snip(text, "asthma")
    prefix, body, suffix = split(snippet)
    assert prefix == "… " and suffix == ""
    assert body.endswith("more about asthma")
    assert marked(snippet) == ["asthma"]
    assert_clean(text, snippet)


def test_match_near_the_end() -> None:
    text = FILLER * 3 + "asthma nurses visited every practice."
    snippet = snip(text, "nurses")
    assert snippet.text.endswith("asthma nurses visited every practice.")
    assert_clean(text, snippet)


def test_whitespace_left_out_is_not_an_ellipsis() -> None:
    text = "   \t asthma care\u00a0 \t "
    snippet = snip(text, "asthma")
    assert snippet.text == "asthma care"
    assert marked(snippet) == ["asthma"]


def test_window_edges_in_the_middle_of_words_move_to_their_ends() -> None:
    text = FILLER * 6
    for size in range(20, 200, 7):
        snippet = snip(text, "patients", size=size)
        at = assert_clean(text, snippet)
        assert marked(snippet)[0] == "patients"
        body = split(snippet)[1]
        assert len(body) <= size + size // 4 + 2 * EDGE_REACH
        assert text[at : at + len(body)] == body


# -- the reported snippets, reconstructed -------------------------------------------------------


def test_cted_health_cities() -> None:
    # The word before the window's start is joined to its neighbour by a no-break space
    # (as PDF text often is) or is part of a long hyphenated run: the old cut gave "… cted".
    for text in (
        "Across the north of England the\u00a0Connected Health Cities team ran pilots "
        "with hospitals and councils.",
        "Partners: see-the-programme-pages-of-the-Connected Health Cities programme for "
        "the regional hubs and their projects.",
    ):
        snippet = snip(text, "cities", size=40)
        _, body, _ = split(snippet)
        assert body.split()[0] in text.split(), snippet.text
        assert not body.startswith(("cted", "ed "))
        assert marked(snippet) == ["Cities"]
        assert_clean(text, snippet)


def test_applicatio() -> None:
    # Words joined by no-break spaces, with no plain space for over 30 characters after the
    # window's end: the old cut gave "… the grant application …" cut to "applicatio".
    text = (
        "Teams were asked to send the grant\u00a0application\u00a0form\u00a0to\u00a0the"
        "\u00a0regional\u00a0office\u00a0by\u00a0post, and the data "
        "application/x-www-form-urlencoded from the portal."
    )
    snippet = snip(text, "grant", size=16)
    assert snippet.text == "… the grant\u00a0application …"
    assert marked(snippet) == ["grant"]
    for word in ("data", "grant"):
        for size in range(5, 60, 4):
            snippet = snip(text, word, size=size)
            _, body, _ = split(snippet)
            for piece in body.split():
                assert piece in text.split(), snippet.text
            assert "applicatio" not in body.replace("application", "")
            assert_clean(text, snippet)


# -- highlights -------------------------------------------------------------------------------


def test_highlights_mark_the_surface_form() -> None:
    text = FILLER + "Connected Health CITIES and smaller cities; the Cities’ data. " + FILLER
    snippet = snip(text, "cities", "health")
    assert marked(snippet) == ["Health", "CITIES", "cities", "Cities"]
    assert "<mark>CITIES</mark>" in snippet.html()
    assert snippet.marked("[", "]").count("[") == 4
    assert_clean(text, snippet)


def test_highlights_stay_aligned_after_the_edges_move() -> None:
    words = ["asthma", "nurse", "frailty"]
    text = " ".join(
        f"{FILLER.split()[i % 20]}{'-' if i % 7 == 0 else ' '}{words[i % 3]}" for i in range(300)
    )
    for size in (30, 77, 150, 220):
        snippet = snip(text, *words, size=size)
        assert snippet.spans
        for a, b in snippet.spans:
            assert snippet.text[a:b] in words
            assert a == 0 or not snippet.text[a - 1].isalnum()
            assert b == len(snippet.text) or not snippet.text[b].isalnum()


# -- odd words --------------------------------------------------------------------------------


def test_hyphenated_words_are_not_split() -> None:
    text = "well-being " * 60
    for size in range(10, 120, 9):
        _, body, _ = split(snip(text, size=size))
        assert set(body.split()) == {"well-being"}


def test_urls_and_numbers_are_kept_whole() -> None:
    text = (
        FILLER
        + "See https://example.org/reports/2021/chc-final.pdf for the 1,628 patients and "
        + "3.5% of admissions. "
        + FILLER
    )
    for size in range(20, 240, 5):
        snippet = snip(text, "patients", size=size)
        _, body, _ = split(snippet)
        for piece in body.split():
            assert piece in text.split(), (size, snippet.text)
        assert_clean(text, snippet)


def test_accented_words() -> None:
    text = "Le programme « villes connectées » a étudié la santé des élèves à Besançon. " * 8
    for size in range(15, 200, 11):
        snippet = snip(text, "santé", "étudié", size=size)
        _, body, _ = split(snippet)
        for piece in body.split():
            assert piece in text.split()
        assert set(marked(snippet)) <= {"santé", "étudié"}
        assert_clean(text, snippet)


def test_decomposed_accents_stay_with_their_letters() -> None:
    text = "Cafe\u0301 cafe e\u0301tude tude " + "re\u0301sume\u0301 " * 40
    snippet = snip(text, "cafe", "tude")
    assert marked(snippet) == ["cafe", "tude"]
    for size in range(10, 60, 3):
        _, body, _ = split(snip(text, size=size))
        assert not unicodedata.category(body[0]).startswith("M")
        assert body.split()[-1] in text.split()
    long_word = "re\u0301sume\u0301" * 40  # no spaces: cut between letters, never before a mark
    for size in range(10, 60, 3):
        _, body, _ = split(snip(long_word, size=size))
        assert not unicodedata.category(body[0]).startswith("M")


def test_cjk_text_is_cut_between_characters() -> None:
    text = "健康城市项目连接了医院和社区的数据，研究人员分析了哮喘患者的治疗情况。" * 20
    snippet = snip(text, size=40)
    prefix, body, suffix = split(snippet)
    assert prefix == "" and suffix == "…"
    assert text.startswith(body) and 40 <= len(body) <= 40 + EDGE_REACH
    middle = snip("Report 2020: " + text, "2020", size=40)
    assert middle.text.endswith("…") and marked(middle) == ["2020"]


def test_one_enormous_token_gives_a_bounded_snippet() -> None:
    token = "QUJD" * 5000  # 20 KB of base64, no spaces and no punctuation
    snippet = snip(token)
    assert snippet.text == token[:SNIPPET_CHARS] + "…"
    text = "Attachment: " + token + " was the asthma appendix, then " + token
    snippet = snip(text, "asthma")
    prefix, body, suffix = split(snippet)
    assert prefix == "…" and suffix == "…"  # cut inside the token, so no space
    assert len(body) <= SNIPPET_CHARS + SNIPPET_CHARS // 4 + 2 * EDGE_REACH
    assert marked(snippet) == ["asthma"]
    assert body in text
    url = "https://example.org/" + "/".join(["segment"] * 3000)
    snippet = snip(url + " asthma", "asthma")
    prefix, body, _ = split(snippet)
    assert prefix == "…" and body.startswith("segment/")  # cut where the URL breaks
    assert len(body) <= SNIPPET_CHARS + SNIPPET_CHARS // 4 + 2 * EDGE_REACH


def test_break_boundaries() -> None:
    text = "well-being 1,628 don't https://a.org/b 健康 e\u0301"
    cuts = {i for i in range(len(text) + 1) if is_break_boundary(text, i)}
    assert text.index("-") + 1 in cuts and text.index("being") in cuts
    assert not any(text.index("1,628") < i < text.index("1,628") + 5 for i in cuts)
    assert not any(text.index("don't") < i < text.index("don't") + 5 for i in cuts)
    assert text.index("b 健") in cuts and text.index("康") in cuts
    assert len(text) - 1 not in cuts  # before the combining mark
    assert all(is_break_boundary(text, i) for i in range(len(text) + 1) if space_boundary(text, i))
    assert all(is_space_boundary(text, i) == space_boundary(text, i) for i in range(len(text) + 1))


# -- properties -------------------------------------------------------------------------------

LETTERS = "abcdeéøßABCÉ0123456789"
WORD = st.text(alphabet=LETTERS, min_size=1, max_size=10)
PIECE = st.one_of(
    WORD,
    st.builds(lambda a, b, s: a + s + b, WORD, WORD, st.sampled_from("-,.'/:")),
    st.builds(lambda w, s: s + w + s[::-1], WORD, st.sampled_from(["(", "“", '"', "« "])),
)
SPACE = st.sampled_from([" ", " ", " ", "  ", "\t", "\u00a0", "\n", " \n "])


def whole_occurrence(source: str, start: int, end: int, words: set[str]) -> bool:
    return (
        0 <= start < end <= len(source)
        and source[start:end].lower() in words
        and (start == 0 or not source[start - 1].isalnum())
        and (end == len(source) or not source[end].isalnum())
    )


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.tuples(PIECE, SPACE), min_size=1, max_size=120),
    picks=st.lists(st.integers(0, 200), max_size=3),
    extra=st.lists(WORD, max_size=2),
    size=st.integers(5, 260),
)
def test_snippets_of_word_texts_are_cut_at_spaces(
    pieces: list[tuple[str, str]], picks: list[int], extra: list[str], size: int
) -> None:
    text = "".join(word + space for word, space in pieces)
    tokens = [w for w, _ in pieces if w.isalnum()]
    query = {tokens[i % len(tokens)] for i in picks if tokens} | set(extra)
    snippet = make_snippet(text, WordFinder(query) if query else None, size)
    source = one_line(text)
    prefix = split(snippet)[0]
    # every word here is shorter than EDGE_REACH, so every cut is at a space
    at = assert_clean(source, snippet)
    words = {w.lower() for w in query}
    for a, b in snippet.spans:
        assert whole_occurrence(source, at + a - len(prefix), at + b - len(prefix), words)
    if any(
        whole_occurrence(source, i, i + len(w), words) for w in words for i in range(len(source))
    ):
        assert snippet.spans


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.tuples(
            st.one_of(
                PIECE,
                st.text(alphabet=LETTERS + "-/", min_size=40, max_size=400),
                st.text(alphabet="健康城市数据研究。", min_size=1, max_size=200),
            ),
            SPACE,
        ),
        min_size=1,
        max_size=30,
    ),
    query=st.lists(WORD, max_size=3),
    size=st.integers(5, 260),
)
def test_snippets_of_any_text_are_bounded_and_cut_at_boundaries(
    pieces: list[tuple[str, str]], query: list[str], size: int
) -> None:
    text = "".join(word + space for word, space in pieces)
    snippet = make_snippet(text, WordFinder(query) if query else None, size)
    source = one_line(text)
    prefix, body, suffix = split(snippet)
    assert len(body) <= size + size // 4 + 2 * EDGE_REACH
    spots = placements(source, snippet)
    assert spots, (source, snippet.text)

    def fits(at: int) -> bool:
        end = at + len(body)
        start_ok = (
            space_boundary(source, at)
            if prefix in ("", "… ")
            else not space_boundary(source, at)  # "…" only where a word was cut
        )
        end_ok = (
            space_boundary(source, end) if suffix in ("", " …") else not space_boundary(source, end)
        )
        return start_ok and end_ok

    assert any(fits(at) for at in spots), (source, snippet.text)
    words = {w.lower() for w in query}
    for a, b in snippet.spans:
        assert snippet.text[a:b].lower() in words
        assert any(
            whole_occurrence(source, at + a - len(prefix), at + b - len(prefix), words)
            for at in spots
        )


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="…İ"),
        max_size=600,
    ),
    size=st.integers(1, 300),
)
def test_any_text_gives_a_piece_of_itself(text: str, size: int) -> None:
    snippet = make_snippet(text, None, size)
    source = one_line(text)
    prefix, body, suffix = split(snippet)
    assert body in source
    assert len(body) <= size + 2 * EDGE_REACH
    if prefix == "" and suffix == "":
        assert body == source.strip()
