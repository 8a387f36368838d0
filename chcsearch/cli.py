"""The ``chcsearch`` command: a thin Typer layer over the library.

Each command builds a settings object, calls one library function and
renders the result: results and JSON on stdout, progress, warnings and
errors on stderr. Errors are ``ChcSearchError``s, turned into a message and
an exit code in one place (``console.run_guarded``, which the fast path shares);
``--traceback``, accepted anywhere on the line (but as the value of an option
that takes one, which always takes the next word), re-raises. A command line
that cannot be read (a word that is not UTF-8, an unknown option, a missing
value) is a usage error, worded by ``run`` in the same one-line voice, exit code 2.

Option values that chcsearch checks itself (numbers, choices) are taken as
text, so that the messages about them are chcsearch's own, the same from the
fast path (``chcsearch.console``) and from here.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .config import resolve_index_dir, resolve_index_settings, resolve_serve_settings
from .console import FORMATS, KINDS, has_non_utf8, report_error, run_guarded, split_traceback
from .errors import EXIT_CODES
from .render import bundle_text, problem_line, status_text, summary_text, to_json
from .results import MAX_LIMIT, SORTS


class _FlagsShowNoType:
    """Help that shows nothing in the type column of a flag (Typer would print ``<bool>``)."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _Group(_FlagsShowNoType, TyperGroup):
    pass


class _Command(_FlagsShowNoType, TyperCommand):
    pass


app = typer.Typer(
    name="chcsearch",
    cls=_Group,
    help=(
        "Full-text search for report-heavy websites and archives of PDF reports.\n\n"
        "Example: chcsearch index content --index index"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items()),
)
_TRACEBACK = "chcsearch.traceback"


def _traceback(ctx: typer.Context, value: bool) -> None:
    if value:
        ctx.meta[_TRACEBACK] = True


#: ``--traceback``, as the app and every command take it (wherever it stands on the line).
TracebackOption = Annotated[
    bool,
    typer.Option(
        "--traceback",
        callback=_traceback,
        expose_value=False,
        help="On an error, show the full Python traceback.",
    ),
]
#: ``--index``, as every command takes it.
IndexOption = Annotated[
    Path | None,
    typer.Option(
        "--index", metavar="DIR", help="Index folder. Default: ./index or CHCSEARCH_INDEX."
    ),
]
#: ``--site-url``, as ``serve`` and ``bundle`` take it.
SiteUrlOption = Annotated[
    str | None,
    typer.Option(
        "--site-url",
        metavar="URL",
        help="The site's public address that result links start with, e.g. https://example.org "
        "\\[CHCSEARCH_SITE_URL, else the site's own url/baseURL if indexed, else paths].",
    ),
]


def _stderr() -> Console:
    """Messages and progress: styled only on a terminal, and never with NO_COLOR set."""
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=True, highlight=False, color_system=None if plain else "auto")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chcsearch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    traceback: TracebackOption = False,
) -> None:
    """Full-text search for report-heavy websites and archives of PDF reports."""


def _handle_errors(
    ctx: typer.Context,
    work: Callable[[], object],
    interrupted: str = "interrupted; the index was left as it was before this run.",
) -> None:
    """Run a command's work through ``console.run_guarded``, the one place where errors
    become a message and an exit code (the same for the fast path of ``query``)."""
    code = run_guarded(
        work,
        debug=bool(ctx.meta.get(_TRACEBACK)),
        interrupted=interrupted,
        passthrough=(typer.Exit,),
    )
    if code:
        raise typer.Exit(code)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal."""
    console = _stderr()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    labels = {"read": "Reading pages", "extract": "Extracting PDFs", "index": "Indexing"}
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


@app.command("index", cls=_Command)
def index_command(
    ctx: typer.Context,
    site: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="Site (Jekyll, Hugo) or plain folder of reports to index. "
            "Default: ./content or CHCSEARCH_SITE.",
            show_default=False,
        ),
    ] = None,
    index: IndexOption = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build from nothing instead of updating (PDF cache is kept)."
        ),
    ] = False,
    jobs: Annotated[
        str | None,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            help="PDF extraction processes; 0 = all cores (default).",
        ),
    ] = None,
    pdf_timeout: Annotated[
        str | None,
        typer.Option(
            "--pdf-timeout",
            metavar="SECONDS",
            help="Seconds one PDF may take before it is skipped, 0.1 to 86400 \\[300].",
        ),
    ] = None,
    pdf_memory: Annotated[
        str | None,
        typer.Option(
            "--pdf-memory",
            metavar="MB",
            help="Megabytes one PDF's reader process may use before the PDF is skipped, "
            "at least 64; 0 = no limit \\[512].",
        ),
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option(
            "--generator",
            metavar="NAME",
            help="Site generator: auto, jekyll, hugo or folder \\[auto].",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            metavar="DIR",
            help="Folder for extracted PDF text. Default: INDEX/cache.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Settings file (TOML). Default: ./chcsearch.toml if present.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or warnings on stderr.")
    ] = False,
    extractor: Annotated[
        str | None,
        typer.Option(
            "--extractor",
            metavar="NAME",
            help="PDF text: pdfminer or pdfium (needs chcsearch\\[pdfium]). "
            "Default: as the index was built, else pdfminer.",
        ),
    ] = None,
    ocr: Annotated[
        bool | None,
        typer.Option(
            "--ocr/--no-ocr",
            help="Read pages with no text layer with Tesseract. Default: as the index was built.",
        ),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(
            "--collection",
            "-c",
            metavar="NAME",
            help="Index into this named collection (CHCSEARCH_HOME).",
        ),
    ] = None,
    traceback: TracebackOption = False,
) -> None:
    """Index a site, or a folder of reports (PDF, Markdown, text); only changes are read again.

    Example: chcsearch index content --index index --jobs 2
    """
    from .ingest import build_index

    def work() -> None:
        settings = resolve_index_settings(
            {
                "site": site,
                "index": index,
                "jobs": jobs,
                "pdf_timeout": pdf_timeout,
                "pdf_memory": pdf_memory,
                "generator": generator,
                "cache_dir": cache_dir,
                "rebuild": rebuild,
                "extractor": extractor,
                "ocr": ocr,
                "collection": collection,
            },
            env=os.environ,
            cwd=Path.cwd(),
            config_path=config,
        )
        with _progress(not quiet) as on_progress:
            summary = build_index(settings, on_progress=on_progress)
        if not quiet:
            console = _stderr()
            for problem in summary.problems:
                console.print(problem_line(problem), markup=False, soft_wrap=True, style="yellow")
        if as_json:
            typer.echo(to_json(summary.to_dict()))
        else:
            typer.echo(summary_text(summary))

    _handle_errors(ctx, work)


@app.command("status", cls=_Command)
def status_command(
    ctx: typer.Context,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    collection: Annotated[
        str | None,
        typer.Option(
            "--collection", "-c", metavar="NAME", help="A named collection instead of --index."
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check every index file against its recorded checksum (exit 4 if damaged).",
        ),
    ] = False,
    traceback: TracebackOption = False,
) -> None:
    """Show what is indexed: source, last run, counts, schema version and warnings.

    Example: chcsearch status --index index --json

    Example: chcsearch status --index index --verify
    """
    from .index import index_status

    def work() -> None:
        index_dir = resolve_index_dir(index, env=os.environ, cwd=Path.cwd(), collection=collection)
        status = index_status(index_dir, verify=verify)
        typer.echo(to_json(status) if as_json else status_text(status))
        if verify and not as_json:
            checked = status["integrity"]
            typer.echo(
                f"Verified   {checked['files']:,} files, {checked['bytes'] / 1e6:,.1f} MB: "
                "every checksum matches"
                if checked["checked"] == "checksums"
                else "Verified   nothing: no checksums recorded (index written by an older "
                "chcsearch); the next chcsearch index run rebuilds it from the text it keeps"
            )

    _handle_errors(ctx, work)


@app.command("query", cls=_Command)
def query_command(
    ctx: typer.Context,
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help="What to search for (see the query language in the README).",
            show_default=False,
        ),
    ] = None,
    index: IndexOption = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            metavar="SECTION",
            help="Keep this section subtree (repeat for any of several).",
        ),
    ] = None,
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level", metavar="LEVEL", help="Keep this numbering subtree, e.g. 2.5 (repeatable)."
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind", metavar="|".join(KINDS), help="Keep only pages or PDF pages (repeatable)."
        ),
    ] = None,
    limit: Annotated[
        str,
        typer.Option("--limit", "-n", metavar="N", help=f"Results per page, 1 to {MAX_LIMIT:,}."),
    ] = "10",
    page: Annotated[str, typer.Option("--page", metavar="N", help="Page of results.")] = "1",
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="|".join(FORMATS),
            help="Output format \\[text; jsonl with --batch, which can also write csv or trec].",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show the parsed query, filters and each score's parts."),
    ] = False,
    flat: Annotated[
        bool,
        typer.Option(
            "--flat", help="List every document; do not group report pages under their page."
        ),
    ] = False,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            metavar="FILE",
            help="Run one query per line of FILE ('id<TAB>query' allowed; - for stdin).",
        ),
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option(
            "--author", metavar="NAME", help="Keep documents by this author (repeatable)."
        ),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            metavar="YEAR[..YEAR]",
            help="Keep a year or a range: 2019, 2018..2020, 2018.. or ..2020.",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="TAG", help="Keep documents with this tag (repeatable)."),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            metavar="|".join(SORTS),
            help="Order by relevance, date (newest first) or title.",
        ),
    ] = "relevance",
    no_correct: Annotated[
        bool,
        typer.Option("--no-correct", help="Search the words as typed: no spelling correction."),
    ] = False,
    collection: Annotated[
        list[str] | None,
        typer.Option(
            "--collection",
            "-c",
            metavar="NAME",
            help="Search this named collection; repeat for several.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="The site's absolute address, put before each result's path in every "
            "format; default: file:// URIs for a folder archive, the site's url and baseurl "
            "for a site that has them.",
        ),
    ] = None,
    traceback: TracebackOption = False,
) -> None:
    """Search the index: ranked, grouped by page, with snippets and section facets.

    Example: chcsearch query "technical infrastructure" --section north-west-coast
    """
    from .console import run_query

    def work() -> None:
        run_query(
            text=text,
            index=index,
            sections=section or (),
            levels=level or (),
            kinds=kind or (),
            limit=limit,
            page=page,
            output=output,
            explain=explain,
            flat=flat,
            batch=batch,
            authors=author or (),
            years=year,
            tags=tag or (),
            sort=sort,
            collections=collection or (),
            correct=not no_correct,
            base_url=base_url,
        )

    _handle_errors(ctx, work, "interrupted.")  # as the fast path says it


@app.command("collections", cls=_Command)
def collections_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    traceback: TracebackOption = False,
) -> None:
    """List the named collections under CHCSEARCH_HOME with their counts.

    Example: chcsearch collections --json
    """
    from .named import data_home, list_collections

    def work() -> None:
        found = list_collections(os.environ)
        if as_json:
            typer.echo(to_json(found))
            return
        if not found:
            home = data_home(os.environ)
            typer.echo(f"No collections in {home}; make one: chcsearch index DIR --collection NAME")
            return
        for item in found:
            counts = item["counts"]
            typer.echo(
                f"{item['name']:<20} {counts.get('documents', 0):>8,} documents  "
                f"{counts.get('pdfs', 0):>5,} PDFs  {counts.get('pdf_pages', 0):>7,} PDF pages  "
                f"{item['extractor']:<8}  {item['site']}"
            )

    _handle_errors(ctx, work)


@app.command("bundle", cls=_Command)
def bundle_command(
    ctx: typer.Context,
    out_dir: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Folder to write the static search bundle to, e.g. _site/search.",
            show_default=False,
        ),
    ],
    index: IndexOption = None,
    site_url: SiteUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    collection: Annotated[
        str | None,
        typer.Option(
            "--collection", "-c", metavar="NAME", help="Bundle a named collection, not --index."
        ),
    ] = None,
    traceback: TracebackOption = False,
) -> None:
    """Write a static search bundle (Pagefind) that any static host serves: no service needed.

    Needs Pagefind: pip install "chcsearch\\[static]". Put the box on the site's pages with
    <script src="/search/chcsearch.js" data-bundle="/search/" defer></script>.

    Example: chcsearch bundle _site/search --index index
    """
    from .bundle import write_bundle

    def work() -> None:
        index_dir = resolve_index_dir(index, env=os.environ, cwd=Path.cwd(), collection=collection)
        address = site_url if site_url is not None else os.environ.get("CHCSEARCH_SITE_URL")
        summary = write_bundle(index_dir, out_dir, site_url=address)
        if as_json:
            typer.echo(to_json(summary.to_dict()))
        else:
            typer.echo(bundle_text(summary))

    _handle_errors(ctx, work, "interrupted; the previous bundle there was left as it was.")


@app.command("serve", cls=_Command)
def serve_command(
    ctx: typer.Context,
    index: IndexOption = None,
    host: Annotated[
        str | None,
        typer.Option("--host", metavar="ADDRESS", help="Address to listen on \\[127.0.0.1]."),
    ] = None,
    port: Annotated[
        str | None, typer.Option("--port", metavar="N", help="Port to listen on \\[8000].")
    ] = None,
    workers: Annotated[
        str | None,
        typer.Option("--workers", metavar="N", help="Server processes, e.g. one per core \\[1]."),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            metavar="URL",
            help="A web origin allowed to call the API, e.g. https://example.org (repeatable).",
        ),
    ] = None,
    time_limit: Annotated[
        str | None,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            help="Seconds one search may take before a 503, 0.01 to 60 \\[2].",
        ),
    ] = None,
    max_queue: Annotated[
        str | None,
        typer.Option(
            "--max-queue", metavar="N", help="Searches that may wait; more get a 503 \\[64]."
        ),
    ] = None,
    frame_ancestors: Annotated[
        list[str] | None,
        typer.Option(
            "--frame-ancestors",
            metavar="SOURCE",
            help="Who may frame the pages: none, self or an origin (repeatable) \\[none].",
        ),
    ] = None,
    idle_timeout: Annotated[
        str | None,
        typer.Option(
            "--idle-timeout",
            metavar="SECONDS",
            help="Seconds a connection may sit idle, take to send a request or leave an "
            "answer untaken, 0.1 to 300 \\[5].",
        ),
    ] = None,
    site_url: SiteUrlOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request on stderr.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Settings file (TOML). Default: ./chcsearch.toml if present.",
        ),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(
            "--collection", "-c", metavar="NAME", help="Serve a named collection, not --index."
        ),
    ] = None,
    traceback: TracebackOption = False,
) -> None:
    """Serve the JSON API, the search box and a search page over HTTP (read-only).

    Example: chcsearch serve --index index --port 8000 --cors-origin https://example.org
    """

    def work() -> None:
        import uvicorn

        from .index import IndexStore

        settings = resolve_serve_settings(
            {
                "index": index,
                "host": host,
                "port": port,
                "workers": workers,
                "cors_origins": cors_origin or (),
                "time_limit": time_limit,
                "max_queue": max_queue,
                "frame_ancestors": frame_ancestors or (),
                "idle_timeout": idle_timeout,
                "site_url": site_url,
                "collection": collection,
            },
            env=os.environ,
            cwd=Path.cwd(),
            config_path=config,
        )
        IndexStore(settings.index_dir).open_current()  # refuse to start without a usable index
        log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
        log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
        from .web import server_options, settings_environment

        options: dict[str, Any] = {
            **server_options(settings),
            "log_config": log_config,
            "access_log": access_log,
        }
        if settings.workers > 1:
            # Worker processes build the app from the environment (chcsearch.web:app).
            os.environ.update(settings_environment(settings))
            uvicorn.run("chcsearch.web:app", workers=settings.workers, **options)
        else:
            from .web import create_app

            uvicorn.run(create_app(settings), **options)

    _handle_errors(ctx, work)


def _example(command: Any) -> str:
    """The first ``Example:`` line of a command's help, or ``""``."""
    match = re.search(r"^[ \t]*(Example: .+)$", getattr(command, "help", None) or "", re.MULTILINE)
    return match.group(1).strip() if match else ""


def _option_names(command: Any) -> list[str]:
    names = [o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")]
    return [*names, "--help", "-h"]


#: An example value of each option that takes one, for the example a usage error shows.
_OPTION_EXAMPLES = {
    "--index": "index",
    "--section": "north-west-coast",
    "--level": "2.5",
    "--kind": "pdf",
    "--limit": "20",
    "--page": "2",
    "--format": "json",
    "--batch": "queries.txt",
    "--author": "Diggle",
    "--year": "2018..2020",
    "--tag": "asthma",
    "--sort": "date",
    "--collection": "reports",
    "--base-url": "https://example.org/reports/",
    "--jobs": "2",
    "--pdf-timeout": "300",
    "--pdf-memory": "512",
    "--generator": "jekyll",
    "--cache-dir": "cache",
    "--config": "chcsearch.toml",
    "--extractor": "pdfium",
    "--host": "127.0.0.1",
    "--port": "8080",
    "--workers": "4",
    "--cors-origin": "https://example.org",
    "--time-limit": "2",
    "--max-queue": "64",
    "--frame-ancestors": "self",
    "--idle-timeout": "5",
    "--site-url": "https://example.org",
}
#: Options people reach for that are spelled otherwise here: ``--json`` is ``--format json``.
_OPTION_ALIASES = {f"--{name}": f"--format {name}" for name in FORMATS}


def _option_param(command: Any, name: str) -> Any:
    """The parameter of ``command`` that ``name`` (``--limit``, ``-n``) names, or None."""
    return next((p for p in command.params if name in (*p.opts, *p.secondary_opts)), None)


def _takes_value(command: Any, name: str) -> bool:
    param = _option_param(command, name)
    return param is not None and param.param_type_name == "option" and not param.is_flag


def _option_example(command: Any, path: str, name: str) -> str:
    """``Example: ...`` showing ``name`` as it is given: alone for a flag, else with a value."""
    line = _example(command).removeprefix("Example: ")
    start = re.split(r" -", line, maxsplit=1)[0] if line and " " in path else path
    param = _option_param(command, name)
    if param is None or not _takes_value(command, name):
        return f"Example: {start} {name}"
    long_name = next((o for o in param.opts if o.startswith("--")), name)
    value = _OPTION_EXAMPLES.get(long_name) or param.metavar or "VALUE"
    return f"Example: {start} {name} {value}"


def _closest_option(command: Any, name: str) -> str | None:
    """The option ``name`` was most likely meant to be: a known other spelling, else one it is
    the start of (``--ind`` is ``--index``), else the nearest in spelling."""
    options = _option_names(command)
    alias = _OPTION_ALIASES.get(name)
    if alias and alias.split()[0] in options:
        return alias
    started = [o for o in options if name.startswith("--") and len(name) > 2 and o.startswith(name)]
    close = difflib.get_close_matches(name, started, n=1, cutoff=0) if started else []
    close = close or difflib.get_close_matches(name, options, n=1)
    return close[0] if close else None


def _shown_bytes(word: str) -> str:
    """``word`` as the bytes it was given, for a message: ``'ix\\xff'``."""
    try:
        raw = word.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = word.encode("utf-8", "backslashreplace")
    return repr(raw)[1:]


def non_utf8_message(group: Any, argv: Sequence[str]) -> str | None:
    """The usage error for the first word of ``argv`` that is not UTF-8 text, naming the
    option (or argument) it is, or None when every word is UTF-8."""
    word_of_command = _command_word(group, argv)
    command = group.commands.get(word_of_command or "", group)
    ending = (
        "every word of a command line must be UTF-8 text (check the encoding of the "
        "terminal or script that gave it)."
    )
    for position, word in enumerate(argv):
        if not has_non_utf8([word]):
            continue
        shown = _shown_bytes(word)
        name, equals, value = word.partition("=")
        before = argv[position - 1] if position else ""
        if word.startswith("-") and equals and not has_non_utf8([name]):
            what = f"the value of {name}, {_shown_bytes(value)},"
        elif word.startswith("-") and word != "-":
            what = f"option {shown}"
        elif (
            before.startswith("-")
            and "--" not in argv[:position]
            and (_takes_value(command, before) or _takes_value(group, before))
        ):
            what = f"the value of {before}, {shown},"
        elif word == word_of_command:
            what = f"the command {shown}"
        else:
            arguments = [p for p in command.params if p.param_type_name == "argument"]
            label = arguments[0].metavar if arguments and arguments[0].metavar else "argument"
            what = f"{label} {shown}"
        return f"{what} is not UTF-8 text; {ending}"
    return None


def _command_word(group: Any, argv: Sequence[str]) -> str | None:
    """The word of ``argv`` that names the command, or None when the line names none (or
    starts with an option of no command, which the parser then explains)."""
    words, _ = split_traceback(argv)
    own = set(_option_names(group))
    for word in words:
        if word == "--" or (word.startswith("-") and word not in own):
            return None
        if not word.startswith("-"):
            return word
    return None


def usage_message(exc: Any, group: Any, argv: Sequence[str]) -> str:
    """A command line the parser could not read, in chcsearch's words: what is wrong, and
    an example or where to look (one line, for ``error: ...``)."""
    errors = sys.modules[typer.BadParameter.__module__]  # click's exceptions, or Typer's copy
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        command, path = ctx.command, ctx.command_path
    else:  # the option parser's errors come without the command they were met in
        word = _command_word(group, argv)
        command = group.commands.get(word, group) if word else group
        path = f"chcsearch {word}" if command is not group else "chcsearch"
    hint = _example(command) or f"See: {path} --help"
    if isinstance(exc, errors.NoSuchOption):
        name = str(exc.option_name)
        if command is not group and name in _option_names(group):
            return f"{name} is an option of chcsearch itself, not of {path}: chcsearch {name}"
        close = _closest_option(command, name)
        if close:
            return f"{path} has no option {name}; did you mean {close}? See: {path} --help"
        owners = [
            cmd
            for cmd, sub in getattr(command, "commands", {}).items()
            if name in _option_names(sub)
        ]
        if owners:
            named = next((word for word in argv if word in owners), owners[0])
            return (
                f"{path} has no option {name}; give it after the command, e.g. "
                f"{path} {named} {name} ..."
            )
        return f"{path} has no option {name}. See: {path} --help"
    if isinstance(exc, errors.MissingParameter) and exc.param is not None:
        param = exc.param
        what = param.metavar or (param.opts[0] if param.opts else param.name)
        about = (getattr(param, "help", None) or "").rstrip(".")
        about = f" ({about[:1].lower()}{about[1:]})" if about else ""
        return f"{path} needs {what}{about}. {hint}"
    if isinstance(exc, errors.BadOptionUsage):
        name = str(exc.option_name)
        param = _option_param(command, name)
        example = _option_example(command, path, name)
        if param is not None and getattr(param, "is_flag", False):
            return f"{name} is a flag and takes no value; give it alone. {example}"
        value = f" ({param.metavar})" if param is not None and param.metavar else ""
        return f"{name} needs a value{value}. {example}"
    if isinstance(exc, errors.BadParameter):
        name = exc.param_hint or (exc.param.opts[0] if exc.param is not None else "a value")
        if exc.param is not None and exc.param.param_type_name == "option":
            hint = _option_example(command, path, exc.param.opts[0])
        return f"{name}: {str(exc.message).rstrip('.')}. {hint}"
    # from the first "unexpected extra argument" only: a search from every one would take
    # quadratic time on a word that repeats it
    _, said, words = str(exc.message).partition("unexpected extra argument")
    extra = re.match(r"(?:s|\(s\))? \((.*)\)", words, re.DOTALL) if said else None
    if extra:
        if path == "chcsearch query":
            return (
                f"{path} takes one TEXT, not also {extra.group(1)!r}; put a query of several "
                'words in quotes, e.g. chcsearch query "asthma nurse"'
            )
        return f"{path} does not take {extra.group(1)!r}. {hint}"
    message = str(exc.message).rstrip(".")
    return f"{message[:1].lower()}{message[1:]}. {hint}"


def _unknown_command(group: Any, argv: Sequence[str]) -> str | None:
    """The message for a command word that names no command (before anything is parsed)."""
    name = _command_word(group, argv)
    if name is None or name in group.commands:
        return None
    commands = list(group.commands)
    close = difflib.get_close_matches(name, commands, n=1)
    guess = f"did you mean {close[0]}? The" if close else "the"
    return f"chcsearch has no command {name!r}; {guess} commands are: {', '.join(commands)}."


def run(argv: Sequence[str]) -> int:
    """Run the ``chcsearch`` command line ``argv``; return its exit code.

    Errors while reading the line (an unknown command or option, a missing value, a word
    that is not UTF-8 text) are usage errors: one ``error:`` line on stderr and exit code 2,
    like every other error; a word that is not UTF-8 is refused before anything is done.
    """
    errors = sys.modules[typer.BadParameter.__module__]
    group = typer.main.get_command(app)
    unknown = non_utf8_message(group, argv) or _unknown_command(group, argv)
    if unknown:
        report_error(f"error: {unknown}")
        return 2
    try:
        code = group.main(args=list(argv), prog_name="chcsearch", standalone_mode=False)
    except errors.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain ``chcsearch``: the help
            if exc.format_message().strip():  # (newer Typers have printed it already)
                typer.echo(exc.format_message(), err=True)
            return 2
        report_error(f"error: {usage_message(exc, group, argv)}")
        return 2
    except errors.ClickException as exc:
        report_error(f"error: {exc.format_message()}")
        return int(exc.exit_code)
    except typer.Abort:
        return 1
    return code if isinstance(code, int) else 0


def main() -> None:
    """Console-script entry point (see ``chcsearch.console``)."""
    from .console import main as console_main

    console_main()


if __name__ == "__main__":  # pragma: no cover
    main()
