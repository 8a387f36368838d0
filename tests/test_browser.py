"""The search box in a real browser (Playwright driving Debian's Chromium) against real servers.

Needs ``chromium`` (Debian package; ``make test`` installs it when it can)
and the real corpus. Skipped with a reason when either is missing, except
under ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import page, settings_for

import chcsearch
from chcsearch.config import IndexSettings
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        _skip_or_fail("Chromium not found; install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed; pip install playwright")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``chcsearch serve`` in a process of its own."""

    def __init__(self, index_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        command = [
            sys.executable,
            "-m",
            "chcsearch",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def corpus_server(corpus_build: tuple[IndexSettings, BuildSummary]) -> Iterator[Server]:
    server = Server(corpus_build[0].index_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    site = root / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: Hostile\n")
    (site / "hostile.md").write_text(
        page(
            "Hostile <img src=x onerror=\"window.pwned = 'title'\">",
            "Lighthouse report: &lt;script&gt;window.pwned = 'script'&lt;/script&gt; and "
            "&lt;img src=x onerror=\"window.pwned = 'img'\"&gt; were typed into a form.",
            section="hostile",
        ),
        encoding="utf-8",
    )
    build_index(settings_for(site, root / "index"))
    return root / "index"


@pytest.fixture
def tab(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page, and the console errors and page errors it reports."""
    context = browser.new_context()
    opened = context.new_page()
    problems: list[str] = []
    opened.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    yield opened, problems
    context.close()


def _type(tab: Any, text: str) -> None:
    box = tab.locator("input[data-chcsearch]")
    box.click()
    box.press_sequentially(text, delay=30)
    tab.wait_for_selector(".chcsearch-result")


def test_typing_stroke_shows_highlighted_results(
    corpus_server: Server, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "stroke")
    results = browser_tab.locator(".chcsearch-result")
    assert results.count() >= 5
    marks = browser_tab.locator(".chcsearch-result mark").all_inner_texts()
    assert marks and all(re.fullmatch(r"strokes?", m, re.I) for m in marks)
    first = results.first
    assert "Stroke" in first.locator(".chcsearch-title").inner_text()
    assert first.locator(".chcsearch-breadcrumb").inner_text().startswith("Greater Manchester")
    box = browser_tab.locator("input[data-chcsearch]")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    assert browser_tab.locator("[role=listbox] [role=option]").count() == results.count()
    assert problems == []


def test_arrow_keys_and_enter_open_the_chosen_result(
    corpus_server: Server, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "citizens jury")
    box = browser_tab.locator("input[data-chcsearch]")
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowUp")
    box.press("ArrowDown")
    chosen = browser_tab.locator(".chcsearch-result").nth(1)
    assert chosen.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == chosen.get_attribute("id")
    target = chosen.locator(".chcsearch-title").get_attribute("href")
    assert problems == []
    with browser_tab.expect_navigation():
        box.press("Enter")
    # the search service does not serve the site's pages, so the page itself is a 404 here
    assert browser_tab.url == corpus_server.url + target


def test_escape_closes_and_a_section_chip_filters(
    corpus_server: Server, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "technical infrastructure")
    before = browser_tab.locator(".chcsearch-breadcrumb").all_inner_texts()
    assert len({b.split(" › ")[0] for b in before}) > 1
    with browser_tab.expect_response(lambda r: "section=north-west-coast" in r.url):
        browser_tab.locator(".chcsearch-chip[data-section='north-west-coast']").click()
    browser_tab.wait_for_selector(".chcsearch-chip-on[data-section='north-west-coast']")
    first = browser_tab.locator(".chcsearch-result").first
    assert (
        first.locator(".chcsearch-title").get_attribute("href")
        == "/north-west-coast/tre-technical-infrastructure.html"
    )
    after = browser_tab.locator(".chcsearch-breadcrumb").all_inner_texts()
    assert after and all(b.startswith("North West Coast") for b in after)
    browser_tab.locator("input[data-chcsearch]").press("Escape")
    assert browser_tab.locator(".chcsearch-panel").is_hidden()
    assert problems == []


def test_report_pages_link_to_their_page_number(
    corpus_server: Server, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "citizens juries recruitment")
    links = browser_tab.locator(".chcsearch-part")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    assert re.search(r"\.pdf#page=\d+$", href or ""), href
    assert links.first.inner_text().startswith("p. ")
    assert problems == []


def test_hostile_text_is_shown_as_text_and_never_runs(
    hostile_index: Path, tab: tuple[Any, list[str]]
) -> None:
    server = Server(hostile_index)
    try:
        browser_tab, problems = tab
        browser_tab.goto(server.url + "/")
        _type(browser_tab, "lighthouse")
        result = browser_tab.locator(".chcsearch-result").first
        assert (
            "<script>window.pwned = 'script'</script>"
            in result.locator(".chcsearch-snippet").inner_text()
        )
        assert result.locator(".chcsearch-title").inner_text().startswith("Hostile <img")
        assert result.locator("script, img").count() == 0
        browser_tab.wait_for_timeout(300)
        assert browser_tab.evaluate("window.pwned") is None
        assert problems == []
    finally:
        server.stop()


def test_with_the_server_stopped_the_box_says_so(
    hostile_index: Path, tab: tuple[Any, list[str]]
) -> None:
    server = Server(hostile_index)
    browser_tab, problems = tab
    browser_tab.goto(server.url + "/")
    server.stop()
    box = browser_tab.locator("input[data-chcsearch]")
    box.click()
    box.press_sequentially("lighthouse", delay=30)
    status = browser_tab.locator(".chcsearch-status")
    status.filter(has_text="unavailable").wait_for()
    assert status.inner_text() == "Search is unavailable right now. Please try again later."
    assert browser_tab.locator(".chcsearch-result").count() == 0
    # Chromium itself logs the refused connection of the request; no script of the page logs
    # or throws anything (a page cannot silence the browser's own network log).
    network = [
        p
        for p in problems
        if p.startswith("console error: Failed to load resource: net::ERR_CONNECTION_REFUSED")
    ]
    assert problems == network


def test_links_that_lead_elsewhere_or_run_script_become_hash(tab: tuple[Any, list[str]]) -> None:
    source = (Path(chcsearch.__file__).parent / "static" / "chcsearch.js").read_text()
    function = re.search(r"function safeUrl\(url\) \{.*?\n  \}", source, re.S)
    assert function is not None
    browser_tab, problems = tab
    browser_tab.goto("about:blank")
    cases = {
        "/hub/stroke.html": "/hub/stroke.html",
        "/assets/r.pdf#page=3": "/assets/r.pdf#page=3",
        "https://reports.example.org/a.html": "https://reports.example.org/a.html",
        "page.html": "page.html",
        "javascript:alert(1)": "#",
        "JAVASCRIPT:alert(1)": "#",
        "java\nscript:alert(1)": "#",
        "//evil.example/x": "#",
        "/\\evil.example/x": "#",
        "https:///evil": "#",
        "data:text/html,x": "#",
    }
    found = browser_tab.evaluate(f"(urls) => urls.map({function.group(0)})", list(cases))
    assert dict(zip(cases, found, strict=True)) == cases
    assert problems == []
