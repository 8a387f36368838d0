"""Index-time word analysis gives exactly what Whoosh's analyzer gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chcsearch.index import FastText, SpellingWords, WordAnalysis, text_analyzer, whoosh_schema

SAMPLES = [
    "The Connected Health Cities' evaluation: 53% of GPs (n=1,204) used e-consent v1.3 in 2019.",
    "Café naïve façade Ærø STRASSE straße İstanbul ﬁnance 3.141 under_score a.b.c x y z",
    "Stroke thrombolysis — door-to-needle times fell; patients’ outcomes improved…",
    "",
    "% %% 100 % a",
]


def _expected(text: str) -> tuple[list[str], list[str]]:
    analyzer = text_analyzer()
    terms = [t.text for t in analyzer(text)]
    words = sorted({t.text for t in analyzer(text, no_morph=True)})
    return terms, words


def _ours(analysis: WordAnalysis, text: str) -> tuple[list[str], list[str]]:
    return analysis.terms(text), analysis.words(text)


def test_samples_match_whoosh() -> None:
    analysis = WordAnalysis()
    for text in SAMPLES:
        assert _ours(analysis, text) == _expected(text), text
        assert analysis.terms(text) == _expected(text)[0]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_matches_whoosh(text: str) -> None:
    assert _ours(WordAnalysis(), text) == _expected(text)


def test_the_word_cache_is_bounded() -> None:
    analysis = WordAnalysis()
    analysis.LIMIT = 10
    for start in (0, 8, 16):
        text = " ".join(f"word{i}" for i in range(start, start + 8))
        assert analysis.terms(text) == _expected(text)[0]
        assert len(analysis._term) <= 10


def _postings(items: object, field: object) -> list[tuple[bytes, int, float, list[int]]]:
    decoded = [(w, f, wt, list(field.format.decode_positions(v))) for w, f, wt, v in items]  # type: ignore[attr-defined]
    first = min((p[0] for *_, p in decoded), default=0)
    return sorted((w, f, wt, [x - first for x in p]) for w, f, wt, p in decoded)


def test_text_fields_index_as_whoosh_does() -> None:
    schema = whoosh_schema()
    field = schema["body"]
    assert isinstance(field, FastText)
    for text in SAMPLES:
        ours = _postings(field.index(text), field)
        # Whoosh's own TEXT field with the same analyzer; positions may start later
        whooshs = _postings(super(FastText, field).index(text), field)
        assert ours == whooshs, text


def test_spelling_fields_keep_each_distinct_unstemmed_word_once() -> None:
    field = whoosh_schema()["spell_body"]
    assert isinstance(field, SpellingWords)
    words = [w for w, *_ in field.index("Nurses nursed the nurse; NURSES again.")]
    assert words == [b"again", b"nurse", b"nursed", b"nurses"]
