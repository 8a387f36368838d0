"""Web layer: the JSON HTTP API and the search box, as an ASGI app (Starlette).

Read-only. ``create_app(settings)`` builds the app; ``chcsearch.web:app`` is
one built from the environment (``CHCSEARCH_INDEX``, ``CHCSEARCH_CORS_ORIGINS``,
``CHCSEARCH_TIME_LIMIT``, ``chcsearch.toml``) for any ASGI server, and
``server_options(settings)`` the uvicorn settings that keep it safe to face the
public. The index is opened on the first request and follows rebuilds by
itself (``Searcher``).

Endpoints: ``GET /api/search``, ``/api/suggest``, ``/api/status``,
``/healthz``, ``/openapi.json``; the box under ``/static/``; a page at ``/``.
Result links start with the site's public address when one is set
(``site_url``, else the one the index recorded from the site's config);
without one they are paths, and every other path serves the indexed file
whose link it is (PDFs with Range requests, pages' source files; see
``chcsearch.sources``), and nothing else.
Once a search has found the current index generation damaged, ``/healthz``
and ``/api/status`` both answer 503 (the one error shape) until a new
generation replaces it.
Every error, whatever its cause, is ``{"ok": false, "error": ..., "status": ...}``
with that HTTP status, and never a stack trace. Every response carries the
security headers (``security_headers``; the protocol's own refusals, which
never reach the app, ``PROTOCOL_HEADERS``).

Searches run one at a time in a worker thread (a ``Searcher`` serialises its
searches), each with a ``Deadline`` that starts when the search starts and
that the search checks as it goes, so a search past its time stops itself and
leaves nothing running. Waiting is bounded: at most ``max_queue`` searches
wait, searches with wildcards or long texts wait in a small queue of their own
behind plain searches (``looks_costly``), and a search that cannot start within the time limit is answered
503 with ``Retry-After``. ``/healthz`` and ``/api/status`` never wait behind
searches.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import json
import logging
import math
import os
import re
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httptools
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from . import __version__
from .config import ServeSettings, resolve_serve_settings
from .deadline import Deadline
from .errors import ChcSearchError, IndexDamagedError, SearchTimeoutError
from .index import IndexStore
from .query import Searcher
from .sources import ServedFile, find_served, normalize_site_url, served_files, with_site_url

STATIC_DIR = Path(__file__).parent / "static"
KINDS = ("page", "pdf")

#: The most bytes a request line and its headers may take (a 431 beyond).
MAX_HEAD_BYTES = 16 * 1024
#: The most header lines a request may have (a 431 beyond).
MAX_HEADERS = 100
#: Open connections one server process keeps; more are answered 503 (``server_options``).
MAX_CONNECTIONS = 1000
#: Requests one connection may have waiting for their answers (browsers send one at a time).
MAX_PIPELINED = 16
#: The longest an app that does not say (``app.state.answer_seconds``) may take to make an answer.
DEFAULT_ANSWER_SECONDS = 30.0
#: Costly-looking searches that may wait, beside ``max_queue`` plain ones: those with a
#: wildcard (``strok*``, ``wom?n``) or longer than ``LONG_QUERY_CHARS``.
MAX_COSTLY_QUEUE = 8
#: A search refused because its queue is full is answered after this pause
#: (a sleep, no CPU), so a client that retries at once cannot turn refusals
#: into a busy loop that takes the processor from the searches being served.
REFUSAL_PAUSE = 0.25
LONG_QUERY_CHARS = 100
#: What ``/healthz`` and ``/api/status`` answer (503) once a search has found the index damaged.
DAMAGED_MESSAGE = "the search index is damaged; the site owner has been told how to fix it"

_LOG = logging.getLogger("uvicorn.error")  # shown by chcsearch serve (uvicorn's log setup)

_WILDCARD = re.compile(r"\*|\?(?=\w)")


def looks_costly(query: str) -> bool:
    """Whether a search waits in the small queue behind plain ones (a guess from its text)."""
    return len(query) > LONG_QUERY_CHARS or bool(_WILDCARD.search(query))


T = TypeVar("T")


class ApiError(Exception):
    """A request the API refuses, with the HTTP status to answer (and seconds to wait, for 503)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def error_body(status: int, message: str) -> bytes:
    """The one JSON error shape, encoded."""
    return json.dumps({"ok": False, "error": message, "status": status}).encode("utf-8")


def error_response(status: int, message: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(
        {"ok": False, "error": message, "status": status}, status_code=status, headers=headers
    )


class _Slot:
    """The one search slot of a process: plain searches first, then costly ones; bounded queues.

    ``acquire`` returns once the caller holds the slot, or raises ``ApiError``
    503 when its queue is full or the slot did not come within ``wait``
    seconds. The slot passes straight from one holder to the next waiter, so
    a newcomer never jumps the queue.
    """

    def __init__(self, max_plain: int, max_costly: int, retry_after: int) -> None:
        self.busy = False
        self.limits = {False: max_plain, True: max_costly}
        self.queues: dict[bool, deque[anyio.Event]] = {False: deque(), True: deque()}
        self.retry_after = retry_after

    def _refuse(self, why: str) -> ApiError:
        return ApiError(
            503,
            f"the search service is busy ({why}); try again shortly",
            retry_after=self.retry_after,
        )

    async def acquire(self, *, costly: bool, wait: float) -> None:
        if not self.busy:
            self.busy = True
            return
        queue = self.queues[costly]
        if len(queue) >= self.limits[costly]:
            await anyio.sleep(REFUSAL_PAUSE)
            raise self._refuse("too many searches are waiting")
        turn = anyio.Event()
        queue.append(turn)
        try:
            with anyio.fail_after(wait):
                await turn.wait()
        except BaseException as exc:
            if turn in queue:
                queue.remove(turn)
            else:  # the slot was handed over as the wait ended: pass it on
                self.release()
            if isinstance(exc, TimeoutError):
                raise self._refuse("no search could start in time") from None
            raise

    def release(self) -> None:
        for costly in (False, True):
            if self.queues[costly]:
                self.queues[costly].popleft().set()
                return
        self.busy = False


class _Service:
    """The one Searcher of this process, its cache of recent answers, and the search slot."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.store = IndexStore(settings.index_dir)
        self._searcher: Searcher | None = None
        self._lock = threading.Lock()
        self.retry_after = max(1, math.ceil(settings.time_limit))
        self.slot = _Slot(
            settings.max_queue, min(settings.max_queue, MAX_COSTLY_QUEUE), self.retry_after
        )
        self.status_limiter = anyio.CapacityLimiter(1)
        self._status: tuple[str, dict[str, Any]] | None = None
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._published: tuple[str, str, dict[str, ServedFile]] | None = None
        #: The generation a search found damaged: ``/healthz`` answers 503 while it is current
        #: (other searches may still succeed on it: only some of its bytes may be wrong).
        self.damaged_generation: str | None = None

    def searcher(self) -> Searcher:
        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher(self.settings.index_dir)
            return self._searcher

    def generation(self) -> str:
        """The current generation's name, from the index folder (cheap: no search is opened)."""
        return self.store.open_current().name

    async def run(self, work: Callable[[Searcher, Deadline], T], *, costly: bool = False) -> T:
        """Run ``work`` in a worker thread once the slot is ours, with a deadline from its start.

        A search that cannot start within twice the time limit is not started.
        """
        limit = self.settings.time_limit

        def started() -> T:
            searcher = self.searcher()  # opening the index is not the search's time
            return work(searcher, Deadline(limit))

        await self.slot.acquire(costly=costly, wait=2 * limit)
        try:
            return await anyio.to_thread.run_sync(started)
        except IndexDamagedError as exc:
            self._note_damage(exc)
            raise
        finally:
            self.slot.release()

    def _note_damage(self, exc: IndexDamagedError) -> None:
        current = self.store.current()
        name = current.name if current is not None else ""
        if name != self.damaged_generation:  # say it once per generation, not per search
            _LOG.error("%s", exc)
        self.damaged_generation = name

    def damaged(self) -> bool:
        """Whether the current generation is one a search found damaged (no lock, no I/O but
        reading ``CURRENT``)."""
        if self.damaged_generation is None:
            return False
        current = self.store.current()
        return (current.name if current is not None else "") == self.damaged_generation

    async def search(self, params: dict[str, Any]) -> dict[str, Any]:
        """The answer to a search, its links on the site's address (see ``published``)."""
        name = self.generation()
        key = (name, *sorted((k, str(v)) for k, v in params.items()))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached

        def work(searcher: Searcher, deadline: Deadline) -> dict[str, Any]:
            return searcher.search(**params, deadline=deadline).to_dict()

        answer = await self.run(work, costly=looks_costly(params["query"]))
        site_url, _ = await self.published(name)
        result = with_site_url(answer, site_url)
        if self.settings.result_cache:  # only completed answers get here
            self._cache[key] = result
            if len(self._cache) > self.settings.result_cache:
                self._cache.popitem(last=False)
        return result

    async def published(self, name: str | None = None) -> tuple[str, dict[str, ServedFile]]:
        """The address result links start with (``""``: none) and the files served at the
        links' paths (none when links lead to the public site), once per generation
        (``name``, the current one's if already read)."""
        name = name or self.generation()
        if self._published is None or self._published[0] != name:
            self._published = await anyio.to_thread.run_sync(
                self._read_published, limiter=self.status_limiter
            )
        return self._published[1], self._published[2]

    def _read_published(self) -> tuple[str, str, dict[str, ServedFile]]:
        from .index import stored_links

        generation = self.store.open_current()
        meta = generation.meta()
        recorded = meta.get("site_url")
        site_url = self.settings.site_url or (
            normalize_site_url(recorded) or "" if isinstance(recorded, str) else ""
        )
        site = meta.get("site")
        if site_url or not isinstance(site, str) or not site:
            return generation.name, site_url, {}
        files = served_files(Path(site), self.settings.index_dir, stored_links(generation))
        return generation.name, site_url, files

    async def status(self) -> dict[str, Any]:
        """``index_status``, worked out once per generation, in a thread of its own."""
        from .index import index_status

        name = self.generation()
        if self._status is None or self._status[0] != name:
            data = await anyio.to_thread.run_sync(
                lambda: index_status(self.settings.index_dir), limiter=self.status_limiter
            )
            self._status = (str(data["generation"]), data)
            return data
        return self._status[1]


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
    value = int(raw) if raw.isascii() and raw.isdigit() else 0  # not "+5", "1_0" or "٣"
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


def _flag(request: Request, name: str, default: bool = False) -> bool:
    raw = (_one(request, name, max_chars=5) or "").lower()
    if not raw:
        return default
    if raw in ("0", "false", "no"):
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
            "correct": _flag(request, "correct", default=True),
        }
        return JSONResponse(await service.search(params))

    async def suggest(request: Request) -> Response:
        text = _one(request, "q", max_chars=settings.max_query_chars) or ""
        limit = _number(request, "limit", 10, 10)

        def work(searcher: Searcher, deadline: Deadline) -> list[dict[str, str]]:
            return searcher.suggest(text, limit=limit, deadline=deadline)

        answer = {"query": text, "suggestions": await service.run(work) if text else []}
        site_url, _ = await service.published()
        return JSONResponse(with_site_url(answer, site_url))

    # the site's own markup, not ours: shown, never run, on this origin
    site_page_policy = (
        "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        f"frame-ancestors {' '.join(settings.frame_ancestors)}"
    )

    def refuse_if_damaged() -> None:
        if service.damaged():
            raise ApiError(503, DAMAGED_MESSAGE, retry_after=service.retry_after)

    async def status(request: Request) -> Response:
        refuse_if_damaged()  # what it would report is not to be trusted: /healthz's answer
        data = await service.status()
        public = ("generation", "schema_version", "needs_rebuild", "generator", "written", "counts")
        return JSONResponse(
            {
                "ok": True,
                **{k: data.get(k) for k in public},
                "warnings_by_group": data.get("warnings_by_group", {}),
            }
        )

    async def healthz(request: Request) -> Response:
        refuse_if_damaged()
        return JSONResponse(
            {"ok": True, "generation": service.generation(), "version": __version__}
        )

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def indexed_file(request: Request) -> Response:
        _, files = await service.published()
        served = find_served(files, request.scope["path"], request.scope.get("raw_path") or b"")
        if served is None:
            raise HTTPException(404)
        if served.kind == "pdf":
            return FileResponse(
                served.abs_path,
                media_type="application/pdf",
                filename=served.abs_path.name,
                content_disposition_type="inline",
            )
        if served.abs_path.suffix.lower() in (".html", ".htm"):
            return FileResponse(
                served.abs_path,
                media_type="text/html; charset=utf-8",
                headers={"content-security-policy": site_page_policy},
            )
        return FileResponse(served.abs_path, media_type="text/plain; charset=utf-8")

    async def home(request: Request) -> Response:
        return HTMLResponse(HOME_PAGE.replace("{version}", html.escape(__version__)))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, retry_after=exc.retry_after)

    async def chc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ChcSearchError)
        if isinstance(exc, SearchTimeoutError):  # its message names no path
            return error_response(503, str(exc), retry_after=service.retry_after)
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
    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/api/search", search, methods=["GET"]),
            Route("/api/suggest", suggest, methods=["GET"]),
            Route("/api/status", status, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
            # last: an indexed file whose link is one of the paths above is not served
            Route("/{path:path}", indexed_file, methods=["GET"]),
        ],
        middleware=middleware,
        exception_handlers={
            ApiError: api_error,
            ChcSearchError: chc_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    # the longest an answer may take to make: two time limits waiting, one searching
    app.state.answer_seconds = 3 * settings.time_limit
    app.router.redirect_slashes = False  # its redirect would echo the request's Host header
    # Outside Starlette's own error middleware, so that its 500s are covered too.
    app.middleware_stack = _Hardened(app.build_middleware_stack(), security_headers(settings))
    return app


def security_headers(settings: ServeSettings) -> list[tuple[bytes, bytes]]:
    """The headers every response carries: CSP, nosniff, referrer policy, framing."""
    ancestors = " ".join(settings.frame_ancestors)
    policy = (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' '{HOME_STYLE_HASH}'; img-src 'self' data:; connect-src 'self'; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
    headers = [
        (b"content-security-policy", policy.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    frame_options = {"'none'": b"DENY", "'self'": b"SAMEORIGIN"}.get(ancestors)
    if frame_options:  # a list of origins is for CSP alone (X-Frame-Options cannot say it)
        headers.append((b"x-frame-options", frame_options))
    return headers


_MESSAGES = {
    400: "the request could not be understood; check its address and parameters",
    403: "this request is not allowed",
    404: "no such page; the API is under /api/",
    405: "only GET is supported",
    408: "the request did not arrive in time",
    413: "this API takes no request body; give the parameters in the address",
    416: "the requested byte range is not in the file",
    431: f"the request's headers are too large: at most {MAX_HEADERS} lines and "
    f"{MAX_HEAD_BYTES // 1024} KiB",
    503: "the server has too many connections open; try again shortly",
}


class _Hardened:
    """ASGI middleware around the whole app: security headers on every response, errors made
    by Starlette itself (a refused CORS preflight, a bad Range) turned into the one JSON shape,
    and requests with too many header lines refused."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers
        self.names = {name for name, _ in headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope["headers"]) > MAX_HEADERS:
            await self._send_error(send, 431, _MESSAGES[431], [(b"connection", b"close")])
            return
        replacing = False

        async def guarded_send(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                status = int(message["status"])
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if status >= 400 and not kind.startswith(b"application/json"):
                    replacing = True
                    if scope["method"] == "OPTIONS" and status == 400:
                        text = "this origin, method or header may not call the API from a browser"
                    else:
                        text = _MESSAGES.get(status, "the request was refused")
                    kept = [
                        (k, v)
                        for k, v in headers
                        if k.lower() not in (b"content-type", b"content-length")
                    ]
                    await self._send_error(send, status, text, kept)
                    return
                await send({**message, "headers": self._secured(headers)})
                return
            if replacing:
                return  # the body of a response already replaced
            await send(message)

        await self.app(scope, receive, guarded_send)

    def _secured(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {k.lower() for k, _ in headers}
        return headers + [(k, v) for k, v in self.headers if k not in present]

    async def _send_error(
        self, send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        body = error_body(status, message)
        extra = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._secured(headers + extra),
            }
        )
        await send({"type": "http.response.body", "body": body})


class _Refused(Exception):
    """Raised from a parser callback once a request is refused, so that the parser stops there
    and nothing after the refused request in the same read is parsed."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits a public server needs.

    httptools itself has none. Here a request's line and headers may take at
    most ``MAX_HEAD_BYTES`` each (431 beyond; counted per request, so many
    small pipelined requests in one read are fine). A connection has a timer
    whenever the server waits for it, so that none can be held for ever:

    - waiting for a request: from the connection's start, or the end of its
      last answer, a whole request must arrive within the keep-alive timeout
      (``timeout_keep_alive``, chcsearch's ``idle_timeout``): 408 if one has
      begun, else the connection is closed. Bytes that begin no request (blank
      lines) do not restart it, and nor does a trickle of a request's bytes.
    - waiting for the client to take an answer: the transport reports
      (``pause_writing``) as soon as any byte of an answer is left unsent, and
      if that is not all sent within the same timeout the connection is
      dropped (``abort``: a close would wait for the unsent bytes, and so
      keep the connection and its place among ``limit_concurrency``).
    - waiting for an answer to be sent: once a whole request is in, its
      answer must be sent within the keep-alive timeout plus the longest the
      app may take to make it (``app.state.answer_seconds``: for chcsearch
      three times the search time limit, two waiting and one searching; 30 s
      for another app), else the connection is dropped. This holds however
      the answer is stuck (a client that takes nothing, pipelined answers
      waiting behind it, file reads waiting for a thread).

    The API takes
    no request bodies: a request that announces one (``Content-Length`` above
    0, any ``Transfer-Encoding``) is refused with 413 as soon as its headers
    are in. A process keeps at most ``limit_concurrency`` connections
    (``MAX_CONNECTIONS`` if unset); one more is answered 503 with
    ``Retry-After``. These answers, and uvicorn's own to a malformed request,
    are in the one JSON error shape with ``PROTOCOL_HEADERS``.
    """

    _timer: asyncio.TimerHandle | None = None  # waiting for a request
    _send_timer: asyncio.TimerHandle | None = None  # waiting for an answer to be taken
    _answer_timer: asyncio.TimerHandle | None = None  # waiting for an owed answer to be sent
    _request_begun = False  # between a request's first byte and its end
    _head_bytes = 0  # bytes of the request head still arriving (see _count_heads)
    _head_tail = b""  # its last three bytes, where a blank line may have begun
    _turned_away = False

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_connections = self.limit_concurrency or MAX_CONNECTIONS
        self._cycles: list[Any] = []  # requests whose answers are not complete, oldest first
        self._answer_seconds = _answer_seconds(self.app)
        self.limit_concurrency = None  # uvicorn's check answers in text/plain: ours is below

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # pause_writing as soon as anything is left unsent (see the class's docstring); what
        # the kernel's socket buffer takes at once is sent as before.
        transport.set_write_buffer_limits(high=0)
        if len(self.connections) > self.max_connections:
            self._turn_away()
            return
        self._arm_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_timer()
        for timer in (self._send_timer, self._answer_timer):
            if timer is not None:
                timer.cancel()
        self._send_timer = self._answer_timer = None
        # uvicorn tells only the last request parsed; an earlier pipelined one may be the one
        # running, and would write to the closed transport
        self.pipeline.clear()
        for cycle in self._cycles:
            if not cycle.response_complete:
                cycle.disconnected = True
            cycle.message_event.set()
        self._cycles.clear()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.timeout_keep_alive, self._not_taken)

    def resume_writing(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().resume_writing()

    def _not_taken(self) -> None:
        """The client has not taken an answer in time: drop the connection (its answer, and
        any other waiting, see ``connection_lost``, and its place is freed at once)."""
        self._send_timer = None
        self.transport.abort()

    def on_response_complete(self) -> None:
        """After an answer: the timer for the next request in place of uvicorn's keep-alive
        timer, which any byte (even a blank line) would cancel for good."""
        if self._answer_timer is not None:
            self._answer_timer.cancel()
            self._answer_timer = None
        super().on_response_complete()
        self._cycles = [cycle for cycle in self._cycles if not cycle.response_complete]
        if self._cycles:  # a pipelined request is owed its answer
            self._arm_answer_timer()
        if self.timeout_keep_alive_task is not None:  # no pipelined request is waiting
            self._unset_keepalive_if_required()
            self._arm_timer()

    def data_received(self, data: bytes) -> None:
        if self._turned_away or self.transport.is_closing():
            return  # what follows a refusal is not read
        overflow = self._count_heads(data)
        try:
            if overflow is None:
                self.parser.feed_data(data)
            else:  # the requests before the one too large are parsed (and may be refused)
                self.parser.feed_data(data[:overflow])
        except httptools.HttpParserUpgrade:
            pass  # answered as a plain request: this server speaks no other protocol
        except httptools.HttpParserError:
            self.send_400_response("")  # a no-op when a callback refused the request
            return
        if overflow is not None:
            self._refuse(431, _MESSAGES[431])
        elif self._head_bytes:  # a request has begun (or blank lines keep coming)
            self._arm_timer()

    def _count_heads(self, data: bytes) -> int | None:
        """Count ``data`` into the heads of the requests it carries, each ending at a blank
        line; the offset in ``data`` where one passes ``MAX_HEAD_BYTES``, or None.

        The API takes no bodies (``on_headers_complete`` refuses them), so after
        a head comes the next request's head.
        """
        tail = self._head_tail
        view = tail + data if tail else data
        begin = 0  # where the head still arriving begins in view
        before = self._head_bytes - len(tail)  # its bytes that came in earlier reads
        while (end := view.find(b"\r\n\r\n", begin)) != -1:
            if before + end + 4 - begin > MAX_HEAD_BYTES:
                break
            begin, before = end + 4, 0
        else:
            size = before + len(view) - begin
            if size <= MAX_HEAD_BYTES:
                self._head_bytes = size
                self._head_tail = view[max(begin, len(view) - 3) :]
                return None
        return max(0, begin + MAX_HEAD_BYTES - before - len(tail))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        self._arm_timer()

    def on_headers_complete(self) -> None:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (
                name == b"content-length" and value.strip(b" \t").lstrip(b"0")
            ):
                self._refuse(413, _MESSAGES[413])
                raise _Refused
        if len(self.tasks) >= self.max_connections:  # answers still running for gone clients
            self._refuse(503, _MESSAGES[503], [(b"retry-after", b"1")])
            raise _Refused
        if len(self._cycles) >= MAX_PIPELINED:
            self._refuse(
                503,
                f"more than {MAX_PIPELINED} requests are waiting for their answers on this "
                "connection; read the answers before sending more",
                [(b"retry-after", b"1")],
            )
            raise _Refused
        super().on_headers_complete()
        if self.cycle is not None:
            self._cycles.append(self.cycle)

    def on_message_complete(self) -> None:
        self._request_begun = False
        self._disarm_timer()
        super().on_message_complete()
        self._arm_answer_timer()

    def _arm_answer_timer(self) -> None:
        if self._answer_timer is None:
            self._answer_timer = self.loop.call_later(
                self.timeout_keep_alive + self._answer_seconds, self._answer_too_slow
            )

    def _answer_too_slow(self) -> None:
        """An owed answer was not sent in time: drop the connection (``connection_lost``
        stops every answer of it, and its place is freed at once)."""
        self._answer_timer = None
        self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, _MESSAGES[400])

    def _arm_timer(self) -> None:
        if self._timer is None:
            self._timer = self.loop.call_later(self.timeout_keep_alive, self._too_slow)

    def _disarm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if _unsent_bytes(self.transport):
            # answers it has not taken (uvloop hands them to libuv without pause_writing,
            # so the send timer may not run): a close would wait for them for ever
            self.transport.abort()
            return
        if self.transport.is_closing():
            return
        if self._request_begun or self._head_bytes:
            self._refuse(408, _MESSAGES[408])
        else:
            self.transport.close()

    def _turn_away(self) -> None:
        """Answer 503 at once; read and drop what the client sends until it closes, or
        ``TURN_AWAY_LINGER`` seconds (closing with its request unread could reset the
        connection before the client reads the answer; uvicorn closes at its end of file)."""
        self._turned_away = True
        self.transport.write(
            protocol_error(503, _MESSAGES[503], [(b"retry-after", b"1")], self.server_state)
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._timer = self.loop.call_later(TURN_AWAY_LINGER, self.transport.close)

    def _refuse(
        self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        if self.transport.is_closing():
            return
        self._disarm_timer()
        self.pipeline.clear()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # no answer of its may follow this one on the wire
            cycle.message_event.set()
            if cycle.response_started:  # half an answer is out: nothing can follow it
                self.transport.close()
                return
        self.transport.write(protocol_error(status, message, headers or [], self.server_state))
        self.transport.close()


#: The headers of the protocol's own answers (JSON errors, never framed or rendered).
PROTOCOL_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: Seconds a connection turned away at the limit may take to close after its 503.
TURN_AWAY_LINGER = 1.0


def protocol_error(
    status: int, message: str, headers: list[tuple[bytes, bytes]], server_state: ServerState
) -> bytes:
    """A whole HTTP/1.1 error answer in the one JSON shape, ending the connection."""
    body = error_body(status, message)
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode("ascii"))]
    lines += [name + b": " + value + b"\r\n" for name, value in server_state.default_headers]
    lines += [name + b": " + value + b"\r\n" for name, value in PROTOCOL_HEADERS + headers]
    lines += [
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


def _unsent_bytes(transport: asyncio.Transport) -> int:
    """Bytes written to ``transport`` that the client has not taken: the transport's own
    buffer and, on Linux, the kernel's send queue (``SIOCOUTQ``)."""
    unsent = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is not None and sys.platform.startswith("linux"):
        import fcntl
        import termios

        with contextlib.suppress(OSError, ValueError):
            queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            unsent += int.from_bytes(queued, sys.byteorder)
    return unsent


def _answer_seconds(app: Any) -> float:
    """``state.answer_seconds`` of the app, found through the middleware wrapping it."""
    for _ in range(16):
        state = getattr(app, "state", None)
        seconds = getattr(state, "answer_seconds", None) if state is not None else None
        if isinstance(seconds, (int, float)) and math.isfinite(seconds):
            return float(seconds)
        app = getattr(app, "app", None)
        if app is None:
            break
    return DEFAULT_ANSWER_SECONDS


def server_options(
    settings: ServeSettings, *, max_connections: int = MAX_CONNECTIONS
) -> dict[str, Any]:
    """uvicorn's settings for serving ``settings`` to the public (see ``GuardedHttpToolsProtocol``).

    Plain values and a module-level class: uvicorn pickles them for ``--workers``.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "http": GuardedHttpToolsProtocol,
        "ws": "none",  # no WebSocket endpoints: an Upgrade request is answered as plain HTTP
        "timeout_keep_alive": settings.idle_timeout,
        "limit_concurrency": max_connections,  # answered by GuardedHttpToolsProtocol
        "backlog": MAX_CONNECTIONS,
        "server_header": False,
    }


def settings_environment(settings: ServeSettings) -> dict[str, str]:
    """The environment that makes ``chcsearch.web:app`` (in worker processes) match ``settings``."""
    return {
        "CHCSEARCH_INDEX": str(settings.index_dir),
        "CHCSEARCH_CORS_ORIGINS": ",".join(settings.cors_origins),
        "CHCSEARCH_TIME_LIMIT": str(settings.time_limit),
        "CHCSEARCH_RESULT_CACHE": str(settings.result_cache),
        "CHCSEARCH_MAX_QUEUE": str(settings.max_queue),
        "CHCSEARCH_FRAME_ANCESTORS": " ".join(settings.frame_ancestors),
        "CHCSEARCH_SITE_URL": settings.site_url,
    }


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
                _param(
                    "correct",
                    {"type": "boolean", "default": True},
                    "Correct words the index does not have (false: search them as typed)",
                ),
            ],
            "SearchResults JSON: query, corrected_query, total, page, limit, filters, facets, results, notes, took_ms",
        ),
        "/api/suggest": _get(
            "Completions for what is being typed: page titles, then index words (at most 10)",
            [_param("q", {"type": "string"}, "The text typed so far", True)],
            '{"query": ..., "suggestions": [{"text", "kind": "title"|"word", "url", "breadcrumb"}]}',
        ),
        "/api/status": _get(
            "What is indexed: generation, schema version, counts, warnings "
            "(503, as /healthz, once a search has found the index damaged)",
            [],
            "Index status",
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
<style>{style}</style>
</head>
<body>
<h1>Search the site and its reports</h1>
<label for="q">Search</label>
<input id="q" type="search" data-chcsearch placeholder="Search pages and reports" autofocus>
<p><small>chcsearch {version} · <a href="/openapi.json">API</a></small></p>
<script src="/static/chcsearch.js" data-endpoint="" defer></script>
</body>
</html>
"""


HOME_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}"
)
HOME_PAGE = HOME_PAGE.replace("{style}", HOME_STYLE)
#: The home page's one inline style, allowed by its hash (no 'unsafe-inline').
HOME_STYLE_HASH = (
    "sha256-" + base64.b64encode(hashlib.sha256(HOME_STYLE.encode()).digest()).decode()
)


def _app_from_environment() -> Starlette:
    return create_app(resolve_serve_settings({}, env=os.environ, cwd=Path.cwd()))


#: The app for ``uvicorn chcsearch.web:app`` and other ASGI servers.
app = _app_from_environment()

__all__ = [
    "OPENAPI",
    "ApiError",
    "GuardedHttpToolsProtocol",
    "app",
    "create_app",
    "security_headers",
    "server_options",
    "settings_environment",
]
