"""serve hands out the indexed files at their links, and nothing else; --site-url makes
every result link absolute on the site's public address."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from helpers import page, run_cli, settings_for, write_files
from pdfgen import text_pdf
from starlette.testclient import TestClient

from chcsearch.config import ServeSettings, resolve_serve_settings
from chcsearch.errors import ConfigError
from chcsearch.ingest import build_index
from chcsearch.sources import served_files
from chcsearch.web import create_app

PDF_URL = "/assets/north-coast/Report.pdf"
SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Jekyll site with one linked PDF, its index built inside the site folder."""
    root = write_files(
        tmp_path_factory.mktemp("served") / "site",
        {
            "_config.yml": "title: Reports\nbaseurl: ''\n",
            "north-coast.md": page(
                "North coast", f"The [lighthouse report]({PDF_URL}) is out.", section="north-coast"
            ),
            "assets/north-coast/Report.pdf": text_pdf(
                [["Summary of the programme."], ["Lighthouse keepers and their pathways."]],
                title="Lighthouse report",
            ),
            "assets/north-coast/notes.txt": "published by Jekyll, never indexed",
            "secret.txt": "not indexed",
            ".env": "TOKEN=not-for-the-web",
        },
    )
    build_index(settings_for(root, root / "index"))
    return root


@pytest.fixture(scope="module")
def client(site: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServeSettings(index_dir=site / "index"))) as test_client:
        yield test_client


def links(answer: dict[str, Any]) -> list[str]:
    found = []
    for hit in answer["results"]:
        found.append(hit["url"])
        found += [part["url"] for part in hit["parts"]]
    return found


def test_a_pdf_parts_link_opens_the_pdf_with_range_requests(client: TestClient, site: Path) -> None:
    answer = client.get("/api/search", params={"q": "lighthouse keepers"}).json()
    pdf_links = [u for u in links(answer) if u.startswith(PDF_URL + "#page=")]
    assert f"{PDF_URL}#page=2" in pdf_links

    whole = client.get(pdf_links[0])
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "application/pdf"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == (site / "assets/north-coast/Report.pdf").read_bytes()
    assert all(name in whole.headers for name in SECURITY)

    part = client.get(PDF_URL, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == whole.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert all(name in part.headers for name in SECURITY)


def test_a_byte_range_past_the_end_is_a_416_in_the_error_shape(client: TestClient) -> None:
    response = client.get(PDF_URL, headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert response.json()["status"] == 416


def test_a_pages_link_serves_its_source_file_as_text(client: TestClient, site: Path) -> None:
    answer = client.get("/api/search", params={"q": "lighthouse", "kind": "page"}).json()
    url = answer["results"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == (site / "north-coast.md").read_text(encoding="utf-8")


def raw_get(app: Any, target: bytes) -> tuple[int, dict[str, str], bytes]:
    """One GET with ``target`` sent as is (an HTTP client would tidy ``..`` and ``%2e``), decoded
    into ``path`` as uvicorn does."""
    messages: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(target.decode("ascii")),
        "raw_path": target,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = messages[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], headers, body


@pytest.mark.parametrize(
    "target",
    [
        b"/assets/north-coast/../../secret.txt",
        b"/assets/north-coast/%2e%2e/%2e%2e/secret.txt",
        b"/assets/north-coast/%2E%2E%2F%2E%2E%2Fsecret.txt",
        b"/assets%2fnorth-coast%2fReport.pdf",
        b"/assets/north-coast/.%2FReport.pdf",
        b"/assets/north-coast/./Report.pdf",
        b"/assets/north-coast/Report.pdf/",
        b"/assets/north-coast/Report.PDF",
        b"/assets/north-coast/notes.txt",
        b"/secret.txt",
        b"/.env",
        b"/%2eenv",
        b"/_config.yml",
        b"/north-coast.md",
        b"/index/CURRENT",
        b"/index/cache",
        b"/static/../secret.txt",
        b"/api/../secret.txt",
    ],
)
def test_nothing_but_an_indexed_file_can_be_fetched(client: TestClient, target: bytes) -> None:
    status, headers, body = raw_get(client.app, target)
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert all(name in headers for name in SECURITY)
    assert headers["x-frame-options"] == "DENY"
    data = json.loads(body)
    assert set(data) == {"ok", "error", "status"} and data["status"] == 404
    assert b"TOKEN" not in body and b"not indexed" not in body


def test_served_files_leave_out_dot_files_the_index_and_what_is_outside(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "site",
        {
            "a.pdf": b"%PDF-",
            ".hidden/b.pdf": b"%PDF-",
            "index/gen-000001/c.pdf": b"%PDF-",
            "d.md": "text",
        },
    )
    (tmp_path / "outside.pdf").write_bytes(b"%PDF-")
    (root / "link.pdf").symlink_to(tmp_path / "outside.pdf")
    files = served_files(
        root,
        root / "index",
        [
            ("a.pdf", "/a.pdf#page=1", "pdf"),
            (".hidden/b.pdf", "/b.pdf", "pdf"),
            ("a.pdf", "/.well-known/a.pdf", "pdf"),
            ("index/gen-000001/c.pdf", "/c.pdf", "pdf"),
            ("../outside.pdf", "/outside.pdf", "pdf"),
            ("link.pdf", "/link.pdf", "pdf"),
            ("d.md", "https://elsewhere.example/d/", "page"),
            ("d.md", "//elsewhere.example/d/", "page"),
        ],
    )
    assert list(files) == ["/a.pdf"]
    assert files["/a.pdf"].abs_path == (root / "a.pdf").resolve()


def test_site_url_makes_every_result_link_absolute(site: Path) -> None:
    settings = ServeSettings(index_dir=site / "index", site_url="https://reports.example.org")
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/search", params={"q": "lighthouse"}).json()
        flat = client.get("/api/search", params={"q": "lighthouse", "flat": "true"}).json()
        suggested = client.get("/api/suggest", params={"q": "north"}).json()["suggestions"]
        served = client.get(PDF_URL)
    found = links(answer) + links(flat) + [s["url"] for s in suggested if s.get("url")]
    assert f"https://reports.example.org{PDF_URL}#page=2" in found
    assert len(found) > 3
    assert all(url.startswith("https://reports.example.org/") for url in found)
    assert served.status_code == 404  # the links lead to the public site: nothing is served here


def test_the_sites_own_address_is_the_default_and_its_baseurl_is_not_doubled(
    tmp_path: Path,
) -> None:
    root = write_files(
        tmp_path / "site",
        {
            "_config.yml": "url: https://example.org\nbaseurl: /docs\n",
            "harbour.md": page("Harbour", "Harbour pilots.", section="harbour"),
        },
    )
    build_index(settings_for(root, tmp_path / "index"))
    with TestClient(create_app(ServeSettings(index_dir=tmp_path / "index"))) as client:
        answer = client.get("/api/search", params={"q": "harbour"}).json()
    assert set(links(answer)) == {"https://example.org/docs/harbour.html"}
    override = ServeSettings(index_dir=tmp_path / "index", site_url="https://mirror.example/docs")
    with TestClient(create_app(override)) as client:
        answer = client.get("/api/search", params={"q": "harbour"}).json()
    assert set(links(answer)) == {"https://mirror.example/docs/harbour.html"}


def test_site_url_comes_from_flag_environment_or_config_file(tmp_path: Path) -> None:
    (tmp_path / "chcsearch.toml").write_text('[serve]\nsite_url = "http://a.example/"\n')
    env = {"CHCSEARCH_SITE_URL": "https://b.example"}
    assert resolve_serve_settings({}, env={}, cwd=tmp_path).site_url == "http://a.example"
    assert resolve_serve_settings({}, env=env, cwd=tmp_path).site_url == "https://b.example"
    flags = {"site_url": "https://c.example/reports/"}
    settled = resolve_serve_settings(flags, env=env, cwd=tmp_path)
    assert settled.site_url == "https://c.example/reports"


@pytest.mark.parametrize(
    "address",
    [
        "example.org",
        "ftp://example.org",
        "https://",
        "https:///path",
        "javascript:alert(1)",
        "https://user@example.org",
        "https://example.org/?q=1",
        "https://example.org/#top",
        "https://example.org:99999",
        "https://exa mple.org",
        "https://example.org\\evil",
    ],
)
def test_a_site_url_that_is_not_a_public_address_is_refused(tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError, match="--site-url") as caught:
        resolve_serve_settings({"site_url": address}, env={}, cwd=tmp_path)
    assert caught.value.exit_code == 2  # a bad flag value is a usage error
    assert str(caught.value).startswith(f"--site-url {address!r} is not")


def test_serve_refuses_a_bad_site_url_with_exit_code_2(tmp_path: Path) -> None:
    result = run_cli("serve", "--index", str(tmp_path), "--site-url", "ftp://x.example")
    assert result.returncode == 2
    assert "--site-url 'ftp://x.example' is not a site's public address" in result.stderr
