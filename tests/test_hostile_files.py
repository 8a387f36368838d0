"""No text file can take an index run down: each hostile file is a named warning.

Each scenario puts one hostile file in a tiny site beside a normal page,
indexes it through the CLI, and checks the warning (code and file), that the
run succeeded and that the normal page is indexed and found. A link that is
not http(s) or a site path (``javascript:``) is dropped with a warning, and
never reaches a result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import page
from pdfgen import text_pdf
from typer.testing import CliRunner

from chcsearch.cli import app
from chcsearch.discover import safe_link, scan_site
from chcsearch.documents import text_too_large, with_text
from chcsearch.index import IndexStore, stored_documents
from chcsearch.model import Document
from chcsearch.parse import (
    MAX_PAGE_BYTES,
    MAX_TEXT_CHARS,
    convert_markdown,
    markdown_to_text,
    parse_page,
)
from chcsearch.query import Searcher
from chcsearch.sidecars import read_sidecar
from chcsearch.yamlsafe import MAX_DEPTH, load_yaml

MakeSite = Callable[..., Path]

#: "Billion laughs": nine aliases a level, nine levels deep (9**9 strings).
BOMB = "\n".join(
    [
        'a0: &a0 "lol"',
        *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)),
        "",
    ]
)
DEEP = "a: " + "[" * 20_000 + "]" * 20_000 + "\n"
NORMAL = page("Neighbour", "The neighbouring page talks about gooseberries.")


def _index(site: Path, index_dir: Path) -> str:
    result = CliRunner().invoke(app, ["index", str(site), "--index", str(index_dir), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return result.output


def _found(index_dir: Path, words: str) -> list[str]:
    searcher = Searcher(index_dir)
    return [hit.id for hit in searcher.search(words).results]


def _indexed_with_warning(
    make_site: MakeSite, index_dir: Path, files: dict[str, str | bytes], code: str, where: str
) -> str:
    """Index the files beside a normal page; ``where`` is the warning's ``file:line``."""
    site = make_site({"_config.yml": "title: Site\n", "neighbour.md": NORMAL, **files})
    output = _index(site, index_dir)
    assert f"{where}: [{code}]" in output
    assert _found(index_dir, "gooseberries") == ["neighbour.md"]
    return output


def test_a_yaml_bomb_in_front_matter_is_a_warning_and_the_page_keeps_its_body(
    make_site: MakeSite, index_dir: Path
) -> None:
    bomb = "---\ntitle: Bomb page\n" + BOMB + "---\n\n# Heading\n\nAbout elderflowers.\n"
    output = _indexed_with_warning(
        make_site, index_dir, {"bomb.md": bomb}, "yaml-too-complex", "bomb.md:8"
    )
    assert "aliases" in output and "at most 100 aliases" in output
    assert _found(index_dir, "elderflowers") == ["bomb.md"]
    hit = Searcher(index_dir).search("elderflowers").results[0]
    assert hit.title == "Bomb page"


def test_a_yaml_bomb_in_the_site_config_leaves_the_defaults(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site({"_config.yml": BOMB, "neighbour.md": NORMAL})
    output = _index(site, index_dir)
    assert "_config.yml:6: [yaml-too-complex]" in output
    assert _found(index_dir, "gooseberries") == ["neighbour.md"]


@pytest.mark.parametrize("sidecar", ["_meta.yml", "report.md.yml"])
def test_a_yaml_bomb_in_a_sidecar_is_ignored_with_a_warning(
    make_site: MakeSite, index_dir: Path, sidecar: str
) -> None:
    site = make_site(
        {
            "report.md": "# Report\n\nAbout elderflowers.\n",
            "other.md": "# Other\n\nAbout gooseberries.\n",
            sidecar: BOMB,
        }
    )
    output = _index(site, index_dir)
    assert f"{sidecar}:6: [yaml-too-complex]" in output
    assert _found(index_dir, "gooseberries") == ["other.md"]
    assert _found(index_dir, "elderflowers") == ["report.md"]


def test_front_matter_nested_20000_deep_is_a_warning_not_a_crash(
    make_site: MakeSite, index_dir: Path
) -> None:
    deep = "---\ntitle: Deep\n" + DEEP + "---\nAbout elderflowers.\n"
    output = _indexed_with_warning(
        make_site, index_dir, {"deep.md": deep}, "yaml-too-complex", "deep.md:3"
    )
    assert f"nested more than {MAX_DEPTH} deep" in output
    assert _found(index_dir, "elderflowers") == ["deep.md"]


def test_the_yaml_limits_leave_ordinary_aliases_and_nesting_alone() -> None:
    text = "base: &b {x: 1}\none: *b\ntwo: *b\nlevel: 4.10\nnest: [[[[1]]]]\n"
    assert load_yaml(text) == {
        "base": {"x": 1},
        "one": {"x": 1},
        "two": {"x": 1},
        "level": "4.10",
        "nest": [[[[1]]]],
    }


def test_a_sidecar_bomb_names_the_file_and_line() -> None:
    sidecar, _, problems = read_sidecar("a/_meta.yml", BOMB.encode(), folder=True)
    assert sidecar.title == ""
    assert [(p.kind, p.src_path) for p in problems] == [("yaml-too-complex", "a/_meta.yml")]
    assert problems[0].line is not None and problems[0].line > 1


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("whitespace", "Elderflowers " + " " * 200_000 + "x\n"),
        ("brackets", "Elderflowers\n\n" + "[" * 80_000 + "\n"),
        ("liquid", "Elderflowers\n\n" + "{% " * 27_000 + "\n"),
        ("comments", "Elderflowers\n\n" + "<!--" * 20_000 + "\n"),
        ("scripts", "Elderflowers\n\n" + "<script" * 20_000 + "\n"),
        ("attributes", "Elderflowers\n\n" + "{:" * 40_000 + "\n"),
        ("nested-list", "Elderflowers\n\n" + "".join("  " * i + "- x\n" for i in range(1600))),
    ],
)
def test_pathological_markdown_is_indexed(
    make_site: MakeSite, index_dir: Path, name: str, body: str
) -> None:
    site = make_site({"_config.yml": "", "neighbour.md": NORMAL, f"{name}.md": page(name, body)})
    _index(site, index_dir)
    assert _found(index_dir, "gooseberries") == ["neighbour.md"]
    assert _found(index_dir, "elderflowers") == [f"{name}.md"]


def test_markdown_past_its_time_budget_keeps_the_rest_as_written() -> None:
    converted = convert_markdown("# Title\n\nSome **bold** [link](x).\n", seconds=0)
    assert not converted.finished
    assert converted.headings == ("Title",)
    assert "Some **bold** [link](x)." in converted.text


def test_liquid_and_tags_are_removed_however_they_are_left_open() -> None:
    text, _ = markdown_to_text("a {% if x %}b{{ y }} c {% unclosed\n\n<b>d</b> <i e\n")
    assert text.splitlines() == ["a b c {% unclosed", "d <i e"]


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site({"_config.yml": "", "neighbour.md": NORMAL})
    descriptor = os.open(os.fsencode(site) + b"/bad\xff.md", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(descriptor, page("Bad", "Elderflowers.").encode())
    os.close(descriptor)
    output = _index(site, index_dir)
    assert "bad\\xff.md: [file-name-not-utf8]" in output
    assert _found(index_dir, "gooseberries") == ["neighbour.md"]
    again = _index(site, index_dir)
    assert "[file-name-not-utf8]" in again and "unchanged" in again


def test_a_page_larger_than_the_cap_is_indexed_up_to_the_cap(
    make_site: MakeSite, index_dir: Path
) -> None:
    paragraph = "Filler words about nothing in particular.\n\n"
    body = "Elderflowers first.\n\n" + paragraph * (MAX_PAGE_BYTES // len(paragraph)) + "Quinces.\n"
    output = _indexed_with_warning(
        make_site, index_dir, {"huge.md": page("Huge", body)}, "page-too-large", "huge.md"
    )
    assert f"{MAX_TEXT_CHARS:,} characters" in output
    assert _found(index_dir, "elderflowers") == ["huge.md"]
    assert _found(index_dir, "quinces") == []


def test_a_long_page_text_is_cut_with_a_warning(make_site: MakeSite) -> None:
    site = make_site({"_config.yml": "", "long.md": page("Long", "word " * MAX_TEXT_CHARS)})
    scan = scan_site(site)
    parsed, problems = parse_page(scan.pages[0], scan)
    assert parsed is not None and len(parsed.body) <= MAX_TEXT_CHARS
    assert [(p.kind, p.src_path) for p in problems] == [("page-too-large", "long.md")]


def test_every_document_body_is_capped_and_a_pdf_page_gets_a_warning() -> None:
    doc = Document(
        id="r.pdf#page=2",
        source="r.pdf",
        kind="pdf",
        title="R",
        url="/r.pdf#page=2",
        section="",
        ancestors=(),
        breadcrumb=(),
        level="",
        weight=None,
        group="r.pdf",
        linked_from=(),
        page=2,
        page_count=2,
        orphan=True,
        resources=(),
        fingerprint="",
    )
    body = "word " * MAX_TEXT_CHARS
    assert len(with_text(doc, body).body) <= MAX_TEXT_CHARS
    problem = text_too_large(doc, body)
    assert problem is not None and problem.kind == "page-too-large"
    assert problem.src_path == "r.pdf" and "page 2 of this PDF" in problem.message
    assert text_too_large(doc, "short") is None


def test_a_pdf_page_larger_than_the_cap_is_indexed_up_to_the_cap_with_a_warning(
    make_site: MakeSite, index_dir: Path
) -> None:
    line = "Marginalia number {} about tidal tables and nothing else in particular."
    many = [line.format(n) for n in range(MAX_TEXT_CHARS // len(line) + 200)]
    lines = ["Cormorants first.", *many, "Puffins last."]
    files: dict[str, str | bytes] = {
        "report.md": page(
            "Report",
            "See the tables.",
            resources="\n  - path: /assets/tables.pdf\n    title: Tables",
        ),
        "assets/tables.pdf": text_pdf([["A short first page."], lines]),
    }
    output = _indexed_with_warning(
        make_site, index_dir, files, "page-too-large", "assets/tables.pdf"
    )
    assert "page 2 of this PDF" in output and f"{MAX_TEXT_CHARS:,} characters" in output
    assert _found(index_dir, "cormorants") == ["report.md"]
    assert _found(index_dir, "puffins") == []


@pytest.mark.parametrize(
    "body",
    ["Spaces " + " " * 200_000 + "then words", "Brackets\n\n" + "[" * 80_000],
    ids=["whitespace line", "brackets"],
)
def test_a_large_page_that_is_mostly_markup_is_indexed_with_a_warning(
    make_site: MakeSite, index_dir: Path, body: str
) -> None:
    output = _indexed_with_warning(
        make_site, index_dir, {"odd.md": page("Odd", body)}, "page-mostly-markup", "odd.md"
    )
    assert "characters of it are words" in output
    assert _found(index_dir, "odd") == ["odd.md"]


def test_a_large_page_of_prose_gets_no_markup_warning(make_site: MakeSite, index_dir: Path) -> None:
    prose = "The harbour master counts the boats that come in with the tide.\n\n" * 1_500
    site = make_site({"_config.yml": "", "long.md": page("Long", prose)})
    assert "page-mostly-markup" not in _index(site, index_dir)


# ----------------------------------------------------------------------------------------
# Links and special files


def _everything_served(index_dir: Path, words: str) -> str:
    """Every result of ``words`` in every export format, and every stored document."""
    runner = CliRunner()
    outputs = []
    for form in ("json", "jsonl", "csv", "bibtex", "ris", "text"):
        result = runner.invoke(app, ["query", words, "--index", str(index_dir), "-f", form])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    stored = stored_documents(IndexStore(index_dir).open_current())
    return "\n".join([*outputs, repr(stored)])


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("javascript:alert(1)", "javascript:"),
        ("JavaScript:alert(1)", "javascript:"),
        ("data:text/html,<script>alert(1)</script>", "data:"),
        ("//evil.example/x.pdf", "evil.example"),
        ("vbscript:msgbox", "vbscript:"),
    ],
)
def test_a_sidecar_url_that_is_not_http_or_a_site_path_is_dropped_with_a_warning(
    make_site: MakeSite, index_dir: Path, address: str, needle: str
) -> None:
    site = make_site(
        {
            "report.pdf": text_pdf([["Elderflower cordial recipes"]]),
            "report.pdf.yml": f"title: Cordials\nurl: '{address}'\n",
            "other.md": "# Other\n\nAbout gooseberries.\n",
        }
    )
    output = _index(site, index_dir)
    assert (
        f"report.pdf.yml:2: [sidecar-bad-value] url: {address!r} is not a link results can "
        "carry; use an http:// or https:// address, or a path on the site starting with /; "
        "it was ignored."
    ) in " ".join(output.split())
    hits = Searcher(index_dir).search("elderflower").results
    assert [(h.title, h.url) for h in hits] == [("Cordials", "/report.pdf#page=1")]
    assert address.split(":", maxsplit=1)[0].lower() + ":" not in _everything_served(
        index_dir, "elderflower"
    )
    assert _found(index_dir, "gooseberries") == ["other.md"]


def test_a_sidecar_url_that_is_http_is_kept() -> None:
    sidecar, _, problems = read_sidecar(
        "r.pdf.yml", b"url: https://example.org/My Report.pdf\n", folder=False
    )
    assert sidecar.url == "https://example.org/My%20Report.pdf" and not problems


def test_a_front_matter_resource_url_that_is_javascript_is_dropped_with_a_warning(
    make_site: MakeSite, index_dir: Path
) -> None:
    resources = (
        "\n  - url: javascript:alert(1)\n    title: Click me"
        "\n  - url: https://doi.org/10.1/x\n    title: Paper"
    )
    files: dict[str, str | bytes] = {
        "links.md": page("Links", "About elderflowers.", resources=resources)
    }
    output = _indexed_with_warning(make_site, index_dir, files, "bad-value", "links.md:4")
    assert (
        "resources entry 1 url: 'javascript:alert(1)' is not a link results can carry; use an "
        "http:// or https:// address, or a path on the site starting with /"
    ) in " ".join(output.split())
    served = _everything_served(index_dir, "elderflowers")
    assert "javascript:" not in served and "https://doi.org/10.1/x" in served


@pytest.mark.parametrize(
    ("address", "link"),
    [
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("HTTP://example.org", "HTTP://example.org"),
        (" /reports/x.pdf?v=1#p ", "/reports/x.pdf?v=1#p"),
        ("javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("jAvAsCrIpT:alert(1)", None),
        ("data:text/html,x", None),
        ("mailto:someone@example.org", None),
        ("https:///x", None),
        ("https:example.org", None),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("reports/x.pdf", None),
        ("", None),
    ],
)
def test_only_http_addresses_and_site_paths_are_links(address: str, link: str | None) -> None:
    assert safe_link(address) == link


def test_a_fifo_named_like_a_page_is_skipped_with_a_warning_and_never_opened(
    make_site: MakeSite, index_dir: Path
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    site = make_site({"_config.yml": "", "neighbour.md": NORMAL})
    os.mkfifo(site / "x.md")  # opening it would wait for a writer for ever
    output = _index(site, index_dir)
    assert "x.md: [unreadable-file] is not a regular file (a FIFO); it was skipped." in " ".join(
        output.split()
    )
    assert _found(index_dir, "gooseberries") == ["neighbour.md"]


def test_a_fifo_in_a_folder_archive_is_skipped_with_a_warning(make_site: MakeSite) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    site = make_site({"report.md": "# Report\n"})
    os.mkfifo(site / "notes.txt")
    scan = scan_site(site)
    assert [s.src_path for s in scan.pages] == ["report.md"]
    assert [(p.kind, p.src_path) for p in scan.problems] == [("unreadable-file", "notes.txt")]
