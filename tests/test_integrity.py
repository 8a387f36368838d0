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
from pdfgen import text_pdf
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


def test_an_index_without_checksums_is_trusted_and_gets_them_next_run(
    site: Path, index_dir: Path, built: list[tuple[str, float]]
) -> None:
    (_generation(index_dir) / CHECKSUMS_FILE).unlink()
    result = _cli("status", "--index", str(index_dir), "--verify")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].startswith("Verified   nothing: no checksums recorded")
    summary = build_index(settings_for(site, index_dir))
    assert not summary.changed and summary.generation == "gen-000001"
    assert (_generation(index_dir) / CHECKSUMS_FILE).is_file()
    assert _hits(index_dir) == built


def test_the_api_answers_503_for_a_damaged_index(index_dir: Path, built: object) -> None:
    _segment(index_dir, ".pst").unlink()
    with TestClient(create_app(ServeSettings(index_dir=index_dir))) as client:
        response = client.get("/api/search", params={"q": QUERY})
    assert response.status_code == 503
    assert "not available" in response.json()["error"]


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
