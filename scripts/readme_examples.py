"""Run the README's console examples; check their output, or write it in.

    python scripts/readme_examples.py --check    # a unified diff and exit 1 when one changed
    python scripts/readme_examples.py --write    # rewrite the outputs in README.md (make readme)

An example is a ```console block with an HTML comment on the line before it,
which GitHub does not show::

    <!-- example: demo-status -->
    ```console
    $ chcsearch status --index index
    Index      /path/to/chcsearch/index (gen-000001, schema version 7)
    ```

Each ``$`` line is a command, and the lines after it, up to the next ``$``
line, are what it prints: stdout and stderr interleaved as on a terminal.
``<!-- example: NAME head=N -->`` shows only the first N lines of each
command's output, then a line ``…``. Every example of the README runs, in
order, in one scratch folder holding a copy of the sample site ``content/``,
so later examples see what earlier ones built; ``chcsearch`` is the
entry point installed beside this Python (else ``python -m chcsearch``) and
``python`` is this Python, with a script path taken from the project. A
command that exits with an error stops the run.

What legitimately differs between runs is normalised in two ways:

* *written as*: the scratch folder prints as ``/path/to`` (the sample site's
  copy as ``/path/to/chcsearch/content``) and the home folder, where
  ``--collection`` indexes live, as ``~``;
* *ignored*: timings (``0.3 s``, ``6.2 ms``, ``"took_ms": 6.2``) and
  timestamps (``2026-11-21T23:08:20+00:00``) are compared as placeholders, so
  a line that differs only there is a match, and ``--write`` keeps the
  README's line rather than churn it.

Anything else that differs, a score or a version included, is a change:
``--check`` fails, and ``--write`` (``make readme``) writes what the commands
print now.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"

MARKER = re.compile(r"^<!-- example: (?P<name>[a-z0-9][a-z0-9-]*)(?: head=(?P<head>\d+))? -->$")
FENCE_OPEN = "```console"
FENCE_CLOSE = "```"
PROMPT = "$ "
ELLIPSIS = "…"
SCRATCH_SHOWN = "/path/to"
HOME_SHOWN = "~"
COMMAND_TIMEOUT = 300.0

#: (pattern, placeholder) pairs applied to both sides before comparing
IGNORED = (
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<timestamp>"),
    (re.compile(r"\b\d+\.\d+ ?(?:ms|s)\b"), "<duration>"),
    (re.compile(r'("(?:took_ms|seconds|elapsed\w*)": )-?\d+(?:\.\d+)?'), r"\1<duration>"),
)


class ExampleError(Exception):
    """The README's examples cannot be read or run."""


@dataclass(frozen=True)
class Command:
    line: str
    """The command as written after ``$ ``."""
    output: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    name: str
    start: int
    """Index (0-based) of the block's first line after the opening fence."""
    end: int
    """Index of the closing fence."""
    commands: tuple[Command, ...]
    head: int | None = None

    def lines(self) -> list[str]:
        out = []
        for command in self.commands:
            out.append(PROMPT + command.line)
            out.extend(command.output)
        return out


def parse_examples(text: str) -> list[Example]:
    """The marked examples of a README, in order."""
    lines = text.split("\n")
    examples: list[Example] = []
    for number, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        name = match["name"]
        where = f"README line {number + 1}, example {name!r}"
        if number + 1 >= len(lines) or lines[number + 1].strip() != FENCE_OPEN:
            raise ExampleError(f"{where}: the next line must open a {FENCE_OPEN} block")
        start = number + 2
        end = next((i for i in range(start, len(lines)) if lines[i].strip() == FENCE_CLOSE), None)
        if end is None:
            raise ExampleError(f"{where}: the {FENCE_OPEN} block is never closed")
        commands: list[Command] = []
        for i in range(start, end):
            if lines[i].startswith(PROMPT):
                commands.append(Command(lines[i][len(PROMPT) :], ()))
            elif not commands:
                raise ExampleError(f"{where}: the block must begin with a '{PROMPT}command' line")
            else:
                last = commands[-1]
                commands[-1] = replace(last, output=(*last.output, lines[i]))
        if not commands:
            raise ExampleError(f"{where}: the block has no '{PROMPT}command' line")
        if any(e.name == name for e in examples):
            raise ExampleError(f"{where}: another example has that name")
        head = int(match["head"]) if match["head"] else None
        examples.append(Example(name, start, end, tuple(commands), head))
    return examples


def ignoring_what_varies(line: str) -> str:
    """``line`` with its timings and timestamps replaced by placeholders."""
    for pattern, placeholder in IGNORED:
        line = pattern.sub(placeholder, line)
    return line


def _program(argv: list[str]) -> list[str]:
    """The argument vector to run for a README command's words."""
    if argv[0] == "chcsearch":
        entry_point = Path(sys.executable).parent / "chcsearch"
        runner = (
            [str(entry_point)] if entry_point.is_file() else [sys.executable, "-m", "chcsearch"]
        )
        return [*runner, *argv[1:]]
    if argv[0] == "python":
        rest = list(argv[1:])
        if rest and not rest[0].startswith("-") and (PROJECT / rest[0]).is_file():
            rest[0] = str(PROJECT / rest[0])
        return [sys.executable, *rest]
    raise ExampleError(f"cannot run {argv[0]!r}: examples run chcsearch or python commands")


def run_examples(examples: Sequence[Example], scratch: Path) -> list[Example]:
    """The examples with what their commands print now, run in order under ``scratch``.

    ``scratch`` is an empty folder; the commands run in ``scratch/chcsearch``,
    which holds a copy of the sample site ``content/``, with ``scratch/home``
    as their home folder.
    """
    workdir = scratch / "chcsearch"
    home = scratch / "home"
    home.mkdir(parents=True)
    shutil.copytree(PROJECT / "content", workdir / "content")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CHCSEARCH_") and key not in ("XDG_DATA_HOME", "FORCE_COLOR")
    }
    env.update(
        HOME=str(home),
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",  # stderr and stdout in the order they were written
        PYTHONIOENCODING="utf-8",
        COLUMNS="100",
        TERM="dumb",
    )
    shown = [(str(home.resolve()), HOME_SHOWN), (str(home), HOME_SHOWN)]
    shown += [(str(scratch.resolve()), SCRATCH_SHOWN), (str(scratch), SCRATCH_SHOWN)]
    ran = []
    for example in examples:
        commands = []
        for command in example.commands:
            try:
                argv = shlex.split(command.line)
            except ValueError as exc:
                raise ExampleError(f"example {example.name}: {command.line!r}: {exc}") from exc
            if not argv:
                raise ExampleError(f"example {example.name}: an empty '{PROMPT}' line")
            try:
                done = subprocess.run(
                    _program(argv),
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    timeout=COMMAND_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ExampleError(
                    f"example {example.name}: {command.line!r} ran for more than {COMMAND_TIMEOUT:g} s"
                ) from exc
            text = done.stdout.decode("utf-8", errors="replace")
            for path, replacement in shown:
                text = text.replace(path, replacement)
            output = text.rstrip("\n").split("\n") if text.strip() else []
            if done.returncode != 0:
                raise ExampleError(
                    f"example {example.name}: {command.line!r} exited with {done.returncode}:\n"
                    + "\n".join(output)
                )
            if example.head is not None and len(output) > example.head:
                output = [*output[: example.head], ELLIPSIS]
            commands.append(Command(command.line, tuple(output)))
        ran.append(replace(example, commands=tuple(commands)))
    return ran


def merged(written: Example, now: Example) -> Example:
    """``now``, keeping each line of ``written`` that differs from it only in what varies."""
    commands = []
    for old, new in zip(written.commands, now.commands, strict=True):
        matcher = difflib.SequenceMatcher(
            None,
            [ignoring_what_varies(line) for line in old.output],
            [ignoring_what_varies(line) for line in new.output],
            autojunk=False,
        )
        output: list[str] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            output.extend(old.output[i1:i2] if tag == "equal" else new.output[j1:j2])
        commands.append(Command(new.line, tuple(output)))
    return replace(written, commands=tuple(commands))


def _pair(written: Sequence[Example], now: Sequence[Example]) -> list[tuple[Example, Example]]:
    if [(e.name, [c.line for c in e.commands]) for e in written] != [
        (e.name, [c.line for c in e.commands]) for e in now
    ]:
        raise ExampleError("the README's examples are not the ones that were run; run them again")
    return list(zip(written, now, strict=True))


def differences(text: str, now: Sequence[Example]) -> list[str]:
    """A unified diff for each example of ``text`` whose output is not what ``now`` printed."""
    diffs = []
    for old, new in _pair(parse_examples(text), now):
        expected = merged(old, new).lines()
        if expected != old.lines():
            diffs.append(
                "\n".join(
                    difflib.unified_diff(
                        old.lines(),
                        expected,
                        fromfile=f"README.md line {old.start + 1}, example {old.name}",
                        tofile=f"example {old.name} as it runs now",
                        lineterm="",
                    )
                )
            )
    return diffs


def rewritten(text: str, now: Sequence[Example]) -> str:
    """``text`` with each example's output replaced by what ``now`` printed."""
    lines = text.split("\n")
    for old, new in reversed(_pair(parse_examples(text), now)):
        lines[old.start : old.end] = merged(old, new).lines()
    return "\n".join(lines)


def run_readme(text: str) -> list[Example]:
    """Run the examples of the README ``text`` in a scratch folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="readme-examples-") as scratch:
        return run_examples(parse_examples(text), Path(scratch))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--check", action="store_true", help="fail with a diff when an output changed"
    )
    action.add_argument("--write", action="store_true", help="write the outputs into the README")
    parser.add_argument("--readme", type=Path, default=README, help="the README (README.md)")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    try:
        now = run_readme(text)
        if args.write:
            new_text = rewritten(text, now)
            if new_text != text:
                args.readme.write_text(new_text, encoding="utf-8")
            changed = sum(
                1 for old, new in _pair(parse_examples(text), now) if merged(old, new) != old
            )
            print(f"{args.readme.name}: {len(now)} examples run, {changed} rewritten")
            return 0
        diffs = differences(text, now)
    except ExampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for diff in diffs:
        print(diff)
    if diffs:
        print(
            f"{len(diffs)} of {len(now)} README examples print something else now; "
            "run `make readme` to write what they print.",
            file=sys.stderr,
        )
        return 1
    print(f"{args.readme.name}: {len(now)} examples print what the README shows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
