"""Which files a generator publishes, and at which URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import page, settings_for
from pdfgen import text_pdf

from chcsearch.discover import detect_generator, scan_site
from chcsearch.errors import SiteError
from chcsearch.index import IndexStore, stored_documents
from chcsearch.ingest import build_index

MakeSite = Callable[..., Path]


def test_jekyll_publishes_only_front_matter_files_outside_special_folders(
    make_site: MakeSite,
) -> None:
    site = make_site(
        {
            "_config.yml": "exclude:\n  - private/\n  - '*.tmp.md'\ninclude:\n  - _pages\n",
            "index.md": page("Home"),
            "notes.md": "no front matter here\n",
            "README.md": "---\ntitle: readme\n---\n",
            "_drafts/d.md": page("Draft"),
            "_pages/kept.md": page("Kept"),
            ".hidden/h.md": page("Hidden"),
            "private/p.md": page("Private"),
            "scratch.tmp.md": page("Scratch"),
            "backup.md~": page("Backup"),
            "assets/r.pdf": b"%PDF-1.4",
            "_assets/hidden.pdf": b"%PDF-1.4",
        }
    )
    scan = scan_site(site)
    assert [p.src_path for p in scan.pages] == ["README.md", "_pages/kept.md", "index.md"]
    assert [p.src_path for p in scan.pdfs] == ["assets/r.pdf"]
    assert [(p.kind, p.src_path) for p in scan.problems] == [("no-front-matter", "notes.md")]


def test_the_real_sites_config_excludes_its_readme(make_site: MakeSite) -> None:
    site = make_site(
        {"_config.yml": "exclude:\n  - .vscode/\n  - README.md\n", "README.md": "# Title\n"}
    )
    scan = scan_site(site)
    assert not scan.pages and not scan.problems


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", {"index.md": "/", "a/b.md": "/a/b.html", "a/index.md": "/a/", "p.md": "/fixed/here/"}),
        (
            "permalink: pretty\nbaseurl: /site\n",
            {
                "index.md": "/site/",
                "a/b.md": "/site/a/b/",
                "a/index.md": "/site/a/",
                "p.md": "/site/fixed/here/",
            },
        ),
    ],
)
def test_jekyll_urls(
    make_site: MakeSite, index_dir: Path, config: str, expected: dict[str, str]
) -> None:
    site = make_site(
        {
            "_config.yml": config,
            "index.md": page("Home"),
            "a/b.md": page("B"),
            "a/index.md": page("A"),
            "p.md": page("P", permalink="/fixed/here/"),
        }
    )
    build_index(settings_for(site, index_dir))
    urls = {d["id"]: d["url"] for d in stored_documents(IndexStore(index_dir).open_current())}
    assert urls == expected


def test_hugo_sites_are_detected_and_published_by_hugos_rules(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(
        {
            "hugo.toml": 'baseURL = "https://example.org/reports/"\ntitle = "Hugo site"\n',
            "content/_index.md": '+++\ntitle = "Home"\n+++\nWelcome.\n',
            "content/Regions/_index.md": "---\ntitle: Regions\n---\nAll regions.\n",
            "content/Regions/north.md": "---\ntitle: North\nslug: the-north\n---\nNorth text.\n",
            "content/Regions/draft.md": "---\ntitle: Draft\ndraft: true\n---\nNot yet.\n",
            "content/Regions/bundle/index.md": (
                "---\ntitle: Bundle\nresources:\n  - src: report.pdf\n    title: Bundled report\n"
                "  - path: /files/static.pdf\n---\nA page bundle.\n"
            ),
            "content/Regions/bundle/report.pdf": b"%PDF-1.4",
            "static/files/static.pdf": b"%PDF-1.4",
        }
    )
    assert detect_generator(site) == "hugo"
    summary = build_index(settings_for(site, index_dir))
    docs = {d["id"]: d for d in stored_documents(IndexStore(index_dir).open_current())}
    pages = {k: (v["url"], v["section"]) for k, v in docs.items() if v["kind"] == "page"}
    assert pages == {
        "content/_index.md": ("/reports/", ""),
        "content/Regions/_index.md": ("/reports/regions/", "Regions"),
        "content/Regions/north.md": ("/reports/regions/the-north/", "Regions/north"),
        "content/Regions/bundle/index.md": ("/reports/regions/bundle/", "Regions/bundle"),
    }
    resources = docs["content/Regions/bundle/index.md"]["resources"]
    assert [(r["kind"], r["target"], r["exists"]) for r in resources] == [  # type: ignore[union-attr]
        ("pdf", "Regions/bundle/report.pdf", True),
        ("pdf", "files/static.pdf", True),
    ]
    assert {p.kind for p in summary.problems} <= {"pdf-corrupt"}


def test_generator_can_be_forced(make_site: MakeSite) -> None:
    site = make_site({"content/_index.md": page("Home"), "_config.yml": ""})
    assert detect_generator(site) == "jekyll"
    assert scan_site(site, "hugo").config.generator == "hugo"


def test_a_file_instead_of_a_site_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(SiteError, match="is not a folder"):
        scan_site(tmp_path / "file.md")


OFF_SITE = "would send result links off the site, so it was ignored and links start at /."


@pytest.mark.parametrize(
    "baseurl",
    ['"/\\\\evil.example"', '"/\\t/evil.example"', '"//evil.example"', '"\\\\evil.example"'],
)
def test_a_jekyll_baseurl_that_leads_off_the_site_is_ignored_with_a_warning(
    make_site: MakeSite, index_dir: Path, baseurl: str
) -> None:
    site = make_site(
        {
            "_config.yml": f"title: T\nbaseurl: {baseurl}\n",
            "p.md": page("Page", "Baseurltest words.", resources="\n  - path: /assets/r.pdf"),
            "assets/r.pdf": text_pdf([["Baseurltest report"]]),
        }
    )
    scan = scan_site(site)
    assert scan.config.baseurl == ""
    [problem] = [p for p in scan.problems if p.kind == "bad-value"]
    assert problem.src_path == "_config.yml"
    assert problem.message.startswith("baseurl: '") and OFF_SITE in problem.message
    build_index(settings_for(site, index_dir))
    urls = {d["url"] for d in stored_documents(IndexStore(index_dir).open_current())}
    assert urls and all(url.startswith("/") and url[1:2] not in "/\\" for url in urls), urls
    assert "/p.html" in urls


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://example.org/\\\\evil.example/", ""),
        ("https:/\\\\evil.example/", ""),
        ("/\\\\evil.example", ""),
        ("https://example.org/docs/", "/docs"),
        ("/docs/", "/docs"),
    ],
)
def test_a_hugo_baseurl_path_gets_the_same_rules(
    make_site: MakeSite, base: str, expected: str
) -> None:
    site = make_site({"hugo.toml": f'baseURL = "{base}"\n', "content/_index.md": page("Home")})
    scan = scan_site(site)
    assert scan.config.baseurl == expected
    problems = [p for p in scan.problems if p.kind == "bad-value"]
    if expected:
        assert not problems
    else:
        [problem] = problems
        assert problem.src_path == "hugo.toml" and problem.message.startswith("baseURL: '")
        assert OFF_SITE in problem.message and "http:// or https:// address" in problem.message


def test_a_jekyll_baseurl_without_its_slash_is_still_a_path(make_site: MakeSite) -> None:
    site = make_site({"_config.yml": "baseurl: docs\n", "index.md": page("Home")})
    scan = scan_site(site)
    assert scan.config.baseurl == "/docs" and not scan.problems
