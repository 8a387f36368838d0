"""Exports and terminal output that no title, file name, sidecar or option can break.

A tiny folder archive whose file names, PDF metadata and sidecars were written
by an attacker (line ends and RIS tags in a file name, spreadsheet formulas in
titles and authors, a URL that closes a BibTeX field, escape sequences) is
indexed, searched through the real CLI in every format, and read back with the
parsers people use: exactly one record per result with its title, no cell a
spreadsheet would run, no control character anywhere. The renderers are also
given results that hold what an index should never hold, since they must not
trust it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from helpers import run_cli, settings_for, write_files
from pdfgen import PageSpec, PdfSpec, make_pdf

from chcsearch.console import batch_queries
from chcsearch.discover import safe_link
from chcsearch.errors import ConfigError
from chcsearch.ingest import build_index
from chcsearch.render import (
    citation_stem,
    csv_cell,
    printable,
    results_bibtex,
    results_csv,
    results_ris,
    results_text,
    trec_docid,
    with_links,
)
from chcsearch.results import FacetValue, Hit, Part, SearchRequest, SearchResults, Snip
from chcsearch.sources import normalize_site_url, quote_unsafe, with_site_url
from chcsearch.text import INVISIBLE

#: Control characters but the line end, and the bidirectional overrides and isolates
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA = ("=", "+", "-", "@")

RIS_FILE = "x\nER  - \n\nTY  - JOUR\nTI  - pwned\nER  - \n asthma.pdf"


def _pdf(text: str, title: str | None = None, author: str | None = None) -> bytes:
    return make_pdf(PdfSpec(pages=[PageSpec(lines=(text,))], title=title, author=author))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of a folder archive an attacker wrote; every file matches "asthma"."""
    root = tmp_path_factory.mktemp("hostile exports")
    folder = write_files(
        root / "archive",
        {
            RIS_FILE: _pdf("Asthma newline file.", title="Newline named report"),
            "=HYPERLINK(1) asthma.pdf": _pdf(
                "Asthma formula.",
                title='=HYPERLINK("http://evil","asthma click")',
                author="+Cmd Evil; -Dash Man",
            ),
            "pct%20 hash asthma.pdf": _pdf("Asthma percent one.", title="Percent one"),
            "pct  hash asthma.pdf": _pdf("Asthma percent two.", title="Percent two"),
            "tab\there asthma.pdf": _pdf("Asthma tab.", title="Tab named report"),
            "sidecar asthma.pdf": _pdf("Asthma sidecar."),
            "sidecar asthma.pdf.yml": (
                "title: \"-2+3+cmd|' /C calc'!A0\"\n"
                'authors: ["@SUM(1+1)*cmd Person"]\n'
                'tags: ["=evil()"]\n'
                'url: "https://x.org/a}},@misc{evil,title={pwned}}\\"<b>"\n'
            ),
            "cr asthma.pdf": _pdf("Asthma carriage."),
            "cr asthma.pdf.yml": 'title: "Asthma\\rcarriage return"\nauthors: ["Hans Ørsted"]\n',
            "esc asthma.pdf": _pdf("Asthma escape."),
            "esc asthma.pdf.yml": 'title: "\\e[31mRed\\a asthma \\u202eevil"\nauthors: ["2020"]\n',
            "slash asthma.pdf": _pdf("Asthma backslash."),
            "slash asthma.pdf.yml": 'title: "C:\\\\temp\\\\asthma {x} 50% & y_z"\n',
        },
    )
    build_index(settings_for(folder, root / "index"))
    return root / "index"


def _query(index: Path, output: str, *more: str) -> str:
    done = run_cli("query", "asthma", "--index", str(index), "-n", "50", "-f", output, *more)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _results(index: Path) -> list[dict[str, object]]:
    return list(json.loads(_query(index, "json"))["results"])


def _one_line(text: str) -> str:
    text = re.sub(r"[\u202a-\u202e\u2066-\u2069]", "", text)
    return " ".join(CONTROL.sub(" ", text).split())


# ---- the real CLI on the hostile archive --------------------------------------------


def test_ris_has_one_record_per_result_with_its_title_and_file(hostile: Path) -> None:
    results = _results(hostile)
    assert len(results) == 9
    records = rispy.loads(_query(hostile, "ris"))
    assert [r["title"] for r in records] == [_one_line(str(r["title"])) for r in results]
    assert "pwned" not in {r["title"] for r in records}
    newline = next(r for r in records if r["title"] == "Newline named report")
    assert newline["note"] == _one_line(RIS_FILE)


def test_bibtex_has_one_entry_per_result_and_every_field_stays_in_its_braces(
    hostile: Path,
) -> None:
    results = _results(hostile)
    for more in ((), ("--base-url", "https://x.org/reports")):
        library = bibtexparser.parse_string(
            _query(hostile, "bibtex", *more), append_middleware=[LatexDecodingMiddleware()]
        )
        assert not library.failed_blocks
        assert len(library.entries) == len(results)
        assert "evil" not in {entry.key for entry in library.entries}
        titles = [entry.fields_dict["title"].value.strip("{}") for entry in library.entries]
        assert titles == [_one_line(str(r["title"])) for r in results]
    assert "C:\\temp\\asthma {x} 50% & y_z" in titles  # backslash, braces, % & _ read back


def test_csv_reads_back_the_rows_written_and_no_cell_starts_a_formula(hostile: Path) -> None:
    results = _results(hostile)
    rows = list(csv.reader(io.StringIO(_query(hostile, "csv"), newline="")))
    assert len(rows) == len(results) + 1
    header, body = rows[0], rows[1:]
    assert [row[header.index("title")].removeprefix("'") for row in body] == [
        _one_line(str(r["title"])) for r in results
    ]
    cells = [cell for row in body for cell in row]
    assert not [c for c in cells if c.lstrip(" ").startswith(FORMULA)]
    assert '\'=HYPERLINK("http://evil","asthma click")' in cells
    assert "'+Cmd Evil; -Dash Man" in cells and "'=evil()" in cells


def test_a_batch_on_stdin_writes_csv_with_no_formula(hostile: Path) -> None:
    command = ["query", "--batch", "-", "-f", "csv", "--index", str(hostile), "-n", "50"]
    done = subprocess.run(
        [sys.executable, "-m", "chcsearch", *command],
        input="q1\tasthma\n=cmd\tasthma formula\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout, newline="")))
    assert [row[0] for row in rows[1:]].count("'=cmd") >= 1
    assert not [c for row in rows for c in row if c.lstrip(" ").startswith(FORMULA)]


@pytest.mark.parametrize("output", ["text", "json", "jsonl", "csv", "bibtex", "ris", "trec"])
def test_no_output_format_holds_a_control_character(hostile: Path, output: str) -> None:
    text = _query(hostile, output)
    assert not CONTROL.findall(text), output


def test_every_link_is_percent_encoded_in_every_format(hostile: Path) -> None:
    for output in ("text", "json", "csv", "ris"):
        text = _query(hostile, output, "--base-url", "https://x.org")
        links = re.findall(r"https://[^\s,\"]+", text)
        assert len(links) >= 9 and not [u for u in links if re.search(r"[{}<>|^`\\]", u)]
    bibtex = _query(hostile, "bibtex", "--base-url", "https://x.org")
    links = re.findall(r"\\url\{([^}]*)\}", bibtex)
    assert len(links) == 9 and not [u for u in links if re.search(r"[\s{<>|^`\"]", u)]
    urls = [str(r["url"]) for r in _results(hostile)]
    assert "https://x.org/a%7D%7D,@misc%7Bevil,title=%7Bpwned%7D%7D%22%3Cb%3E#page=1" in urls


def test_trec_lines_have_six_columns_and_one_docid_per_file(hostile: Path) -> None:
    lines = _query(hostile, "trec").splitlines()
    assert len(lines) == 9 and all(len(line.split()) == 6 for line in lines)
    docids = [line.split()[2] for line in lines]
    assert len(set(docids)) == 9
    assert {"pct%2520%20hash%20asthma.pdf", "pct%20%20hash%20asthma.pdf"} <= set(docids)
    assert "tab%09here%20asthma.pdf" in docids


@pytest.mark.parametrize(
    "value",
    [
        "https://x.org\nER  - \n\nTY  - JOUR",
        "javascript://x/%0aalert(document.domain)%0a%2f%2f",
        "data://x/",
        "ftp://x.org/reports",
        " https://x.org",
        "https://x.org/my reports",
        'https://x.org/"onmouseover',
        "https://x.org/}},@misc{evil,title={pwned}}",
        "https://x.org/a\tb",
        "https://x.org/<b>",
        "https://x.org/a|b^c`d\\e",
        "https://x.org?q=1",
        "https:///reports",
        "x.org/reports",
    ],
)
def test_a_base_url_that_is_not_a_plain_address_is_a_usage_error(hostile: Path, value: str) -> None:
    done = run_cli("query", "asthma", "--index", str(hostile), "-f", "ris", "--base-url", value)
    assert done.returncode == 2 and not done.stdout
    assert repr(value) in done.stderr and "Example:" in done.stderr


def test_http_https_and_file_base_urls_are_accepted(hostile: Path) -> None:
    for value, start in [
        ("https://x.org/reports/", "https://x.org/reports/"),
        ("http://x.org", "http://x.org/"),
        ("file:///srv/the%20library", "file:///srv/the%20library/"),
    ]:
        records = rispy.loads(_query(hostile, "ris", "--base-url", value))
        # all but the sidecar's, whose own address is off the archive
        assert sum(r["urls"][0].startswith(start) for r in records) == len(records) - 1


def test_batch_ids_with_space_given_twice_or_without_a_query_are_refused(
    hostile: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "queries.tsv"
    batch.write_text("q 1\tasthma\nq2\tasthma\nq2\tformula\nq3\t\n4\tx\nasthma\n", encoding="utf-8")
    done = run_cli("query", "--batch", str(batch), "--index", str(hostile), "-f", "trec")
    assert done.returncode == 3 and not done.stdout
    message = " ".join(done.stderr.split())
    assert "line 1: id 'q 1' is empty or holds white space" in message
    assert "line 3: id 'q2' is on line 2 already" in message
    assert "line 4: id 'q3' has no query after its tab" in message
    assert "line 5" not in message and "line 6" not in message  # ids "4" and "6" differ


def test_a_refused_query_in_a_batch_is_searched_as_its_plain_words(
    hostile: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("*asthma*\n", encoding="utf-8")
    done = run_cli("query", "--batch", str(batch), "--index", str(hostile))
    assert done.returncode == 0, done.stderr
    assert "searched as its plain words 'asthma' instead" in done.stderr
    assert json.loads(done.stdout)["total"] == 9


# ---- renderers given what an index should never hold --------------------------------

EVIL = "\x1b[31mRed\x07 \u202eevil\u2066 one\rtwo\nthree \x9b2J"


def _evil_results() -> SearchResults:
    snippet = Snip(text=f"{EVIL} asthma", html="", spans=((len(EVIL) + 1, len(EVIL) + 7),))
    part = Part(
        source="b\x1b.pdf",
        kind="pdf",
        page=2,
        url="/b\x1b.pdf#page=2",
        score=1.0,
        snippet=snippet,
        title=f"Other {EVIL}",
        page_label="i\x1b",
    )
    hit = Hit(
        id="1",
        source=f"a\n{EVIL}.pdf",
        title=f"={EVIL} {{open",
        section="hub",
        breadcrumb=(f"Hub {EVIL}",),
        level="report",
        kind="pdf",
        url='/a b"<>{}|^`\\\x1b.pdf#page=1',
        page=1,
        score=1.5,
        snippet=snippet,
        parts=(part,),
        page_label="iv\x07",
        authors=(f"@{EVIL}",),
        year=2020,
        tags=(f"-{EVIL}",),
    )
    return SearchResults(
        query="asthma",
        corrected_query=None,
        total=1,
        page=1,
        limit=10,
        request=SearchRequest.make("asthma"),
        section_facets=(FacetValue(value="hub", count=1, title=f"Hub {EVIL}"),),
        kind_facets=(FacetValue(value="pdf", count=1),),
        results=(hit,),
        took_ms=1.0,
    )


@pytest.mark.parametrize("colour", [False, True])
def test_the_text_output_prints_no_control_character_the_index_holds(colour: bool) -> None:
    text = results_text(_evil_results(), colour=colour, base_url="https://x.org")
    if colour:  # only its own styles, which it opens and closes
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not CONTROL.findall(text.replace("\n", ""))
    assert "Red evil one two three 2J asthma" in text
    assert "https://x.org/a%20b%22%3C%3E%7B%7D%7C%5E%60%5C%1B.pdf#page=1" in text


def test_the_marked_words_of_a_snippet_stay_marked_once_controls_are_gone() -> None:
    text = results_text(_evil_results(), colour=True)
    assert "\x1b[1;33masthma\x1b[0m" in text


def test_exports_of_hostile_results_read_back_as_one_record() -> None:
    results = with_links(_evil_results(), {"": "https://x.org"})
    records = rispy.loads(results_ris(results))
    assert len(records) == 1 and records[0]["title"] == _one_line(f"={EVIL} {{open")
    library = bibtexparser.parse_string(results_bibtex(results))
    assert len(library.entries) == 1 and not library.failed_blocks
    written = results_csv(results, query_id="@q")
    rows = list(csv.reader(io.StringIO(written, newline="")))
    assert len(rows) == 2 and not CONTROL.findall(written)
    assert not [c for c in rows[1] if c.lstrip(" ").startswith(FORMULA)]


def test_a_csv_cell_that_would_start_a_formula_gets_an_apostrophe() -> None:
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("  -2") == "'  -2"
    assert csv_cell("\t@x") == "' @x"  # the tab is a space first, then the cell is quoted
    assert csv_cell("a\rb") == "a b"
    assert csv_cell("plain - text") == "plain - text"


def test_links_and_docids_are_percent_encoded_once() -> None:
    assert quote_unsafe('/a b"<>\\{}|^`\x00\u202e%20') == (
        "/a%20b%22%3C%3E%5C%7B%7D%7C%5E%60%00%E2%80%AE%20"
    )
    assert quote_unsafe(quote_unsafe("/a b")) == "/a%20b"
    assert trec_docid("pct%20 hash") != trec_docid("pct  hash")
    assert trec_docid("a\nb\tc") == "a%0Ab%09c"


def test_a_hand_written_link_is_stored_percent_encoded() -> None:
    assert safe_link('https://x.org/a}},@misc{evil}"<b>') == (
        "https://x.org/a%7D%7D,@misc%7Bevil%7D%22%3Cb%3E"
    )
    assert safe_link("https://x.org\\@evil.example/") is None
    assert safe_link("https://x y.org/") is None


def test_citation_keys_keep_letters_start_with_one_and_are_capped() -> None:
    assert citation_stem(["Hans Ørsted"], 1820, "Œuvres") == "orsted1820oeuvres"
    assert citation_stem(["Łukasz Straße"], None, "Þing") == "strassething"
    assert citation_stem(["2020"], 2020, "2020 vision") == "vision2020"
    assert citation_stem(["Evil"], None, '=HYPERLINK("http://evil","x")') == (
        "evilhyperlinkhttpevilx"
    )
    assert len(citation_stem(["A" * 50], 2019, "B" * 50)) == 20 + 4 + 20


def test_the_api_never_hands_out_a_raw_quote_or_angle_bracket_an_old_index_holds() -> None:
    answer = {"results": [{"url": '/a"<b>.pdf', "group_url": "/a b", "parts": [{"url": "/c{"}]}]}
    moved = with_site_url(answer, "")
    assert moved["results"][0]["url"] == "/a%22%3Cb%3E.pdf"
    assert moved["results"][0]["group_url"] == "/a%20b"
    assert moved["results"][0]["parts"][0]["url"] == "/c%7B"
    assert answer["results"][0]["url"] == '/a"<b>.pdf'  # the cached answer is left as it is
    assert normalize_site_url("https://x.org/}") is None


# ---- invisible characters, names that BibTeX would split, addresses that mislead ----

ZW = "\u200b"


@pytest.fixture(scope="module")
def invisible(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of a folder archive whose file names and sidecars hold invisible
    characters, a corporate name with "and" in it and cells that start a formula once an
    invisible or full-width character is read past; every file matches "asthma"."""
    root = tmp_path_factory.mktemp("invisible")
    folder = write_files(
        root / "archive",
        {
            f"zero{ZW}width asthma.pdf": _pdf("Asthma zero width.", title="Zero width"),
            f"zero{ZW}width asthma.pdf.yml": (
                f'title: "Zero{ZW}width \\ufeffreport \\U000E0041tag\\ufe0f"\n'
                'authors: ["Smith and Jones", "Ωmega Person"]\n'
                f'tags: ["{ZW}=zw", "\\ufeff=bom", "＝full", "＋plus", "＠at", "－minus"]\n'
            ),
        },
    )
    build_index(settings_for(folder, root / "index"))
    return root / "index"


def test_a_name_with_and_in_it_stays_one_author_in_bibtex_and_ris(invisible: Path) -> None:
    library = bibtexparser.parse_string(
        _query(invisible, "bibtex"), append_middleware=[SeparateCoAuthors()]
    )
    assert not library.failed_blocks
    assert library.entries[0]["author"] == ["{Smith and Jones}", "Ωmega Person"]
    records = rispy.loads(_query(invisible, "ris"))
    assert records[0]["authors"] == ["Smith and Jones", "Ωmega Person"]


@pytest.mark.parametrize("output", ["text", "csv", "bibtex", "ris", "trec"])
def test_no_export_nor_the_text_output_holds_an_invisible_character(
    invisible: Path, output: str
) -> None:
    text = _query(invisible, output, "--base-url", "https://x.org")
    assert not INVISIBLE.findall(text), output
    assert ZW in _results(invisible)[0]["source"]  # JSON is data: the file's own name


def test_a_link_percent_encodes_an_invisible_character_in_every_format(invisible: Path) -> None:
    assert _results(invisible)[0]["url"] == "/zero%E2%80%8Bwidth%20asthma.pdf#page=1"
    for output in ("text", "csv", "ris"):
        assert "https://x.org/zero%E2%80%8Bwidth%20asthma.pdf" in _query(
            invisible, output, "--base-url", "https://x.org"
        )


def test_a_csv_cell_starting_a_formula_behind_an_invisible_or_full_width_character_is_quoted(
    invisible: Path,
) -> None:
    rows = list(csv.reader(io.StringIO(_query(invisible, "csv"), newline="")))
    tags = rows[1][rows[0].index("tags")]
    assert tags == "'=zw; =bom; ＝full; ＋plus; ＠at; －minus"
    for tag in ("\u200b=zw", "\ufeff=bom", "＝full", "＋plus", "＠at", "－minus", " \u3000=x"):
        assert csv_cell(tag).startswith("'"), tag
    assert csv_cell("\ufeff=bom") == "'=bom"
    assert csv_cell("a＝b") == "a＝b"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("https://ex.org%", "a % must start an escape of two hexadecimal digits"),
        ("https://ex.org/a%", "holds '%'"),
        ("https://ex.org/%zz", "holds '%zz'"),
        ("https://ex.org/a%2", "holds '%2'"),
        (f"https://ex.org/{ZW}r", "'\\u200b' is %E2%80%8B"),
        ("https://ex.org/\U000e0041", "percent-encode it"),
        ("https://ex.org/ｘ", "write it percent-encoded: https://ex.org/%EF%BD%98"),
        ("https://аррӏе.com/", "its IDNA form 'xn--80ak6aa92e.com'"),
        ("https://-/", "has the host '-', which is not a DNS name"),
        ("https://x_y.org/", "has the host 'x_y.org'"),
        ("https://1.2.3/", "neither a DNS name nor an IPv4 address"),
        ("file://evil.com/share", "a network share on Windows"),
        ("file:///tmp/../../etc", "a . or .. segment"),
        ("https://x.org/a/%2e%2e/b", "a . or .. segment"),
        ("file:///srv/Bibliothèque", "file:///srv/Biblioth%C3%A8que"),
    ],
)
def test_a_base_url_giving_broken_or_misleading_links_is_a_usage_error(
    invisible: Path, value: str, said: str
) -> None:
    done = run_cli("query", "asthma", "--index", str(invisible), "-f", "ris", "--base-url", value)
    assert done.returncode == 2 and not done.stdout
    assert repr(value) in done.stderr and said in done.stderr
    assert normalize_site_url(value) is None


def test_ip_addresses_localhost_and_percent_escapes_are_base_urls(invisible: Path) -> None:
    for value, start in [
        ("http://[::1]:8080/r", "http://[::1]:8080/r/"),
        ("https://127.0.0.1/r", "https://127.0.0.1/r/"),
        ("https://x-y.example/%E2%80%8Br", "https://x-y.example/%E2%80%8Br/"),
        ("file://localhost/srv/r", "file://localhost/srv/r/"),
    ]:
        records = rispy.loads(_query(invisible, "ris", "--base-url", value))
        assert records[0]["urls"][0].startswith(start), value


def test_a_batch_file_splits_at_line_ends_only_and_names_the_lines_at_fault(
    invisible: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "queries.tsv"
    batch.write_text(
        "\ufeffq1\tasthma\r\n"
        "q2\tasthma\u2028width\fzero\u2029x\r\n"
        f"q{ZW}3\tasthma\n"
        "q1\tzero\n"
        f"q5\t{ZW}\n"
        f"{ZW}\n",
        encoding="utf-8",
        newline="",
    )
    done = run_cli("query", "--batch", str(batch), "--index", str(invisible), "-f", "trec")
    assert done.returncode == 3 and not done.stdout
    message = " ".join(done.stderr.split())
    assert "line 3: id 'q\\u200b3' holds the invisible character U+200B" in message
    assert "line 4: id 'q1' is on line 1 already" in message
    assert "line 5: id 'q5' has no query after its tab" in message
    assert "line 2" not in message and "line 6" not in message and "line 7" not in message


def test_a_batch_file_with_a_bom_and_crlf_line_ends_reads_as_its_lines(
    invisible: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "queries.tsv"
    batch.write_bytes("\ufeffq1\tasthma\r\nq2\tzero\u2028asthma\r\n".encode())
    assert batch_queries(batch, io.StringIO()) == [("q1", "asthma"), ("q2", "zero\u2028asthma")]
    done = run_cli("query", "--batch", str(batch), "--index", str(invisible), "-f", "trec")
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["q1", "q2"]
    with pytest.raises(ConfigError, match="line 2: id 'q\\\\u2060' holds"):
        batch_queries(Path("-"), io.StringIO("q\u2060\tx\nq\u2060\ty\n"))


def test_every_format_character_of_unicode_is_invisible_and_printed_as_nothing() -> None:
    format_characters = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(format_characters) > 150
    assert not [c for c in format_characters if not INVISIBLE.fullmatch(c)]
    assert printable("a\u200bb\ufeffc\U000e0041d\ufe0fe\u2066f\u00adg") == "abcdefg"
    assert quote_unsafe(f"/a{ZW}b\ufeff") == "/a%E2%80%8Bb%EF%BB%BF"


def test_the_written_out_invisible_class_is_what_a_scan_of_unicode_finds() -> None:
    # text.INVISIBLE_CHARS is a literal (a scan at start-up cost 14 ms a command): every
    # format character, the other default-ignorable code points, the variation selectors
    ignorable = [
        (0x034F, 0x034F),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFFB),
        (0x13430, 0x1343F),  # Egyptian hieroglyph format controls (Cf from Unicode 15)
        (0xE0000, 0xE0FFF),
    ]
    expected = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    expected |= {c for first, last in ignorable for c in range(first, last + 1)}
    assert {c for c in range(0x110000) if INVISIBLE.fullmatch(chr(c))} == expected


def test_the_text_output_drops_invisible_characters_and_keeps_the_marks() -> None:
    results = _evil_results()
    hit = results.results[0]
    text = f"{ZW}zero{ZW} \ufeffwidth asthma"
    snippet = Snip(text=text, html="", spans=((len(text) - 6, len(text)),))
    moved = replace(results, results=(replace(hit, snippet=snippet, title=f"T{ZW}itle"),))
    shown = results_text(moved, colour=True)
    assert not INVISIBLE.findall(shown)
    assert "zero width \x1b[1;33masthma\x1b[0m" in shown and "Title" in shown


def test_exports_drop_invisible_characters_from_notes_and_file_names() -> None:
    results = _evil_results()
    hit = replace(results.results[0], source=f"a{ZW}b\ufeff.pdf", title=f"T{ZW}itle")
    moved = replace(results, results=(hit,))
    ris = results_ris(moved)
    bibtex = results_bibtex(moved)
    assert not INVISIBLE.findall(ris) and not INVISIBLE.findall(bibtex)
    assert rispy.loads(ris)[0]["note"] == "ab.pdf"
    assert "Source: ab.pdf" in bibtex


def test_citation_keys_transliterate_greek_letters() -> None:
    assert citation_stem(["Ωmega Person"], 2020, "Ωmega") == "person2020omega"
    assert citation_stem(["Σωκράτης Ψαράς"], 2019, "Θεραπεία του άσθματος") == (
        "psaras2019therapeia"
    )


#: Every character the shared rules (``chcsearch.text``) make invisible that is a letter
#: or a joiner to Unicode, with a format character of each kind: the Hangul fillers, the
#: zero-width joiner, a tag, a variation selector, the combining grapheme joiner.
HIDDEN = "\u3164\u115f\u1160\uffa0\u200d\U000e0041\ufe0f\u034f\u00ad\u2066"


def test_every_invisible_character_is_dropped_from_every_output_and_encoded_in_links() -> None:
    """One set of invisible characters (``text.INVISIBLE``) for titles, terminal
    text, CSV, RIS, BibTeX, TREC docids and links: every format character of
    Unicode and the Hangul fillers among them."""
    from chcsearch.pdfmeta import clean_title, visible_text
    from chcsearch.text import INVISIBLE as SHARED

    assert SHARED is INVISIBLE
    hidden = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    hidden += list(HIDDEN)
    for char in hidden:
        code = hex(ord(char))
        assert visible_text(f"a{char}b") == "ab", code
        assert printable(f"a{char}b") == "ab", code
        assert csv_cell(f"a{char}b") == "ab", code
        assert trec_docid(f"a{char}b") != f"a{char}b" and "%" in trec_docid(f"a{char}b"), code
        assert (
            quote_unsafe(f"/a{char}b")
            == "/a" + "".join(f"%{byte:02X}" for byte in char.encode()) + "b"
        ), code
        assert safe_link(f"/a{char}b") == quote_unsafe(f"/a{char}b"), code
    assert clean_title("\u3164\u3164") == clean_title(HIDDEN) == ""
    results = _evil_results()
    hit = replace(
        results.results[0],
        title=f"T{HIDDEN}itle",
        authors=(f"Ann{HIDDEN} Smith",),
        source=f"a{HIDDEN}b.pdf",
        url=f"/a{HIDDEN}b.pdf#page=1",
    )
    moved = replace(results, results=(hit,))
    for output in (
        results_text(moved, colour=False),
        results_csv(moved),
        results_ris(moved),
        results_bibtex(moved),
    ):
        assert not INVISIBLE.findall(output), output
    record = rispy.loads(results_ris(moved))[0]
    assert (record["title"], record["authors"], record["note"]) == (
        "Title",
        ["Ann Smith"],
        "ab.pdf",
    )
    assert next(csv.DictReader(io.StringIO(results_csv(moved))))["title"] == "Title"


def test_a_joiner_inside_a_persian_word_is_kept_in_text_and_encoded_in_links() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert printable(persian) == csv_cell(persian) == persian
    assert "%E2%80%8C" in quote_unsafe("/" + persian)
