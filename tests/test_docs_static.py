"""The static-mode docs: the GitHub Pages workflow, the site snippets and their commands.

The workflow is parsed as YAML and its steps checked in order; the snippets are
checked by their structure (no template engine is run); and every ``chcsearch``
command line in docs/README.md and the workflow is checked against the real
CLI's ``--help`` for its subcommand.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from typing import Any

import yaml
from helpers import PROJECT
from typer.testing import CliRunner

from chcsearch.cli import app

DOCS = PROJECT / "docs"
WORKFLOW = DOCS / "github-pages" / "chcsearch-pages.yml"
JEKYLL_STATIC = DOCS / "jekyll" / "_includes" / "chcsearch-static.html"
HUGO_STATIC = DOCS / "hugo" / "layouts" / "partials" / "chcsearch-static.html"


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _build_steps() -> list[dict[str, Any]]:
    steps = _workflow()["jobs"]["build"]["steps"]
    assert isinstance(steps, list) and steps
    return steps


def _step_index(steps: list[dict[str, Any]], *, uses: str = "", run: str = "") -> int:
    """The position of the one step that uses ``uses`` (an action, any version) or whose
    ``run`` contains ``run``."""
    found = [
        i
        for i, step in enumerate(steps)
        if (uses and str(step.get("uses", "")).split("@")[0] == uses)
        or (run and run in " ".join(str(step.get("run", "")).split()))
    ]
    assert len(found) == 1, f"expected one step for {uses or run!r}, found {len(found)}"
    return found[0]


# --- the workflow ---------------------------------------------------------------------


def test_the_workflow_triggers_permissions_and_concurrency() -> None:
    workflow = _workflow()
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"


def test_the_workflow_builds_indexes_bundles_and_uploads_in_order() -> None:
    steps = _build_steps()
    checkout = _step_index(steps, uses="actions/checkout")
    configure = _step_index(steps, uses="actions/configure-pages")
    ruby = _step_index(steps, uses="ruby/setup-ruby")
    jekyll = _step_index(steps, run="bundle exec jekyll build")
    python = _step_index(steps, uses="actions/setup-python")
    install = _step_index(steps, run='pip install "chcsearch[static]"')
    index = _step_index(steps, run="chcsearch index . --index .chcsearch-index")
    bundle = _step_index(steps, run="chcsearch bundle _site/search")
    upload = _step_index(steps, uses="actions/upload-pages-artifact")
    assert checkout < configure < jekyll < index < bundle < upload
    assert ruby < jekyll and python < install < index

    assert steps[configure].get("id") == "pages"
    assert steps[ruby]["with"]["bundler-cache"] is True
    assert str(steps[python]["with"]["python-version"]) == "3.11"
    assert "steps.pages.outputs.base_path" in steps[jekyll]["run"]
    assert "--index .chcsearch-index" in steps[bundle]["run"]
    assert steps[upload]["with"]["path"] == "_site"
    # The bundle goes into the folder that is uploaded.
    assert "_site/search" in steps[bundle]["run"]


def test_the_workflow_deploys_to_the_pages_environment() -> None:
    deploy = _workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [str(s.get("uses", "")).split("@")[0] for s in deploy["steps"]] == [
        "actions/deploy-pages"
    ]


def test_the_workflow_tells_the_two_bundles_apart() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    comments = " ".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
    assert "Bundler" in comments and "chcsearch bundle" in comments
    assert "pin" in comments.lower()


# --- the static-mode snippets ---------------------------------------------------------

TAG = re.compile(r"<(link|script|input)\b([^<>]*?)/?>", re.S)
ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*"((?:[^"{]|\{\{.*?\}\})*)")?""", re.S)
TEMPLATE_VALUE = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


def _markup(text: str) -> str:
    """The snippet without its leading template comment."""
    text = re.sub(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", "", text, flags=re.S)
    return re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.S)


def _tags(text: str) -> dict[str, dict[str, str | None]]:
    tags: dict[str, dict[str, str | None]] = {}
    for name, body in TAG.findall(_markup(text)):
        assert name not in tags, f"more than one <{name}>"
        tags[name] = {key: value or None for key, value in ATTR.findall(body)}
    assert set(tags) == {"link", "script", "input"}, sorted(tags)
    return tags


def _variables(value: str | None) -> set[str]:
    """The template variables that an attribute value's expressions start from."""
    assert value, "empty attribute"
    expressions = TEMPLATE_VALUE.findall(value)
    assert expressions, f"{value!r} is not built from the bundle folder"
    found: set[str] = set()
    for expr in expressions:
        # A Go template's variables are $names; a Liquid output starts with its variable.
        found |= set(re.findall(r"\$\w+", expr)) or {re.split(r"[\s|]", expr, maxsplit=1)[0]}
    return found


def _check_static_snippet(text: str) -> dict[str, dict[str, str | None]]:
    tags = _tags(text)
    link, script, box = tags["link"], tags["script"], tags["input"]
    assert link.get("rel") == "stylesheet"
    assert "data-chcsearch" in box and box.get("type") == "search"
    assert box.get("aria-label") and box.get("placeholder")
    assert "defer" in script and "data-bundle" in script
    assert "data-endpoint" not in script, "static mode has no service address"
    assert "/static/" not in _markup(text), "the box comes from the bundle, not a service"
    assert "chcsearch.css" in str(link["href"]) and "chcsearch.js" in str(script["src"])
    # The CSS, the script and data-bundle all come from one folder (one variable).
    folders = _variables(link["href"]), _variables(script["src"]), _variables(script["data-bundle"])
    assert folders[0] == folders[1] == folders[2] and len(folders[0]) == 1, folders
    return tags


def test_the_jekyll_static_include_loads_the_bundle_under_baseurl() -> None:
    text = JEKYLL_STATIC.read_text(encoding="utf-8")
    tags = _check_static_snippet(text)
    (folder,) = _variables(tags["script"]["data-bundle"])
    # The folder is {{ site.baseurl }}/search/ unless site.chcsearch_bundle overrides it.
    assign = re.search(
        rf"\{{%-?\s*assign\s+{re.escape(folder)}\s*=\s*site\.chcsearch_bundle\s*\|\s*"
        r"default:\s*[\"']/search/[\"']\s*\|\s*relative_url\s*-?%\}",
        text,
    )
    assert assign, "the folder is not site.chcsearch_bundle or /search/ under site.baseurl"
    # Every value put in an attribute is escaped (or made a URL) by a Liquid filter.
    for attrs in tags.values():
        for key, value in attrs.items():
            for expr in TEMPLATE_VALUE.findall(value or ""):
                assert re.search(r"\|\s*(escape|relative_url|absolute_url)\s*$", expr), (
                    f"{key}={value!r} is not escaped"
                )


def test_the_hugo_static_partial_loads_the_bundle_under_baseurl() -> None:
    text = HUGO_STATIC.read_text(encoding="utf-8")
    tags = _check_static_snippet(text)
    (folder,) = _variables(tags["script"]["data-bundle"])
    assign = re.search(
        rf"\{{\{{-?\s*{re.escape(folder)}\s*:=\s*site\.Params\.chcsearchBundle\s*\|\s*"
        r"default\s+\"search/\"\s*\|\s*relURL\s*-?\}\}",
        text,
    )
    assert assign, "the folder is not params.chcsearchBundle or search/ under baseURL"


def test_the_readme_shows_both_modes_and_every_snippet() -> None:
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    assert "Which one: serve or bundle" in readme
    for path in (WORKFLOW, JEKYLL_STATIC, HUGO_STATIC):
        assert path.relative_to(DOCS).as_posix() in readme
    assert "data-bundle=" in readme and "data-endpoint" in readme
    assert "public/search" in readme and "_site/search" in readme


# --- every chcsearch command line parses with the real CLI ----------------------------


def _readme_code() -> list[str]:
    """Fenced code blocks (continuation lines joined) and inline code spans."""
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    lines: list[str] = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", readme, flags=re.S | re.M):
        lines += block.replace("\\\n", " ").splitlines()
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", readme, flags=re.S | re.M)
    return lines + re.findall(r"`([^`\n]+)`", prose)


def _workflow_code() -> list[str]:
    lines: list[str] = []
    for path in sorted((DOCS / "github-pages").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                lines += str(step.get("run", "")).replace("\\\n", " ").splitlines()
    return lines


def _chcsearch_commands(lines: list[str]) -> list[list[str]]:
    """Each ``chcsearch ...`` command in ``lines``, as its words after ``chcsearch``."""
    commands = []
    for line in lines:
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # not a shell line (a sentence with an apostrophe, say)
            continue
        command: list[str] | None = None
        for word in words:
            if word in {"&&", "||", ";", "|"}:
                command = None
            elif command is not None:
                command.append(word)
            elif word == "chcsearch":
                command = []
                commands.append(command)
    return commands


@cache
def _help(subcommand: str | None) -> str:
    args = [subcommand, "--help"] if subcommand else ["--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, f"chcsearch {' '.join(args)} failed: {result.output}"
    return re.sub(r"\x1b\[[0-9;]*m", "", result.output)


def _check_commands(commands: list[list[str]], source: str) -> set[str]:
    used = set()
    for words in commands:
        subcommand = words[0] if words and not words[0].startswith("-") else None
        help_text = _help(subcommand)
        for word in words:
            if word.startswith("--"):
                option = word.split("=", 1)[0]
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), (
                    f"{source}: `chcsearch {' '.join(words)}`: {option} is not an option "
                    f"of chcsearch {subcommand or ''}"
                )
        used.add(subcommand or "")
    return used


def test_every_chcsearch_command_in_the_docs_readme_parses() -> None:
    used = _check_commands(_chcsearch_commands(_readme_code()), "docs/README.md")
    assert {"index", "bundle", "serve"} <= used, used


def test_every_chcsearch_command_in_the_workflows_parses() -> None:
    used = _check_commands(_chcsearch_commands(_workflow_code()), "docs/github-pages")
    assert {"index", "bundle"} <= used, used


def test_the_command_check_catches_an_unknown_option() -> None:
    commands = _chcsearch_commands(["chcsearch bundle _site/search --no-such-option"])
    assert commands == [["bundle", "_site/search", "--no-such-option"]]
    try:
        _check_commands(commands, "example")
    except AssertionError as exc:
        assert "--no-such-option" in str(exc)
    else:
        raise AssertionError("an unknown option passed the check")
