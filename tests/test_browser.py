"""The search box in a real browser (Playwright driving Debian's Chromium) against real servers.

Needs ``chromium`` (Debian package; ``make test`` installs it when it can)
and the real corpus. Skipped with a reason when either is missing, except
under ``CI=true``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ServeProcess, StaticServer, free_port, page, settings_for

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


#: Another site's origin, for a host page with the box (see host_site); the API allows it.
HOST_PORT = free_port()
HOST_ORIGIN = f"http://127.0.0.1:{HOST_PORT}"


@pytest.fixture(scope="module")
def corpus_server(corpus_build: tuple[IndexSettings, BuildSummary]) -> Iterator[ServeProcess]:
    server = ServeProcess(corpus_build[0].index_dir, "--cors-origin", HOST_ORIGIN)
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
            "&lt;img src=x onerror=\"window.pwned = 'img'\"&gt; were typed into a form, "
            "and &lt;mark&gt;fake&lt;/mark&gt; &amp;amp; too.",
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
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
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
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
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
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
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
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
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
    server = ServeProcess(hostile_index)
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
    server = ServeProcess(hostile_index)
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


HOST_CSS = """
body { margin: 0; font: 15px/1.4 sans-serif; }
.nav { display: flex; align-items: center; gap: 12px; height: 40px; padding: 0 12px;
       background: #123; color: #fff; }
.nav .grow { flex: 1; }
.nav input { width: 180px; }
main { padding: 12px; }
"""


@pytest.fixture(scope="module")
def host_site(
    corpus_server: ServeProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Another site on its own origin, under a strict CSP: a 40 px flex navbar holding the box."""
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path_factory.mktemp("host")
    server = corpus_server
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src {server.url};
 style-src {HOST_ORIGIN} {server.url}; connect-src {server.url}">
<link rel="stylesheet" href="{HOST_ORIGIN}/host.css">
<link rel="stylesheet" href="{server.url}/static/chcsearch.css">
<title>Host</title></head><body>
<header class="nav"><a href="/">Home</a><span class="grow"></span>
<input type="search" data-chcsearch aria-label="Search" placeholder="Search"></header>
<main><p>{"Some page text. " * 200}</p></main>
<script src="{server.url}/static/chcsearch.js" data-endpoint="{server.url}" defer></script>
</body></html>"""
    (folder / "index.html").write_text(html, encoding="utf-8")
    (folder / "host.css").write_text(HOST_CSS, encoding="utf-8")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(
        ("127.0.0.1", HOST_PORT), functools.partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield HOST_ORIGIN + "/"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_the_panel_floats_over_the_host_page_inside_the_viewport(
    host_site: str, tab: tuple[Any, list[str]], size: tuple[int, int]
) -> None:
    browser_tab, problems = tab
    width, height = size
    browser_tab.set_viewport_size({"width": width, "height": height})
    browser_tab.goto(host_site)
    header = browser_tab.locator("header.nav")
    before = header.bounding_box()
    main_before = browser_tab.locator("main").bounding_box()
    _type(browser_tab, "stroke")
    browser_tab.locator(".chcsearch-more").wait_for()
    after = header.bounding_box()
    assert before and after and abs(after["height"] - before["height"]) <= 2
    assert browser_tab.locator("main").bounding_box() == main_before
    panel = browser_tab.locator(".chcsearch-panel")
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, box
    field = browser_tab.locator("input[data-chcsearch]").bounding_box()
    assert field and abs(box["y"] - (field["y"] + field["height"])) <= 8  # right under the input
    # it scrolls inside itself once its results are taller than it
    browser_tab.locator(".chcsearch-more").click()
    browser_tab.locator(".chcsearch-result").nth(8).wait_for()
    assert panel.evaluate("p => p.scrollHeight > p.clientHeight")
    assert panel.evaluate("p => getComputedStyle(p).overflowY") == "auto"
    box = panel.bounding_box()
    assert box and box["y"] + box["height"] <= height
    assert abs(header.bounding_box()["height"] - before["height"]) <= 2  # type: ignore[index]
    if width < 480:  # the chips take one row and scroll sideways
        tops = browser_tab.locator(".chcsearch-chip").evaluate_all(
            "chips => chips.map(c => Math.round(c.getBoundingClientRect().top))"
        )
        assert len(tops) >= 3 and len(set(tops)) == 1, tops
        assert browser_tab.locator(".chcsearch-chips").evaluate(
            "c => c.scrollWidth > c.clientWidth"
        )
    assert problems == []


def test_more_results_reaches_beyond_the_first_page_by_keyboard(
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "stroke")
    more = browser_tab.locator(".chcsearch-more")
    more.wait_for()
    # keyboard only: Tab from the input through the chips to "More results", Enter, repeat
    for _ in range(5):
        if more.is_hidden():
            break
        count = browser_tab.locator(".chcsearch-result").count()
        for _tab in range(30):
            browser_tab.keyboard.press("Tab")
            if more.evaluate("b => b === document.activeElement"):
                break
        assert more.evaluate("b => b === document.activeElement")
        with browser_tab.expect_response(lambda r: "page=" in r.url):
            browser_tab.keyboard.press("Enter")
        browser_tab.locator(".chcsearch-result").nth(count).wait_for()
        browser_tab.locator("input[data-chcsearch]").focus()
    urls = browser_tab.locator(".chcsearch-title").evaluate_all("links => links.map(a => a.href)")
    assert len(set(urls)) >= 20 and len(urls) == len(set(urls))
    assert more.is_hidden()  # every result is shown: nothing more to fetch
    ids = browser_tab.locator(".chcsearch-result").evaluate_all("items => items.map(i => i.id)")
    assert len(set(ids)) == len(ids)
    assert browser_tab.locator("[role=listbox] [role=option]").count() == len(urls)
    assert problems == []


def test_report_pages_are_listed_in_page_order(
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "stroke")
    lines = browser_tab.locator(".chcsearch-parts").evaluate_all(
        "lines => lines.map(l => [...l.querySelectorAll('a')].map(a => a.href))"
    )
    assert any(len(line) >= 3 for line in lines), lines
    for line in lines:
        numbers = [int(re.search(r"#page=(\d+)$", href).group(1)) for href in line]  # type: ignore[union-attr]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), line
    assert problems == []


def test_no_results_offers_did_you_mean_and_removing_the_filter(
    corpus_server: ServeProcess, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "stroke")
    chip = browser_tab.locator(".chcsearch-chip[data-section='connected-yorkshire']")
    assert chip.inner_text().startswith("Connected Yorkshire")  # the facet's title, not its slug
    chip.click()
    active = browser_tab.locator(".chcsearch-chip-on[data-section='connected-yorkshire']")
    active.wait_for()
    assert "Connected Yorkshire" in active.inner_text() and "×" in active.inner_text()
    assert "remove" in (active.get_attribute("aria-label") or "").lower()
    box = browser_tab.locator("input[data-chcsearch]")
    box.fill("")
    box.press_sequentially("epilep", delay=30)
    empty = browser_tab.locator(".chcsearch-empty")
    empty.locator(".chcsearch-unfilter").wait_for()
    assert browser_tab.locator(".chcsearch-status").inner_text().startswith("No results")
    assert browser_tab.locator(".chcsearch-result").count() == 0
    assert active.is_visible()  # the active filter stays visible
    assert "epilepsy" in empty.locator(".chcsearch-suggestion").inner_text().lower()
    assert "Connected Yorkshire" in empty.locator(".chcsearch-unfilter").inner_text()
    empty.locator(".chcsearch-unfilter").click()
    browser_tab.wait_for_selector(".chcsearch-result")
    assert browser_tab.locator(".chcsearch-chip-on").count() == 0
    assert any("Epilepsy" in t for t in browser_tab.locator(".chcsearch-title").all_inner_texts())
    # removing the filter with the chip's ×, by keyboard
    browser_tab.locator(".chcsearch-chip").first.click()
    browser_tab.locator(".chcsearch-chip-on").wait_for()
    browser_tab.locator(".chcsearch-chip-on").focus()
    browser_tab.keyboard.press("Enter")
    browser_tab.locator(".chcsearch-chip-on").wait_for(state="detached")
    assert problems == []


def _note_error(problems: list[str], message: Any) -> None:
    if message.type == "error":
        problems.append(message.text)


def test_dark_mode_and_a_placeholder_that_fits(browser: Any, corpus_server: ServeProcess) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            browser_tab = context.new_page()
            problems: list[str] = []
            browser_tab.on("console", functools.partial(_note_error, problems))
            browser_tab.goto(corpus_server.url + "/")
            _type(browser_tab, "stroke")
            background = browser_tab.locator(".chcsearch-panel").evaluate(
                "p => getComputedStyle(p).backgroundColor"
            )
            red = int(re.findall(r"\d+", background)[0])
            assert (red < 80) if scheme == "dark" else (red > 200), background
            fits = browser_tab.locator("input[data-chcsearch]").evaluate(
                """input => {
                  const style = getComputedStyle(input);
                  const context = document.createElement('canvas').getContext('2d');
                  context.font = style.font;
                  const room = input.clientWidth - parseFloat(style.paddingLeft)
                    - parseFloat(style.paddingRight);
                  return context.measureText(input.placeholder).width <= room;
                }"""
            )
            assert fits
            assert problems == []
        finally:
            context.close()


# ---- static mode: the bundle `chcsearch bundle` writes, served by http.server ---------------


def _static_site(index_dir: Path, folder: Path) -> Path:
    """A site folder: the bundle in search/ and a host page with a 40 px flex navbar and the box."""
    from chcsearch.bundle import write_bundle

    write_bundle(index_dir, folder / "search")
    (folder / "host.css").write_text(HOST_CSS, encoding="utf-8")
    (folder / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/host.css"><link rel="stylesheet" href="/search/chcsearch.css">
<link rel="icon" href="data:,"><title>Static host</title></head><body>
<header class="nav"><a href="/">Home</a><span class="grow"></span>
<input type="search" data-chcsearch aria-label="Search" placeholder="Search"></header>
<main><p>{"Some page text. " * 200}</p></main>
<script src="/search/chcsearch.js" data-bundle="/search/" defer></script>
</body></html>""",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def static_site(
    corpus_build: tuple[IndexSettings, BuildSummary], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real corpus as a static site: no chcsearch process, only ``python -m http.server``."""
    folder = _static_site(corpus_build[0].index_dir, tmp_path_factory.mktemp("static"))
    server = StaticServer(folder)
    yield server.url + "/"
    server.stop()


def _results(tab: Any) -> list[str]:
    return tab.locator(".chcsearch-title").evaluate_all(  # type: ignore[no-any-return]
        "links => links.map(a => a.getAttribute('href'))"
    )


def test_static_mode_groups_highlights_and_links_report_pages(
    static_site: str, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    requests: list[str] = []
    browser_tab.on("request", lambda request: requests.append(request.url))
    browser_tab.goto(static_site)
    _type(browser_tab, "stroke")
    first = browser_tab.locator(".chcsearch-result").first
    assert "stroke" in first.locator(".chcsearch-snippet mark").first.inner_text().lower()
    urls = _results(browser_tab)
    assert len(urls) == len(set(urls))  # a report's pages are grouped under one result
    parts = browser_tab.locator(".chcsearch-part").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert parts and all(re.search(r"\.pdf#page=\d+$", href) for href in parts), parts
    # a result is a page, or the PDF page its best text is on (never a bare PDF)
    assert all(re.search(r"\.pdf#page=\d+$", u) or not re.search(r"\.pdf(#|$)", u) for u in urls), (
        urls
    )
    # page order within each report
    for line in browser_tab.locator(".chcsearch-parts").evaluate_all(
        "lines => lines.map(l => [...l.querySelectorAll('a')].map(a => a.href))"
    ):
        numbers = [int(re.search(r"#page=(\d+)$", href).group(1)) for href in line]  # type: ignore[union-attr]
        assert numbers == sorted(numbers), line
    assert all(url.startswith(static_site) for url in requests), requests  # the bundle only
    assert problems == []


def test_static_mode_chips_filter_and_drill_down(
    static_site: str, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(static_site)
    _type(browser_tab, "stroke")
    chip = browser_tab.locator(".chcsearch-chip[data-section='greater-manchester']")
    assert chip.inner_text().startswith("Greater Manchester (")
    chip.click()
    browser_tab.locator(".chcsearch-chip-on[data-section='greater-manchester']").wait_for()
    browser_tab.wait_for_selector(".chcsearch-result")
    assert all(
        url.startswith(("/greater-manchester/", "/assets/greater-manchester/"))
        for url in _results(browser_tab)
    )
    deeper = browser_tab.locator(".chcsearch-chip:not(.chcsearch-chip-on)").first
    value = deeper.get_attribute("data-section") or ""
    assert value.startswith("greater-manchester/"), value  # one level down
    assert problems == []


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_static_mode_floats_and_reaches_twenty_results(
    static_site: str, tab: tuple[Any, list[str]], size: tuple[int, int]
) -> None:
    browser_tab, problems = tab
    width, height = size
    browser_tab.set_viewport_size({"width": width, "height": height})
    browser_tab.goto(static_site)
    header = browser_tab.locator("header.nav")
    before = header.bounding_box()
    _type(browser_tab, "stroke")
    more = browser_tab.locator(".chcsearch-more")
    for _ in range(10):
        if len(_results(browser_tab)) >= 20 or more.is_hidden():
            break
        count = browser_tab.locator(".chcsearch-result").count()
        more.focus()
        browser_tab.keyboard.press("Enter")
        browser_tab.locator(".chcsearch-result").nth(count).wait_for()
    urls = _results(browser_tab)
    assert len(set(urls)) >= 20 and len(urls) == len(set(urls)), urls
    after = header.bounding_box()
    assert before and after and abs(after["height"] - before["height"]) <= 2
    box = browser_tab.locator(".chcsearch-panel").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, box
    assert problems == []


def test_static_mode_answers_a_question_and_offers_did_you_mean(
    static_site: str, tab: tuple[Any, list[str]]
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(static_site)
    # Pagefind alone wants every word on one page; this question has none such
    _type(browser_tab, "what did the study of stroke mimics by paramedics find")
    titles = browser_tab.locator(".chcsearch-title").all_inner_texts()
    assert any("Mimics" in t for t in titles[:3]), titles
    box = browser_tab.locator("input[data-chcsearch]")
    box.fill("")
    # a word the site does not have is corrected, and said so, as serve does
    box.press_sequentially("epilepsey", delay=20)
    status = browser_tab.locator(".chcsearch-status")
    status.filter(has_text="searched for").wait_for()
    assert "“epilepsy”" in status.inner_text()
    assert any("pilepsy" in t for t in browser_tab.locator(".chcsearch-result").all_inner_texts())
    # nothing in the chosen section: did-you-mean and removing the filter
    box.fill("")
    box.press_sequentially("stroke", delay=20)
    browser_tab.locator(".chcsearch-chip[data-section='connected-yorkshire']").click()
    browser_tab.locator(".chcsearch-chip-on[data-section='connected-yorkshire']").wait_for()
    box.fill("")
    box.press_sequentially("epilep", delay=20)
    empty = browser_tab.locator(".chcsearch-empty")
    empty.locator(".chcsearch-unfilter").wait_for()
    assert browser_tab.locator(".chcsearch-status").inner_text().startswith("No results")
    empty.locator(".chcsearch-suggestion").wait_for()
    assert "epilepsy" in empty.locator(".chcsearch-suggestion").inner_text().lower()
    empty.locator(".chcsearch-unfilter").click()
    browser_tab.wait_for_selector(".chcsearch-result")
    assert browser_tab.locator(".chcsearch-chip-on").count() == 0
    assert problems == []


def test_static_mode_shows_hostile_text_as_text_and_runs_nothing(
    hostile_index: Path, tab: tuple[Any, list[str]], tmp_path: Path
) -> None:
    server = StaticServer(_static_site(hostile_index, tmp_path))
    try:
        browser_tab, problems = tab
        browser_tab.goto(server.url + "/")
        _type(browser_tab, "lighthouse")
        result = browser_tab.locator(".chcsearch-result").first
        snippet = result.locator(".chcsearch-snippet")
        assert "<script>" in snippet.inner_text()
        assert "<mark>fake</mark> &amp; too" in snippet.inner_text()  # text stays text
        assert "fake" not in snippet.locator("mark").all_inner_texts()
        assert result.locator(".chcsearch-title").inner_text().startswith("Hostile <img")
        assert browser_tab.locator(".chcsearch-panel script, .chcsearch-panel img").count() == 0
        browser_tab.wait_for_timeout(300)
        assert browser_tab.evaluate("window.pwned") is None
        assert problems == []
    finally:
        server.stop()
