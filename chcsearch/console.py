"""The console-script entry point, and the query runner both CLI paths share.

``chcsearch query`` is the command people run most and wait for, so it has a
fast path: Typer with its dependencies (pydantic, rich) takes about 250 ms
to import, which alone is most of a whole query. ``main`` reads a plain
``query`` command line with ``argparse`` (same options, checked by a test
against the Typer command) and runs it without importing Typer; anything
else — other commands, ``--help``, completion, an option it cannot read —
goes to the Typer app, which also prints the usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .errors import ChcSearchError, ConfigError, QueryRefusedError
from .results import SORTS

FORMATS = ("text", "json", "jsonl", "csv", "bibtex", "ris", "trec")
KINDS = ("page", "pdf")


def batch_queries(path: Path, stdin: TextIO) -> list[tuple[str, str]]:
    """``(id, query)`` pairs from a file with one query a line, optionally ``id<TAB>query``."""
    try:
        text = stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"batch file {path} cannot be read ({exc}); give a UTF-8 text file."
        ) from exc
    queries: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        qid, tab, query = line.partition("\t")
        queries.append((qid.strip(), query.strip()) if tab else (str(number), line.strip()))
    return queries


def parse_years(raw: str | None) -> tuple[int, int] | None:
    """``2019`` or ``2018..2020`` (either end may be left open) as an inclusive range."""
    if raw is None or not raw.strip():
        return None
    match = re.fullmatch(r"\s*(\d{4})?\s*(\.\.)?\s*(\d{4})?\s*", raw)
    if (
        not match
        or not (match.group(1) or match.group(3))
        or (not match.group(2) and match.group(3))
    ):
        raise ConfigError(f"--year must be YEAR or FROM..TO, e.g. 2019 or 2018..2020, got {raw!r}.")
    low = int(match.group(1)) if match.group(1) else 0
    high = int(match.group(3)) if match.group(3) else (9999 if match.group(2) else low)
    if low > high:
        raise ConfigError(f"--year {raw!r} runs backwards; write the earlier year first.")
    return low, high


def run_query(
    *,
    text: str | None,
    index: Path | None,
    sections: Sequence[str],
    levels: Sequence[str],
    kinds: Sequence[str],
    limit: int,
    page: int,
    output: str,
    explain: bool,
    flat: bool,
    batch: Path | None,
    out: TextIO,
    stdin: TextIO,
    colour: bool,
    authors: Sequence[str] = (),
    years: str | None = None,
    tags: Sequence[str] = (),
    sort: str = "relevance",
    collections: Sequence[str] = (),
    correct: bool = True,
) -> None:
    """Run ``chcsearch query``: one query, or a batch, rendered to ``out``."""
    from dataclasses import replace

    from .config import resolve_index_dir
    from .named import existing_collection_dir
    from .plan import plain_words
    from .query import Searcher, search_collections
    from .render import (
        results_bibtex,
        results_csv,
        results_jsonl,
        results_ris,
        results_text,
        to_json,
        trec_lines,
    )
    from .results import SearchRequest

    if (text is None) == (batch is None):
        raise ConfigError("give a query TEXT, or --batch FILE with one query a line (not both).")
    if collections and index is not None:
        raise ConfigError("give --index or --collection, not both.")
    names = list(dict.fromkeys(collections))
    index_dirs = {name: existing_collection_dir(name, os.environ) for name in names} or {
        "": resolve_index_dir(index, env=os.environ, cwd=Path.cwd())
    }
    year_range = parse_years(years)

    def request(query: str) -> SearchRequest:
        return SearchRequest.make(
            query,
            sections=sections,
            levels=levels,
            kinds=kinds,
            limit=limit,
            page=page,
            flat=flat,
            authors=authors,
            years=year_range,
            tags=tags,
            sort=sort,
            correct=correct,
        )

    def emit(chunk: str) -> None:
        if chunk:
            out.write(chunk + "\n")

    searchers = {name: Searcher(path) for name, path in index_dirs.items()}
    try:

        def search(query: str) -> Any:
            if len(searchers) == 1:
                return next(iter(searchers.values())).run(request(query), explain=explain)
            return search_collections(searchers, request(query))

        if batch is not None:
            for position, (qid, query) in enumerate(batch_queries(batch, stdin)):
                try:
                    results = search(query)
                except QueryRefusedError as exc:
                    # one query of a list: searched as its plain words, the list goes on
                    results = search(plain_words(query))
                    results = replace(results, notes=(f"{exc}; its words were searched", *results.notes))
                report_notes(results.notes, f" ({qid})")
                if output == "trec":
                    emit("\n".join(trec_lines(qid, results)))
                elif output == "csv":
                    emit(results_csv(results, header=position == 0, query_id=qid))
                else:
                    emit(json.dumps({"id": qid, **results.to_dict()}, ensure_ascii=False, allow_nan=False))
            return
        assert text is not None
        results = search(text)
        report_notes(results.notes)
    finally:
        for searcher in searchers.values():
            searcher.close()
    if output == "json":
        emit(to_json(results.to_dict()))
    elif output == "jsonl":
        emit(results_jsonl(results))
    elif output == "csv":
        emit(results_csv(results))
    elif output == "bibtex":
        emit(results_bibtex(results))
    elif output == "ris":
        emit(results_ris(results))
    elif output == "trec":
        emit("\n".join(trec_lines("1", results)))
    else:
        emit(results_text(results, colour=colour))


def colour_on(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def stdout_colour() -> bool:
    return colour_on(sys.stdout)


class _Unreadable(Exception):
    """The fast path cannot read this command line; Typer will, or will explain why not."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Unreadable(message)


def _bounded(low: int, high: int | None = None) -> Any:
    def convert(value: str) -> int:
        number = int(value)
        if number < low or (high is not None and number > high):
            raise ValueError(value)
        return number

    return convert


def query_parser() -> argparse.ArgumentParser:
    """The fast path's reading of ``chcsearch query``; mirrors the Typer command."""
    parser = _Parser(prog="chcsearch query", add_help=False, allow_abbrev=False)
    parser.add_argument("text", nargs="?")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--section", action="append", default=[])
    parser.add_argument("--level", action="append", default=[])
    parser.add_argument("--kind", action="append", default=[], choices=KINDS)
    parser.add_argument("--limit", "-n", type=_bounded(1, 1000), default=10)
    parser.add_argument("--page", type=_bounded(1), default=1)
    parser.add_argument("--format", "-f", dest="output", choices=FORMATS, default="text")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--flat", action="store_true")
    parser.add_argument("--batch", type=Path)
    parser.add_argument("--author", action="append", default=[])
    parser.add_argument("--year")
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--sort", choices=SORTS, default="relevance")
    parser.add_argument("--collection", action="append", default=[])
    parser.add_argument("--no-correct", dest="correct", action="store_false")
    return parser


def fast_query(argv: Sequence[str]) -> int | None:
    """Run a ``query`` command line without Typer; None when it must go to Typer."""
    if not argv or argv[0] != "query" or any(a in ("-h", "--help") for a in argv):
        return None
    if any(name.endswith("_COMPLETE") for name in os.environ if name.startswith("_CHCSEARCH")):
        return None
    try:
        args = query_parser().parse_args(list(argv[1:]))
    except (_Unreadable, ValueError):
        return None
    try:
        run_query(
            text=args.text,
            index=args.index,
            sections=args.section,
            levels=args.level,
            kinds=args.kind,
            limit=args.limit,
            page=args.page,
            output=args.output,
            explain=args.explain,
            flat=args.flat,
            batch=args.batch,
            out=sys.stdout,
            stdin=sys.stdin,
            colour=stdout_colour(),
            authors=args.author,
            years=args.year,
            tags=args.tag,
            sort=args.sort,
            collections=args.collection,
            correct=args.correct,
        )
    except ChcSearchError as exc:
        report_error(f"error: {exc}")
        return exc.exit_code
    except BrokenPipeError:
        return closed_output()
    except KeyboardInterrupt:
        report_error("interrupted.")
        return 130
    except Exception as exc:
        report_error(
            f"internal error: {type(exc).__name__}: {exc}. Run again with --traceback and report it."
        )
        return 1
    return 0


def closed_output() -> int:
    """The reader of stdout went away (``| head``): say nothing, not even when Python flushes
    stdout at exit, and return the exit code for it (141, as for SIGPIPE)."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def report_notes(notes: Sequence[str], where: str = "") -> None:
    """What the search says about the query (corrections, filters no document has, limits),
    on stderr whatever the output format: dim only on a terminal and never with NO_COLOR."""
    styled = colour_on(sys.stderr)
    for note in notes:
        line = f"note{where}: {note}"
        sys.stderr.write((f"\x1b[2m{line}\x1b[0m" if styled else line) + "\n")


def report_error(message: str) -> None:
    """An error line on stderr, in bold red only on a terminal and never with NO_COLOR."""
    styled = colour_on(sys.stderr)
    if styled and message.startswith(("error:", "internal error:")):
        head, _, rest = message.partition(":")
        message = f"\x1b[1;31m{head}:\x1b[0m{rest}"
    sys.stderr.write(message + "\n")


def main() -> None:
    """Console-script entry point."""
    code = fast_query(sys.argv[1:])
    if code is not None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            code = closed_output()
        sys.exit(code)
    from .cli import app

    app(prog_name="chcsearch")
