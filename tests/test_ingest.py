"""Building and updating an index from small real sites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers import page, settings_for
from pdfgen import PageSpec, PdfSpec, make_pdf, text_pdf

from chcsearch.errors import IndexLockedError, SiteError
from chcsearch.index import IndexStore, count_documents, stored_documents
from chcsearch.ingest import build_index

MakeSite = Callable[..., Path]


def _docs(index_dir: Path, **terms: str) -> list[dict[str, object]]:
    return stored_documents(IndexStore(index_dir).open_current(), **terms)


def test_the_sample_site_is_indexed_with_its_hierarchy(sample_site: Path, index_dir: Path) -> None:
    summary = build_index(settings_for(sample_site, index_dir))
    assert (summary.pages, summary.pdfs, summary.pdf_pages) == (15, 4, 11)
    kinds = {p.kind for p in summary.problems}
    assert kinds == {"front-matter-invalid", "dead-link", "orphan-pdf", "pdf-pages-no-text"}
    docs = {d["id"]: d for d in _docs(index_dir)}
    assert "_drafts/unfinished-report.md" not in docs and "README.md" not in docs
    frailty = docs["valley-region/frailty.md"]
    assert frailty["level"] == "3.10" and frailty["breadcrumb"] == ["Valley Region"]
    orphan = docs["assets/valley-region/Section 3.10.1_Frailty Index Findings.pdf#page=2"]
    assert orphan["group"] == "valley-region/frailty.md" and orphan["orphan"] is True
    coastal = docs["assets/north-coast/Section 2.1.1_Coastal Data Platform.pdf#page=1"]
    assert coastal["breadcrumb"] == ["North Coast", "Technical Infrastructure"]
    assert (
        coastal["url"] == "/assets/north-coast/Section%202.1.1_Coastal%20Data%20Platform.pdf#page=1"
    )
    encoded = docs["assets/north-coast/Section 2.2.1_Asthma Pathway Report.pdf#page=1"]
    assert encoded["group"] == "north-coast/asthma-pathway.md"
    assert "improvements can be attributed" in str(
        docs["assets/hub/Section 1.2.1_Programme Evaluation Report.pdf#page=4"]["body"]
    )
    panel = docs["hub/public-involvement/citizens-panel.md"]
    assert str(panel["title"]).endswith("long enough to wrap onto a second line")
    assert panel["resources"][0]["title"].endswith("onto a second line without indentation")  # type: ignore[index]


def test_a_pdf_linked_from_two_pages_belongs_to_each(make_site: MakeSite, index_dir: Path) -> None:
    report = "/assets/shared.pdf"
    site = make_site(
        {
            "_config.yml": "title: t\n",
            "a.md": page("Alpha", section="alpha"),
            "a/deep.md": page("Deep", section="alpha/deep", resources=f"\n  - path: {report}"),
            "b.md": page(
                "Beta", section="beta", resources=f"\n  - path: {report}\n    title: Shared report"
            ),
            "assets/shared.pdf": text_pdf([["shared words"], ["more words"]]),
        }
    )
    build_index(settings_for(site, index_dir))
    doc = _docs(index_dir, id="assets/shared.pdf#page=2")[0]
    assert doc["linked_from"] == ["a/deep.md", "b.md"]
    assert doc["group"] == "a/deep.md"  # the most specific linking page
    ancestors = doc["ancestors"]
    assert isinstance(ancestors, list) and set(ancestors) == {"alpha", "alpha/deep", "beta"}


def test_nothing_changed_means_nothing_read_and_no_new_generation(
    sample_site: Path, index_dir: Path
) -> None:
    settings = settings_for(sample_site, index_dir)
    first = build_index(settings)
    again = build_index(settings)
    assert (again.files_read, again.pdfs_extracted, again.pdfs_from_cache) == (0, 0, 0)
    assert not again.changed and again.generation == first.generation
    assert again.problem_counts() == first.problem_counts()


def test_a_touched_page_is_read_again_and_only_it_is_rewritten(
    sample_site: Path, index_dir: Path
) -> None:
    settings = settings_for(sample_site, index_dir)
    build_index(settings)
    target = sample_site / "valley-region" / "stroke-care.md"
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    summary = build_index(settings)
    assert summary.files_read == 1
    assert (summary.docs_added, summary.docs_updated, summary.docs_removed) == (0, 1, 0)


def test_segments_are_plain_files_that_readers_need_not_copy(
    sample_site: Path, index_dir: Path
) -> None:
    # Whoosh reads a compound segment's parts through an in-memory copy;
    # plain segment files are read in place, by builds and updates alike.
    settings = settings_for(sample_site, index_dir)
    build_index(settings)
    (sample_site / "hub" / "new-page.md").write_text(page("A new page", section="hub"))
    summary = build_index(settings)
    assert summary.docs_added == 1
    generation = IndexStore(index_dir).open_current().path
    assert not list(generation.glob("*.seg"))
    assert list(generation.glob("*.pst")) and list(generation.glob("*.trm"))
    assert count_documents(IndexStore(index_dir).open_current())["total"] == len(_docs(index_dir))


def test_a_retitled_parent_updates_its_childrens_breadcrumbs(
    sample_site: Path, index_dir: Path
) -> None:
    settings = settings_for(sample_site, index_dir)
    build_index(settings)
    region = sample_site / "valley-region.md"
    region.write_text(
        region.read_text(encoding="utf-8").replace("title: Valley Region", "title: The Valleys")
    )
    summary = build_index(settings)
    assert summary.pdfs_extracted == 0
    # the region page, its two child pages and the orphan report's two pages beneath one of them
    assert summary.docs_updated == 5
    assert _docs(index_dir, id="valley-region/stroke-care.md")[0]["breadcrumb"] == ["The Valleys"]


def test_removed_and_added_files_leave_and_enter_the_index(
    sample_site: Path, index_dir: Path
) -> None:
    settings = settings_for(sample_site, index_dir)
    build_index(settings)
    (sample_site / "north-coast" / "technical-infrastructure.md").unlink()
    (sample_site / "assets" / "north-coast" / "Section 2.1.1_Coastal Data Platform.pdf").unlink()
    (sample_site / "valley-region" / "new.md").write_text(
        page("New page", section="valley-region/new")
    )
    summary = build_index(settings)
    assert (summary.docs_added, summary.docs_removed) == (1, 3)
    ids = {d["id"] for d in _docs(index_dir)}
    assert "valley-region/new.md" in ids
    assert not any("Coastal" in str(i) for i in ids)


def test_a_dead_link_that_comes_alive_is_picked_up(sample_site: Path, index_dir: Path) -> None:
    settings = settings_for(sample_site, index_dir)
    first = build_index(settings)
    assert any(p.kind == "dead-link" for p in first.problems)
    (
        sample_site / "assets" / "north-coast" / "Section 2.2.2_Asthma Pathway Appendix.pdf"
    ).write_bytes(text_pdf([["Appendix of asthma codes"]]))
    summary = build_index(settings)
    assert not any(p.kind == "dead-link" for p in summary.problems)
    doc = _docs(
        index_dir, id="assets/north-coast/Section 2.2.2_Asthma Pathway Appendix.pdf#page=1"
    )[0]
    assert doc["group"] == "north-coast/asthma-pathway/appendix.md" and doc["orphan"] is False


def test_rebuild_keeps_the_extraction_cache(sample_site: Path, index_dir: Path) -> None:
    settings = settings_for(sample_site, index_dir)
    first = build_index(settings)
    assert first.pdfs_extracted == 4
    rebuilt = build_index(settings_for(sample_site, index_dir, rebuild=True))
    assert rebuilt.rebuilt and rebuilt.rebuild_reason == "--rebuild was given"
    assert (rebuilt.pdfs_extracted, rebuilt.pdfs_from_cache) == (0, 4)
    assert rebuilt.generation != first.generation


def test_the_same_pdf_under_two_names_is_extracted_once(
    make_site: MakeSite, index_dir: Path
) -> None:
    data = text_pdf([["identical content"]])
    site = make_site({"_config.yml": "", "one.pdf": data, "two.pdf": data})
    summary = build_index(settings_for(site, index_dir))
    assert summary.pdfs_extracted == 1 and summary.pdf_pages == 2


BAD_INPUTS: Mapping[str, str | bytes] = {
    "_config.yml": "title: Bad inputs\n",
    "good.md": page("Good page", "The zebra crossing report.", section="good"),
    "bad-yaml.md": "---\ntitle: Broken: yaml: here\nsection: [unclosed\n---\nBody of the broken page.\n",
    "latin1.md": "---\ntitle: Café\n---\nNaïve text in Latin-1.\n".encode("latin-1"),
    "empty.md": "",
    "escape.md": page(
        "Escapes", resources="\n  - path: ../../etc/passwd\n  - path: /assets/../../secret.pdf"
    ),
    "assets/zero.pdf": b"",
    "assets/truncated.pdf": text_pdf([["page one text"], ["page two text"]])[:400],
    "assets/encrypted.pdf": make_pdf(PdfSpec(pages=[["secret"]], user_password="s3cret")),
    "assets/slow.pdf": make_pdf(PdfSpec(pages=[PageSpec(vector_ops=400_000, lines=["slow"])])),
    "assets/garbage.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 8,
    "assets/fine.pdf": text_pdf([["A readable report about lighthouses."]]),
}


def test_bad_inputs_each_give_a_named_warning_and_the_rest_is_indexed(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(BAD_INPUTS)
    (site / "loop").symlink_to(site, target_is_directory=True)
    (site / "self.md").symlink_to(site / "self.md")
    summary = build_index(settings_for(site, index_dir, pdf_timeout=1.0))
    by_source: dict[str, set[str]] = {}
    for problem in summary.problems:
        by_source.setdefault(problem.src_path, set()).add(problem.kind)
    assert by_source == {
        "bad-yaml.md": {"front-matter-invalid"},
        "latin1.md": {"encoding"},
        "empty.md": {"empty-file"},
        "escape.md": {"path-outside-site"},
        "assets/zero.pdf": {"pdf-empty"},
        "assets/truncated.pdf": {"pdf-corrupt"},
        "assets/encrypted.pdf": {"pdf-encrypted"},
        "assets/slow.pdf": {"pdf-timeout"},
        "assets/garbage.pdf": {"pdf-corrupt"},
        "assets/fine.pdf": {"orphan-pdf"},
        "loop": {"symlink-loop"},
        "self.md": {"symlink-loop"},
    }
    for problem in summary.problems:
        assert problem.message and problem.message[-1] in ".)", problem
    ids = {d["id"] for d in _docs(index_dir)}
    assert {"good.md", "bad-yaml.md", "latin1.md", "escape.md", "assets/fine.pdf#page=1"} <= ids
    latin = _docs(index_dir, id="latin1.md")[0]
    assert latin["title"] == "Café" and "Naïve" in str(latin["body"])
    assert _docs(index_dir, id="bad-yaml.md")[0]["title"] == "Broken: yaml: here"


def test_a_pdf_that_times_out_is_retried_when_the_limit_is_raised(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(
        {
            "_config.yml": "",
            "slow.pdf": make_pdf(PdfSpec(pages=[PageSpec(vector_ops=150_000, lines=["patience"])])),
        }
    )
    first = build_index(settings_for(site, index_dir, pdf_timeout=0.2))
    assert [p.kind for p in first.problems] == ["pdf-timeout"]
    same = build_index(settings_for(site, index_dir, pdf_timeout=0.2, rebuild=True))
    assert same.pdfs_extracted == 0, "a time-out is cached for the same limit"
    longer = build_index(settings_for(site, index_dir, pdf_timeout=120.0, rebuild=True))
    assert longer.pdfs_extracted == 1 and longer.pdf_pages == 1


def test_a_missing_site_is_a_clear_error(tmp_path: Path, index_dir: Path) -> None:
    with pytest.raises(SiteError, match="does not exist"):
        build_index(settings_for(tmp_path / "nowhere", index_dir))
    assert not (index_dir / "CURRENT").exists()


def test_a_second_indexer_gets_index_is_locked(sample_site: Path, index_dir: Path) -> None:
    settings = settings_for(sample_site, index_dir)
    build_index(settings)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from chcsearch.index import IndexStore\n"
                "with IndexStore(Path(sys.argv[1])).locked():\n"
                "    print('locked', flush=True); time.sleep(30)\n"
            ),
            str(index_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            IndexLockedError, match="is locked: another 'chcsearch index' is writing it"
        ):
            build_index(settings)
    finally:
        holder.kill()
        holder.wait()
    assert build_index(settings).documents == 26


def _many_pages(count: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"_config.yml": "title: big\n"}
    words = ["lighthouse", "keeper", "harbour", "tide", "beacon", "ferry", "quay", "gull"]
    for i in range(count):
        body = " ".join(words[(i + j) % len(words)] + str(j % 50) for j in range(400))
        files[f"section-{i % 10}/page-{i}.md"] = page(f"Page {i}", body)
    return files


def _start_rebuild(site: Path, index_dir: Path, **popen: Any) -> subprocess.Popen[str]:
    """``chcsearch index --rebuild`` in a process of its own."""
    command = [
        sys.executable,
        "-m",
        "chcsearch",
        "index",
        str(site),
        "--index",
        str(index_dir),
        "--rebuild",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(command, env=env, text=True, **popen)


def _wait_for_new_generation(proc: subprocess.Popen[str], index_dir: Path, current: str) -> None:
    """Wait until the rebuild has started writing a generation after ``current``."""
    deadline = time.monotonic() + 60
    while not any(p.name > current for p in index_dir.glob("gen-*")):
        assert proc.poll() is None, "the rebuild finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_sigkill_during_a_rebuild_leaves_the_previous_index_intact(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(_many_pages(1500))
    settings = settings_for(site, index_dir)
    before = build_index(settings)
    current = IndexStore(index_dir).current()
    assert current is not None
    # the rebuild writes for about 1.6 s after its folder appears: kill it well before
    for delay in (0.0, 0.4, 0.8):
        proc = _start_rebuild(site, index_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_new_generation(proc, index_dir, current.name)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the rebuild finished before it was killed"
        still = IndexStore(index_dir).open_current()
        assert still.name == current.name
        assert count_documents(still)["total"] == before.documents
        assert stored_documents(still, id="section-3/page-13.md")[0]["title"] == "Page 13"
    after = build_index(settings)
    assert not after.changed and after.generation == current.name
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [current.name]


def test_ctrl_c_during_a_rebuild_exits_130_and_keeps_the_index(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(_many_pages(1500))
    before = build_index(settings_for(site, index_dir))
    proc = _start_rebuild(site, index_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_new_generation(proc, index_dir, before.generation)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted; the index was left as it was before this run." in stderr
    current = IndexStore(index_dir).open_current()
    assert current.name == before.generation
    assert count_documents(current)["total"] == before.documents


def test_a_changed_baseurl_rebuilds_so_every_link_follows_it(
    make_site: MakeSite, index_dir: Path
) -> None:
    site = make_site(
        {
            "_config.yml": "title: T\nbaseurl: /old-name\n",
            "a.md": page("Alpha", "Alpha text."),
            "b.md": page("Beta", "Beta text."),
        }
    )
    build_index(settings_for(site, index_dir))
    (site / "_config.yml").write_text("title: T\nbaseurl: /project\n", encoding="utf-8")
    summary = build_index(settings_for(site, index_dir))
    assert summary.rebuilt and "baseurl changed" in summary.rebuild_reason
    urls = [d["url"] for d in stored_documents(IndexStore(index_dir).open_current())]
    assert urls and all(url.startswith("/project/") for url in urls), urls
    assert not build_index(settings_for(site, index_dir)).rebuilt  # and then it is settled
