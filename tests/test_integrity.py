"""An index that knows when it is damaged, and says what is really wrong when it cannot be written.

Each scenario damages a real tiny index (or its folder, lock, disk or cache)
and checks the message, the exit code, and that nothing already indexed was
lost: the same search gives the same results afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import page, run_cli, settings_for
from pdfgen import PageSpec, PdfSpec, inflating_pdf, make_pdf, text_pdf
from starlette.testclient import TestClient

from chcsearch.cache import ExtractionCache
from chcsearch.config import ServeSettings
from chcsearch.errors import IndexDamagedError
from chcsearch.index import CHECKSUMS_FILE, IndexStore
from chcsearch.ingest import build_index
from chcsearch.query import Searcher
from chcsearch.web import create_app

MakeSite = Callable[..., Path]
QUERY = "lighthouse"


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(
        {
            "_config.yml": "title: Harbours\n",
            "north.md": page(
                "North harbour",
                "The lighthouse keeper logs every ship.",
                section="north",
                resources="\n  - path: /assets/beacon.pdf\n    title: Beacon report",
            ),
            "south.md": page("South harbour", "A lighthouse and a ferry quay.", section="south"),
            "west.md": page("West harbour", "Gulls over the quay.", section="west"),
            "assets/beacon.pdf": text_pdf(
                [["The lighthouse beacon was rebuilt."], ["Costs of the lighthouse lamp."]]
            ),
        }
    )


def _hits(index_dir: Path) -> list[tuple[str, float]]:
    with Searcher(index_dir) as searcher:
        results = searcher.search(QUERY, limit=20, flat=True).to_dict()
    return [(hit["id"], round(hit["score"], 6)) for hit in results["results"]]


@pytest.fixture
def built(site: Path, index_dir: Path) -> list[tuple[str, float]]:
    """The index of ``site`` in ``index_dir``, and what ``QUERY`` finds in it."""
    build_index(settings_for(site, index_dir))
    hits = _hits(index_dir)
    assert len(hits) == 4
    return hits


def _generation(index_dir: Path) -> Path:
    current = IndexStore(index_dir).current()
    assert current is not None
    return current.path


def _segment(index_dir: Path, suffix: str) -> Path:
    return next(_generation(index_dir).glob(f"MAIN_*{suffix}"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"NO_COLOR": "1"})


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _repairs(site: Path, index_dir: Path, expected: list[tuple[str, float]]) -> None:
    """The next plain ``index`` run rebuilds the index and says so; nothing is lost."""
    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 0, result.stderr
    assert "rebuilt" in result.stdout and "repaired a damaged index" in result.stdout
    assert "0 PDFs extracted, 1 from cache" in result.stdout
    assert _cli("status", "--index", str(index_dir), "--verify").returncode == 0
    assert _hits(index_dir) == expected


# ---- permissions -------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], ids=["022", "027", "002"])
def test_files_follow_the_umask(site: Path, tmp_path: Path, umask: int) -> None:
    index_dir = tmp_path / "index"
    result = subprocess.run(
        [sys.executable, "-m", "chcsearch", "index", str(site), "--index", str(index_dir)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(umask),  # the child sets its umask before exec
    )
    assert result.returncode == 0, result.stderr
    generation = _generation(index_dir)
    written = [
        index_dir / "CURRENT",
        generation / "chcsearch.json",
        generation / "manifest.json",
        generation / CHECKSUMS_FILE,
        *(index_dir / "cache").rglob("*.json.gz"),
    ]
    assert len(written) == 5
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in written} == {
        path.name: oct(0o666 & ~umask) for path in written
    }
    folders = [generation, *(p for p in (index_dir / "cache").rglob("*") if p.is_dir())]
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {oct(0o777 & ~umask)}
    every_file = {p.name: oct(p.stat().st_mode & 0o777) for p in generation.iterdir()}
    assert every_file == {name: oct(0o666 & ~umask) for name in every_file}
    assert not (generation / "MAIN_WRITELOCK").exists(), "Whoosh's lock is not kept"


# ---- damaged generations ------------------------------------------------------------------


def test_a_missing_segment_file_is_reported_and_repaired(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    postings = _segment(index_dir, ".pst")
    postings.unlink()
    damage = f"gen-000001/{postings.name} is missing"

    status = _cli("status", "--index", str(index_dir))
    assert status.returncode == 4
    message = _one_line(status.stderr)
    assert message == (
        f"error: the index in {index_dir} is damaged: {damage}. Run chcsearch index "
        f"{site.resolve()} --index {index_dir} to repair it (it is rebuilt from the extracted "
        "text it keeps)."
    )
    query = _cli("query", QUERY, "--index", str(index_dir))
    assert (query.returncode, _one_line(query.stderr)) == (4, message)
    assert "internal error" not in query.stderr
    with pytest.raises(IndexDamagedError, match="is damaged"):
        Searcher(index_dir)
    _repairs(site, index_dir, built)


def test_a_truncated_table_of_contents_is_reported_and_repaired(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    toc = next(_generation(index_dir).glob("_MAIN_*.toc"))
    size = toc.stat().st_size
    toc.write_bytes(toc.read_bytes()[: size // 2])

    status = _cli("status", "--index", str(index_dir))
    assert status.returncode == 4
    assert (
        f"gen-000001/{toc.name} is truncated ({size // 2:,} bytes, {size:,} recorded)"
        in _one_line(status.stderr)
    )
    assert "to repair it" in status.stderr
    query = _cli("query", QUERY, "--index", str(index_dir), "--format", "json")
    assert query.returncode == 4 and "is truncated" in query.stderr and not query.stdout
    _repairs(site, index_dir, built)


def test_a_table_of_contents_garbled_at_its_size_is_damage_not_an_internal_error(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    toc = next(_generation(index_dir).glob("_MAIN_*.toc"))
    toc.write_bytes(b"\x00" * toc.stat().st_size)  # sizes match: only the open finds it

    query = _cli("query", QUERY, "--index", str(index_dir), "--format", "json")
    assert query.returncode == 4, query.stderr
    assert "cannot be opened" in query.stderr and "to repair it" in query.stderr
    assert "internal error" not in query.stderr and not query.stdout
    _repairs(site, index_dir, built)


def test_a_changed_byte_is_found_by_status_verify_and_repaired(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    terms = _segment(index_dir, ".trm")
    data = bytearray(terms.read_bytes())
    data[len(data) // 2] ^= 0xFF
    terms.write_bytes(bytes(data))

    assert _cli("status", "--index", str(index_dir)).returncode == 0, "sizes alone still match"
    verify = _cli("status", "--index", str(index_dir), "--verify")
    assert verify.returncode == 4
    assert f"gen-000001/{terms.name} does not match its checksum" in _one_line(verify.stderr)
    _repairs(site, index_dir, built)


def test_status_verify_prints_what_it_checked(index_dir: Path, built: object) -> None:
    result = _cli("status", "--index", str(index_dir), "--verify")
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    files = len(json.loads((_generation(index_dir) / CHECKSUMS_FILE).read_text())["files"])
    assert last.startswith(f"Verified   {files} files, ")
    assert last.endswith(" MB: every checksum matches")
    data = json.loads(_cli("status", "--index", str(index_dir), "--json", "--verify").stdout)
    assert data["integrity"]["checked"] == "checksums"
    assert (data["integrity"]["files"], data["integrity"]["problems"]) == (files, [])


def _garble(path: Path) -> None:
    """New bytes in place of a file's own, at its size."""
    path.write_bytes(os.urandom(path.stat().st_size))


def _as_older_chcsearch_wrote_it(index_dir: Path) -> Path:
    """Make the current generation look written before checksums: no manifest, no flag."""
    generation = _generation(index_dir)
    (generation / CHECKSUMS_FILE).unlink()
    meta = json.loads((generation / "chcsearch.json").read_text())
    del meta["checksums"]
    (generation / "chcsearch.json").write_text(json.dumps(meta))
    return generation


def test_an_index_from_before_checksums_is_trusted_then_rebuilt_not_blessed(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    generation = _as_older_chcsearch_wrote_it(index_dir)
    result = _cli("status", "--index", str(index_dir), "--verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Verified   nothing: no checksums recorded (index written by an older chcsearch); the "
        "next chcsearch index run rebuilds it from the text it keeps"
    )
    assert _hits(index_dir) == built, "searched as it is until then"

    _garble(_segment(index_dir, ".pst"))  # what no checksum can reveal
    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 0, result.stderr
    assert (
        "rebuilt from" in result.stdout
        and ": no checksums recorded (index written by an older chcsearch)" in result.stdout
    )
    assert "0 PDFs extracted, 1 from cache" in result.stdout
    assert _generation(index_dir).name == "gen-000002"
    assert not (generation / CHECKSUMS_FILE).exists(), "the old files were never blessed"
    assert _cli("status", "--index", str(index_dir), "--verify").returncode == 0
    assert _hits(index_dir) == built


MANIFESTS = {
    "deleted": (None, "checksums.json is missing"),
    "emptied": (
        json.dumps({"format": 1, "algorithm": "sha256", "files": {}}).encode(),
        "checksums.json lists no files",
    ),
    "garbage": (b"\x00\xff not JSON", "checksums.json cannot be read"),
    "a list": (b"[]", "checksums.json is not a checksum manifest"),
}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=list(MANIFESTS))
def test_a_lost_checksum_manifest_is_damage_and_is_never_rewritten_over_damage(
    site: Path, index_dir: Path, built: list[tuple[str, float]], manifest: str
) -> None:
    written, problem = MANIFESTS[manifest]
    checksums = _generation(index_dir) / CHECKSUMS_FILE
    if written is None:
        checksums.unlink()
    else:
        checksums.write_bytes(written)
    _garble(_segment(index_dir, ".pst"))

    verify = _cli("status", "--index", str(index_dir), "--verify")
    assert verify.returncode == 4, verify.stdout
    message = _one_line(verify.stderr)
    assert message.startswith(f"error: the index in {index_dir} is damaged: gen-000001/{problem}")
    assert message.endswith(
        f"Run chcsearch index {site.resolve()} --index {index_dir} to repair it (it is rebuilt "
        "from the extracted text it keeps)."
    )
    query = _cli("query", QUERY, "--index", str(index_dir))
    assert (query.returncode, _one_line(query.stderr)) == (4, message)
    with pytest.raises(IndexDamagedError, match=problem):
        Searcher(index_dir)
    _repairs(site, index_dir, built)


def test_the_api_answers_503_for_a_damaged_index(index_dir: Path, built: object) -> None:
    _segment(index_dir, ".pst").unlink()
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        response = client.get("/api/search", params={"q": QUERY})
    assert response.status_code == 503
    assert "not available" in response.json()["error"]


@pytest.mark.parametrize("suffix", [".pst", "_stored.col"], ids=["postings", "stored fields"])
def test_bytes_changed_at_their_size_make_a_search_damage_not_an_internal_error(
    site: Path, index_dir: Path, built: list[tuple[str, float]], suffix: str
) -> None:
    segment = _segment(index_dir, suffix)
    _garble(segment)  # sizes match: opening passes, the search itself fails
    damage = f"gen-000001/{segment.name} does not match its checksum"

    query = _cli("query", QUERY, "--index", str(index_dir))
    assert query.returncode == 4, query.stderr
    assert _one_line(query.stderr) == (
        f"error: the index in {index_dir} is damaged: {damage}. Run chcsearch index "
        f"{site.resolve()} --index {index_dir} to repair it (it is rebuilt from the extracted "
        "text it keeps)."
    )
    assert "internal error" not in query.stderr and not query.stdout
    with Searcher(index_dir) as searcher:
        assert searcher.damaged is None
        with pytest.raises(IndexDamagedError, match=damage) as raised:
            searcher.search(QUERY, flat=True)
        assert raised.value.__cause__ is not None, "the original error is kept"
        assert searcher.damaged is raised.value
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        response = client.get("/api/search", params={"q": QUERY})
    assert response.status_code == 503, response.text
    _repairs(site, index_dir, built)
    with Searcher(index_dir) as searcher:
        assert searcher.damaged is None


def test_a_failing_search_on_an_intact_index_is_not_called_damage(
    index_dir: Path, built: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug, not damage")

    with Searcher(index_dir) as searcher:
        monkeypatch.setattr(searcher, "_execute", bug)
        monkeypatch.setattr(searcher, "_suggestions", bug)
        with pytest.raises(ZeroDivisionError, match="a bug, not damage"):
            searcher.search(QUERY)
        with pytest.raises(ZeroDivisionError, match="a bug, not damage"):
            searcher.suggest("ligh")
        assert searcher.damaged is None


def _leave_out_of_the_manifest(index_dir: Path, suffix: str) -> Path:
    """Drop the entry of the generation's ``suffix`` file from its checksum manifest."""
    checksums = _generation(index_dir) / CHECKSUMS_FILE
    recorded = json.loads(checksums.read_text())
    segment = _segment(index_dir, suffix)
    del recorded["files"][segment.name]
    checksums.write_text(json.dumps(recorded))
    return segment


@pytest.mark.parametrize("suffix", [".pst", "_stored.col"], ids=["postings", "stored fields"])
def test_a_file_the_checksum_manifest_leaves_out_is_damage_not_trusted(
    site: Path, index_dir: Path, built: list[tuple[str, float]], suffix: str
) -> None:
    segment = _leave_out_of_the_manifest(index_dir, suffix)
    _garble(segment)  # bytes no listed checksum covers
    damage = f"gen-000001/{segment.name} is not in the checksum manifest"
    message = (
        f"error: the index in {index_dir} is damaged: {damage}. Run chcsearch index "
        f"{site.resolve()} --index {index_dir} to repair it (it is rebuilt from the extracted "
        "text it keeps)."
    )

    for command in (["status", "--verify"], ["status"], ["query", QUERY]):
        result = _cli(*command, "--index", str(index_dir))
        assert (result.returncode, _one_line(result.stderr)) == (4, message), command
        assert not result.stdout
    with pytest.raises(IndexDamagedError, match=damage):
        Searcher(index_dir)
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        assert client.get("/api/search", params={"q": QUERY}).status_code == 503
        assert client.get("/healthz").status_code == 503
    _repairs(site, index_dir, built)
    again = _cli("index", str(site), "--index", str(index_dir))
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_a_whoosh_file_gone_from_disk_and_manifest_alike_is_damage(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    terms = _leave_out_of_the_manifest(index_dir, ".trm")
    terms.unlink()  # the folder and the manifest agree; the table of contents does not
    toc = next(_generation(index_dir).glob("_MAIN_*.toc")).name
    damage = (
        f"gen-000001/{terms.name}, which {toc} names, is neither in the checksum manifest "
        "nor on disk"
    )

    for command in (["status", "--verify"], ["status"], ["query", QUERY]):
        result = _cli(*command, "--index", str(index_dir))
        assert result.returncode == 4, (command, result.stderr)
        assert f"is damaged: {damage}. Run chcsearch index" in _one_line(result.stderr)
    _repairs(site, index_dir, built)


def test_files_no_manifest_lists_by_design_are_not_damage(
    index_dir: Path, built: list[tuple[str, float]]
) -> None:
    generation = _generation(index_dir)
    (generation / "run.json").write_text("{}")
    (generation / ".chcsearch.json.a1b2c3").write_text("a write interrupted before its rename")
    (generation / "MAIN_WRITELOCK").write_text("")
    (generation / "MAIN.tmp").mkdir()

    result = _cli("status", "--index", str(index_dir), "--verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(": every checksum matches")
    assert _hits(index_dir) == built


@pytest.mark.parametrize(
    ("version", "shown"),
    [("5", "has schema version '5', not a whole number"), (None, "records no schema version")],
    ids=["a string", "none at all"],
)
def test_a_schema_version_that_is_not_a_whole_number_is_damage(
    site: Path, index_dir: Path, built: list[tuple[str, float]], version: str | None, shown: str
) -> None:
    generation = IndexStore(index_dir).current()
    assert generation is not None
    meta = generation.meta()
    if version is None:
        del meta["schema_version"]
    else:
        meta["schema_version"] = version
    (generation.path / "chcsearch.json").write_text(json.dumps(meta))
    generation.write_checksums()  # only the version's type is wrong
    damage = f"gen-000001/chcsearch.json {shown}"

    for command in (["status", "--verify"], ["status"], ["query", QUERY]):
        result = _cli(*command, "--index", str(index_dir))
        assert result.returncode == 4, (command, result.stderr)
        assert f"is damaged: {damage}. Run chcsearch index" in _one_line(result.stderr)
    _repairs(site, index_dir, built)


def test_a_failing_search_on_an_index_without_checksums_is_damage_the_next_run_repairs(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    _as_older_chcsearch_wrote_it(index_dir)
    _garble(_segment(index_dir, ".pst"))  # no checksum can tell this from a bug
    start = f"error: the index in {index_dir} cannot be read ("
    end = (
        "), and it has no checksums to check it against (it was written by an older "
        f"chcsearch), so it is taken to be damaged. Run chcsearch index {site.resolve()} "
        f"--index {index_dir} to rebuild it (from the extracted text it keeps)."
    )

    query = _cli("query", QUERY, "--index", str(index_dir))
    assert query.returncode == 4, query.stderr
    message = _one_line(query.stderr)
    assert message.startswith(start) and message.endswith(end), message
    assert "internal error" not in query.stderr and not query.stdout
    with Searcher(index_dir) as searcher:
        with pytest.raises(IndexDamagedError, match="no checksums to check") as raised:
            searcher.search(QUERY, flat=True)
        assert raised.value.__cause__ is not None, "the original error is kept"
        assert searcher.damaged is raised.value
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        assert client.get("/api/search", params={"q": QUERY}).status_code == 503
        assert client.get("/healthz").status_code == 503

    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 0, result.stderr
    assert ": no checksums recorded (index written by an older chcsearch)" in result.stdout
    assert "0 PDFs extracted, 1 from cache" in result.stdout
    assert _cli("status", "--index", str(index_dir), "--verify").returncode == 0
    assert _hits(index_dir) == built


# ---- folders and files of the wrong shape ---------------------------------------------------


SHAPES = {
    "meta is a list": ("chcsearch.json", b"[]", "chcsearch.json cannot be read"),
    "meta is a string": ("chcsearch.json", b'"gen"', "chcsearch.json cannot be read"),
    "a checksum entry without a size": (
        CHECKSUMS_FILE,
        None,
        "checksums.json has a bad entry for 'chcsearch.json'",
    ),
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_json_of_the_wrong_shape_is_damage_not_an_internal_error(
    site: Path, index_dir: Path, built: list[tuple[str, float]], shape: str
) -> None:
    name, written, problem = SHAPES[shape]
    path = _generation(index_dir) / name
    if written is None:
        data = json.loads(path.read_text())
        data["files"]["chcsearch.json"]["size"] = None
        written = json.dumps(data).encode()
    path.write_bytes(written)

    for command in (["status", "--verify"], ["status"], ["query", QUERY]):
        result = _cli(*command, "--index", str(index_dir))
        assert result.returncode == 4, (command, result.stderr)
        assert f"is damaged: gen-000001/{problem}" in _one_line(result.stderr)
        assert "to repair it" in result.stderr and "internal error" not in result.stderr
    _repairs(site, index_dir, built)


def test_an_index_manifest_of_another_shape_is_rebuilt_not_a_crash(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    generation = IndexStore(index_dir).current()
    assert generation is not None
    (generation.path / "manifest.json").write_text('{"pages": [], "pdfs": {}, "docs": {}}')
    generation.write_checksums()  # consistent bytes, a shape this version cannot read

    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 0, result.stderr
    assert "repaired a damaged index (gen-000001/manifest.json: AttributeError" in result.stdout
    assert _hits(index_dir) == built


@pytest.mark.parametrize(
    "written", [b"[]", b'{"problems": "many", "seconds": "slow", "finished": 3}'], ids=str
)
def test_a_last_run_record_of_the_wrong_shape_is_left_out_of_status(
    index_dir: Path, built: list[tuple[str, float]], written: bytes
) -> None:
    (_generation(index_dir) / "run.json").write_bytes(written)
    result = _cli("status", "--index", str(index_dir), "--verify")
    assert result.returncode == 0, result.stderr
    assert "Last run   unknown (0.0 s, 0 files read, 0 PDFs extracted)" in result.stdout
    assert "Warnings   none" in result.stdout
    assert _hits(index_dir) == built


def test_a_file_where_the_next_generation_folder_belongs_is_skipped(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (index_dir / "gen-000002").write_text("not a generation")
    result = _cli("index", str(site), "--index", str(index_dir), "--rebuild")
    assert result.returncode == 0, result.stderr
    assert _generation(index_dir).name == "gen-000003"
    assert (index_dir / "gen-000002").read_text() == "not a generation"
    assert _hits(index_dir) == built


def test_an_empty_folder_named_current_is_repaired(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (index_dir / "CURRENT").unlink()
    (index_dir / "CURRENT").mkdir()
    status = _cli("status", "--index", str(index_dir))
    assert status.returncode == 4
    assert "is damaged: CURRENT cannot be read (Is a directory)" in _one_line(status.stderr)
    _repairs(site, index_dir, built)


def test_a_folder_named_current_with_files_in_it_is_named_not_removed(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    current = index_dir / "CURRENT"
    current.unlink()
    current.mkdir()
    (current / "notes.txt").write_text("someone's notes")

    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 3
    assert _one_line(result.stderr) == (
        f"error: {current} is a folder, where the file naming the current generation belongs; "
        "remove it (the next run writes the file), then run again."
    )
    _no_traceback(result)
    assert (current / "notes.txt").read_text() == "someone's notes"
    assert sorted(p.name for p in index_dir.glob("gen-*")) == ["gen-000001"]
    shutil.rmtree(current)
    assert _cli("index", str(site), "--index", str(index_dir)).returncode == 0
    assert _hits(index_dir) == built


# ---- a damaged CURRENT ---------------------------------------------------------------------


GARBAGE = {
    "random bytes": (b"\x8f\xff\x00\xc3(garbage\n", "CURRENT does not name a generation"),
    "empty": (b"", "CURRENT is empty"),
    "a missing generation": (b"gen-000042\n", "CURRENT names gen-000042, which does not exist"),
}


@pytest.mark.parametrize("content", GARBAGE, ids=list(GARBAGE))
def test_garbage_in_current_is_reported_and_a_plain_run_rebuilds(
    site: Path, index_dir: Path, built: list[tuple[str, float]], content: str
) -> None:
    written, problem = GARBAGE[content]
    (index_dir / "CURRENT").write_bytes(written)

    status = _cli("status", "--index", str(index_dir))
    assert status.returncode == 4
    assert _one_line(status.stderr).startswith(
        f"error: the index in {index_dir} is damaged: {problem}"
    )
    assert "to repair it" in status.stderr
    query = _cli("query", QUERY, "--index", str(index_dir))
    assert query.returncode == 4 and problem in query.stderr
    assert (index_dir / "gen-000001").is_dir(), "no generation is deleted while CURRENT is damaged"
    _repairs(site, index_dir, built)


def test_garbage_in_current_is_no_obstacle_to_rebuild(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (index_dir / "CURRENT").write_bytes(os.urandom(64))
    result = _cli("index", str(site), "--index", str(index_dir), "--rebuild")
    assert result.returncode == 0, result.stderr
    assert "rebuilt" in result.stdout and "--rebuild was given" in result.stdout
    assert _hits(index_dir) == built


# ---- what cannot be written ------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems (as root); skip when mounting is not permitted."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            pytest.skip(
                f"a small file system is needed and cannot be mounted here: {result.stderr}"
            )
        mounted.append(folder)
        return folder

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small or read-only file system needs root and mount(8)")
    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Process " not in result.stderr, result.stderr


def _many_pages(site: Path, count: int) -> None:
    """Enough pages for Whoosh's multi-process writer, each with its own words."""
    for number in range(count):
        words = " ".join(f"harbour{number}x{w} lighthouse" for w in range(30))
        (site / "many" / f"page-{number}.md").parent.mkdir(exist_ok=True)
        (site / "many" / f"page-{number}.md").write_text(page(f"Page {number}", words))


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "quiet"])
def test_a_full_disk_is_named_and_the_previous_index_is_untouched(
    site: Path, small_disk: Callable[[str], Path], quiet: bool
) -> None:
    _many_pages(site, 300)
    disk = small_disk("16m")
    index_dir = disk / "index"
    build_index(settings_for(site, index_dir))
    before = _hits(index_dir)
    used = sum(p.stat().st_size for p in _generation(index_dir).iterdir())
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.write_bytes(b"\0" * max(0, free - used // 3))  # room for a third of a rebuild

    args = ["index", str(site), "--index", str(index_dir), "--rebuild", "--jobs", "2"]
    result = _cli(*args, *(["--quiet"] if quiet else []))
    assert result.returncode == 3
    message = _one_line(result.stderr)
    assert message.startswith(f"error: no space left on {disk} (the file system of {index_dir}, ")
    assert f"the build needs about {max(1, round(used / 1e6))} MB" in message
    assert "the previous index is untouched" in message
    _no_traceback(result)
    assert sorted(p.name for p in index_dir.glob("gen-*")) == ["gen-000001"]
    assert _hits(index_dir) == before
    assert _cli("status", "--index", str(index_dir), "--verify").returncode == 0


def test_a_read_only_index_folder_is_not_called_locked(
    site: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("4m")
    index_dir = disk / "index"
    build_index(settings_for(site, index_dir))
    before = _hits(index_dir)
    (site / "east.md").write_text(page("East harbour", "A new lighthouse.", section="east"))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)

    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 3
    assert _one_line(result.stderr) == (
        f"error: cannot write to {index_dir}: read-only file system; the previous index is "
        "untouched. Remount it read-write, or give --index a folder that can be written."
    )
    assert "locked" not in result.stderr
    _no_traceback(result)
    assert _hits(index_dir) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a folder whatever its mode")
def test_an_index_folder_without_write_permission_is_named(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (site / "east.md").write_text(page("East harbour", "A new lighthouse.", section="east"))
    index_dir.chmod(0o555)
    try:
        result = _cli("index", str(site), "--index", str(index_dir))
    finally:
        index_dir.chmod(0o755)
    assert result.returncode == 3
    assert "permission denied; the previous index is untouched" in _one_line(result.stderr)
    _no_traceback(result)
    assert _hits(index_dir) == built


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_lock_path_that_is_not_a_file_is_named(
    site: Path, index_dir: Path, built: list[tuple[str, float]], kind: str
) -> None:
    lock = index_dir / ".lock"
    lock.unlink()
    if kind == "folder":
        lock.mkdir()
    else:
        os.mkfifo(lock)
    result = _cli("index", str(site), "--index", str(index_dir))
    assert result.returncode == 3
    assert _one_line(result.stderr) == (
        f"error: {lock} is not a file; remove it (it is the index's lock file, recreated by "
        "the next run), then run again."
    )
    _no_traceback(result)
    assert _hits(index_dir) == built


# ---- raising a PDF limit -------------------------------------------------------------------


def test_raising_a_pdf_limit_reads_the_pdfs_it_stopped_without_rebuild(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (site / "assets" / "big.pdf").write_bytes(
        inflating_pdf(20, lines=["A big lighthouse survey"], filler=b" ")
    )
    (site / "assets" / "slow.pdf").write_bytes(
        make_pdf(PdfSpec(pages=[PageSpec(vector_ops=150_000, lines=["A slow lighthouse log"])]))
    )
    index = ["index", str(site), "--index", str(index_dir), "--jobs", "1"]

    def kinds(summary_or_output: str) -> list[str]:
        return sorted(k for k in ("pdf-timeout", "pdf-too-large") if k in summary_or_output)

    low = _cli(*index, "--pdf-memory", "64", "--pdf-timeout", "0.2")
    assert low.returncode == 0, low.stderr
    assert kinds(low.stderr) == ["pdf-timeout", "pdf-too-large"]
    assert "2 PDFs extracted" in low.stdout
    same = _cli(*index, "--pdf-memory", "64", "--pdf-timeout", "0.2")
    assert "unchanged" in same.stdout and "0 PDFs extracted" in same.stdout

    # a limit raised, but not enough: read again, still too large, and recorded so
    memory = _cli(*index, "--pdf-memory", "80", "--pdf-timeout", "0.2")
    assert memory.returncode == 0, memory.stderr
    assert "1 PDFs extracted" in memory.stdout and "inflates past 10 MB" in memory.stderr
    again = _cli(*index, "--pdf-memory", "80", "--pdf-timeout", "0.2")
    assert "0 PDFs extracted, 0 from cache" in again.stdout

    higher = _cli(*index, "--pdf-memory", "0", "--pdf-timeout", "120")
    assert higher.returncode == 0, higher.stderr
    assert "updated" in higher.stdout and "2 PDFs extracted" in higher.stdout
    assert kinds(higher.stderr) == []
    found = {doc_id for doc_id, _ in _hits(index_dir)}
    assert found == {doc_id for doc_id, _ in built} | {
        "assets/big.pdf#page=1",
        "assets/slow.pdf#page=1",
    }
    last = _cli(*index, "--pdf-memory", "0", "--pdf-timeout", "120")
    assert "unchanged" in last.stdout and "0 PDFs extracted" in last.stdout


# ---- the extraction cache -------------------------------------------------------------------


ODD_ENTRIES: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "a list": lambda good: gzip.compress(b"[1, 2, 3]"),
    "a number": lambda good: gzip.compress(b"42"),
    "missing keys": lambda good: gzip.compress(
        json.dumps({"extractor": good["extractor"]}).encode()
    ),
    "pages of another type": lambda good: gzip.compress(
        json.dumps({**good, "pages": "two pages"}).encode()
    ),
    "garbage": lambda good: b"\x1f\x8b\x08\x00 not gzip after all",
}


@pytest.mark.parametrize("shape", ODD_ENTRIES, ids=list(ODD_ENTRIES))
def test_a_cache_entry_of_the_wrong_shape_is_a_miss_and_is_replaced(
    site: Path, index_dir: Path, built: list[tuple[str, float]], shape: str
) -> None:
    entry = next((index_dir / "cache").rglob("*.json.gz"))
    good = json.loads(gzip.decompress(entry.read_bytes()))
    entry.write_bytes(ODD_ENTRIES[shape](good))

    cache = ExtractionCache(index_dir / "cache", good["extractor"])
    assert cache.get(entry.name.split(".")[0], "assets/beacon.pdf", timeout=60.0) is None
    assert cache.damaged == [entry]

    summary = build_index(settings_for(site, index_dir, rebuild=True))
    assert (summary.pdfs_extracted, summary.pdfs_from_cache) == (1, 0)
    assert json.loads(gzip.decompress(entry.read_bytes()))["pages"] == good["pages"]
    assert _hits(index_dir) == built


def test_an_index_folder_that_cannot_be_made_is_named(site: Path) -> None:
    result = _cli("index", str(site), "--index", "/proc/no-such-index")
    assert result.returncode == 3, result.stderr
    assert "cannot make the index folder /proc/no-such-index" in _one_line(result.stderr)
    assert "internal error" not in result.stderr
