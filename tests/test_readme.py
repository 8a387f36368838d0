"""The README's console examples print what the README shows.

scripts/readme_examples.py runs them (`make readme` writes their output in);
these tests run them once and compare, and prove the comparison fails on a
changed line and passes on a changed timing.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import PROJECT


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PROJECT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


examples = _script("readme_examples")
example_archive = _script("make_example_archive")


@pytest.fixture(scope="module")
def readme() -> str:
    return (PROJECT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ran(readme: str, tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    """Every example of the README, run once in a scratch folder."""
    scratch = tmp_path_factory.mktemp("readme-examples")
    result: list[object] = examples.run_examples(examples.parse_examples(readme), scratch)
    return result


def _replace_line(text: str, index: int, line: str) -> str:
    lines = text.split("\n")
    lines[index] = line
    return "\n".join(lines)


def test_every_readme_example_prints_what_the_readme_shows(readme: str, ran: list[object]) -> None:
    diffs = examples.differences(readme, ran)
    assert not diffs, "\n\n".join(diffs) + "\n\nRun `make readme` to write what they print now."


def test_the_readme_runs_the_demo_and_the_example_archive(readme: str) -> None:
    commands = [c.line for e in examples.parse_examples(readme) for c in e.commands]
    for command in (
        "chcsearch index content --index index",  # make demo, as the Makefile runs it
        "chcsearch status --index index",
        'chcsearch query "asthma nurse" --index index',
        "python scripts/make_example_archive.py example-archive",
        "chcsearch --version",
    ):
        assert command in commands, command
    assert any("--format json" in c for c in commands)
    assert any("--flat" in c for c in commands)
    assert any("--collection" in c and "--format bibtex" in c for c in commands)
    assert "reports-archive" not in readme  # the example nothing built


def test_a_changed_output_line_is_reported_as_a_unified_diff(
    readme: str, ran: list[object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = next(e for e in examples.parse_examples(readme) if e.name == "demo-status")
    original = status.commands[0].output[0]
    altered = _replace_line(readme, status.start + 1, original + " (altered)")
    diffs = examples.differences(altered, ran)
    assert len(diffs) == len(examples.differences(readme, ran)) + 1
    diff = next(d for d in diffs if "example demo-status" in d)
    assert diff.startswith(f"--- README.md line {status.start + 1}, example demo-status\n")
    assert f"\n-{original} (altered)\n+{original}\n" in diff
    # --write puts the line back as the command prints it
    assert examples.rewritten(altered, ran) == examples.rewritten(readme, ran)
    # and the script, as `make readme` and a reader run it, exits 1 with the diff
    copy = tmp_path / "README.md"
    copy.write_text(altered, encoding="utf-8")
    assert examples.main(["--check", "--readme", str(copy)]) == 1
    out, err = capsys.readouterr()
    assert diff in out and "run `make readme`" in err
    assert examples.main(["--write", "--readme", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == examples.rewritten(readme, ran)


def test_timings_and_dates_are_not_differences(readme: str, ran: list[object]) -> None:
    query = next(e for e in examples.parse_examples(readme) if e.name == "demo-query")
    first = query.commands[0].output[0]
    slower = re.sub(r"\d+\.\d+ ms", "987.6 ms", first)
    assert slower != first
    status = next(e for e in examples.parse_examples(readme) if e.name == "demo-status")
    last_run = next(i for i, line in enumerate(status.commands[0].output) if "Last run" in line)
    dated = re.sub(
        r"\d{4}-\d\d-\d\dT[\d:]+\+00:00",
        "1999-12-31T23:59:59+00:00",
        status.commands[0].output[last_run],
    )
    altered = _replace_line(readme, query.start + 1, slower)
    altered = _replace_line(altered, status.start + 1 + last_run, dated)
    assert examples.differences(altered, ran) == examples.differences(readme, ran)
    # and --write keeps the README's own timing rather than churn it
    assert slower in examples.rewritten(altered, ran).split("\n")


def test_what_varies_is_masked_and_nothing_else() -> None:
    mask = examples.ignoring_what_varies
    assert mask("Index index rebuilt from content (jekyll) in 0.3 s: there was no index yet") == (
        "Index index rebuilt from content (jekyll) in <duration>: there was no index yet"
    )
    assert mask("4 results for “asthma nurse” · page 1 of 1 · 6.2 ms") == (
        "4 results for “asthma nurse” · page 1 of 1 · <duration>"
    )
    assert mask('"took_ms": 6.2}') == '"took_ms": <duration>}'
    assert mask("Last run   2026-11-21T23:08:20+00:00 (0.0 s, 0 files read") == (
        "Last run   <timestamp> (<duration>, 0 files read"
    )
    for kept in (
        "  1. Childhood Asthma Pathway  16.65",
        "chcsearch 0.1.0",
        "  PDFs  4  (11 PDF pages)",
    ):
        assert mask(kept) == kept


def test_a_marker_must_be_followed_by_a_console_block() -> None:
    with pytest.raises(examples.ExampleError, match=r"line 1, example 'x'.*must open"):
        examples.parse_examples("<!-- example: x -->\n```sh\n$ chcsearch --version\n```\n")
    with pytest.raises(examples.ExampleError, match="never closed"):
        examples.parse_examples("<!-- example: x -->\n```console\n$ chcsearch --version\n")
    with pytest.raises(examples.ExampleError, match="begin with"):
        examples.parse_examples("<!-- example: x -->\n```console\noutput\n```\n")
    two = "<!-- example: x -->\n```console\n$ chcsearch --version\n```\n"
    with pytest.raises(examples.ExampleError, match="another example has that name"):
        examples.parse_examples(two + two)


def test_an_example_parses_into_commands_and_their_output() -> None:
    text = (
        "Intro\n<!-- example: two head=3 -->\n```console\n"
        "$ chcsearch --version\nchcsearch 0.1.0\n$ chcsearch collections\n```\nafter\n"
    )
    (example,) = examples.parse_examples(text)
    assert (example.name, example.head, example.start, example.end) == ("two", 3, 3, 6)
    assert [(c.line, c.output) for c in example.commands] == [
        ("chcsearch --version", ("chcsearch 0.1.0",)),
        ("chcsearch collections", ()),
    ]


def test_the_example_archive_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = example_archive.write_archive(tmp_path / "a")
    second = example_archive.write_archive(tmp_path / "b")
    relative = [p.relative_to(tmp_path / "a").as_posix() for p in first]
    assert relative == [p.relative_to(tmp_path / "b").as_posix() for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    assert "respiratory/_meta.yml" in relative
    assert any(rel.startswith("respiratory/copd/") for rel in relative)
    assert any(rel.endswith(".pdf.yml") for rel in relative)


def test_the_python_examples_run_as_written(readme: str, tmp_path: Path) -> None:
    """Each ```python block of the README, run on its own, in order, beside a copy of
    content/: none fails, and each prints something."""
    blocks = re.findall(r"^```python\n(.*?)^```$", readme, flags=re.S | re.M)
    assert len(blocks) >= 2
    shutil.copytree(PROJECT / "content", tmp_path / "content")
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, block + "\n" + done.stderr
        assert done.stdout.strip(), block
