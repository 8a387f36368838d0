"""The console-script entry point, and the query runner both CLI paths share.

``chcsearch query`` is the command people run most and wait for, so it has a
fast path: Typer with its dependencies (pydantic, rich) takes about 250 ms
to import, which alone is most of a whole query. ``main`` reads a plain
``query`` command line with ``argparse`` (same options, checked by a test
against the Typer command) and runs it without importing Typer; anything
else — other commands, ``--help``, completion, an option it cannot read —
goes to the Typer app. Both check a query line with the same functions
(``check_query_line``), so a usage error reads the same whichever path met it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .config import check_index_or_collection, whole_number
from .errors import ChcSearchError, ConfigError, OptionValueError, QueryRefusedError, UsageError
from .results import MAX_LIMIT, SORTS
from .text import CONTROL, INVISIBLE, printable

FORMATS = ("text", "json", "jsonl", "csv", "bibtex", "ris", "trec")
#: The formats a batch can be written in: query by query.
BATCH_FORMATS = ("jsonl", "csv", "trec")
KINDS = ("page", "pdf")
_EXAMPLE = "chcsearch query stroke"
#: A lone surrogate: how Python gives a byte of a command line that is not UTF-8.
_NOT_UTF8 = re.compile("[\ud800-\udfff]")


def batch_queries(path: Path, stdin: TextIO) -> list[tuple[str, str]]:
    """``(id, query)`` pairs from a file with one query a line, optionally ``id<TAB>query``
    (else the id is the line number); blank lines and ``#`` lines are skipped.

    Lines end at ``\\n`` (or ``\\r\\n``) only, as an editor numbers them: a form feed or
    Unicode's line separator inside a line does not split it. A UTF-8 byte order mark
    before the first line is dropped. A line, or a query after a tab, that holds nothing
    but white space, control and invisible characters holds no query: such a line is
    skipped like a blank one. ``ConfigError`` (exit 3, like a file that cannot
    be read) names every line with an id holding white space or a control character (a
    TREC run's columns are split at white space) or an invisible character (``q\\u200b1``
    would print as ``q1``), an id given twice (a run must not name one query twice), or
    an id with no query, and says what to do; nothing is searched then."""
    try:
        text = stdin.read() if str(path) == "-" else path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"batch file {path} cannot be read ({exc}); give a UTF-8 text file."
        ) from exc
    queries: list[tuple[str, str]] = []
    first_line: dict[str, int] = {}
    faults: list[str] = []
    for number, raw_line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        text_line = raw_line.removesuffix("\r")
        if not printable(text_line).strip() or text_line.lstrip().startswith("#"):
            continue
        qid, tab, query = text_line.partition("\t")
        qid, query = (qid.strip(), query.strip()) if tab else (str(number), text_line.strip())
        # after the test for control characters, what printable() drops is INVISIBLE
        found = INVISIBLE.search(qid)
        hidden = found.group() if found else None
        if not qid or re.search(r"\s", qid) or CONTROL.search(qid):
            faults.append(f"line {number}: id {qid!r} is empty or holds white space")
        elif hidden:
            faults.append(
                f"line {number}: id {qid!r} holds the invisible character U+{ord(hidden):04X}"
            )
        elif not printable(query).strip():
            faults.append(f"line {number}: id {qid!r} has no query after its tab")
        elif qid in first_line:
            faults.append(f"line {number}: id {qid!r} is on line {first_line[qid]} already")
        first_line.setdefault(qid, number)
        queries.append((qid, query))
    if faults:
        more = f"; and {len(faults) - 10} more" if len(faults) > 10 else ""
        shown = "; ".join(faults[:10]) + more
        raise ConfigError(
            f"batch file {path}: {shown}. Give each line a distinct id with no space or "
            "invisible character in it, "
            "a tab, then its query (e.g. q1<TAB>stroke), or the query alone (its id is then "
            "its line number)."
        )
    return queries


def _shown(value: object) -> str:
    """``value`` as a message quotes it: cut short past 40 characters."""
    text = str(value)
    if len(text) <= 40:
        return repr(value)
    return f"{text[:20] + '…'!r} ({len(text):,} characters)"


def parse_years(raw: str | None) -> tuple[int, int] | None:
    """``2019`` or ``2018..2020`` (either end may be left open) as an inclusive range."""
    if raw is None or not raw.strip():
        return None
    # no two optional white-space runs side by side: they would backtrack as n**4
    match = re.fullmatch(r"(\d{4})?(?:\s*(\.\.)\s*(\d{4})?)?", raw.strip(), re.ASCII)
    if not match or not (match.group(1) or match.group(3)):
        raise UsageError(
            f"--year {_shown(raw)} is not a year or a range of years; write YEAR, FROM..TO, FROM.. "
            f"or ..TO. Example: {_EXAMPLE} --year 2018..2020"
        )
    low = int(match.group(1)) if match.group(1) else 0
    high = int(match.group(3)) if match.group(3) else (9999 if match.group(2) else low)
    if low > high:
        raise UsageError(
            f"--year {raw!r} runs backwards; write the earlier year first, e.g. --year "
            f"{high}..{low}."
        )
    return low, high


def _one_of(option: str, value: str, known: Sequence[str]) -> str:
    if value not in known:
        raise UsageError(
            f"{option} {value!r} is not one of: {', '.join(known)}. "
            f"Example: {_EXAMPLE} {option} {known[-1]}"
        )
    return value


def _whole_number(option: str, value: str | int, least: int, most: int | None, example: int) -> int:
    number = whole_number(value, least, most)
    if number is None:
        span = f"from {least:,} to {most:,}" if most is not None else f"of {least:,} or more"
        raise UsageError(
            f"{option} {_shown(value)} is not a whole number {span}. "
            f"Example: {_EXAMPLE} {option} {example}"
        )
    return number


def _absolute_url(option: str, value: str | None) -> str | None:
    """``value`` as the address every link is put on (no trailing ``/``, but for the root,
    ``file:///``), or ``UsageError`` unless it is an ``http``/``https`` address with a
    host, or a ``file:`` URI, with no query or fragment and nothing that may not stand
    raw in a URL anywhere in it: white space, control characters, ``"<>\\{}|^``, the
    backquote or an invisible character (the value is written as it is into every link
    of every format, so nothing in it is dropped or repaired), nor anything
    ``sources.address_fault`` refuses: a bad ``%`` escape, a character that is not
    ASCII, a host that is no DNS name or IP address (a file: URI's none but localhost),
    a ``.`` or ``..`` segment."""
    from urllib.parse import urlsplit

    from .sources import address_fault, normalize_site_url, quote_unsafe, unsafe_in_link

    if value is None:
        return None
    example = f"Example: {_EXAMPLE} -f bibtex {option} https://example.org/reports/"
    unsafe = unsafe_in_link(value)
    if unsafe:
        raise UsageError(
            f"{option} {value!r} holds {unsafe!r}, which may not stand in an address: "
            f"percent-encode it ({unsafe!r} is {quote_unsafe(unsafe)}) or leave it out. {example}"
        )
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = urlsplit("")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        address = normalize_site_url(value)
        fault = address_fault(value) if address is None else None
        if fault:
            raise UsageError(f"{option} {value!r} {fault}. {example}")
        if address is None:
            raise UsageError(
                f"{option} {value!r} is not a usable web address: give http:// or https://, "
                f"a host and a path, with no user name, query or fragment. {example}"
            )
        return address
    if scheme == "file" and parts.path.startswith("/") and not (parts.query or parts.fragment):
        if value.endswith(("?", "#")):
            raise UsageError(f"{option} {value!r} ends with {value[-1]!r}; leave it out.")
        fault = address_fault(value)
        if fault:
            raise UsageError(f"{option} {value!r} {fault}. Example: {option} file:///srv/reports")
        if not parts.path.strip("/"):  # the root: file:/// (or file://localhost/)
            return value[: len(value) - len(parts.path)] + "/"
        return value.rstrip("/")
    raise UsageError(
        f"{option} {value!r} is not an http://, https:// or file:// address; links are put on "
        f"it. {example}"
    )


#: What a filter value must hold, and an example of one.
_FILTER_VALUES = {
    "--section": ("a section path", "north-west-coast"),
    "--level": ("a numbering such as 2.5", "2.5"),
    "--author": ("a name (a word of two or more letters)", "Diggle"),
    "--tag": ("a tag", "asthma"),
}


def _filter_text(option: str, value: str) -> str:
    """What of ``value`` the search filters by (as ``plan.build_filter`` reads it)."""
    from .schema import author_terms

    if option == "--author":
        return " ".join(author_terms(value))
    return value.strip().strip({"--section": "/", "--level": "."}.get(option, "")).strip()


def check_filters(
    *,
    sections: Sequence[str] = (),
    levels: Sequence[str] = (),
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> None:
    """``UsageError`` for a filter value that holds nothing to filter by (``--author '!!!'``,
    ``--tag ' '``): the search would drop it and answer as if it had not been given."""
    given = {"--section": sections, "--level": levels, "--author": authors, "--tag": tags}
    for option, values in given.items():
        for value in values:
            if not _filter_text(option, value):
                holds, example = _FILTER_VALUES[option]
                raise UsageError(
                    f"{option} {value!r} holds nothing to filter by; a value must hold "
                    f"{holds}. Example: {_EXAMPLE} {option} {example}"
                )


@dataclass(frozen=True)
class QueryValues:
    """The checked values of a ``chcsearch query`` line that were typed as text."""

    kinds: tuple[str, ...]
    limit: int
    page: int
    output: str
    sort: str
    base_url: str | None
    years: tuple[int, int] | None


def check_query_line(
    *,
    text: str | None,
    batch: Path | None,
    index: Path | None,
    kinds: Sequence[str],
    limit: str | int,
    page: str | int,
    output: str | None,
    years: str | None,
    sort: str,
    collections: Sequence[str],
    base_url: str | None,
    sections: Sequence[str] = (),
    levels: Sequence[str] = (),
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> QueryValues:
    """Check the values of a ``chcsearch query`` line as typed, before any index is opened:
    ``UsageError`` (exit 2) for what cannot be asked. ``output`` None is the mode's
    default: ``text`` for one query, ``jsonl`` for a batch."""
    from .named import collection_dir

    if text is None and batch is None:
        raise UsageError(
            f"give a query TEXT, or --batch FILE with one query a line. Example: {_EXAMPLE}"
        )
    if text is not None and batch is not None:
        raise UsageError("give a query TEXT, or --batch FILE with one query a line (not both).")
    if text is not None and not printable(text).strip():
        raise UsageError(f"the query is empty; give the words to search for. Example: {_EXAMPLE}")
    check_index_or_collection(index, collections)
    for name in collections:
        try:
            collection_dir(name, os.environ)
        except ConfigError as exc:
            raise OptionValueError(f"--collection: {exc}") from None
    year_range = parse_years(years)
    check_filters(sections=sections, levels=levels, authors=authors, tags=tags)
    checked_kinds = tuple(_one_of("--kind", kind, KINDS) for kind in kinds)
    checked_limit = _whole_number("--limit", limit, 1, MAX_LIMIT, example=20)
    checked_page = _whole_number("--page", page, 1, None, example=2)
    if output is None:
        output = "text" if batch is None else BATCH_FORMATS[0]
    _one_of("--format", output, FORMATS)
    if batch is not None and output not in BATCH_FORMATS:
        raise UsageError(
            f"--batch cannot write --format {output}: a batch is written query by query, "
            f"as {', '.join(BATCH_FORMATS)} (jsonl is the default); run one query for {output}."
        )
    return QueryValues(
        kinds=checked_kinds,
        limit=checked_limit,
        page=checked_page,
        output=output,
        sort=_one_of("--sort", sort, SORTS),
        base_url=_absolute_url("--base-url", base_url),
        years=year_range,
    )


def run_query(
    *,
    text: str | None,
    index: Path | None,
    sections: Sequence[str],
    levels: Sequence[str],
    kinds: Sequence[str],
    limit: str | int,
    page: str | int,
    output: str | None,
    explain: bool,
    flat: bool,
    batch: Path | None,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
    colour: bool | None = None,
    authors: Sequence[str] = (),
    years: str | None = None,
    tags: Sequence[str] = (),
    sort: str = "relevance",
    collections: Sequence[str] = (),
    correct: bool = True,
    base_url: str | None = None,
    err: TextIO | None = None,
) -> None:
    """Run ``chcsearch query``: one query, or a batch, rendered to ``out``, notes to ``err``
    (None: the process's stdout, stdin and stderr at the time; ``colour`` None: colour
    when stdout is a terminal).

    The values are checked first, as typed (``check_query_line``: ``UsageError`` before
    any index is opened). ``output`` None is the mode's default: ``text`` for one query,
    ``jsonl`` (one line a query) for a batch, which can also be ``csv`` or ``trec``:
    formats written query by query; the others are refused before any query runs. Links
    are absolute on ``base_url`` when given (every format); else text, CSV, BibTeX and
    RIS put them on the index's own address (``Searcher.link_base``: a folder's ``file://``
    URI, a site's URL), and exports say on stderr when there is none.
    """
    from dataclasses import replace

    out = sys.stdout if out is None else out
    stdin = sys.stdin if stdin is None else stdin
    colour = stdout_colour() if colour is None else colour

    from .config import resolve_index_dir
    from .named import existing_collection_dir
    from .plan import plain_words
    from .query import Searcher, search_collections
    from .render import (
        citation_keys,
        citation_stem,
        results_bibtex,
        results_csv,
        results_jsonl,
        results_ris,
        results_text,
        to_json,
        trec_lines,
        with_links,
    )
    from .results import SearchRequest

    values = check_query_line(
        text=text,
        batch=batch,
        index=index,
        kinds=kinds,
        limit=limit,
        page=page,
        output=output,
        years=years,
        sort=sort,
        collections=collections,
        base_url=base_url,
        sections=sections,
        levels=levels,
        authors=authors,
        tags=tags,
    )
    output, base_url = values.output, values.base_url
    names = list(dict.fromkeys(collections))
    index_dirs = {name: existing_collection_dir(name, os.environ) for name in names} or {
        "": resolve_index_dir(index, env=os.environ, cwd=Path.cwd())
    }

    def request(query: str) -> SearchRequest:
        return SearchRequest.make(
            query,
            sections=sections,
            levels=levels,
            kinds=values.kinds,
            limit=values.limit,
            page=values.page,
            flat=flat,
            authors=authors,
            years=values.years,
            tags=tags,
            sort=values.sort,
            correct=correct,
        )

    def emit(chunk: str) -> None:
        if chunk:
            out.write(chunk + "\n")

    searchers = {name: Searcher(path) for name, path in index_dirs.items()}
    try:
        # an explicit --base-url for every format; else, for people and citations, the index's own
        # by Hit.collection, which a result names only when several collections were searched
        def keyed(name: str) -> str:
            return name if len(searchers) > 1 else ""

        bases = {keyed(name): base_url for name in searchers}
        links = {keyed(name): base_url or s.link_base() for name, s in searchers.items()}

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
                    words = plain_words(query)
                    results = search(words)
                    said = f"searched as its plain words {words!r} instead"
                    results = replace(results, notes=(f"{exc}; {said}", *results.notes))
                report_notes(results.notes, f" ({qid})", err=err)
                if output == "trec":
                    emit("\n".join(trec_lines(qid, results)))
                elif output == "csv":
                    linked = with_links(results, links)
                    emit(results_csv(linked, header=position == 0, query_id=qid))
                else:
                    linked = with_links(results, bases)
                    emit(
                        json.dumps(
                            {"id": qid, **linked.to_dict()}, ensure_ascii=False, allow_nan=False
                        )
                    )
            return
        assert text is not None
        results = search(text)
        report_notes(results.notes, err=err)
        keys = None
        if output in ("bibtex", "ris"):
            # from every document of the index(es), so that a key does not depend on the query
            keys = citation_keys(
                ((keyed(name), source), citation_stem(names, year, title))
                for name, searcher in searchers.items()
                for source, names, year, title in searcher.works()
            )
    finally:
        for searcher in searchers.values():
            searcher.close()
    if output in ("json", "jsonl"):
        results = with_links(results, bases)
    elif output != "trec":
        results = with_links(results, links)
        if output != "text" and any(not links[hit.collection] for hit in results.results):
            report_notes(
                [
                    "links are paths on the site, as the index records them: give --base-url "
                    "with the site's address to make them absolute"
                ],
                err=err,
            )
    if output == "json":
        emit(to_json(results.to_dict()))
    elif output == "jsonl":
        emit(results_jsonl(results))
    elif output == "csv":
        emit(results_csv(results))
    elif output == "bibtex":
        emit(results_bibtex(results, keys=keys))
    elif output == "ris":
        emit(results_ris(results, keys=keys))
    elif output == "trec":
        emit("\n".join(trec_lines("1", results)))
    else:
        emit(results_text(results, colour=colour))


def colour_on(stream: TextIO) -> bool:
    """Colour only on a terminal or with FORCE_COLOR set (as Rich reads them on the Typer
    path), and never with NO_COLOR set."""
    forced = bool(os.environ.get("FORCE_COLOR"))
    return (forced or stream.isatty()) and not os.environ.get("NO_COLOR")


def stdout_colour() -> bool:
    return colour_on(sys.stdout)


class _Unreadable(Exception):
    """The fast path cannot read this command line; Typer will, or will explain why not."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Unreadable(message)


def query_parser() -> argparse.ArgumentParser:
    """The fast path's reading of ``chcsearch query``; mirrors the Typer command (a test
    checks that both know the same options). Values stay text: ``check_query_line`` checks
    them for both paths."""
    parser = _Parser(prog="chcsearch query", add_help=False, allow_abbrev=False)
    parser.add_argument("text", nargs="?")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--section", action="append", default=[])
    parser.add_argument("--level", action="append", default=[])
    parser.add_argument("--kind", action="append", default=[])
    parser.add_argument("--limit", "-n", default="10")
    parser.add_argument("--page", default="1")
    parser.add_argument("--format", "-f", dest="output")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--flat", action="store_true")
    parser.add_argument("--batch", type=Path)
    parser.add_argument("--author", action="append", default=[])
    parser.add_argument("--year")
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--sort", default="relevance")
    parser.add_argument("--collection", "-c", action="append", default=[])
    parser.add_argument("--no-correct", dest="correct", action="store_false")
    parser.add_argument("--base-url")
    return parser


def split_traceback(
    argv: Sequence[str], takes_value: Collection[str] = ()
) -> tuple[list[str], bool]:
    """``argv`` without its ``--traceback`` flags, and whether there was one: it may stand
    anywhere before a ``--`` (after which every word is the query's), but not as the value
    of an option of ``takes_value``, which takes the next word whatever it is."""
    words: list[str] = []
    found = False
    rest = iter(argv)
    for word in rest:
        if word == "--":
            words += [word, *rest]
        elif word == "--traceback":
            found = True
        else:
            words.append(word)
            if word in takes_value:
                words += list(itertools.islice(rest, 1))
    return words, found


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """The option words of ``parser`` that take the next word as their value."""
    return {
        name for action in parser._actions if action.nargs != 0 for name in action.option_strings
    }


def has_non_utf8(argv: Sequence[str]) -> bool:
    """Whether a word of ``argv`` holds bytes that are not UTF-8 (Python gives them as lone
    surrogates, which no later step can write or search for)."""
    return any(_NOT_UTF8.search(word) for word in argv)


def fast_query(argv: Sequence[str]) -> int | None:
    """Run a ``query`` command line without Typer; None when it must go to Typer."""
    if not argv or argv[0] != "query" or any(a in ("-h", "--help") for a in argv):
        return None
    if has_non_utf8(argv):  # the Typer path names the word at fault
        return None
    parser = query_parser()
    words, debug = split_traceback(argv, _value_options(parser))
    if any(name.endswith("_COMPLETE") for name in os.environ if name.startswith("_CHCSEARCH")):
        return None
    try:
        args = parser.parse_args(words[1:])
    except (_Unreadable, ValueError):
        return None

    def work() -> None:
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
            authors=args.author,
            years=args.year,
            tags=args.tag,
            sort=args.sort,
            collections=args.collection,
            correct=args.correct,
            base_url=args.base_url,
        )

    return run_guarded(work, debug=debug)


def run_guarded(
    work: Callable[[], object],
    *,
    debug: bool,
    interrupted: str = "interrupted.",
    passthrough: tuple[type[BaseException], ...] = (),
) -> int:
    """Run a command's ``work``; the one place where errors become one line on stderr and
    an exit code (0 when it ran through), for both the fast path and the Typer app.

    ``ChcSearchError`` is ``error: MESSAGE`` with the error's exit code; Ctrl-C is
    ``interrupted`` and 130; a closed stdout is silence and 141; anything else is an
    internal error, 1. With ``debug`` (``--traceback``) all but a usage error re-raise
    (a usage error is not the code's fault). ``passthrough`` exceptions go out as they
    are (Typer's own exit)."""
    try:
        work()
    except passthrough:
        raise
    except ChcSearchError as exc:
        if debug and not isinstance(exc, UsageError):
            raise
        report_error(f"error: {exc}")
        return exc.exit_code
    except BrokenPipeError:
        return closed_output()
    except KeyboardInterrupt:
        if debug:
            raise
        report_error(interrupted)
        return 130
    except Exception as exc:
        if debug:
            raise
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


def report_notes(notes: Sequence[str], where: str = "", *, err: TextIO | None = None) -> None:
    """What the search says about the query (corrections, filters no document has, limits),
    on ``err`` (None: stderr) whatever the output format: dim only on a terminal and never
    with NO_COLOR."""
    stream = err or sys.stderr
    styled = colour_on(stream)
    for note in notes:
        line = printable(f"note{where}: {note}")
        stream.write((f"\x1b[2m{line}\x1b[0m" if styled else line) + "\n")


def report_error(message: str, *, err: TextIO | None = None) -> None:
    """An error line on ``err`` (None: stderr), with every control and invisible character
    of ``message`` taken out (it may quote a path or a value as typed); ``error:`` in bold
    red only on a terminal and never with NO_COLOR."""
    stream = err or sys.stderr
    message = printable(message)
    if colour_on(stream) and message.startswith(("error:", "internal error:")):
        head, _, rest = message.partition(":")
        message = f"\x1b[1;31m{head}:\x1b[0m{rest}"
    stream.write(message + "\n")


def main() -> None:
    """Console-script entry point."""
    code = fast_query(sys.argv[1:])
    if code is None:
        from .cli import run

        code = run(sys.argv[1:])
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = closed_output()
    sys.exit(code)
