"""``chcsearch bundle``: a static Pagefind search bundle from a real index of a tiny site.

Nothing is mocked: the site is indexed with Whoosh and pdfminer and the bundle is
written by Pagefind's own binary, then read back from disk.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from importlib import resources
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import Any

import pytest
from helpers import index_of, page, write_files
from pdfgen import text_pdf
from typer.testing import CliRunner

from chcsearch import bundle
from chcsearch.bundle import _settled, record_of, records, vocabulary_words, write_bundle
from chcsearch.cli import app
from chcsearch.errors import ConfigError
from chcsearch.index import IndexStore, spelling_vocabulary, stored_documents
from chcsearch.query import Searcher

HOSTILE_TITLE = 'Ferry <script>alert(1)</script> "Crossings" & Tides'
REPORT_TITLE = "Ferry Crossings Report"
SITE_URL = "https://example.org/docs"
BUNDLE_FILES = {
    "pagefind",
    "chcsearch.js",
    "chcsearch.css",
    "chcsearch-bundle.json",
    "chcsearch-results.json",
    "chcsearch-vocabulary.json",
}
SITE = {
    "_config.yml": "title: Harbour Studies\nurl: https://example.org\nbaseurl: /docs\n",
    "region.md": page(
        "Harbour Region", "The harbour region studied ferries and the harbour.", section="region"
    ),
    "region/ferry.md": page(
        HOSTILE_TITLE,
        'Ferry crossings &lt;script&gt;alert(2)&lt;/script&gt; were "counted" &amp; logged.',
        section="region/ferry",
        parent="region",
        level='"4.2"',
        resources=f"\n  - path: /assets/ferry.pdf\n    title: {REPORT_TITLE}",
    ),
    "region/tides.md": page(
        "Tide Tables", "Tide tables for the harbour and its ferry.", section="region/tides"
    ),
    "assets/ferry.pdf": text_pdf(
        [
            ["Lighthouse keepers logbook"],
            ["Seagull census <script>alert(3)</script> results"],
            ["Appendix of ferry timetables"],
        ],
        title="Ferry PDF Metadata Title",
    ),
    # no page links this one: it is its own group, and its title counts on its first page
    "loose/notes.pdf": text_pdf(
        [["Standalone notes about moorings"], ["More notes about moorings"]],
        title="Loose Mooring Notes",
    ),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny site, indexed once for this module (tests only read the index)."""
    return index_of(tmp_path_factory, "bundle-site", SITE)


@pytest.fixture(scope="module")
def docs(index: Path) -> list[dict[str, Any]]:
    return stored_documents(IndexStore(index).open_current())


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def leftovers(folder: Path) -> list[str]:
    """Temporary folders a bundle run should never leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".chcsearch-"))


def fragments(out: Path) -> list[dict[str, Any]]:
    """Pagefind's stored records (gzip, a signature, then JSON) as Pagefind 1.x writes them."""
    found = []
    for path in sorted((out / "pagefind" / "fragment").iterdir()):
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(b"pagefind_dcd")
        found.append(json.loads(raw[len(b"pagefind_dcd") :]))
    return found


def vocabulary(out: Path) -> list[str]:
    """The did-you-mean words: one string, a word a line, which chcsearch.js splits."""
    data = json.loads((out / "chcsearch-vocabulary.json").read_text(encoding="utf-8"))
    assert isinstance(data["words"], str), data
    return data["words"].split("\n") if data["words"] else []


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


class Parsed(HTMLParser):
    """A record's HTML, parsed the way a browser would see it."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.texts: list[tuple[str, str | None, str]] = []  # (tag, weight, text)
        self.meta: dict[str, str] = {}
        self.filters: dict[str, list[str]] = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if tag == "meta":
            return  # a void element
        self.stack.append((tag, values))
        for attr, into in (("data-pagefind-meta", "meta"), ("data-pagefind-filter", "filter")):
            if attr in values:
                assert values[attr].endswith("[data-v]"), values
                name = values[attr][: -len("[data-v]")]
                if into == "meta":
                    assert name not in self.meta, name
                    self.meta[name] = values["data-v"]
                else:
                    self.filters.setdefault(name, []).append(values["data-v"])

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        tag, values = self.stack[-1] if self.stack else ("", {})
        self.texts.append((tag, values.get("data-pagefind-weight"), data))

    def text_of(self, tag: str) -> list[str]:
        return [text for t, _, text in self.texts if t == tag]

    def all_text(self) -> str:
        return " ".join(text for _, _, text in self.texts)


def parsed_records(docs: list[dict[str, Any]], site_url: str = SITE_URL) -> dict[str, Parsed]:
    return {record.url: Parsed(record.html) for record in records(docs, site_url)}


# ---- the command, end to end ------------------------------------------------------------------


def test_bundle_writes_pagefind_the_box_and_its_data(
    index: Path, docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "_site" / "search"
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Bundle {out} written in ")
    assert lines[0].endswith(f"(links on {SITE_URL})")
    assert "records           8  (3 pages, 5 PDF pages)" in result.stdout
    assert "words for did-you-mean" in result.stdout and result.stderr == ""

    assert {p.name for p in out.iterdir()} == BUNDLE_FILES
    assert (out / "pagefind" / "pagefind.js").is_file()
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert sum(language["page_count"] for language in entry["languages"].values()) == len(docs)
    static = resources.files("chcsearch") / "static"
    for name in ("chcsearch.js", "chcsearch.css"):
        assert (out / name).read_bytes() == (static / name).read_bytes(), name

    data = json.loads((out / "chcsearch-bundle.json").read_text(encoding="utf-8"))
    assert data["format"] == bundle.BUNDLE_FORMAT
    assert data["generation"] == IndexStore(index).open_current().name
    assert data["records"] == len(docs) and data["site_url"] == SITE_URL
    sections = data["sections"]
    assert sections["region"] == "Harbour Region"
    assert sections["region/ferry"] == HOSTILE_TITLE
    assert sections["region/tides"] == "Tide Tables"

    words = vocabulary(out)
    assert {"harbour", "ferry", "tide", "tables"} <= set(words)
    assert "lighthouse" not in words  # in one document and no title
    vocab = spelling_vocabulary(IndexStore(index).open_current())
    counts = {word: count for word, count, _ in vocab}
    assert [counts[w] for w in words] == sorted((counts[w] for w in words), reverse=True)
    assert leftovers(out) == []


def test_bundle_json_summary_matches_the_index_and_the_files(
    index: Path, docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "search"
    result = invoke("bundle", str(out), "--index", str(index), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    pages = sum(1 for d in docs if d["kind"] == "page")
    pdf_pages = sum(1 for d in docs if d["kind"] == "pdf")
    assert (pages, pdf_pages) == (3, 5)
    assert (summary["records"], summary["pages"], summary["pdf_pages"]) == (8, pages, pdf_pages)
    assert summary["out_dir"] == str(out.resolve()) and summary["site_url"] == SITE_URL
    files = [p for p in out.rglob("*") if p.is_file()]
    assert summary["files"] == len(files)
    assert summary["bytes"] == sum(p.stat().st_size for p in files)
    words = vocabulary(out)
    assert summary["vocabulary"] == len(words) > 0


def test_pagefind_stores_each_record_with_its_meta_and_filters(index: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    assert invoke("bundle", str(out), "--index", str(index)).exit_code == 0
    stored = {f["meta"]["link"]: f for f in fragments(out)}
    assert len(stored) == 8
    assert all(link.startswith(SITE_URL + "/") for link in stored)  # the site's url + baseurl
    ferry = stored[f"{SITE_URL}/region/ferry.html"]
    assert ferry["meta"]["title"] == HOSTILE_TITLE
    assert ferry["filters"] == {
        "kind": ["page"],
        "level": ["4", "4.2"],
        "section": ["region", "region/ferry"],
    }
    report_page = stored[f"{SITE_URL}/assets/ferry.pdf#page=2"]
    assert report_page["meta"]["title"] == REPORT_TITLE
    assert report_page["meta"]["group_title"] == HOSTILE_TITLE
    assert report_page["meta"]["page"] == "2"
    assert REPORT_TITLE not in report_page["content"]  # a linked report's title is not its text
    assert "Seagull census" in report_page["content"]


def test_bundle_has_help_with_an_example() -> None:
    result = invoke("bundle", "--help")
    assert result.exit_code == 0
    assert "Example: chcsearch bundle" in " ".join(result.stdout.split())


# ---- records -----------------------------------------------------------------------------------


def test_a_page_record_weights_its_title_and_carries_filters_and_meta(
    docs: list[dict[str, Any]],
) -> None:
    found = parsed_records(docs)
    ferry = found[f"{SITE_URL}/region/ferry.html"]
    assert ferry.text_of("h1") == [HOSTILE_TITLE]
    assert [(t, w) for t, w, _ in ferry.texts if t == "h1"] == [("h1", "6")]
    assert ferry.text_of("h3") == [REPORT_TITLE]  # the report it links, as a resource title
    assert "script" not in ferry.tags
    body = " ".join(text for tag, weight, text in ferry.texts if tag == "div" and weight == "2")
    assert '<script>alert(2)</script> were "counted" & logged' in body
    assert ferry.filters == {
        "section": ["region", "region/ferry"],
        "kind": ["page"],
        "level": ["4", "4.2"],
    }
    assert ferry.meta["title"] == HOSTILE_TITLE
    assert ferry.meta["link"] == f"{SITE_URL}/region/ferry.html"
    assert ferry.meta["kind"] == "page"
    assert ferry.meta["group"] == "region/ferry.md"
    assert json.loads(ferry.meta["crumbs"]) == ["Harbour Region"]
    assert "page" not in ferry.meta and "group_title" not in ferry.meta

    region = found[f"{SITE_URL}/region.html"]
    assert region.text_of("h1") == ["Harbour Region"]
    assert region.filters == {"section": ["region"], "kind": ["page"]}
    assert json.loads(region.meta["crumbs"]) == []


def test_a_linked_report_page_keeps_the_report_title_out_of_its_text(
    docs: list[dict[str, Any]],
) -> None:
    found = parsed_records(docs)
    for number in (1, 2, 3):
        record = found[f"{SITE_URL}/assets/ferry.pdf#page={number}"]
        assert record.text_of("h1") == [], number
        assert REPORT_TITLE not in record.all_text()
        assert "Harbour Region" not in record.all_text()  # nor its place (context)
        assert record.meta["title"] == REPORT_TITLE
        assert record.meta["kind"] == "pdf" and record.meta["page"] == str(number)
        assert record.meta["group"] == "region/ferry.md"
        assert record.meta["group_title"] == HOSTILE_TITLE
        assert record.meta["group_url"] == f"{SITE_URL}/region/ferry.html"
        assert json.loads(record.meta["group_crumbs"]) == ["Harbour Region"]
        assert json.loads(record.meta["crumbs"]) == ["Harbour Region", HOSTILE_TITLE]
        assert record.filters == {
            "section": ["region", "region/ferry"],
            "kind": ["pdf"],
            "level": ["4", "4.2"],
        }
    second = found[f"{SITE_URL}/assets/ferry.pdf#page=2"]
    assert "script" not in second.tags
    assert "Seagull census <script>alert(3)</script> results" in second.all_text()


def test_an_unlinked_report_counts_its_title_on_its_first_page_only(
    docs: list[dict[str, Any]],
) -> None:
    found = parsed_records(docs)
    first = found[f"{SITE_URL}/loose/notes.pdf#page=1"]
    second = found[f"{SITE_URL}/loose/notes.pdf#page=2"]
    assert first.text_of("h1") == ["Loose Mooring Notes"]
    assert second.text_of("h1") == [] and "Loose Mooring Notes" not in second.all_text()
    for record in (first, second):
        assert record.meta["title"] == "Loose Mooring Notes"
        assert record.meta["group"] == "loose/notes.pdf"
        assert "group_title" not in record.meta and "group_url" not in record.meta


def test_every_document_is_one_record_linking_where_its_meta_says(
    docs: list[dict[str, Any]],
) -> None:
    found = records(docs, SITE_URL)
    assert len(found) == len(docs) == len({r.url for r in found})
    assert sorted(r.kind for r in found) == sorted(str(d["kind"]) for d in docs)
    for record in found:
        assert Parsed(record.html).meta["link"] == record.url
    ferry_pages = [r.url for r in found if "ferry.pdf" in r.url]
    assert ferry_pages == [f"{SITE_URL}/assets/ferry.pdf#page={n}" for n in (1, 2, 3)]


def test_records_put_each_page_before_the_report_pages_it_links(
    docs: list[dict[str, Any]],
) -> None:
    urls = [r.url for r in records(docs, SITE_URL)]
    ferry = urls.index(f"{SITE_URL}/region/ferry.html")
    report = [i for i, url in enumerate(urls) if "/assets/ferry.pdf#page=" in url]
    assert report == list(range(ferry + 1, ferry + 1 + len(report)))  # right after, in order
    assert [urls[i].rsplit("=", 1)[1] for i in report] == ["1", "2", "3"]


RECORD_TAGS = {"html", "head", "meta", "body", "h1", "p", "h2", "h3", "div", "span"}


@pytest.mark.parametrize("kind", ["page", "pdf"])
def test_hostile_values_stay_text_in_every_part_of_a_record(kind: str) -> None:
    evil = "\"><script>alert(1)</script><img src=x onerror=alert(2)> & 'quote'"
    doc = {
        "kind": kind,
        "url": "/r.pdf#page=1" if kind == "pdf" else "/r.html",
        "title": "T " + evil,
        "context": "C " + evil,
        "authors": ["A " + evil],
        "headings": "H " + evil,
        "resources": [{"title": "R " + evil}],
        "body": "B " + evil,
        "source": "r.pdf" if kind == "pdf" else "r.md",
        "group": "r.pdf" if kind == "pdf" else "r.md",  # an unlinked report: its title counts
        "page": 1,
        "page_label": "L " + evil,
        "breadcrumb": ["Crumb " + evil],
        "ancestors": ["s" + evil],
        "level": "1." + evil,
    }
    head = {"title": "Head " + evil, "url": "/p.html", "breadcrumb": ["HC " + evil]}
    parsed = Parsed(record_of(doc, head, "").html)
    assert set(parsed.tags) <= RECORD_TAGS
    assert parsed.text_of("h1") == ["T " + evil]
    assert parsed.text_of("p") == ["C " + evil, "A " + evil]
    assert parsed.text_of("h2") == ["H " + evil] and parsed.text_of("h3") == ["R " + evil]
    assert parsed.text_of("div") == ["B " + evil]
    assert parsed.meta["title"] == "T " + evil
    assert json.loads(parsed.meta["crumbs"]) == ["Crumb " + evil]
    assert parsed.filters["section"] == ["s" + evil]
    assert parsed.filters["level"] == ["1", "1." + evil]
    if kind == "pdf":
        assert parsed.meta["page_label"] == "L " + evil
        assert parsed.meta["group_title"] == "Head " + evil
        assert json.loads(parsed.meta["group_crumbs"]) == ["HC " + evil]
        assert parsed.meta["link"] == "/r.pdf#page=1" and parsed.meta["group_url"] == "/p.html"
    else:
        assert "page_label" not in parsed.meta and "group_title" not in parsed.meta


def test_a_record_text_is_cut_to_the_index_cap() -> None:
    doc = {"kind": "page", "url": "/a.html", "title": "A", "body": "word " * 30_000}
    parsed = Parsed(record_of(doc, None, "").html)
    assert len(parsed.text_of("div")[0]) == bundle.MAX_RECORD_CHARS


# ---- the site's address ------------------------------------------------------------------------


def test_site_url_makes_every_link_start_with_it(
    index: Path, docs: list[dict[str, Any]], tmp_path: Path
) -> None:
    base = "https://reports.example.org/base"
    for parsed in parsed_records(docs, base).values():
        assert parsed.meta["link"].startswith(base + "/"), parsed.meta["link"]
        if "group_url" in parsed.meta:
            assert parsed.meta["group_url"].startswith(base + "/")
    out = tmp_path / "search"
    result = invoke("bundle", str(out), "--index", str(index), "--site-url", base + "/", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["site_url"] == base
    data = json.loads((out / "chcsearch-bundle.json").read_text(encoding="utf-8"))
    assert data["site_url"] == base
    links = [f["meta"]["link"] for f in fragments(out)]
    assert len(links) == 8 and all(link.startswith(base + "/") for link in links)


def test_an_empty_site_url_leaves_links_as_paths(index: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    result = invoke("bundle", str(out), "--index", str(index), "--site-url", "")
    assert result.exit_code == 0, result.stderr
    assert "(links are paths on the site)" in result.stdout.splitlines()[0]
    links = [f["meta"]["link"] for f in fragments(out)]
    assert links and all(link.startswith("/docs/") for link in links)


@pytest.mark.parametrize(
    "bad", ["javascript:x", "ftp://x", "example.org", "https://example.org/?q=1", "https://"]
)
def test_a_bad_site_url_is_refused_naming_it(index: Path, tmp_path: Path, bad: str) -> None:
    out = tmp_path / "search"
    result = invoke("bundle", str(out), "--index", str(index), "--site-url", bad)
    assert result.exit_code == 2, result.output
    assert f"--site-url {bad!r}" in result.stderr and "https://" in result.stderr
    assert not out.exists()


# ---- where the bundle may go -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["index", "inside", "parent", "grandparent", "symlink"])
def test_the_bundle_never_goes_in_or_around_the_index(
    index: Path, tmp_path: Path, where: str
) -> None:
    root = index.parent
    link = tmp_path / "link-to-index"
    link.symlink_to(index, target_is_directory=True)
    out = {
        "index": index,
        "inside": index / "search",
        "parent": root,
        "grandparent": root.parent,
        "symlink": link,
    }[where]
    before = snapshot(root)
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 3, result.output
    assert "must not be the index folder" in result.stderr and str(out) in result.stderr
    assert snapshot(root) == before
    assert Searcher(index).search("lighthouse").results


def test_a_file_is_not_a_bundle_folder(index: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    out.write_text("keep me", encoding="utf-8")
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 3, result.output
    assert f"{out} is a file" in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search"]


def test_no_index_is_exit_4_naming_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-index-here"
    out = tmp_path / "search"
    result = invoke("bundle", str(out), "--index", str(missing))
    assert result.exit_code == 4, result.output
    assert str(missing) in result.stderr
    assert not out.exists()


def test_a_rebundle_replaces_only_the_bundles_own_files(index: Path, tmp_path: Path) -> None:
    out = write_files(
        tmp_path / "search",
        {
            "index.html": "<p>the site's own page</p>",
            "assets/site.css": "body {}",
            "pagefind/stale.pf_fragment": "old",
            "pagefind/fragment/stale-too.pf_fragment": "old",
            "chcsearch.js": "old box",
        },
    )
    for _ in range(2):
        result = invoke("bundle", str(out), "--index", str(index))
        assert result.exit_code == 0, result.stderr
        assert (out / "index.html").read_text(encoding="utf-8") == "<p>the site's own page</p>"
        assert (out / "assets" / "site.css").read_text(encoding="utf-8") == "body {}"
        assert not (out / "pagefind" / "stale.pf_fragment").exists()
        assert not (out / "pagefind" / "fragment" / "stale-too.pf_fragment").exists()
        assert (out / "pagefind" / "pagefind.js").is_file()
        assert (out / "chcsearch.js").read_text(encoding="utf-8") != "old box"
        assert {p.name for p in out.iterdir()} == BUNDLE_FILES | {"index.html", "assets"}
        assert leftovers(out) == []
        assert len(fragments(out)) == 8


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a folder whatever its mode")
def test_a_read_only_bundle_folder_fails_cleanly(index: Path, tmp_path: Path) -> None:
    out = write_files(tmp_path / "search", {"index.html": "mine"})
    out.chmod(0o555)
    try:
        result = invoke("bundle", str(out), "--index", str(index))
    finally:
        out.chmod(0o755)
    assert result.exit_code == 3, result.output
    assert str(out) in result.stderr and "cannot write the bundle there" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_a_failure_while_moving_the_bundle_in_leaves_the_previous_one_as_it_was(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = {
        "chcsearch-bundle.json": '{"previous": true}',
        "chcsearch-vocabulary.json": '{"words": "previous"}',
        "chcsearch.js": "previous box",
        "pagefind/pagefind.js": "previous pagefind",
        "index.html": "mine",
    }
    out = write_files(tmp_path / "search", previous)
    real_rename = Path.rename

    def rename(self: Path, target: Any) -> Path:
        # the new pagefind/ moving in is the last move: it fails (a full disk, say)
        if self.name == "pagefind" and not self.parent.samefile(out):
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 3, result.output
    assert str(out) in result.stderr and "previous bundle there is unchanged" in result.stderr
    assert {name: (out / name).read_text(encoding="utf-8") for name in previous} == previous
    assert leftovers(out) == []
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "chcsearch-bundle.json",
            "chcsearch-vocabulary.json",
            "chcsearch.js",
            "pagefind",
            "index.html",
        ]
    )


def test_a_plain_file_where_the_pagefind_folder_goes_is_replaced(
    index: Path, tmp_path: Path
) -> None:
    out = write_files(tmp_path / "search", {"pagefind": "not a folder", "index.html": "mine"})
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 0, result.output
    assert (out / "pagefind" / "pagefind.js").is_file()
    assert (out / "index.html").read_text(encoding="utf-8") == "mine"
    assert leftovers(out) == []


class NoPagefind(MetaPathFinder):
    """An interpreter where Pagefind is not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.startswith("pagefind"):
            raise ImportError(f"No module named {name!r} (blocked)")


def test_without_pagefind_write_bundle_says_how_to_install_it(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "meta_path", [NoPagefind(), *sys.meta_path])
    for name in [n for n in sys.modules if n.startswith("pagefind")]:
        monkeypatch.delitem(sys.modules, name)
    out = tmp_path / "search"
    with pytest.raises(ConfigError, match=re.escape('pip install "chcsearch[static]"')) as caught:
        write_bundle(index, out)
    assert caught.value.exit_code == 3
    assert not out.exists()  # nothing written, not even the folder


NO_PAGEFIND_CLI = """
import sys
import time
from importlib.abc import MetaPathFinder

class NoPagefind(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith("pagefind"):
            raise ImportError(f"No module named {name!r} (blocked)")
        return None

sys.meta_path.insert(0, NoPagefind())
sys.argv = ["chcsearch", *sys.argv[1:]]
from chcsearch.console import main
main()
"""


def _bundle_without_pagefind(index: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_PAGEFIND_CLI, "bundle", str(out), "--index", str(index)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def test_without_pagefind_the_command_exits_3_saying_how_to_install_it(
    index: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search"
    result = _bundle_without_pagefind(index, out)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error: chcsearch bundle needs Pagefind")
    assert "pip install" in result.stderr and result.stdout == ""
    assert not (out / "pagefind").exists()
    assert not out.exists() or leftovers(out) == []


def test_without_pagefind_the_command_names_the_extra(index: Path, tmp_path: Path) -> None:
    result = _bundle_without_pagefind(index, tmp_path / "search")
    assert 'pip install "chcsearch[static]"' in result.stderr


# ---- did-you-mean words ------------------------------------------------------------------------


def test_vocabulary_words_keeps_real_words_most_frequent_first() -> None:
    triples = [
        ("harbour", 5, False),
        ("ferry", 9, True),
        ("tide", 5, True),
        ("lighthouse", 1, False),  # one document, no title
        ("moorings", 1, True),  # one document but in a title
        ("ab", 40, True),  # too short
        ("abc", 2, False),  # just long enough
        ("a" * 24, 3, False),  # just short enough
        ("b" * 25, 3, True),  # too long
        ("covid19", 8, True),  # not letters only
        ("don't", 8, True),
        ("café", 2, False),  # letters need not be ASCII
        ("zero", 0, False),
    ]
    assert vocabulary_words(triples) == [
        "ferry",
        "harbour",
        "tide",
        "a" * 24,
        "abc",
        "café",
        "moorings",
    ]
    assert vocabulary_words([]) == []


def test_vocabulary_words_stop_at_the_cap() -> None:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [a + b + c + d for a in letters[:16] for b in letters for c in letters for d in "xyz"]
    assert len(words) > bundle.VOCABULARY_SIZE
    triples = [(word, 2, False) for word in words] + [("zzzz", 3, False)]
    kept = vocabulary_words(triples)
    assert len(kept) == bundle.VOCABULARY_SIZE
    assert kept[0] == "zzzz" and kept[1:] == sorted(words)[: bundle.VOCABULARY_SIZE - 1]


def test_incomplete_pagefind_output_is_refused_and_the_previous_bundle_kept(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pagefind does not report a failed write (a full disk): what it wrote is checked."""
    out = tmp_path / "search"
    assert invoke("bundle", str(out), "--index", str(index)).exit_code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real = bundle._fragments

    def one_lost(folder: Path) -> dict[str, int]:
        found = real(folder)
        found.pop(sorted(found)[0])
        return found

    monkeypatch.setattr(bundle, "_fragments", one_lost)
    result = invoke("bundle", str(out), "--index", str(index))
    assert result.exit_code == 3, result.output
    assert "incomplete (7 of 8 records" in result.stderr
    assert "previous bundle there is unchanged" in result.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before and leftovers(out) == []


def test_temporary_folders_of_killed_runs_are_removed(index: Path, tmp_path: Path) -> None:
    out = write_files(tmp_path / "search", {".chcsearch-bundle-old1/records/0.html": "x"})
    stale = out / ".chcsearch-bundle-old1"
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = out / ".chcsearch-bundle-running"
    fresh.mkdir()  # another run's, still going: left alone
    assert invoke("bundle", str(out), "--index", str(index)).exit_code == 0
    assert not stale.exists() and fresh.is_dir()


def test_the_bundle_waits_for_pagefind_to_finish_writing(tmp_path: Path) -> None:
    # Pagefind answers "write the files" before its last writes are done (seen in 2 bundles
    # of 32 of the real corpus): stopping it then would leave an empty file in the bundle
    late = tmp_path / "pagefind-entry.json"
    late.write_bytes(b"")
    threading.Timer(0.3, late.write_text, args=('{"version": "1"}',)).start()
    started = time.monotonic()
    asyncio.run(_settled(tmp_path))
    assert late.stat().st_size > 0 and time.monotonic() - started >= 0.3
    never = tmp_path / "never.pf_meta"
    never.write_bytes(b"")
    started = time.monotonic()
    asyncio.run(_settled(tmp_path, seconds=0.3))  # gives up; the bundle's check then refuses it
    assert 0.3 <= time.monotonic() - started < 2
