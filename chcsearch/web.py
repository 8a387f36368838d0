"""Web layer: the JSON HTTP API and the search box, as an ASGI app (Starlette).

Read-only. ``create_app(settings)`` builds the app; ``chcsearch.web:app`` is
one built from the environment (``CHCSEARCH_INDEX``, ``CHCSEARCH_CORS_ORIGINS``,
``CHCSEARCH_TIME_LIMIT``, ``chcsearch.toml``) for any ASGI server. The index
is opened on the first request and follows rebuilds by itself (``Searcher``).

Endpoints: ``GET /api/search``, ``/api/suggest``, ``/api/status``,
``/healthz``, ``/openapi.json``; the box under ``/static/``; a page at ``/``.
Every error, whatever its cause, is ``{"ok": false, "error": ..., "status": ...}``
with that HTTP status, and never a stack trace.
"""

from __future__ import annotations

import functools
import html
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__
from .config import ServeSettings, resolve_serve_settings
from .errors import ChcSearchError
from .query import Searcher

STATIC_DIR = Path(__file__).parent / "static"
KINDS = ("page", "pdf")


class ApiError(Exception):
    """A request the API refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)


class _Service:
    """The one Searcher of this process, its cache of recent answers, and the search lock.

    Searches run one at a time in a worker thread (Whoosh readers are not
    shared between threads), so the event loop stays free to answer, and to
    give up on a search that takes longer than the time limit.
    """

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self._searcher: Searcher | None = None
        self._lock = threading.Lock()
        self.limiter = anyio.CapacityLimiter(1)
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()

    def searcher(self) -> Searcher:
        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher(self.settings.index_dir)
            return self._searcher

    def search(self, params: dict[str, Any]) -> dict[str, Any]:
        searcher = self.searcher()
        key = (searcher.generation, *sorted((k, str(v)) for k, v in params.items()))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = searcher.search(**params).to_dict()
        if self.settings.result_cache:
            self._cache[key] = result
            if len(self._cache) > self.settings.result_cache:
                self._cache.popitem(last=False)
        return result

    async def run(self, work: Callable[[], Any]) -> Any:
        limit = self.settings.time_limit
        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(
                    work, limiter=self.limiter, abandon_on_cancel=True
                )
        except TimeoutError:
            raise ApiError(
                503,
                f"the search took longer than {limit:g} s and was stopped; try fewer or more specific words",
            ) from None


def _one(
    request: Request, name: str, *, required: bool = False, max_chars: int = 200
) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name} was given {len(values)} times; give it once")
    value = values[0].strip() if values else None
    if required and not value:
        raise ApiError(400, f"{name} is required, e.g. ?{name}=stroke")
    if value is not None and len(value) > max_chars:
        raise ApiError(400, f"{name} is longer than {max_chars} characters; shorten it")
    return value


def _number(request: Request, name: str, default: int, high: int) -> int:
    raw = _one(request, name, max_chars=10)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        raise ApiError(400, f"{name} must be a whole number from 1 to {high}, got {raw!r}")
    return value


def _many(
    request: Request, name: str, *, choices: tuple[str, ...] = (), limit: int = 20
) -> tuple[str, ...]:
    values = [v.strip() for v in request.query_params.getlist(name) if v.strip()]
    if len(values) > limit:
        raise ApiError(400, f"{name} was given {len(values)} times; at most {limit} are allowed")
    for value in values:
        if len(value) > 200:
            raise ApiError(400, f"a {name} value is longer than 200 characters")
        if choices and value not in choices:
            raise ApiError(400, f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return tuple(values)


def _flag(request: Request, name: str) -> bool:
    raw = (_one(request, name, max_chars=5) or "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ApiError(400, f"{name} must be true or false, got {raw!r}")


def create_app(settings: ServeSettings) -> Starlette:
    """The ASGI app for one index."""
    service = _Service(settings)

    async def search(request: Request) -> Response:
        params = {
            "query": _one(request, "q", required=True, max_chars=settings.max_query_chars),
            "sections": _many(request, "section"),
            "levels": _many(request, "level"),
            "kinds": _many(request, "kind", choices=KINDS),
            "limit": _number(request, "limit", 10, settings.max_limit),
            "page": _number(request, "page", 1, settings.max_page),
            "flat": _flag(request, "flat"),
        }
        return JSONResponse(await service.run(functools.partial(service.search, params)))

    async def suggest(request: Request) -> Response:
        text = _one(request, "q", max_chars=settings.max_query_chars) or ""
        limit = _number(request, "limit", 10, 10)

        def work() -> list[dict[str, str]]:
            return service.searcher().suggest(text, limit=limit)

        return JSONResponse({"query": text, "suggestions": await service.run(work) if text else []})

    async def status(request: Request) -> Response:
        from .index import index_status

        data = await service.run(lambda: index_status(settings.index_dir))
        public = ("generation", "schema_version", "needs_rebuild", "generator", "written", "counts")
        return JSONResponse(
            {
                "ok": True,
                **{k: data.get(k) for k in public},
                "warnings_by_group": data.get("warnings_by_group", {}),
            }
        )

    async def healthz(request: Request) -> Response:
        generation = await service.run(lambda: service.searcher().generation)
        return JSONResponse({"ok": True, "generation": generation, "version": __version__})

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def home(request: Request) -> Response:
        return HTMLResponse(HOME_PAGE.replace("{version}", html.escape(__version__)))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message)

    async def chc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ChcSearchError)
        message = str(exc)
        if exc.http_status >= 500:  # do not show server paths to the public
            message = "the search index is not available right now; the site owner has been told how to fix it"
        return error_response(exc.http_status, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {
            404: f"no such page: {request.url.path}; the API is under /api/",
            405: "only GET is supported",
        }
        return error_response(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(
            500, "internal error; the search service could not answer this request"
        )

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET"],
                max_age=3600,
            )
        )
    return Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/api/search", search, methods=["GET"]),
            Route("/api/suggest", suggest, methods=["GET"]),
            Route("/api/status", status, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        exception_handlers={
            ApiError: api_error,
            ChcSearchError: chc_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )


_ERROR = {
    "description": "The request was refused or failed",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["ok", "error", "status"],
                "properties": {
                    "ok": {"type": "boolean", "const": False},
                    "error": {"type": "string"},
                    "status": {"type": "integer"},
                },
            }
        }
    },
}


def _get(summary: str, parameters: list[dict[str, Any]], ok: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": ok}, "400": _ERROR, "503": _ERROR},
        }
    }


def _param(
    name: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "chcsearch",
        "version": __version__,
        "description": "Search a site and the PDF reports it links.",
    },
    "paths": {
        "/api/search": _get(
            "Ranked search, a page grouped with the pages of the reports it links",
            [
                _param(
                    "q",
                    {"type": "string", "maxLength": 500},
                    "The query (see the README's query language)",
                    True,
                ),
                _param(
                    "section",
                    {"type": "array", "items": {"type": "string"}},
                    "Keep these section subtrees",
                ),
                _param(
                    "level",
                    {"type": "array", "items": {"type": "string"}},
                    "Keep these numbering subtrees",
                ),
                _param(
                    "kind",
                    {"type": "array", "items": {"enum": list(KINDS)}},
                    "Keep pages or PDF pages",
                ),
                _param(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                    "Results per page",
                ),
                _param(
                    "page",
                    {"type": "integer", "minimum": 1, "maximum": 20, "default": 1},
                    "Page of results",
                ),
                _param(
                    "flat",
                    {"type": "boolean", "default": False},
                    "List documents, not grouped pages",
                ),
            ],
            "SearchResults JSON: query, corrected_query, total, page, limit, filters, facets, results, took_ms",
        ),
        "/api/suggest": _get(
            "Completions for what is being typed: page titles, then index words (at most 10)",
            [_param("q", {"type": "string"}, "The text typed so far", True)],
            '{"query": ..., "suggestions": [{"text", "kind": "title"|"word", "url", "breadcrumb"}]}',
        ),
        "/api/status": _get(
            "What is indexed: generation, schema version, counts, warnings", [], "Index status"
        ),
        "/healthz": _get(
            "Whether the index can be searched", [], '{"ok": true, "generation": ...}'
        ),
    },
}

HOME_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Search</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/chcsearch.css">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}</style>
</head>
<body>
<h1>Search the site and its reports</h1>
<label for="q">Search</label>
<input id="q" type="search" data-chcsearch placeholder="Try: stroke, citizens jury, COPD" autofocus>
<p><small>chcsearch {version} · <a href="/openapi.json">API</a></small></p>
<script src="/static/chcsearch.js" data-endpoint="" defer></script>
</body>
</html>
"""


def _app_from_environment() -> Starlette:
    return create_app(resolve_serve_settings({}, env=os.environ, cwd=Path.cwd()))


#: The app for ``uvicorn chcsearch.web:app`` and other ASGI servers.
app = _app_from_environment()

__all__ = ["OPENAPI", "ApiError", "app", "create_app"]
