"""The README documents every command, option and exit code."""

from __future__ import annotations

import typer
from helpers import PROJECT

from chcsearch.cli import app
from chcsearch.errors import EXIT_CODES


def _readme() -> str:
    return (PROJECT / "README.md").read_text(encoding="utf-8")


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = _readme()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"chcsearch {name}" in readme, f"command {name} is not in README.md"
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in readme, f"option {opt} of {name} is not in README.md"


def test_exit_codes_are_documented() -> None:
    readme = _readme()
    for code in EXIT_CODES:
        assert f"| {code} |" in readme, f"exit code {code} is not in README.md"


def test_every_console_block_is_an_example_the_tests_run() -> None:
    """A ```console block without its marker would not be run (tests/test_readme.py)."""
    lines = _readme().split("\n")
    for number, line in enumerate(lines):
        if line.strip() == "```console":
            marker = lines[number - 1].strip()
            assert marker.startswith("<!-- example: ") and marker.endswith(" -->"), (
                f"README.md line {number + 1}: a console block without <!-- example: NAME -->"
            )


def test_readme_gives_the_two_setup_commands() -> None:
    readme = _readme()
    assert "make demo" in readme and "make test" in readme


def test_the_site_snippets_load_the_box() -> None:
    for snippet in (
        "docs/jekyll/_includes/chcsearch.html",
        "docs/hugo/layouts/partials/chcsearch.html",
    ):
        text = (PROJECT / snippet).read_text(encoding="utf-8")
        assert (
            "data-chcsearch" in text and "/static/chcsearch.js" in text and "data-endpoint=" in text
        )
        assert "/static/chcsearch.css" in text
