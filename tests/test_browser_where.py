"""The box says where a result's text is: a result whose best text is a PDF page links it.

Serve mode and static mode, in a real browser (fixtures of ``test_browser``).
The result is still headed by its page's title; the page itself stays one
click away, at the end of the breadcrumb.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import ServeProcess
from test_browser import _type, browser, corpus_server, static_site, tab  # noqa: F401

pytestmark = pytest.mark.browser


def _shown(page: Any) -> list[dict[str, Any]]:
    return page.locator(".chcsearch-result").evaluate_all(  # type: ignore[no-any-return]
        """items => items.map(item => ({
            title: item.querySelector('.chcsearch-title').textContent,
            href: item.querySelector('.chcsearch-title').getAttribute('href'),
            page: (item.querySelector('.chcsearch-page') || {}).href || null,
            parts: [...item.querySelectorAll('.chcsearch-part')].map(a => a.getAttribute('href')),
        }))"""
    )


def test_a_result_whose_best_text_is_a_pdf_page_links_that_page(
    corpus_server: ServeProcess,  # noqa: F811
    tab: tuple[Any, list[str]],  # noqa: F811
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(corpus_server.url + "/")
    _type(browser_tab, "haemorrhage")
    first = _shown(browser_tab)[0]
    # as the JSON and the CLI say: Communications, page 8 of its final report
    number = re.search(r"\.pdf#page=(\d+)$", first["href"] or "")
    assert number, first
    assert first["title"] == f"Communications · p. {number.group(1)}"
    assert first["page"] == corpus_server.url + "/greater-manchester/communications.html"
    for shown in _shown(browser_tab):
        assert ("#page=" in shown["href"]) == (shown["page"] is not None), shown
        assert shown["href"] not in shown["parts"], shown  # "In the report" lists the others
    assert problems == []


def test_static_mode_links_the_pdf_page_too(
    static_site: str,  # noqa: F811
    tab: tuple[Any, list[str]],  # noqa: F811
) -> None:
    browser_tab, problems = tab
    browser_tab.goto(static_site)
    _type(browser_tab, "haemorrhage")
    shown = _shown(browser_tab)
    at_pages = [s for s in shown if "#page=" in s["href"]]
    assert at_pages, shown
    for result in at_pages:
        number = re.search(r"\.pdf#page=(\d+)$", result["href"])
        assert number and result["title"].endswith(f" · p. {number.group(1)}"), result
        assert result["page"] and not re.search(r"\.pdf(#|$)", result["page"]), result
        assert result["href"] not in result["parts"], result
    assert problems == []
