"""The command line speaks with one voice: every error is one ``error:`` line on stderr
with the documented exit code, in chcsearch's words, whichever way the line was read
(the fast path for ``query``, or Typer)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import typer
from helpers import one_error_line, run_cli, write_files

import chcsearch
from chcsearch.cli import app
from chcsearch.config import IndexSettings, resolve_index_dir, resolve_index_settings
from chcsearch.console import query_parser, run_query
from chcsearch.errors import EXIT_CODES, UsageError

#: What Typer, click and pydantic would have said in their own voice.


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("voice")
    write_files(
        root / "reports",
        {
            "heart/clinic.txt": "Heart failure clinic\n\nNurse-led clinics reduced readmissions.",
            "stroke/audit.md": "# Stroke audit\n\nDoor-to-needle times for stroke thrombolysis.",
        },
    )
    built = run_cli("index", str(root / "reports"), "--index", str(root / "ix"), "-q")
    assert built.returncode == 0, built.stderr
    return root / "ix"


# ---- usage errors: exit code 2 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give a query TEXT, or --batch FILE with one query a line. Example: "),
        ([""], "error: the query is empty; give the words to search for."),
        (["   "], "error: the query is empty; give the words to search for."),
        (["x", "--year", "abc"], "error: --year 'abc' is not a year or a range of years"),
        (["x", "--year", "2020..2010"], "runs backwards; write the earlier year first"),
        (["x", "--sort", "bogus"], "error: --sort 'bogus' is not one of: relevance, date, title."),
        (
            ["x", "--kind", "doc"],
            "error: --kind 'doc' is not one of: page, pdf. "
            "Example: chcsearch query stroke --kind pdf",
        ),
        (["x", "--format", "yaml"], "error: --format 'yaml' is not one of: text, json"),
        (["x", "--limit", "0"], "error: --limit '0' is not a whole number from 1 to 1,000."),
        (["x", "-n", "abc"], "error: --limit 'abc' is not a whole number from 1 to 1,000."),
        (["x", "--page", "-2"], "error: --page '-2' is not a whole number of 1 or more."),
        (
            ["x", "--base-url", "reports/"],
            "error: --base-url 'reports/' is not an http://, https:// or file:// address",
        ),
        (["x", "-c", "../up"], "collection name '../up' is not allowed"),
        (["x", "-c", "a", "--index", "ix"], "error: give --index or --collection, not both."),
        (
            ["x", "--batch", "queries.txt"],
            "error: give a query TEXT, or --batch FILE with one query a line (not both).",
        ),
        (["--batch", "queries.txt", "-f", "ris"], "error: --batch cannot write --format ris"),
    ],
)
def test_a_query_line_that_cannot_be_run_is_a_usage_error_read_either_way(
    tiny_index: Path, args: list[str], message: str
) -> None:
    env = {"CHCSEARCH_INDEX": str(tiny_index)}
    fast = run_cli("query", *args, env=env)
    assert fast.returncode == 2 and fast.stdout == ""
    line = one_error_line(fast.stderr)
    assert message in line
    # --traceback before the command sends the line to Typer; a usage error is not the
    # code's fault, so it is the same one line, not a traceback
    typer_read = run_cli("--traceback", "query", *args, env=env)
    assert (typer_read.returncode, typer_read.stderr) == (2, fast.stderr)


def test_run_query_checks_its_values_as_the_command_line_does(tiny_index: Path) -> None:
    values: dict[str, object] = {
        "index": tiny_index,
        "sections": (),
        "levels": (),
        "kinds": (),
        "limit": 10,
        "page": 1,
        "output": None,
        "explain": False,
        "flat": False,
        "out": io.StringIO(),
        "stdin": io.StringIO(),
        "colour": False,
    }
    with pytest.raises(UsageError, match=r"one query a line\. Example: chcsearch query stroke"):
        run_query(text=None, batch=None, **values)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"one query a line \(not both\)\.$"):
        run_query(text="x", batch=Path("q.txt"), **values)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^give --index or --collection, not both\.$"):
        run_query(text="x", batch=None, collections=["a"], **values)  # type: ignore[arg-type]


def test_run_query_writes_its_notes_to_the_stream_it_is_given(
    tiny_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    run_query(
        text="heart",
        index=tiny_index,
        sections=["nowhere"],
        levels=(),
        kinds=(),
        limit="10",
        page="1",
        output="json",
        explain=False,
        flat=False,
        batch=None,
        out=out,
        stdin=io.StringIO(),
        colour=False,
        err=err,
    )
    assert err.getvalue() == "note: no document has the section 'nowhere'\n"
    assert '"total": 0' in out.getvalue()
    assert capsys.readouterr().err == ""


def test_the_query_checks_come_before_the_index_is_opened(tmp_path: Path) -> None:
    result = run_cli("query", "x", "--kind", "doc", "--index", str(tmp_path / "none"))
    assert result.returncode == 2 and "--kind 'doc'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["query", "x", "--limt", "3"],
            "error: chcsearch query has no option --limt; did you mean --limit? "
            "See: chcsearch query --help",
        ),
        (
            ["status", "--verfy"],
            "error: chcsearch status has no option --verfy; did you mean --verify?",
        ),
        (
            ["querry", "x"],
            "error: chcsearch has no command 'querry'; did you mean query? The commands",
        ),
        (["frobnicate"], "error: chcsearch has no command 'frobnicate'; the commands are: index,"),
        (["--index", "ix", "status"], "error: chcsearch has no option --index; give it after the"),
        (["query", "--index"], "error: --index needs a value (DIR). Example: chcsearch query "),
        (
            ["query", "x", "--flat=yes"],
            "error: --flat is a flag and takes no value; give it alone. "
            'Example: chcsearch query "technical infrastructure" --flat',
        ),
        (
            ["query", "heart", "failure"],
            'put a query of several words in quotes, e.g. chcsearch query "',
        ),
        (["bundle"], "error: chcsearch bundle needs DIR (folder to write the static search bundle"),
        (
            ["index", "--jobs", "-3"],
            "error: --jobs must be a whole number of processes",
        ),
        (["index", "--jobs", "many"], "error: --jobs must be a whole number"),
        (
            ["index", "--generator", "gatsby"],
            "error: --generator 'gatsby' is not",
        ),
        (
            ["serve", "--port", "http"],
            "error: --port must be a whole number from 1 to",
        ),
        (
            ["serve", "--time-limit", "soon"],
            "error: --time-limit must be a number",
        ),
    ],
)
def test_a_line_that_cannot_be_read_is_a_usage_error_in_our_words(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert message in one_error_line(result.stderr)


# ---- --traceback anywhere ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--traceback", "query", "heart"],
        ["query", "heart", "--traceback"],
        ["query", "--traceback", "heart", "-f", "json"],
        ["--traceback", "status"],
        ["status", "--traceback"],
        ["collections", "--traceback"],
    ],
)
def test_traceback_is_taken_before_or_after_the_command(tiny_index: Path, args: list[str]) -> None:
    result = run_cli(*args, env={"CHCSEARCH_INDEX": str(tiny_index)})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_traceback_after_the_command_shows_the_traceback(tmp_path: Path, where: str) -> None:
    line = ["query", "x", "--index", str(tmp_path / "none")]
    args = ["--traceback", *line] if where == "before" else [*line, "--traceback"]
    result = run_cli(*args)
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert "IndexNotFoundError" in result.stderr


def test_every_command_takes_traceback() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert any("--traceback" in p.opts for p in command.params), name


# ---- bad input is not an internal error ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--verify"],
        ["query", "heart"],
        ["bundle", "{tmp}/out"],
    ],
)
def test_an_index_path_that_is_a_file_is_named(tmp_path: Path, args: list[str]) -> None:
    named = tmp_path / "notes.txt"
    named.write_text("not an index", encoding="utf-8")
    result = run_cli(*[a.format(tmp=tmp_path) for a in args], "--index", str(named))
    assert result.returncode == 3, result.stderr
    line = one_error_line(result.stderr)
    assert f"{named} is a file, not an index folder; give --index the folder" in line


def test_an_index_path_under_a_file_is_named(tmp_path: Path) -> None:
    named = tmp_path / "notes.txt"
    named.write_text("not an index", encoding="utf-8")
    result = run_cli("status", "--index", str(named / "ix"))
    assert result.returncode == 3
    assert f"cannot be an index folder: {named} is a file" in one_error_line(result.stderr)


def test_indexing_into_a_file_is_named(tmp_path: Path) -> None:
    site = write_files(tmp_path / "site", {"a.txt": "Some words."})
    named = tmp_path / "notes.txt"
    named.write_text("not an index", encoding="utf-8")
    result = run_cli("index", str(site), "--index", str(named))
    assert result.returncode == 3
    assert str(named) in one_error_line(result.stderr)


@pytest.mark.parametrize("generator", ["folder", "jekyll"])
def test_an_empty_folder_indexes_with_a_warning_saying_what_was_looked_for(
    tmp_path: Path, generator: str
) -> None:
    site = tmp_path / "empty"
    site.mkdir()
    if generator == "jekyll":
        (site / "_config.yml").write_text("title: Empty\n", encoding="utf-8")
    result = run_cli("index", str(site), "--index", str(tmp_path / "ix"))
    assert result.returncode == 0, result.stderr
    assert f"warning: {site}: [no-documents] no documents found: looked for " in result.stderr
    looked = "PDFs (.pdf) and Markdown or text files" if generator == "folder" else "pages (.md"
    assert looked in result.stderr
    assert "warning:" not in result.stdout and "documents         0" in result.stdout
    quiet = run_cli("index", str(site), "--index", str(tmp_path / "ix"), "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


# ---- help --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [None, "index", "status", "query", "collections", "bundle", "serve"]
)
def test_help_shows_readable_placeholders(command: str | None) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = run_cli(*args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.returncode == 0
    for typer_type in ("<bool>", "<list[", "<int", "<float", "x>=", "<=x", "range]"):
        assert typer_type not in result.stdout, (command, typer_type)
    options = result.stdout.split("Options")[-1]
    assert not re.search(r"<(str|path)>", options), options


def test_every_option_with_a_value_has_a_placeholder() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            if not getattr(param, "is_flag", False):
                assert param.metavar, f"chcsearch {name} {param.opts or param.name}"
                assert re.fullmatch(r"[A-Z]+(\[\.\.[A-Z]+\])?|[a-z]+(\|[a-z]+)+", param.metavar)


def test_the_help_lists_every_exit_code() -> None:
    shown = " ".join(run_cli("--help", env={"COLUMNS": "200"}).stdout.split())
    for code, text in EXIT_CODES.items():
        assert f"{code} {' '.join(text.split())}" in shown


def test_the_fast_path_reads_the_same_options_as_the_typer_command() -> None:
    group = typer.main.get_command(app)
    typer_options = {
        o
        for p in group.commands["query"].params  # type: ignore[attr-defined]
        for o in p.opts
        if o.startswith("-")
    } - {"--traceback"}
    fast_options = {o for action in query_parser()._actions for o in action.option_strings}
    assert typer_options == fast_options


def test_the_base_url_is_documented_in_the_query_help() -> None:
    shown = run_cli("query", "--help", env={"COLUMNS": "200"}).stdout
    shown = " ".join(shown.replace("│", " ").split())
    assert "--base-url URL The site's absolute address, put before each result's path" in shown
    assert "default: file:// URIs for a folder archive, the site's url and baseurl" in shown


# ---- paths: normalised when shown, text or PathLike in the API --------------------------------


def test_status_and_the_summary_show_normalised_paths(tmp_path: Path) -> None:
    write_files(tmp_path / "project", {})
    site = write_files(tmp_path / "shared" / "reports", {"a.txt": "Harbour lights."})
    roundabout = tmp_path / "project" / ".." / "shared"
    built = run_cli("index", str(roundabout / "reports"), "--index", str(roundabout / "ix"))
    assert built.returncode == 0, built.stderr
    index = tmp_path / "shared" / "ix"
    assert built.stdout.startswith(f"Index {index} rebuilt from {site} (folder)")
    status = run_cli("status", "--index", str(roundabout / "ix"))
    assert f"Index      {index} (" in status.stdout and "/../" not in status.stdout
    relative = run_cli("status", "--index", "project/../shared/ix", cwd=tmp_path)
    assert f"Index      {index} (" in relative.stdout


def test_settings_are_resolved_to_normal_paths(tmp_path: Path) -> None:
    env = {"CHCSEARCH_INDEX": "a/../ix", "CHCSEARCH_HOME": f"{tmp_path}/x/../home"}
    settings = resolve_index_settings({"site": "s/./t/.."}, env=env, cwd=str(tmp_path))
    assert (settings.site, settings.index_dir) == (tmp_path / "s", tmp_path / "ix")
    assert settings.cache_dir == tmp_path / "ix" / "cache"
    named = resolve_index_dir(None, env=env, cwd=tmp_path, collection="c")
    assert named == tmp_path / "home" / "collections" / "c"


def test_the_api_takes_text_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path / "site", {"a.txt": "Harbour lights and tides."})
    monkeypatch.chdir(tmp_path)
    settings = chcsearch.IndexSettings(site="site", index_dir="ix", cache_dir="ix/cache", jobs=1)  # type: ignore[arg-type]
    assert isinstance(settings.site, Path) and settings.index_dir == Path("ix")
    summary = chcsearch.build_index(settings)
    assert summary.documents == 1
    with chcsearch.Searcher("ix") as searcher:  # type: ignore[arg-type]
        assert searcher.search("harbour").total == 1
    with chcsearch.Searcher(os.fspath(tmp_path / "ix")) as searcher:  # type: ignore[arg-type]
        assert searcher.search("tides").total == 1


def test_every_public_name_is_importable() -> None:
    for name in chcsearch.__all__:
        assert getattr(chcsearch, name) is not None
    assert IndexSettings is chcsearch.IndexSettings
