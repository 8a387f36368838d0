"""Regenerate the README's screenshots of the search box on a real page of the site.

Run with ``make screenshots``. It bundles the real corpus's index (see
bench/common.py; ``CHCSEARCH_CORPUS`` names the corpus) into a temporary
``search/`` folder, renders one real page of the site beside it as a plain
host page (its own navbar, breadcrumb, body and report links; no external
assets), serves that folder with ``python -m http.server`` and drives
Debian's Chromium with Playwright: it types "stroke" into the box and saves
the viewport at 1280x900 and 390x844, and once more at 1280 after a section
chip is clicked. The PNGs go to docs/img/.
"""

from __future__ import annotations

import html
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import frontmatter
from markdown_it import MarkdownIt

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bench.common import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    corpus,
    corpus_index,
    free_port,
    start_static_site,
    stop,
)
from chcsearch.bundle import write_bundle  # noqa: E402

OUT_DIR = PROJECT / "docs" / "img"
#: The page shown: a Greater Manchester stroke care-pathway project with its report.
PAGE = "greater-manchester/care-pathway-1-building-lhs-for-stroke/stroke-secondary-prevention.md"
#: Top-level pages of the site linked from the navbar.
NAV = ("about", "hub", "greater-manchester", "connected-yorkshire", "north-west-coast")
QUERY = "stroke"
#: (file name, viewport width, height, click the first section chip first)
SHOTS = (
    ("search-box-1280.png", 1280, 900, False),
    ("search-box-390.png", 390, 844, False),
    ("search-box-chip-1280.png", 1280, 900, True),
)
MAX_BYTES = 400_000

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; color: #1f2328; background: #f6f7f9; line-height: 1.6;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: #0b5394; }
.site-header { background: #143d73; color: #fff; }
.navbar {
  display: flex; align-items: center; gap: 1.25rem;
  max-width: 76rem; margin: 0 auto; padding: 0.75rem 1.25rem;
}
.brand { color: #fff; font-weight: 700; font-size: 1.15rem; text-decoration: none; white-space: nowrap; }
.nav-links { display: flex; gap: 1rem; margin: 0; padding: 0; list-style: none; }
.nav-links a { color: #dce7f5; text-decoration: none; font-size: 0.95rem; white-space: nowrap; }
.nav-links a:hover, .nav-links a[aria-current] { color: #fff; text-decoration: underline; }
.site-search { margin-left: auto; }
.site-search input {
  width: 15rem; padding: 0.45rem 0.75rem; font: inherit; font-size: 0.95rem;
  border: 1px solid #9bb3d3; border-radius: 6px; background: #fff; color: #1f2328;
}
main { max-width: 76rem; margin: 0 auto; padding: 1.25rem 1.25rem 3rem; }
.breadcrumb { font-size: 0.9rem; color: #57606a; margin: 0 0 0.5rem; }
.breadcrumb a { color: #57606a; }
article { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 1.5rem 2rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 1rem; color: #143d73; }
.resources { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid #e1e4e8; }
.resources h2 { font-size: 1.1rem; margin: 0 0 0.5rem; }
.resources ul { margin: 0; padding-left: 1.2rem; }
footer { text-align: center; color: #57606a; font-size: 0.85rem; padding: 1rem; }
/* phones: brand and search share the first row, the links scroll on the second */
@media (max-width: 700px) {
  .navbar { flex-wrap: wrap; gap: 0.5rem 0.75rem; padding: 0.6rem 0.75rem; }
  .brand { font-size: 1rem; }
  .site-search { flex: 1; min-width: 9rem; }
  .site-search input { width: 100%; }
  .nav-links { order: 3; width: 100%; overflow-x: auto; gap: 1rem; padding-bottom: 0.2rem; }
  main { padding: 0.75rem 0.75rem 2rem; }
  article { padding: 1rem; }
  h1 { font-size: 1.45rem; }
}
"""


def _front(path: Path) -> frontmatter.Post:
    return frontmatter.load(str(path))


def _href(page: str) -> str:
    """The URL Jekyll gives the page ``page`` (a path under the site, without .md)."""
    return "/" + urllib.parse.quote(page) + ".html"


def render_page(site: Path, page: str) -> str:
    """The HTML of the page ``page`` of ``site``, in a simple layout of this script's own."""
    post = _front(site / page)
    title = str(post.get("title", ""))
    body = MarkdownIt("commonmark").render(post.content)

    trail: list[tuple[str, str]] = []
    parent = post.get("parent")
    while parent:
        parent_post = _front(site / f"{parent}.md")
        trail.insert(0, (str(parent_post.get("title", parent)), _href(str(parent))))
        parent = parent_post.get("parent")
    crumbs = ['<a href="/">Home</a>'] + [
        f'<a href="{html.escape(href)}">{html.escape(name)}</a>' for name, href in trail
    ]
    crumbs.append(f'<span aria-current="page">{html.escape(title)}</span>')

    top = page.split("/", 1)[0]
    nav = []
    for slug in NAV:
        name = str(_front(site / f"{slug}.md").get("title", slug))
        current = ' aria-current="page"' if slug == top else ""
        nav.append(f'<li><a href="{_href(slug)}"{current}>{html.escape(name)}</a></li>')

    listed = post.get("resources")
    resources = ""
    items = [
        f'<li><a href="{html.escape(urllib.parse.quote(str(r["path"])))}">'
        f"{html.escape(str(r.get('title') or Path(str(r['path'])).stem))}</a> (PDF)</li>"
        for r in (listed if isinstance(listed, list) else [])
        if isinstance(r, dict) and r.get("path")
    ]
    if items:
        resources = (
            '<section class="resources"><h2>Reports</h2><ul>\n'
            + "\n".join(items)
            + "\n</ul></section>"
        )

    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(title)} | Connected Health Cities</title>
<style>{STYLE}</style>
<link rel="stylesheet" href="/search/chcsearch.css">
<script src="/search/chcsearch.js" data-bundle="/search/" defer></script>
</head>
<body>
<header class="site-header">
<nav class="navbar" aria-label="Site">
<a class="brand" href="/">Connected Health Cities</a>
<ul class="nav-links">
{chr(10).join(nav)}
</ul>
<form class="site-search" role="search" action="/search/" onsubmit="return false">
<input type="search" data-chcsearch aria-label="Search pages and reports"
       placeholder="Search pages and reports">
</form>
</nav>
</header>
<main>
<p class="breadcrumb">{" › ".join(crumbs)}</p>
<article>
<h1>{html.escape(title)}</h1>
{body}
{resources}
</article>
</main>
<footer>Connected Health Cities</footer>
</body>
</html>
"""




def _shoot(browser: Any, url: str, out: Path, width: int, height: int, chip: bool) -> list[str]:
    """Type the query at this size and save the viewport; the page's errors, if any."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=1,
        is_mobile=width < 600,
        has_touch=width < 600,
        color_scheme="light",
    )
    problems: list[str] = []
    try:
        tab = context.new_page()
        tab.on(
            "console",
            lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        tab.goto(url, wait_until="load")
        box = tab.locator("input[data-chcsearch]")
        box.click()
        box.press_sequentially(QUERY, delay=60)
        tab.wait_for_selector(".chcsearch-result", timeout=30_000)
        tab.wait_for_timeout(300)
        if chip:
            tab.locator(".chcsearch-chip").first.click()
            tab.wait_for_selector(".chcsearch-chip-on", timeout=30_000)
            tab.wait_for_selector(".chcsearch-result", timeout=30_000)
            tab.wait_for_timeout(300)
        tab.screenshot(path=str(out), full_page=False)
    finally:
        context.close()
    return problems


def main() -> int:
    chromium = CHROMIUM
    if chromium is None:
        raise SystemExit("Chromium not found; install Debian's chromium package (make browser)")
    from playwright.sync_api import sync_playwright

    site = corpus()
    index_dir = corpus_index()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chcsearch-shots-") as scratch:
        root = Path(scratch)
        write_bundle(index_dir, root / "search")
        (root / "index.html").write_text(render_page(site, PAGE), encoding="utf-8")
        port = free_port()
        server = start_static_site(root, port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    for name, width, height, chip in SHOTS:
                        out = OUT_DIR / name
                        url = f"http://127.0.0.1:{port}/index.html"
                        problems = _shoot(browser, url, out, width, height, chip)
                        size = out.stat().st_size
                        note = f"  (over {MAX_BYTES // 1000} KB)" if size > MAX_BYTES else ""
                        print(
                            f"{out.relative_to(PROJECT)}: {width}x{height}, {size / 1000:.0f} KB{note}"
                        )
                        for problem in problems:
                            print(f"  {problem}", file=sys.stderr)
                finally:
                    browser.close()
        finally:
            stop(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
