"""The chcsearch command as a user meets it: streams, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from chcsearch import __version__
from chcsearch.cli import app
from chcsearch.index import IndexStore
from chcsearch.schema import SCHEMA_VERSION


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"chcsearch {__version__}"


@pytest.mark.parametrize("command", ["index", "status", "query", "serve"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "Example: chcsearch " + command in " ".join(result.stdout.split())


def test_index_prints_the_summary_on_stdout_and_warnings_on_stderr(
    sample_site: Path, tmp_path: Path
) -> None:
    result = run_cli("index", str(sample_site), "--index", str(tmp_path / "ix"), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Index {tmp_path / 'ix'} rebuilt from {sample_site} (jekyll)")
    assert "documents        26" in result.stdout
    assert "warning: north-coast/asthma-pathway/appendix.md:8: [dead-link]" in result.stderr
    assert "warning:" not in result.stdout and "\x1b[" not in result.stderr


def test_index_json_and_quiet(sample_site: Path, tmp_path: Path) -> None:
    result = run_cli(
        "index", str(sample_site), "--index", str(tmp_path / "ix"), "--json", "--quiet"
    )
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert (data["pages"], data["pdfs"], data["pdf_pages"], data["documents"]) == (15, 4, 11, 26)
    assert data["warnings_by_kind"] == {
        "dead-link": 1,
        "front-matter-invalid": 1,
        "orphan-pdf": 1,
        "pdf-pages-no-text": 1,
    }
    status = json.loads(run_cli("status", "--index", str(tmp_path / "ix"), "--json").stdout)
    assert status["counts"]["documents"] == 26 and status["schema_version"] == SCHEMA_VERSION
    assert status["warnings_by_group"] == {
        "PDFs or pages with no text": 1,
        "dead links": 1,
        "front-matter errors": 1,
        "orphan PDFs": 1,
    }
    text = run_cli("status", "--index", str(tmp_path / "ix")).stdout
    assert "Warnings   4 in the last run" in text and "  dead links (1)" in text


def test_environment_sets_the_index(sample_site: Path, tmp_path: Path) -> None:
    env = {"CHCSEARCH_INDEX": str(tmp_path / "envix"), "CHCSEARCH_SITE": str(sample_site)}
    assert run_cli("index", "-q", env=env).returncode == 0
    assert (tmp_path / "envix" / "CURRENT").is_file()
    assert "Documents  26" in run_cli("status", env=env).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["index", "{tmp}/missing", "--index", "{tmp}/ix"],
            3,
            "error: site folder {tmp}/missing does not exist",
        ),
        (
            ["index", "{tmp}", "--index", "{tmp}/ix", "--generator", "gatsby"],
            2,
            "generator 'gatsby' is not known",
        ),
        (
            ["status", "--index", "{tmp}/none"],
            4,
            "error: no index in {tmp}/none; build one with: chcsearch index",
        ),
        (["index", "--jobs", "-3"], 2, "error: --jobs must be a whole number"),
        (["frobnicate"], 2, "error: chcsearch has no command 'frobnicate'"),
    ],
)
def test_errors_have_documented_exit_codes_and_say_what_to_do(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert result.returncode == code
    assert message.format(tmp=tmp_path) in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_a_locked_index_exits_5(sample_site: Path, tmp_path: Path) -> None:
    with IndexStore(tmp_path / "ix").locked():
        result = run_cli("index", str(sample_site), "--index", str(tmp_path / "ix"))
    assert result.returncode == 5
    assert "is locked: another 'chcsearch index' is writing it" in result.stderr


def test_traceback_shows_the_python_error(tmp_path: Path) -> None:
    result = run_cli("--traceback", "status", "--index", str(tmp_path / "none"))
    assert (
        result.returncode == 1
        and "Traceback" in result.stderr
        and "IndexNotFoundError" in result.stderr
    )


def test_colour_only_when_allowed(tmp_path: Path) -> None:
    args = ("status", "--index", str(tmp_path / "none"))
    forced = run_cli(*args, env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert "\x1b[" in forced.stderr
    no_colour = run_cli(*args, env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": "1"})
    assert "\x1b[" not in no_colour.stderr and "error:" in no_colour.stderr


def test_completion_is_offered() -> None:
    result = run_cli("--help")
    assert "--install-completion" in result.stdout
    assert app.info.name == "chcsearch"


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from helpers import PROJECT

    root = tmp_path_factory.mktemp("cli-query")
    shutil.copytree(PROJECT / "content", root / "content")
    assert (
        run_cli("index", str(root / "content"), "--index", str(root / "ix"), "-q").returncode == 0
    )
    return root / "ix"


def test_query_text_output(built_index: Path) -> None:
    result = run_cli("query", "asthma nurse", "--index", str(built_index))
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("4 results for “asthma nurse” · page 1 of 1 · ")
    assert lines[2].startswith("  1. Childhood Asthma Pathway")
    assert lines[3] == "     North Coast" and lines[4] == "     /north-coast/asthma-pathway.html"
    assert "also: Asthma Pathway Report pp. 1, 2" in result.stdout
    assert "Sections: North Coast [north-coast] 4" in result.stdout
    assert "\x1b[" not in result.stdout


def test_query_json_jsonl_csv(built_index: Path) -> None:
    import csv
    import io

    data = json.loads(
        run_cli(
            "query",
            "asthma nurse",
            "--index",
            str(built_index),
            "--format",
            "json",
            "--section",
            "north-coast",
        ).stdout
    )
    assert (
        data["filters"]["sections"] == ["north-coast"]
        and data["results"][0]["source"] == "north-coast/asthma-pathway.md"
    )
    lines = run_cli(
        "query", "asthma", "--index", str(built_index), "-f", "jsonl", "--flat", "--kind", "pdf"
    ).stdout.splitlines()
    assert lines and all(json.loads(line)["kind"] == "pdf" for line in lines)
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli("query", "frailty", "--index", str(built_index), "-f", "csv").stdout
            )
        )
    )
    assert rows[0]["source"] == "valley-region/frailty.md" and rows[0]["rank"] == "1"
    assert rows[0]["parts"] == "Frailty Index Findings p. 1"  # page 2 does not say frailty


def test_query_batch_writes_jsonl_or_a_trec_run(built_index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("q1\tasthma nurse\nfrailty medication\n# a comment\n\n", encoding="utf-8")
    trec = run_cli(
        "query",
        "--batch",
        str(batch),
        "--index",
        str(built_index),
        "--format",
        "trec",
        "--limit",
        "3",
    )
    assert trec.returncode == 0
    lines = trec.stdout.splitlines()
    assert lines[0] == lines[0].strip() and lines[0].split()[:4] == [
        "q1",
        "Q0",
        "north-coast/asthma-pathway.md",
        "1",
    ]
    assert all(len(line.split()) == 6 and line.endswith(" chcsearch") for line in lines)
    assert {line.split()[0] for line in lines} == {"q1", "2"}
    jsonl = run_cli("query", "--batch", str(batch), "--index", str(built_index)).stdout.splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == ["q1", "2"]


def test_query_explain_and_correction_messages(built_index: Path) -> None:
    result = run_cli("query", "asthmaa", "--index", str(built_index), "--explain")
    assert "Searched for: asthma" in result.stdout
    assert "note: spelling corrected from the index's own words: asthmaa → asthma" in result.stderr
    assert "note: spelling" not in result.stdout  # (--explain lists it as its own "note:   " line)
    assert "query:  " in result.stdout and "body:asthma" in result.stdout


def test_query_needs_text_or_batch_and_an_index(built_index: Path, tmp_path: Path) -> None:
    neither = run_cli("query", "--index", str(built_index))
    assert neither.returncode == 2 and "give a query TEXT, or --batch FILE" in neither.stderr
    missing = run_cli("query", "x", "--index", str(tmp_path / "none"))
    assert missing.returncode == 4 and "no index in" in missing.stderr
    broken = run_cli("query", '"unclosed (', "--index", str(built_index), "-f", "json")
    assert broken.returncode == 0 and json.loads(broken.stdout)["corrected_query"] == "unclosed"


def _run_in_terminal(args: list[str], env: dict[str, str], stream: str = "stdout") -> str:
    """Run the CLI with stdout (or stderr) on a pseudo-terminal; return what it wrote there."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: follower}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chcsearch", *args],
        env={**os.environ, **env},
        **streams,  # type: ignore[arg-type]
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_query_highlights_on_a_terminal_unless_no_color(built_index: Path) -> None:
    args = ["query", "asthma nurse", "--index", str(built_index)]
    coloured = _run_in_terminal(args, {"NO_COLOR": ""})
    assert "\x1b[1;33masthma\x1b[0m" in coloured
    plain = _run_in_terminal(args, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain and "asthma" in plain


def test_progress_bar_only_on_a_terminal(sample_site: Path, tmp_path: Path) -> None:
    shown = _run_in_terminal(
        ["index", str(sample_site), "--index", str(tmp_path / "a")], {}, stream="stderr"
    )
    assert "Extracting PDFs" in shown and "warning:" in shown
    piped = run_cli("index", str(sample_site), "--index", str(tmp_path / "b"))
    assert "Extracting PDFs" not in piped.stderr and "Reading pages" not in piped.stderr


def test_serve_refuses_to_start_without_an_index(tmp_path: Path) -> None:
    result = run_cli("serve", "--index", str(tmp_path / "none"), "--port", "8123")
    assert result.returncode == 4 and "no index in" in result.stderr
    bad = run_cli("serve", "--index", str(tmp_path), "--cors-origin", "example.org/path")
    assert bad.returncode == 2
    assert "--cors-origin 'example.org/path' is not of the form https://example.org" in bad.stderr


def test_the_asgi_app_is_importable_from_the_environment(built_index: Path) -> None:
    code = "import chcsearch.web as w; print(type(w.app).__name__)"
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**__import__("os").environ, "CHCSEARCH_INDEX": str(built_index)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "Starlette", result.stderr


@pytest.mark.parametrize(
    "args", [["query", "asthma"], ["query", "asthma", "--format", "json"], ["status"]]
)
def test_output_closed_early_exits_141_quietly(built_index: Path, args: list[str]) -> None:
    """A reader that goes away (``| head``) is no error worth a traceback or a report."""
    command = [sys.executable, "-m", "chcsearch", *args, "--index", str(built_index)]
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read
    try:
        done = subprocess.run(
            command, stdout=writer, stderr=subprocess.PIPE, timeout=60, check=False
        )
    finally:
        os.close(writer)
    assert done.returncode == 141
    assert done.stderr == b""


def test_a_flat_trec_run_names_each_file_once(built_index: Path) -> None:
    run = run_cli(
        "query",
        "asthma",
        "--flat",
        "--format",
        "trec",
        "--limit",
        "50",
        "--index",
        str(built_index),
    )
    assert run.returncode == 0, run.stderr
    rows = [line.split() for line in run.stdout.splitlines()]
    docids = [row[2] for row in rows]
    ranks = [int(row[3]) for row in rows]
    assert any(d.endswith(".pdf") for d in docids)
    assert len(docids) == len(set(docids))  # a PDF's pages are one document of the run
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
