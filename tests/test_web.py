"""The JSON HTTP API, in-process through Starlette's test client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROJECT, page, settings_for
from starlette.testclient import TestClient

from chcsearch.config import ServeSettings
from chcsearch.ingest import build_index
from chcsearch.query import Searcher
from chcsearch.web import OPENAPI, create_app


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    shutil.copytree(PROJECT / "content", root / "content")
    (root / "content" / "hub" / "hostile.md").write_text(
        page(
            "Hostile <b>title</b>",
            "Lighthouse notes: &lt;script&gt;window.__xss = 1&lt;/script&gt; and "
            '&lt;img src=x onerror="window.__xss = 2"&gt; were pasted into a form.',
            section="hub/hostile",
        ),
        encoding="utf-8",
    )
    build_index(settings_for(root / "content", root / "index"))
    return root / "index"


@pytest.fixture(scope="module")
def client(index_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as test_client:
        yield test_client


def test_search_answers_the_documented_json(client: TestClient, index_dir: Path) -> None:
    response = client.get(
        "/api/search", params={"q": "asthma nurse", "section": "north-coast", "limit": 3}
    )
    assert response.status_code == 200
    data = response.json()
    expected = (
        Searcher(index_dir).search("asthma nurse", sections=["north-coast"], limit=3).to_dict()
    )
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected
    assert data["results"][0]["source"] == "north-coast/asthma-pathway.md"


def test_text_from_pages_never_becomes_markup(client: TestClient) -> None:
    data = client.get("/api/search", params={"q": "lighthouse"}).json()
    hit = data["results"][0]
    assert hit["title"] == "Hostile <b>title</b>"  # JSON carries text; the box shows it as text
    assert "<script>" in hit["snippet"]
    html = hit["snippet_html"]
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_suggest_status_health_openapi_and_pages(client: TestClient) -> None:
    suggestions = client.get("/api/suggest", params={"q": "asth"}).json()["suggestions"]
    assert suggestions[0] == {
        "text": "Asthma Pathway Appendix",
        "kind": "title",
        "url": "/north-coast/asthma-pathway/appendix.html",
        "breadcrumb": "North Coast › Childhood Asthma Pathway",
    }
    assert (
        any(s["kind"] == "word" and s["text"] == "asthma" for s in suggestions)
        and len(suggestions) <= 10
    )
    status = client.get("/api/status").json()
    assert status["ok"] is True and status["counts"]["documents"] == 27
    assert "site" not in status and "index_dir" not in status  # no server paths in public answers
    assert client.get("/healthz").json()["ok"] is True
    assert client.get("/openapi.json").json() == OPENAPI
    assert set(OPENAPI["paths"]) == {"/api/search", "/api/suggest", "/api/status", "/healthz"}
    home = client.get("/")
    assert (
        home.status_code == 200
        and 'src="/static/chcsearch.js"' in home.text
        and "data-chcsearch" in home.text
    )
    script = client.get("/static/chcsearch.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/static/chcsearch.css").status_code == 200


BAD_REQUESTS = [
    ("/api/search", {}, 400, "q is required"),
    ("/api/search", {"q": ""}, 400, "q is required"),
    ("/api/search", {"q": "x" * 501}, 400, "q is longer than 500 characters"),
    (
        "/api/search",
        {"q": "x", "limit": "abc"},
        400,
        "limit must be a whole number from 1 to 50, got 'abc'",
    ),
    ("/api/search", {"q": "x", "limit": "0"}, 400, "limit must be a whole number from 1 to 50"),
    ("/api/search", {"q": "x", "limit": "51"}, 400, "limit must be a whole number from 1 to 50"),
    ("/api/search", {"q": "x", "page": "21"}, 400, "page must be a whole number from 1 to 20"),
    ("/api/search", {"q": "x", "page": "-1"}, 400, "page must be a whole number from 1 to 20"),
    ("/api/search", {"q": "x", "kind": "video"}, 400, "kind must be one of page, pdf, got 'video'"),
    ("/api/search", {"q": "x", "flat": "maybe"}, 400, "flat must be true or false"),
    (
        "/api/search",
        {"q": "x", "section": "s" * 201},
        400,
        "a section value is longer than 200 characters",
    ),
    ("/api/search", {"q": ["a", "b"]}, 400, "q was given 2 times; give it once"),
    ("/api/suggest", {"q": "x" * 501}, 400, "q is longer than 500 characters"),
    ("/api/suggest", {"q": "x", "limit": "11"}, 400, "limit must be a whole number from 1 to 10"),
    ("/api/status", {}, 200, ""),
    ("/healthz", {}, 200, ""),
    ("/nowhere", {}, 404, "no such page: /nowhere"),
    ("/static/missing.js", {}, 404, "no such page"),
]


@pytest.mark.parametrize(("path", "params", "status", "message"), BAD_REQUESTS)
def test_every_error_has_one_json_shape(
    client: TestClient, path: str, params: dict[str, object], status: int, message: str
) -> None:
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == status
    if status >= 400:
        assert response.json() == {"ok": False, "error": response.json()["error"], "status": status}
        assert message in response.json()["error"]
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "path", ["/api/search", "/api/suggest", "/api/status", "/healthz", "/openapi.json", "/"]
)
def test_only_get_is_allowed(client: TestClient, path: str) -> None:
    response = client.post(path, params={"q": "x"})
    assert response.status_code == 405
    assert response.json() == {"ok": False, "error": "only GET is supported", "status": 405}


def test_without_an_index_every_endpoint_says_so_without_paths(tmp_path: Path) -> None:
    with TestClient(create_app(ServeSettings(index_dir=tmp_path / "none"))) as missing:
        for path in ("/api/search?q=x", "/api/suggest?q=x", "/api/status", "/healthz"):
            response = missing.get(path)
            assert response.status_code == 503, path
            body = response.json()
            assert body["ok"] is False and body["status"] == 503
            assert str(tmp_path) not in body["error"] and "not available" in body["error"]


def test_a_search_over_the_time_limit_gets_503(index_dir: Path) -> None:
    with TestClient(
        create_app(ServeSettings(index_dir=index_dir, time_limit=1e-6, result_cache=0))
    ) as slow:
        response = slow.get("/api/search", params={"q": "asthma"})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "took longer than" in response.json()["error"]


def test_a_trailing_slash_is_not_redirected(client: TestClient) -> None:
    response = client.get("/api/search/?q=x", headers={"Host": "evil.example"})
    assert response.status_code == 404 and "location" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_cors_is_off_unless_configured(index_dir: Path, client: TestClient) -> None:
    origin = {"Origin": "https://reports.example.org"}
    assert (
        "access-control-allow-origin" not in client.get("/api/search?q=x", headers=origin).headers
    )
    app = create_app(
        ServeSettings(index_dir=index_dir, cors_origins=("https://reports.example.org",))
    )
    with TestClient(app) as allowed:
        headers = allowed.get("/api/search?q=x", headers=origin).headers
        assert headers["access-control-allow-origin"] == "https://reports.example.org"
        other = allowed.get("/api/search?q=x", headers={"Origin": "https://evil.example"}).headers
        assert "access-control-allow-origin" not in other


def test_a_rebuilt_index_is_served_without_restart(tmp_path: Path, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site({"_config.yml": "", "a.md": page("Alpha", "lighthouse")})
    build_index(settings_for(site, tmp_path / "ix"))
    with TestClient(create_app(ServeSettings(index_dir=tmp_path / "ix"))) as live:
        assert live.get("/api/search?q=lighthouse").json()["total"] == 1
        (site / "b.md").write_text(page("Beta", "lighthouse keeper"))
        build_index(settings_for(site, tmp_path / "ix"))
        assert live.get("/api/search?q=lighthouse").json()["total"] == 2
