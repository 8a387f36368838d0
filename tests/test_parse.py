"""Front matter, Markdown and resource paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import page
from hypothesis import given
from hypothesis import strategies as st

from chcsearch.discover import scan_site
from chcsearch.levels import level_key, level_prefixes
from chcsearch.parse import (
    _YAML,
    decode_text,
    load_front_matter,
    markdown_to_text,
    parse_page,
    split_front_matter,
    title_from_filename,
)

MakeSite = Callable[..., Path]


def _parse(site: Path, rel: str):  # type: ignore[no-untyped-def]
    scan = scan_site(site)
    source = next(s for s in scan.pages if s.src_path == rel)
    return parse_page(source, scan)


def test_levels_stay_text_whether_quoted_or_not() -> None:
    data, problems = load_front_matter("\nlevel: 4.10\nother: 2.5\nweight: 3\n", _YAML, "x.md")
    assert data == {"level": "4.10", "other": "2.5", "weight": 3} and not problems


@pytest.mark.parametrize(
    ("levels", "ordered"),
    [
        (["4.10", "4.9", "4.2.1", "4"], ["4", "4.2.1", "4.9", "4.10"]),
        (["10.1", "9.12"], ["9.12", "10.1"]),
    ],
)
def test_levels_sort_numerically_part_by_part(levels: list[str], ordered: list[str]) -> None:
    assert sorted(levels, key=level_key) == ordered
    assert level_prefixes("2.5.1") == ("2", "2.5", "2.5.1")


def test_a_wrapped_value_is_recovered_with_the_file_line() -> None:
    text = "---\ntitle: A long\n  title\nresources:\n    - url: x\n      title: wrapped\n  badly here\n---\nbody\n"
    fm, _body, handler = split_front_matter(text)
    assert fm is not None and handler is not None
    data, problems = load_front_matter(fm, handler, "p.md")
    assert data["title"] == "A long title"
    assert data["resources"] == [{"url": "x", "title": "wrapped badly here"}]
    assert [(p.kind, p.line) for p in problems] == [("front-matter-invalid", 7)]
    assert problems[0].src_path == "p.md" and "line 7" in problems[0].message


def test_hopeless_front_matter_still_yields_the_title() -> None:
    data, problems = load_front_matter(
        "\ntitle: Keep me: please\nlist: [1, 2\n: : :\n", _YAML, "p.md"
    )
    assert data["title"] == "Keep me: please"
    assert problems[0].kind == "front-matter-invalid" and problems[0].line == 2


def test_toml_front_matter_is_read() -> None:
    fm, body, handler = split_front_matter('+++\ntitle = "Hugo page"\nweight = 2\n+++\nText\n')
    assert handler is not None and fm is not None
    data, problems = load_front_matter(fm, handler, "c.md")
    assert data == {"title": "Hugo page", "weight": 2} and not problems and body.strip() == "Text"


def test_non_utf8_text_is_read_as_windows_1252_with_a_problem() -> None:
    text, problems = decode_text("na\u00efve \u2013 ok".encode("cp1252"), "x.md")
    assert text == "naïve – ok"
    assert problems[0].kind == "encoding" and "offset 2" in problems[0].message


def test_markdown_becomes_text_and_headings() -> None:
    text, headings = markdown_to_text(
        "## Background\n\nSee [the report]({{ site.url }}/r.pdf) and ![chart](c.png).\n\n"
        "**Methods**\n\n* one\n* two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '{% include note.html %}<div class="x">Inside &amp; out</div>\n\nSetext\n------\n'
        "<script>alert(1)</script>\n```\ncode_block here\n```\n"
    )
    assert headings == ("Background", "Methods", "Setext")
    assert "See the report and chart." in text
    assert "Inside & out" in text and "alert" not in text and "{%" not in text
    assert "code_block here" in text and "a b" in text


@given(st.text(max_size=300))
def test_markdown_to_text_never_fails(markdown: str) -> None:
    text, headings = markdown_to_text(markdown)
    assert isinstance(text, str) and all(isinstance(h, str) for h in headings)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (
            "assets/hub/Section 2.5.1_Connected Health Cities Citizens’ Juries Report.pdf",
            "Connected Health Cities Citizens’ Juries Report",
        ),
        ("Section 3.1 Intro front page final.pdf", "Intro front page final"),
        ("annual-report.pdf", "Annual report"),
        ("2020.pdf", "2020"),
    ],
)
def test_titles_from_file_names(name: str, title: str) -> None:
    assert title_from_filename(name) == title


def test_resource_paths_resolve_in_every_spelling(make_site: MakeSite) -> None:
    site = make_site(
        {
            "_config.yml": "baseurl: /docs\n",
            "assets/My Report.pdf": b"%PDF-1.4\n",
            "p.md": page(
                "P",
                resources=(
                    "\n  - path: /assets/My Report.pdf\n  - path: assets/My Report.pdf"
                    "\n  - path: /assets/My%20Report.pdf\n  - path: /docs/assets/My Report.pdf"
                    "\n  - url: /assets/My%20Report.pdf\n  - url: https://doi.org/10.1/x\n    title: Paper"
                ),
            ),
        }
    )
    parsed, problems = _parse(site, "p.md")
    assert not problems
    assert parsed is not None
    targets = [(r.kind, r.target, r.url) for r in parsed.meta.resources]
    assert targets[:5] == [("pdf", "assets/My Report.pdf", "/docs/assets/My%20Report.pdf")] * 5
    assert targets[5] == ("url", "https://doi.org/10.1/x", "https://doi.org/10.1/x")
    assert parsed.meta.url == "/docs/p.html"


def test_paths_leaving_the_site_are_refused_and_never_read(
    make_site: MakeSite, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 secret")
    site = make_site(
        {
            "_config.yml": "",
            "p.md": page(
                "P",
                resources="\n  - path: ../secret.pdf\n  - path: /linked/secret.pdf\n  - path: /gone.pdf",
            ),
        }
    )
    (site / "linked").symlink_to(tmp_path, target_is_directory=True)
    parsed, problems = _parse(site, "p.md")
    assert [p.kind for p in problems] == ["path-outside-site", "path-outside-site", "dead-link"]
    assert parsed is not None and not any(r.exists for r in parsed.meta.resources)
    assert problems[0].line == 4 and "../secret.pdf" in problems[0].message


def test_section_comes_from_front_matter_else_parent_else_path(make_site: MakeSite) -> None:
    site = make_site(
        {
            "_config.yml": "",
            "a/b.md": page("B", section="custom/place"),
            "a/c.md": page("C", parent="hub"),
            "a/d.md": page("D"),
            "a/index.md": page("A index"),
        }
    )
    sections = {
        rel: _parse(site, rel)[0].meta.section
        for rel in ("a/b.md", "a/c.md", "a/d.md", "a/index.md")
    }
    assert sections == {
        "a/b.md": "custom/place",
        "a/c.md": "hub/c",
        "a/d.md": "a/d",
        "a/index.md": "a",
    }
