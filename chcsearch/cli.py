"""The ``chcsearch`` command: a thin Typer layer over the library.

Each command builds a settings object, calls one library function and
renders the result: results and JSON on stdout, progress, warnings and
errors on stderr. Errors are ``ChcSearchError``s, turned into a message and
an exit code in one place (``_handle_errors``); ``--traceback`` re-raises.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .config import resolve_index_dir, resolve_index_settings, resolve_serve_settings
from .errors import EXIT_CODES, ChcSearchError
from .render import bundle_text, problem_line, status_text, summary_text, to_json

T = TypeVar("T")

app = typer.Typer(
    name="chcsearch",
    help=(
        "Full-text search for report-heavy websites and archives of PDF reports.\n\n"
        "Example: chcsearch index content --index index"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items()),
)


#: ``--index``, as every command takes it.
IndexOption = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder. Default: ./index or CHCSEARCH_INDEX."),
]
#: ``--site-url``, as ``serve`` and ``bundle`` take it.
SiteUrlOption = Annotated[
    str | None,
    typer.Option(
        "--site-url",
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


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    bibtex = "bibtex"
    ris = "ris"
    trec = "trec"


class Sort(str, Enum):
    relevance = "relevance"
    date = "date"
    by_title = "title"  # a member named ``title`` would shadow str.title


class Extractor(str, Enum):
    pdfminer = "pdfminer"
    pdfium = "pdfium"


class Kind(str, Enum):
    page = "page"
    pdf = "pdf"


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="On an error, show the full Python traceback.")
    ] = False,
) -> None:
    """Full-text search for report-heavy websites and archives of PDF reports."""
    ctx.obj = {"traceback": traceback}


def _handle_errors(
    ctx: typer.Context,
    work: Callable[[], T],
    interrupted: str = "interrupted; the index was left as it was before this run.",
) -> T:
    """Run a command's work; the one place where errors become messages and exit codes."""
    debug = bool((ctx.find_root().obj or {}).get("traceback"))
    console = _stderr()
    try:
        return work()
    except ChcSearchError as exc:
        if debug:
            raise
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        from .console import closed_output

        raise typer.Exit(closed_output()) from None
    except KeyboardInterrupt:
        if debug:
            raise
        console.print(interrupted, soft_wrap=True)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            raise
        console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}. "
            "Run again with --traceback and report it.",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


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


@app.command("index")
def index_command(
    ctx: typer.Context,
    site: Annotated[
        Path | None,
        typer.Argument(
            help="Site (Jekyll, Hugo) or plain folder of reports to index. Default: ./content or CHCSEARCH_SITE."
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
        int | None,
        typer.Option(
            "--jobs", "-j", min=0, help="PDF extraction processes; 0 = all cores (default)."
        ),
    ] = None,
    pdf_timeout: Annotated[
        float | None,
        typer.Option(
            "--pdf-timeout",
            help="Seconds one PDF may take before it is skipped, 0.1 to 86400 [300].",
        ),
    ] = None,
    pdf_memory: Annotated[
        int | None,
        typer.Option(
            "--pdf-memory",
            min=0,
            help="Megabytes one PDF's reader process may use before the PDF is skipped; "
            "0 = no limit [512].",
        ),
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option("--generator", help="Site generator: auto, jekyll, hugo or folder [auto]."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", help="Folder for extracted PDF text. Default: INDEX/cache."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Settings file (TOML). Default: ./chcsearch.toml if present."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or warnings on stderr.")
    ] = False,
    extractor: Annotated[
        Extractor | None,
        typer.Option(
            "--extractor",
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
            "--collection", "-c", help="Index into this named collection (CHCSEARCH_HOME)."
        ),
    ] = None,
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
                "extractor": extractor.value if extractor else None,
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


@app.command("status")
def status_command(
    ctx: typer.Context,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="A named collection instead of --index."),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check every index file against its recorded checksum (exit 4 if damaged).",
        ),
    ] = False,
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


@app.command("query")
def query_command(
    ctx: typer.Context,
    text: Annotated[
        str | None,
        typer.Argument(help="What to search for (see the query language in the README)."),
    ] = None,
    index: IndexOption = None,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", help="Keep this section subtree (repeat for any of several)."),
    ] = None,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="Keep this numbering subtree, e.g. 2.5 (repeatable)."),
    ] = None,
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", help="Keep only pages or PDF pages (repeatable).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="Results per page (1 to 1,000).")
    ] = 10,
    page: Annotated[int, typer.Option("--page", min=1, help="Page of results.")] = 1,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.text,
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
            "--batch", help="Run one query per line of FILE ('id<TAB>query' allowed; - for stdin)."
        ),
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option("--author", help="Keep documents by this author (repeatable)."),
    ] = None,
    year: Annotated[
        str | None, typer.Option("--year", help="Keep a year or a range: 2019, 2018..2020, 2018..")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Keep documents with this tag (repeatable).")
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="Order by relevance, date (newest first) or title.")
    ] = Sort.relevance,
    no_correct: Annotated[
        bool,
        typer.Option(
            "--no-correct", help="Search the words as typed: no spelling correction."
        ),
    ] = False,
    collection: Annotated[
        list[str] | None,
        typer.Option(
            "--collection", "-c", help="Search this named collection; repeat for several."
        ),
    ] = None,
) -> None:
    """Search the index: ranked, grouped by page, with snippets and section facets.

    Example: chcsearch query "technical infrastructure" --section north-west-coast
    """
    from .console import run_query, stdout_colour

    def work() -> None:
        run_query(
            text=text,
            index=index,
            sections=section or (),
            levels=level or (),
            kinds=[k.value for k in kind or ()],
            limit=limit,
            page=page,
            output=output.value,
            explain=explain,
            flat=flat,
            batch=batch,
            out=sys.stdout,
            stdin=sys.stdin,
            colour=stdout_colour(),
            authors=author or (),
            years=year,
            tags=tag or (),
            sort=sort.value,
            collections=collection or (),
            correct=not no_correct,
        )

    _handle_errors(ctx, work)


@app.command("collections")
def collections_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
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


@app.command("bundle")
def bundle_command(
    ctx: typer.Context,
    out_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder to write the static search bundle to, e.g. _site/search.",
            show_default=False,
        ),
    ],
    index: IndexOption = None,
    site_url: SiteUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Bundle a named collection, not --index."),
    ] = None,
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


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    index: IndexOption = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on [127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on [8000].")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Server processes, e.g. one per core [1].")
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="A web origin allowed to call the API, e.g. https://example.org (repeatable).",
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", help="Seconds one search may take before a 503, 0.01 to 60 [2]."
        ),
    ] = None,
    max_queue: Annotated[
        int | None,
        typer.Option("--max-queue", help="Searches that may wait; more get a 503 [64]."),
    ] = None,
    frame_ancestors: Annotated[
        list[str] | None,
        typer.Option(
            "--frame-ancestors",
            help="Who may frame the pages: none, self or an origin (repeatable) [none].",
        ),
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            help="Seconds a connection may sit idle, take to send a request or leave an "
            "answer untaken, 0.1 to 300 [5].",
        ),
    ] = None,
    site_url: SiteUrlOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request on stderr.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Settings file (TOML). Default: ./chcsearch.toml if present."
        ),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option("--collection", "-c", help="Serve a named collection, not --index."),
    ] = None,
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


def main() -> None:
    """Console-script entry point (see ``chcsearch.console``)."""
    from .console import main as console_main

    console_main()


if __name__ == "__main__":  # pragma: no cover
    main()
