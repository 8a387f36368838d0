"""The search service under hostile requests, over real sockets to real servers.

Each server is uvicorn with ``server_options`` (as ``chcsearch serve`` runs it)
on 127.0.0.1 and an ephemeral port, in a thread of the test process; one test
starts ``chcsearch serve`` itself to check that its flags reach the server.
Slow searches are real: 32 two-letter prefixes over a site of made-up words
that share their beginnings, against a very short time limit, or over the
real corpus (skipped without it), where they take a few hundred ms.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import pickle
import random
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from helpers import PROJECT, ServeProcess, page, run_cli, settings_for

from chcsearch.config import IndexSettings, ServeSettings
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary
from chcsearch.query import Searcher
from chcsearch.web import MAX_PIPELINED, ApiError, _Slot, create_app, looks_costly, server_options

SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")
PROTOCOL_SECURITY = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
PREFIXES = [a + b for a in "bcdfgmpst" for b in "aeiou"]  # 45 two-letter word beginnings


class ThreadServer:
    """uvicorn serving ``create_app(settings)`` with ``server_options`` in a thread."""

    def __init__(self, settings: ServeSettings, **limits: int) -> None:
        options = {**server_options(replace(settings, port=0), **limits), "log_level": "critical"}
        config = uvicorn.Config(create_app(settings), lifespan="off", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(port: int, request: bytes, timeout: float = 10) -> Answer:
    """Send raw bytes, read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return Answer(b"".join(chunks))


def get(port: int, target: str, *, method: str = "GET", headers: str = "") -> Answer:
    request = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    return exchange(port, request.encode("latin-1"))


def storm(round_: int) -> str:
    """32 two-letter prefixes, a different set each round (so no cached table helps)."""
    start = (round_ * 7) % len(PREFIXES)
    return "%20".join(p + "*" for p in (PREFIXES[start:] + PREFIXES[:start])[:32])


def is_error_shape(answer: Answer, status: int) -> bool:
    body = answer.json()
    return (
        answer.status == status
        and answer.headers["content-type"].startswith("application/json")
        and set(body) == {"ok", "error", "status"}
        and body["ok"] is False
        and body["status"] == status
        and "Traceback" not in body["error"]
    )


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-web")
    shutil.copytree(PROJECT / "content", root / "content")
    build_index(settings_for(root / "content", root / "index"))
    return root / "index"


@pytest.fixture(scope="module")
def wide_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 pages of 18,000 made-up words, 400 for each of 45 beginnings ("ba…" to "tu…")."""
    root = tmp_path_factory.mktemp("wide")
    site = root / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: Wide\n")
    rng = random.Random(7)
    words = [
        p + "".join(rng.choice("aeiourstlnm") for _ in range(6))
        for p in PREFIXES
        for _ in range(400)
    ]
    rng.shuffle(words)
    for i in range(60):
        body = "lighthouse keeper " + " ".join(words[i * 300 : (i + 1) * 300])
        (site / f"p{i}.md").write_text(page(f"Page {i}", body), encoding="utf-8")
    build_index(settings_for(site, root / "index"))
    return root / "index"


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[ThreadServer]:
    running = ThreadServer(ServeSettings(index_dir=index_dir, idle_timeout=1.0))
    yield running
    running.stop()


def test_an_oversized_header_is_refused_and_others_still_answer(server: ThreadServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent, refused = 0, b""
        try:
            while sent < 64 * 1024 * 1024:  # stops at 64 MB, or when the server gives up
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass
        with contextlib.suppress(OSError):
            refused = sock.recv(65536)
    assert sent < 16 * 1024 * 1024  # the server stopped reading; the rest sat in socket buffers
    if refused:  # else the server closed before the answer could be read: also a refusal
        assert is_error_shape(Answer(refused), 431)
    start = time.monotonic()
    assert get(server.port, "/healthz").status == 200
    assert time.monotonic() - start < 1.0


def test_too_many_header_lines_are_refused(server: ThreadServer) -> None:
    answer = get(server.port, "/healthz", headers="".join(f"X-{i}: 1\r\n" for i in range(150)))
    assert is_error_shape(answer, 431)
    assert get(server.port, "/healthz", headers="X-A: 1\r\n" * 20).status == 200


def test_incomplete_and_idle_connections_are_closed_after_the_timeout(
    server: ThreadServer,
) -> None:
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    partial = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    for sock in partial:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    after_one = socket.create_connection(("127.0.0.1", server.port))
    after_one.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert after_one.recv(65536).startswith(b"HTTP/1.1 200")
    after_one.sendall(b"GET /healthz HTTP/1.1\r\nHost: 1")  # then nothing more
    start = time.monotonic()
    answers = []
    for sock in [*silent, *partial, after_one]:
        sock.settimeout(5)
        data = b""
        while chunk := sock.recv(65536):  # ends when the server closes the connection
            data += chunk
        answers.append(data)
        sock.close()
    assert time.monotonic() - start < 3.0
    assert all(a == b"" for a in answers[:20])
    assert all(is_error_shape(Answer(a), 408) for a in answers[20:])


def closed_within(sock: socket.socket, seconds: float, *, keep_sending: bytes = b"") -> float:
    """Seconds until the server ends ``sock`` (sending ``keep_sending`` every 0.2 s meanwhile),
    or ``seconds`` if it is still open then; what the server sends is read and dropped."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while (took := time.monotonic() - start) < seconds:
        try:
            if not sock.recv(65536):
                return took
        except TimeoutError:
            if keep_sending:
                with contextlib.suppress(OSError):
                    sock.sendall(keep_sending)
        except OSError:
            return took
    return seconds


def test_blank_lines_after_an_answer_do_not_stop_the_idle_timer(server: ThreadServer) -> None:
    def answered(blank: bytes) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(blank)
        return sock

    socks = [answered(b"\r\n\r\n") for _ in range(10)] + [answered(b"\r\n" * 500)]
    trickling = answered(b"\r\n")
    before_any = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    before_any.sendall(b"\r\n\r\n")
    took = [closed_within(sock, 4) for sock in [*socks, before_any]]
    took.append(closed_within(trickling, 4, keep_sending=b"\r\n"))  # a blank line every 0.2 s
    for sock in [*socks, trickling, before_any]:
        sock.close()
    assert max(took) < 2.0, took  # idle_timeout is 1 s from the end of the answer
    assert get(server.port, "/healthz").status == 200


def hog(port: int) -> socket.socket:
    """A connection that asks for as many answers of 10 KB as it may queue, in one write, and
    never reads them (they fill the kernel's buffers; the rest waits in the server)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /static/chcsearch.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * MAX_PIPELINED)
    return sock


def test_a_client_that_never_reads_its_answers_is_dropped_and_frees_its_place(
    index_dir: Path,
) -> None:
    # 6 places: a connection whose pipelined answer has just ended may hold two tasks for a
    # moment, and answers running number among the places (``on_headers_complete``).
    limited = ThreadServer(ServeSettings(index_dir=index_dir, idle_timeout=1.0), max_connections=6)
    hogs: list[socket.socket] = []
    try:
        hogs = [hog(limited.port) for _ in range(3)]
        start = time.monotonic()
        time.sleep(0.4)  # the kernel's buffers are full by now: the hogs wait to send
        meanwhile = get(limited.port, "/healthz")
        freed_after = None
        while freed_after is None and time.monotonic() - start < 6:
            time.sleep(0.25)
            # Three idle connections and a request: 4 places, or 7 if the hogs still hold 3.
            idle = [socket.create_connection(("127.0.0.1", limited.port)) for _ in range(3)]
            try:
                if get(limited.port, "/healthz").status == 200:
                    freed_after = time.monotonic() - start
            finally:
                for sock in idle:
                    sock.close()
        dropped = [closed_within(sock, 1) < 1 for sock in hogs]
    finally:
        for sock in hogs:
            sock.close()
        limited.stop()
    assert meanwhile.status == 200, meanwhile.body
    assert freed_after is not None and freed_after < 3.5, freed_after
    assert all(dropped)


def test_a_slash_url_never_redirects_to_the_host_it_was_given(server: ThreadServer) -> None:
    for target in ("/api/search/?q=stroke", "/healthz/", "/static/"):
        answer = exchange(
            server.port,
            f"GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode(),
        )
        assert "evil.example" not in answer.headers.get("location", "")
        assert b"evil.example" not in answer.body
        assert answer.status == 404 and is_error_shape(answer, 404)


def test_every_kind_of_response_carries_the_security_headers(server: ThreadServer) -> None:
    answers = [
        get(server.port, "/"),
        get(server.port, "/api/search?q=asthma"),
        get(server.port, "/api/suggest?q=asth"),
        get(server.port, "/api/status"),
        get(server.port, "/healthz"),
        get(server.port, "/openapi.json"),
        get(server.port, "/static/chcsearch.js"),
        get(server.port, "/static/chcsearch.css"),
        get(server.port, "/api/search?q="),
        get(server.port, "/nowhere"),
        get(server.port, "/api/search", method="POST"),
        get(server.port, "/static/chcsearch.js", headers="Range: bytes=99999999-\r\n"),
        get(server.port, "/healthz", headers="".join(f"X-{i}: 1\r\n" for i in range(150))),
    ]
    assert [a.status for a in answers] == [200] * 8 + [400, 404, 405, 416, 431]
    for answer in answers:
        assert all(name in answer.headers for name in SECURITY), answer.status
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
        assert "server" not in answer.headers


def test_the_home_page_keeps_to_its_own_content_security_policy(server: ThreadServer) -> None:
    answer = get(server.port, "/")
    policy = {
        part.split()[0]: part.split()[1:]
        for part in answer.headers["content-security-policy"].split("; ")
    }
    text = answer.body.decode("utf-8")
    assert policy["script-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    assert re.findall(r"<script\b[^>]*>", text) == [
        '<script src="/static/chcsearch.js" data-endpoint="" defer>'
    ]
    assert "<script></script>" not in text and " style=" not in text and " on" not in text
    for style in re.findall(r"<style>(.*?)</style>", text, re.S):
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["style-src"]
    for link in re.findall(r'<link [^>]*href="([^"]+)"', text):
        assert link.startswith("/static/") or link == "data:,"


def test_errors_from_below_the_api_have_the_one_json_shape(
    server: ThreadServer, index_dir: Path
) -> None:
    assert is_error_shape(get(server.port, "/nowhere"), 404)
    assert is_error_shape(get(server.port, "/static/missing.js"), 404)
    assert is_error_shape(get(server.port, "/static/../../etc/passwd"), 404)
    assert is_error_shape(get(server.port, "/healthz", method="DELETE"), 405)
    ranged = get(server.port, "/static/chcsearch.js", headers="Range: bytes=99999999-\r\n")
    assert is_error_shape(ranged, 416) and ranged.headers["content-range"].startswith("bytes */")
    assert is_error_shape(
        get(server.port, "/static/chcsearch.js", headers="Range: pages=1\r\n"), 400
    )
    for query in ("q=%ff%fe%fd", "q=%", "q=a&&&=&limit", "q=%00%0d%0a", "limit=%zz&q=x"):
        answer = get(server.port, "/api/search?" + query)
        assert answer.status in (200, 400), query
        assert answer.status == 200 or is_error_shape(answer, 400)
    garbled = exchange(server.port, b"NOT HTTP AT ALL\x00\r\n\r\n")
    assert is_error_shape(garbled, 400)
    cors = ThreadServer(
        ServeSettings(index_dir=index_dir, cors_origins=("https://reports.example.org",))
    )
    try:
        preflight = get(
            cors.port,
            "/api/search",
            method="OPTIONS",
            headers="Origin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n",
        )
        assert is_error_shape(preflight, 400)
        allowed = get(
            cors.port,
            "/api/search",
            method="OPTIONS",
            headers="Origin: https://reports.example.org\r\nAccess-Control-Request-Method: GET\r\n",
        )
        assert allowed.status == 200
        assert allowed.headers["access-control-allow-origin"] == "https://reports.example.org"
    finally:
        cors.stop()


def test_a_boost_overflow_answers_without_a_server_error(server: ThreadServer) -> None:
    for query in ("stroke^" + "9" * 400, "stroke^1e308 asthma^-1e308", "(" * 300 + "asthma"):
        answer = get(server.port, "/api/search?q=" + query)
        assert answer.status in (200, 400), query
        data = answer.json()  # valid JSON: no Infinity or NaN
        assert answer.status == 400 or data["total"] >= 0


def test_a_leading_wildcard_is_refused_with_400(server: ThreadServer) -> None:
    assert is_error_shape(get(server.port, "/api/search?q=*troke"), 400)


def test_a_search_past_its_time_limit_answers_503_and_the_next_is_correct(
    wide_index: Path,
) -> None:
    settings = ServeSettings(index_dir=wide_index, time_limit=0.02, result_cache=0)
    slow = ThreadServer(settings)
    try:
        assert get(slow.port, "/api/search?q=keeper").status == 200  # the index is open
        stopped = get(slow.port, "/api/search?q=" + storm(1))
        answer = get(slow.port, "/api/search?q=lighthouse%20keeper")
    finally:
        slow.stop()
    assert is_error_shape(stopped, 503) and stopped.headers["retry-after"] == "1"
    assert "took longer than 0.02 s" in stopped.json()["error"]
    assert answer.status == 200
    expected = Searcher(wide_index).search("lighthouse keeper").to_dict()
    data = answer.json()
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected


def test_the_slot_goes_to_plain_searches_first_and_refuses_beyond_its_queues() -> None:
    order: list[str] = []

    async def scenario() -> list[str]:
        slot = _Slot(max_plain=2, max_costly=1, retry_after=1)

        async def search(name: str, costly: bool, hold: float = 0.01) -> None:
            try:
                await slot.acquire(costly=costly, wait=1.0)
            except ApiError as refused:
                assert refused.status == 503 and refused.retry_after == 1
                order.append(name + " refused")
                return
            order.append(name)
            await anyio.sleep(hold)
            slot.release()

        async with anyio.create_task_group() as group:
            group.start_soon(search, "storm 1", True, 0.5)  # past the refusals' pause
            await anyio.sleep(0.02)
            for name, costly in [
                ("storm 2", True),
                ("storm 3", True),
                ("plain 1", False),
                ("plain 2", False),
                ("plain 3", False),
            ]:
                group.start_soon(search, name, costly)
                await anyio.sleep(0.01)
        with anyio.fail_after(1):  # a wait that ends in time gives the slot back
            await slot.acquire(costly=False, wait=0.1)
        late = anyio.Event()

        async def stuck() -> None:
            try:
                await slot.acquire(costly=False, wait=0.05)
            except ApiError:
                late.set()

        async with anyio.create_task_group() as group:
            group.start_soon(stuck)
        assert late.is_set() and slot.busy
        slot.release()
        assert not slot.busy
        return order

    assert anyio.run(scenario) == [
        "storm 1",
        "storm 3 refused",
        "plain 3 refused",
        "plain 1",
        "plain 2",
        "storm 2",
    ]


def test_wildcard_and_long_searches_wait_behind_plain_ones() -> None:
    assert looks_costly("strok*") and looks_costly("wom?n") and looks_costly("care " * 30)
    assert not looks_costly("what is a citizens jury?") and not looks_costly("copd nurse")


def _in_background(port: int, target: str, into: list[Answer]) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.append(get(port, target)), daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def corpus_server(
    corpus_build: tuple[IndexSettings, BuildSummary],
) -> Iterator[ThreadServer]:
    """The real corpus, where 32 random two-letter prefixes take 200-400 ms: past 0.15 s."""
    settings = ServeSettings(
        index_dir=corpus_build[0].index_dir, time_limit=0.15, max_queue=0, result_cache=0
    )
    running = ThreadServer(settings)
    assert get(running.port, "/api/search?q=stroke").status == 200
    yield running
    running.stop()


def corpus_storm(rng: random.Random) -> str:
    letters = "abcdefghijklmnoprstuw"
    return "%20".join(rng.choice(letters) + rng.choice(letters) + "*" for _ in range(32))


def test_with_the_queues_full_a_search_is_refused_at_once(corpus_server: ThreadServer) -> None:
    rng = random.Random(11)
    answers: list[Answer] = []
    first = _in_background(corpus_server.port, "/api/search?q=" + corpus_storm(rng), answers)
    time.sleep(0.03)  # it holds the slot now; max_queue=0: no plain search may wait
    start = time.monotonic()
    plain = get(corpus_server.port, "/api/search?q=stroke")
    took = time.monotonic() - start
    waiting = [
        _in_background(corpus_server.port, "/api/search?q=" + corpus_storm(rng), answers)
        for _ in range(2)
    ]
    time.sleep(0.02)
    start = time.monotonic()
    storm_refused = get(corpus_server.port, "/api/search?q=" + corpus_storm(rng))
    took = max(took, time.monotonic() - start)
    for thread in [first, *waiting]:
        thread.join(timeout=10)
    for answer in (plain, storm_refused):
        assert is_error_shape(answer, 503) and answer.headers["retry-after"] == "1"
        assert "too many searches are waiting" in answer.json()["error"]
    assert took < 2 * 0.15  # refused after the short pause, not after waiting for the slot
    # each stopped at 0.15 s or refused; on a quiet machine a storm may also finish in time
    assert {a.status for a in answers} <= {200, 503} and 503 in {a.status for a in answers}
    assert get(corpus_server.port, "/api/search?q=stroke").status == 200


def test_health_and_status_answer_while_a_slow_search_holds_the_slot(
    corpus_server: ThreadServer,
) -> None:
    rng = random.Random(12)
    answers: list[Answer] = []
    threads = [
        _in_background(corpus_server.port, "/api/search?q=" + corpus_storm(rng), answers)
        for _ in range(3)
    ]
    time.sleep(0.03)
    start = time.monotonic()
    health = get(corpus_server.port, "/healthz")
    status = get(corpus_server.port, "/api/status")
    took = time.monotonic() - start
    unanswered = 3 - len(answers)
    for thread in threads:
        thread.join(timeout=10)
    assert health.status == 200 and status.status == 200
    assert health.json()["generation"] == status.json()["generation"]
    assert unanswered > 0 and took < 0.1


def test_serve_passes_its_public_settings_to_the_server(index_dir: Path) -> None:
    options = ("--idle-timeout", "1", "--max-queue", "4", "--frame-ancestors", "self")
    served = ServeProcess(index_dir, *options, start_timeout=30)
    try:
        answer = get(served.port, "/healthz")
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
        idle = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        start = time.monotonic()
        assert idle.recv(1) == b""
        assert time.monotonic() - start < 2.5
        idle.close()
    finally:
        served.stop()


# ---- refused by the protocol, before the app -------------------------------------------------


def read_until_closed(sock: socket.socket, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def is_protocol_refusal(answer: Answer, status: int) -> bool:
    """The JSON error shape with the protocol's strict headers, ending the connection."""
    return (
        is_error_shape(answer, status)
        and all(answer.headers.get(k) == v for k, v in PROTOCOL_SECURITY.items())
        and answer.headers["connection"] == "close"
        and "server" not in answer.headers
    )


def test_a_request_that_announces_a_body_is_refused_at_once_and_others_still_answer(
    server: ThreadServer,
) -> None:
    heads = [
        "GET /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nq=abc",
    ]
    trickling = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(30)]
    start = time.monotonic()
    for i, sock in enumerate(trickling):
        sock.sendall(heads[i % len(heads)].encode())
    answers = [Answer(read_until_closed(sock)) for sock in trickling]
    took = time.monotonic() - start
    for sock in trickling:
        sock.close()
    assert took < 0.9  # refused when the headers came, not at the 1 s timeout
    assert all(is_protocol_refusal(a, 413) for a in answers)
    assert "no request body" in answers[0].json()["error"]
    assert get(server.port, "/healthz").status == 200
    empty = "Content-Length: 0\r\n"  # no body: answered as usual
    assert get(server.port, "/api/search?q=stroke", headers=empty).status == 200


def test_refusals_by_the_protocol_have_the_json_shape_and_the_security_headers(
    server: ThreadServer,
) -> None:
    host = b"Host: 127.0.0.1\r\n"
    refused = {
        400: [
            b"NOT HTTP AT ALL\x00\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
            b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n" + host + b"\r\n",
            b"BREW /healthz HTTP/1.1\r\n" + host + b"\r\n",
            b"GET /healthz\xff HTTP/1.1\r\n" + host + b"\r\n",
            b"GET /healthz HTTP/1.1\r\n" + host + b"Content-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
        ],
        431: [b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 17_000 + b"\r\n\r\n"],
        413: [b"GET /healthz HTTP/1.1\r\n" + host + b"Content-Length: 9\r\n\r\n"],
    }
    for status, requests in refused.items():
        for request in requests:
            assert is_protocol_refusal(exchange(server.port, request), status), request[:40]
    with socket.create_connection(("127.0.0.1", server.port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\n" + host)  # and nothing more
        assert is_protocol_refusal(Answer(read_until_closed(slow)), 408)
    assert get(server.port, "/healthz").status == 200


def test_beyond_the_connection_limit_the_answer_is_a_json_503(index_dir: Path) -> None:
    limited = ThreadServer(ServeSettings(index_dir=index_dir, idle_timeout=2.0), max_connections=3)
    try:
        held = [socket.create_connection(("127.0.0.1", limited.port)) for _ in range(3)]
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: 1\r\n\r\n")
        assert held[0].recv(65536).startswith(b"HTTP/1.1 200")
        turned_away = [get(limited.port, "/api/search?q=stroke") for _ in range(5)]
        for sock in held:
            sock.close()
        deadline = time.monotonic() + 5
        while (answer := get(limited.port, "/healthz")).status != 200:
            assert time.monotonic() < deadline, "the server did not take connections again"
            time.sleep(0.05)
    finally:
        limited.stop()
    for refusal in turned_away:
        assert is_protocol_refusal(refusal, 503) and refusal.headers["retry-after"] == "1"
        assert "too many connections" in refusal.json()["error"]
    assert answer.json()["ok"] is True


def test_server_options_can_be_pickled_for_worker_processes(index_dir: Path) -> None:
    options = server_options(ServeSettings(index_dir=index_dir), max_connections=7)
    assert pickle.loads(pickle.dumps(options)) == options
    assert options["limit_concurrency"] == 7


def test_pipelined_requests_in_one_write_are_all_answered(server: ThreadServer) -> None:
    padding = "X-Padding: " + "p" * 400 + "\r\n"  # heads of ~450 bytes: 7 KB in one write
    one = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{padding}\r\n"
    last = f"GET /api/search?q=stroke HTTP/1.1\r\nHost: 127.0.0.1\r\n{padding}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall((one * (MAX_PIPELINED - 1) + last).encode())
        raw = read_until_closed(sock, timeout=10)
    assert raw.count(b"HTTP/1.1 200 OK\r\n") == MAX_PIPELINED and b"HTTP/1.1 4" not in raw
    assert raw.rstrip().endswith(b"}")  # the search's answer, last and whole


def test_more_pipelined_requests_than_a_connection_may_queue_are_refused(
    server: ThreadServer,
) -> None:
    one = b"GET /static/chcsearch.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(one * 1000)  # and reads nothing until the server has answered
        raw = read_until_closed(sock, timeout=10)
    assert raw.count(b"HTTP/1.1 503") == 1 and is_protocol_refusal(
        Answer(raw[raw.index(b"HTTP/1.1 503") :]), 503
    )
    assert b"read the answers before sending more" in raw
    assert get(server.port, "/healthz").status == 200


def test_a_refusal_in_the_middle_of_pipelined_requests_ends_the_connection_cleanly(
    server: ThreadServer,
) -> None:
    good = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with_body = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nGET "
    too_big = b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n"
    for bad, status in ((with_body, 413), (too_big, 431)):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(good * 3 + bad + good * 20)
            raw = read_until_closed(sock)
        # Only the refusal: no answer to a request before it, none to one after it.
        assert raw.count(b"HTTP/1.1 ") == 1 and is_protocol_refusal(Answer(raw), status)
        for _ in range(3):
            assert get(server.port, "/healthz").status == 200


def test_only_ascii_digits_are_numbers(server: ThreadServer) -> None:
    # %2B is "+" ("+5" in an address is " 5": a space, stripped like any other).
    for value in ("%D9%A3", "1_0", "%2B5", "%EF%BC%95", "0x5", "-1", "1e1"):
        for name in ("limit", "page"):
            answer = get(server.port, f"/api/search?q=stroke&{name}={value}")
            assert is_error_shape(answer, 400), (name, value)
            assert "must be a whole number" in answer.json()["error"]
    assert get(server.port, "/api/search?q=stroke&limit=05&page=1").json()["limit"] == 5


def refused_setting(
    tmp_path: Path, toml: str, env: dict[str, str], message: str, *args: str
) -> str:
    """Run ``chcsearch *args`` in ``tmp_path`` (``toml`` its chcsearch.toml, if given), check that
    it refused a setting with an error that says ``message``; its stderr. A flag's value is a
    usage error (exit code 2); the environment's or chcsearch.toml's is bad input (exit code 3)."""
    if toml:
        (tmp_path / "chcsearch.toml").write_text(toml, encoding="utf-8")
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == (3 if env or toml else 2), result.stderr
    said = " ".join(result.stderr.split())
    assert said.startswith("error: ") and message in said
    return result.stderr


@pytest.mark.parametrize(
    ("args", "env", "toml", "message"),
    [
        (
            ["--time-limit", "inf"],
            {},
            "",
            "--time-limit must be a number of seconds from 0.01 to 60, got 'inf'.",
        ),
        (["--time-limit", "nan"], {}, "", "error: --time-limit must be"),
        (["--time-limit", "1e309"], {}, "", "error: --time-limit must be"),
        (
            [],
            {"CHCSEARCH_TIME_LIMIT": "inf"},
            "",
            "environment CHCSEARCH_TIME_LIMIT: time_limit "
            "must be a number of seconds from 0.01 to 60, got 'inf'.",
        ),
        (
            ["--idle-timeout", "inf"],
            {},
            "",
            "--idle-timeout must be a number of seconds from 0.1 to 300, got 'inf'.",
        ),
        # Too short to be of use: every search would be 503, every request 408.
        (["--time-limit", "1e-320"], {}, "", "error: --time-limit must be"),
        (["--time-limit", "0.009"], {}, "", "from 0.01 to 60, got '0.009'."),
        (
            [],
            {"CHCSEARCH_TIME_LIMIT": "1e-320"},
            "",
            "environment CHCSEARCH_TIME_LIMIT: time_limit must be a number of seconds from "
            "0.01 to 60, got '1e-320'.",
        ),
        ([], {}, "time_limit = 1e-320\n", "chcsearch.toml: time_limit must be a number"),
        (["--idle-timeout", "0.05"], {}, "", "--idle-timeout must be a number of seconds from 0.1"),
        # Digits Python's float() reads but flags refuse: ASCII only, from every source.
        ([], {"CHCSEARCH_TIME_LIMIT": "\u0661"}, "", "CHCSEARCH_TIME_LIMIT: time_limit must"),
        ([], {"CHCSEARCH_IDLE_TIMEOUT": "\uff18"}, "", "CHCSEARCH_IDLE_TIMEOUT: idle_timeout"),
        ([], {"CHCSEARCH_TIME_LIMIT": "1_0"}, "", "got '1_0'."),
        ([], {}, '[serve]\ntime_limit = "1_0"\n', "chcsearch.toml: time_limit must be"),
        ([], {}, '[serve]\nidle_timeout = "\u0661"\n', "chcsearch.toml: idle_timeout must"),
    ],
)
def test_serve_refuses_endless_undefined_or_useless_times(
    args: list[str], env: dict[str, str], toml: str, message: str, tmp_path: Path
) -> None:
    # No index there: were the setting accepted, serve would stop with exit code 4, not start.
    stderr = refused_setting(
        tmp_path, toml, env, message, "serve", "--index", str(tmp_path / "none"), *args
    )
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "env", "toml", "message"),
    [
        (["--pdf-timeout", "0.05"], {}, "", "error: --pdf-timeout must be"),
        ([], {"CHCSEARCH_PDF_TIMEOUT": "1e-320"}, "", "environment CHCSEARCH_PDF_TIMEOUT:"),
        ([], {"CHCSEARCH_PDF_TIMEOUT": "\uff18"}, "", "environment CHCSEARCH_PDF_TIMEOUT:"),
        ([], {}, "[index]\npdf_timeout = 0.01\n", "chcsearch.toml: pdf_timeout must be"),
    ],
)
def test_index_refuses_a_pdf_timeout_below_its_floor_from_every_source(
    args: list[str], env: dict[str, str], toml: str, message: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "p.md").write_text(page("Page"), encoding="utf-8")
    index = ("index", str(site), "--index", str(tmp_path / "ix"))
    stderr = refused_setting(tmp_path, toml, env, message, *index, *args)
    assert "from 0.1 to 86400" in stderr and not (tmp_path / "ix").exists()


def _damage(index_dir: Path) -> None:
    """Zero the middle of the postings file: its size stays, its bytes do not."""
    current = (index_dir / "CURRENT").read_text().strip()
    postings = next((index_dir / current).glob("*.pst"))
    data = bytearray(postings.read_bytes())
    quarter = len(data) // 4
    data[quarter : 3 * quarter] = bytes(2 * quarter)
    postings.write_bytes(bytes(data))


def test_healthz_answers_503_once_a_search_finds_the_index_damaged(
    index_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    damaged = ThreadServer(ServeSettings(index_dir=copy, result_cache=0))
    try:
        assert get(damaged.port, "/healthz").status == 200
        assert get(damaged.port, "/api/status").json()["ok"] is True
        _damage(copy)
        searches = [get(damaged.port, f"/api/search?q={q}") for q in ("stroke", "asthma", "care")]
        health = get(damaged.port, "/healthz")
        status = get(damaged.port, "/api/status")
        build_index(settings_for(PROJECT / "content", copy))  # a new generation repairs it
        repaired = get(damaged.port, "/healthz")
        status_repaired = get(damaged.port, "/api/status")
    finally:
        damaged.stop()
    assert any(is_error_shape(a, 503) for a in searches), [a.status for a in searches]
    assert is_error_shape(health, 503) and health.headers["retry-after"] == "2"
    assert "damaged" in health.json()["error"] and str(copy) not in health.json()["error"]
    assert repaired.status == 200 and repaired.json()["generation"] != "gen-000001"
    # /api/status says the same as /healthz, in the one error shape
    assert is_error_shape(status, 503) and status.json()["error"] == health.json()["error"]
    assert status.headers["retry-after"] == "2"
    assert status_repaired.status == 200 and status_repaired.json()["ok"] is True
    assert status_repaired.json()["generation"] == repaired.json()["generation"]
