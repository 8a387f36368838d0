"""Command lines an attacker or a careless user sends: bytes that are not UTF-8, filters
that hold nothing, an ``--index`` that is a broken symbolic link, a site that is a device,
mistyped options. Each is refused with one ``error:`` line and its exit code, whichever way
the line was read (the fast path for ``query``, or Typer), and nothing is created."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from helpers import one_error_line, run_cli, write_files

from chcsearch.cli import run
from chcsearch.console import _absolute_url, parse_years, split_traceback
from chcsearch.errors import UsageError

NOT_UTF8 = os.fsdecode(b"\xff")


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-args")
    write_files(
        root / "reports",
        {"heart/clinic.txt": "Heart failure clinic\n\nAsthma nurse clinics cut readmissions."},
    )
    built = run_cli("index", str(root / "reports"), "--index", str(root / "ix"), "-q")
    assert built.returncode == 0, built.stderr
    return root / "ix"


def _refused(args: list[str], code: int, cwd: Path) -> str:
    """Run ``args`` in ``cwd``; check it is refused with ``code`` and that nothing was made."""
    before = sorted(cwd.rglob("*"))
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert sorted(cwd.rglob("*")) == before
    return one_error_line(result.stderr)


def _typer_route(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The same line read by the Typer app in this process (the fast path's fallback)."""
    code = run(args)
    return code, capsys.readouterr().err


# ---- 1. bytes that are not UTF-8 -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["query", "asthma", "--index", "{ix}", "--section", NOT_UTF8], "the value of --section"),
        (["query", "asthma", "--index", "{ix}", "--level", NOT_UTF8], "the value of --level"),
        (["query", "asthma", "--index", "{ix}", f"--author={NOT_UTF8}"], "the value of --author"),
        (["query", "asthma", "--index", "{ix}", "-n", NOT_UTF8], "the value of -n"),
        (["query", f"asth{NOT_UTF8}", "--index", "{ix}"], "TEXT"),
        (["query", "--index", "{ix}", "--", NOT_UTF8], "TEXT"),
        (["index", "{site}", "--index", f"ix{NOT_UTF8}"], "the value of --index"),
        (["index", f"site{NOT_UTF8}", "--index", "new-ix"], "DIR"),
        (["status", "--index", NOT_UTF8], "the value of --index"),
        ([f"stat{NOT_UTF8}"], "the command"),
        (["query", "asthma", f"--flat{NOT_UTF8}"], "option"),
    ],
)
def test_a_word_that_is_not_utf8_is_a_usage_error_that_names_it_and_makes_nothing(
    tiny_index: Path, tmp_path: Path, args: list[str], named: str
) -> None:
    site = tiny_index.parent / "reports"
    words = [a.format(ix=tiny_index, site=site) for a in args]
    line = _refused(words, 2, tmp_path)
    assert line.startswith(f"error: {named}")
    assert "is not UTF-8 text; every word of a command line must be UTF-8 text" in line
    assert "\\xff" in line


# ---- 2. filters that hold nothing to filter by ----------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "holds"),
    [
        ("--author", "!!!", "a name (a word of two or more letters)"),
        ("--author", " ", "a name"),
        ("--author", "-", "a name"),
        ("--author", "J", "a name"),
        ("--tag", "", "a tag"),
        ("--tag", " ", "a tag"),
        ("--section", "", "a section path"),
        ("--section", "/", "a section path"),
        ("--level", "", "a numbering such as 2.5"),
        ("--level", " . ", "a numbering"),
    ],
)
def test_a_filter_that_holds_no_words_is_refused_on_both_routes(
    tiny_index: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    holds: str,
) -> None:
    args = ["query", "asthma", "--index", str(tiny_index), option, value]
    line = _refused(args, 2, tmp_path)
    assert line.startswith(f"error: {option} {value!r} holds nothing to filter by; ")
    assert f"a value must hold {holds}" in line
    assert f"Example: chcsearch query stroke {option} " in line
    code, err = _typer_route(args, capsys)
    assert (code, one_error_line(err)) == (2, line)


def test_a_filter_with_words_still_filters(tiny_index: Path) -> None:
    result = run_cli("query", "asthma", "--index", str(tiny_index), "--author", "zzz", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert '"total": 0' in result.stdout


# ---- 3. an --index that is a broken symbolic link --------------------------------------


@pytest.mark.parametrize("command", [["query", "asthma"], ["status"], ["index", "{site}"]])
@pytest.mark.parametrize(
    ("link", "said"),
    [("dangling", "is a symbolic link that leads nowhere"), ("loop", "is a symbolic link loop")],
)
def test_an_index_that_is_a_broken_symbolic_link_is_called_what_it_is(
    tiny_index: Path, tmp_path: Path, command: list[str], link: str, said: str
) -> None:
    index_link = tmp_path / link
    if link == "loop":
        (tmp_path / "other").symlink_to(index_link)
        index_link.symlink_to(tmp_path / "other")
    else:
        index_link.symlink_to(tmp_path / "nowhere")
    site = tiny_index.parent / "reports"
    args = [a.format(site=site) for a in command]
    line = _refused([*args, "--index", str(index_link)], 3, tmp_path)
    assert line == (
        f"error: {index_link} {said}, not an index folder; give --index the folder that "
        "chcsearch index wrote (or a new folder to index into)."
    )
    assert "is a file" not in line


# ---- 4. a site that is no folder: refused before the index folder is made -------------


@pytest.mark.parametrize("site", ["/dev/null", "fifo", "missing"])
def test_a_site_that_is_no_folder_leaves_no_index_folder_behind(tmp_path: Path, site: str) -> None:
    if site == "fifo":
        os.mkfifo(tmp_path / "fifo")
    line = _refused(["index", site, "--index", "ixf2"], 3, tmp_path)
    assert "pass the folder that holds your site" in line
    assert not (tmp_path / "ixf2").exists()


# ---- 5. did you mean: the option meant, with an example of it --------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["query", "asthma", "--ind", "ix"],
            "error: chcsearch query has no option --ind; did you mean --index? "
            "See: chcsearch query --help",
        ),
        (
            ["query", "asthma", "--json"],
            "error: chcsearch query has no option --json; did you mean --format json? "
            "See: chcsearch query --help",
        ),
        (
            ["query", "asthma", "--traceback=1"],
            "error: --traceback is a flag and takes no value; give it alone. "
            'Example: chcsearch query "technical infrastructure" --traceback',
        ),
        (
            ["query", "asthma", "--format"],
            "error: --format needs a value (text|json|jsonl|csv|bibtex|ris|trec). "
            'Example: chcsearch query "technical infrastructure" --format json',
        ),
        (
            ["index", "--jobs"],
            "error: --jobs needs a value (N). Example: chcsearch index content --jobs 2",
        ),
        (
            ["status", "--json=yes"],
            "error: --json is a flag and takes no value; give it alone. "
            "Example: chcsearch status --json",
        ),
        (
            ["query", "asthma", "--version"],
            "error: --version is an option of chcsearch itself, not of chcsearch query: "
            "chcsearch --version",
        ),
    ],
)
def test_a_mistyped_option_is_answered_with_the_option_meant(
    tmp_path: Path, args: list[str], message: str
) -> None:
    assert _refused(args, 2, tmp_path) == message


# ---- 6. option errors name the option, not the setting behind it -----------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["index", "site", "--pdf-timeout", "x"],
            "error: --pdf-timeout must be a number of seconds from 0.1 to 86400, got 'x'.",
        ),
        (
            ["index", "site", "--pdf-memory", "1"],
            "error: --pdf-memory must be a whole number of megabytes, at least 64",
        ),
        (["index", "site", "--jobs", "x"], "error: --jobs must be a whole number of processes"),
        (["serve", "--site-url", "foo"], "error: --site-url 'foo' is not a site's public address"),
        (["serve", "--host", " "], "error: --host must be an address such as 127.0.0.1"),
        (["serve", "--frame-ancestors", "x"], "error: --frame-ancestors 'x' is not none, self"),
        (["index", "site", "-c", "a b"], "error: --collection: collection name 'a b' is not"),
    ],
)
def test_an_option_error_names_the_option_only(
    tmp_path: Path, args: list[str], message: str
) -> None:
    line = _refused(args, 2, tmp_path)
    assert line.startswith(message)
    assert "option --" not in line
    assert not any(name in line for name in ("pdf_timeout", "pdf_memory", "site_url", ": jobs"))


def test_an_environment_setting_still_names_where_it_came_from(tmp_path: Path) -> None:
    result = run_cli("index", "site", env={"CHCSEARCH_PDF_TIMEOUT": "x"}, cwd=tmp_path)
    assert result.returncode == 3
    assert one_error_line(result.stderr) == (
        "error: environment CHCSEARCH_PDF_TIMEOUT: pdf_timeout must be a number of seconds "
        "from 0.1 to 86400, got 'x'."
    )


# ---- 7. an option that takes a value takes the next word, --traceback or not ----------


def test_traceback_after_an_option_that_takes_a_value_is_that_value_on_both_routes(
    tiny_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = ["query", "--section", "--traceback", "asthma", "--index", str(tiny_index)]
    fast = run_cli(*section)
    assert fast.returncode == 0, fast.stderr
    assert fast.stderr == "note: no document has the section '--traceback'\n"
    assert run(section) == 0
    assert capsys.readouterr().err == fast.stderr

    limit = ["query", "asthma", "-n", "--traceback", "--index", str(tiny_index)]
    fast = run_cli(*limit)
    assert fast.returncode == 2
    line = one_error_line(fast.stderr)
    assert line.startswith("error: --limit '--traceback' is not a whole number")
    code, err = _typer_route(limit, capsys)
    assert (code, one_error_line(err)) == (2, line)


def test_split_traceback_leaves_the_value_of_an_option_alone() -> None:
    assert split_traceback(["--section", "--traceback", "x"], {"--section"}) == (
        ["--section", "--traceback", "x"],
        False,
    )
    assert split_traceback(["x", "--traceback", "--flat"], {"--section"}) == (["x", "--flat"], True)
    assert split_traceback(["--", "--traceback"]) == (["--", "--traceback"], False)


# ---- 8. values built to hurt: slow patterns, numbers too long to read, terminal codes -----


def test_a_year_of_many_spaces_is_refused_at_once(tmp_path: Path) -> None:
    raw = " " * 20_000 + "x"
    start = time.perf_counter()
    with pytest.raises(UsageError, match="is not a year or a range of years"):
        parse_years(raw)
    assert time.perf_counter() - start < 0.1
    assert parse_years(" 2018 .. 2020 ") == (2018, 2020)
    assert parse_years("..2020") == (0, 2020) and parse_years("2018..") == (2018, 9999)
    line = _refused(["query", "x", "--index", "ix", "--year", raw], 2, tmp_path)
    assert line.startswith("error: --year '") and "(20,001 characters) is not a year" in line


@pytest.mark.parametrize(
    ("option", "span"), [("--limit", "from 1 to 1,000"), ("--page", "of 1 or more")]
)
def test_a_number_too_long_for_python_to_read_is_a_usage_error_on_both_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, span: str
) -> None:
    args = ["query", "x", "--index", "ix", option, "9" * 5_000]
    line = _refused(args, 2, tmp_path)
    assert line.startswith(
        f"error: {option} '99999999999999999999…' (5,000 characters) is not a whole number {span}."
    )
    code, err = _typer_route(args, capsys)
    assert (code, one_error_line(err)) == (2, line)


def test_an_error_that_quotes_a_path_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "ix\x1b[2J\x1b]0;owned\x07\u202eevil"
    args = ["query", "asthma", "--index", hostile]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 4 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", line), line
    assert "ix[2J]0;ownedevil" in line
    # the Typer route writes the same line
    monkeypatch.chdir(tmp_path)
    code, err = _typer_route(args, capsys)
    assert (code, one_error_line(err)) == (4, line)


def test_a_query_of_only_control_or_invisible_characters_is_no_query(
    tiny_index: Path, tmp_path: Path
) -> None:
    line = _refused(["query", "\x1b\u200b\x07", "--index", str(tiny_index)], 2, tmp_path)
    assert line.startswith("error: the query is empty; give the words to search for.")
    batch = tmp_path / "queries.txt"
    batch.write_text("\x00\n\x1b\u200b\nasthma\n\x07\r\n", encoding="utf-8")
    result = run_cli("query", "--batch", str(batch), "--index", str(tiny_index))
    assert result.returncode == 0, result.stderr
    assert [json.loads(row)["id"] for row in result.stdout.splitlines()] == ["3"]
    with_ids = tmp_path / "ids.txt"
    with_ids.write_text("q1\tasthma\nq2\t\x00\x1b\n", encoding="utf-8")
    refused = run_cli("query", "--batch", str(with_ids), "--index", str(tiny_index))
    assert refused.returncode == 3
    assert "line 2: id 'q2' has no query after its tab" in one_error_line(refused.stderr)


def test_the_root_of_the_file_system_is_a_base_url(tiny_index: Path) -> None:
    assert _absolute_url("--base-url", "file:///") == "file:///"
    assert _absolute_url("--base-url", "file://localhost/") == "file://localhost/"
    assert _absolute_url("--base-url", "file:///srv/reports/") == "file:///srv/reports"
    result = run_cli("query", "asthma", "--index", str(tiny_index), "--base-url", "file:///")
    assert result.returncode == 0, result.stderr
    assert "file:///" in result.stdout
    assert not re.search(r"file:/[^/]", result.stdout), result.stdout


# ---- 9. whole numbers are ASCII digits, from every source -------------------------------


@pytest.mark.parametrize("text", ["1_0", "\u0668", "\uff18", "+5", "0x10"])
def test_a_whole_number_is_ascii_digits_from_a_flag_or_the_environment(
    tmp_path: Path, text: str
) -> None:
    jobs = _refused(["index", "site", "--jobs", text], 2, tmp_path)
    assert (
        jobs
        == f"error: --jobs must be a whole number of processes (0 means all cores), got {text!r}."
    )
    limit = _refused(["query", "x", "--index", "ix", "-n", text], 2, tmp_path)
    assert limit.startswith(f"error: --limit {text!r} is not a whole number from 1 to 1,000.")
    for var, said in (
        ("CHCSEARCH_JOBS", "jobs must be a whole number of processes"),
        ("CHCSEARCH_PDF_MEMORY", "pdf_memory must be a whole number of megabytes"),
    ):
        result = run_cli("index", "site", env={var: text}, cwd=tmp_path)
        assert result.returncode == 3
        assert one_error_line(result.stderr).startswith(f"error: environment {var}: {said}")
    port = run_cli("serve", env={"CHCSEARCH_PORT": text}, cwd=tmp_path)
    assert port.returncode == 3
    assert one_error_line(port.stderr) == (
        f"error: environment CHCSEARCH_PORT: port must be a whole number from 1 to 65535, "
        f"got {text!r}."
    )
