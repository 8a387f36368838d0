"""Plain folders of reports and notes: titles, sidecars, collections, evaluation runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import ir_measures
import pytest
from helpers import page, run_cli, settings_for
from ir_measures import MRR, P, nDCG
from pdfgen import text_pdf

from chcsearch.errors import ConfigError
from chcsearch.ingest import build_index
from chcsearch.query import Searcher

MakeSite = Callable[[Mapping[str, str | bytes]], Path]


def _notes() -> dict[str, str | bytes]:
    return {
        "projects/asthma/plan.md": page("Asthma Project Plan", "Inhaler reviews in schools."),
        "projects/asthma/minutes.md": "# Steering Group Minutes\n\nThe inhaler audit is late.\n",
        "projects/asthma/readme.txt": "Data dictionary\n\nField inhaler count is per pupil.\n",
        "projects/asthma/final.pdf": text_pdf(
            [["Inhaler Audit Report"], ["Inhaler technique improved in 60% of pupils."]],
            author="Ann Lee; Bo Chan",
        ),
        "projects/falls/scan.pdf": text_pdf([["Falls in care homes fell by a fifth."]]),
        "admin/no-heading.txt": "this note begins with a very long line that is certainly not a "
        "heading because it runs on and on for more than fifteen words in all\n",
    }


def test_a_plain_folder_indexes_pdf_markdown_and_text_by_folder(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(_notes())
    summary = build_index(settings_for(root, tmp_path / "index"))
    assert summary.generator == "folder"
    assert (summary.pages, summary.pdfs, summary.pdf_pages) == (4, 2, 3)
    with Searcher(tmp_path / "index") as searcher:
        results = searcher.search("inhaler", limit=20, flat=True)
        titles = {h.source: h.title for h in results.results}
        assert titles["projects/asthma/plan.md"] == "Asthma Project Plan"  # front matter
        assert titles["projects/asthma/minutes.md"] == "Steering Group Minutes"  # first heading
        assert titles["projects/asthma/readme.txt"] == "Data dictionary"  # first line
        assert titles["projects/asthma/final.pdf"] == "Inhaler Audit Report"  # PDF's first line
        pdf = next(h for h in results.results if h.source == "projects/asthma/final.pdf")
        assert pdf.authors == ("Ann Lee", "Bo Chan")
        assert pdf.breadcrumb == ("Projects", "Asthma")
        assert {h.section for h in results.results} == {"projects/asthma"}
        assert [(f.value, f.count) for f in results.section_facets] == [("projects", 5)]
        grouped = searcher.search("inhaler")  # a PDF's pages are one result
        assert [(f.value, f.count) for f in grouped.section_facets] == [("projects", 4)]
        drill = searcher.search("inhaler", sections=["projects"])
        assert [(f.value, f.title) for f in drill.section_facets] == [("projects/asthma", "Asthma")]
        assert searcher.search("falls", sections=["admin"]).total == 0
        note = searcher.search("fifteen words", sections=["admin"]).results[0]
        # a note's first line is its title however long (shown, never weighted as a title)
        assert note.title.startswith("this note begins with a very long line")


def test_sidecars_for_notes_and_folders_and_their_warnings(
    make_site: MakeSite, tmp_path: Path
) -> None:
    files = _notes()
    files["projects/_meta.yml"] = "tags: [project]\nyear: 2019\n"
    files["projects/asthma/_meta.yml"] = "folder_title: Childhood Asthma\ntags: [asthma]\n"
    files["projects/asthma/minutes.md.yml"] = "title: Minutes, 3 March\nauthors: Sam Poe\n"
    files["projects/falls/scan.pdf.yml"] = "title: [not, text]\nyear: 19\n"
    files["projects/falls/_meta.yml"] = "- just\n- a list\n"
    files["admin/_meta.yml"] = "title: 'unclosed\n"
    root = make_site(files)
    summary = build_index(settings_for(root, tmp_path / "index"))
    problems = {(p.kind, p.src_path, p.line) for p in summary.problems}
    assert ("sidecar-bad-value", "projects/falls/scan.pdf.yml", 1) in problems
    assert ("sidecar-bad-value", "projects/falls/scan.pdf.yml", 2) in problems
    assert ("sidecar-invalid", "projects/falls/_meta.yml", None) in problems
    assert any(k == "sidecar-invalid" and s == "admin/_meta.yml" for k, s, _ in problems)
    messages = " ".join(p.message for p in summary.problems)
    assert "title: should be text" in messages and "year: should be a four-digit year" in messages
    with Searcher(tmp_path / "index") as searcher:
        minutes = searcher.search("late").results[0]
        assert minutes.title == "Minutes, 3 March"
        assert minutes.authors == ("Sam Poe",)
        assert minutes.tags == ("asthma",)  # the nearer folder's tags win
        assert minutes.year == 2019  # the outer folder still gives the year
        assert minutes.breadcrumb == ("Projects", "Childhood Asthma")
        assert searcher.search("falls", tags=["project"]).total == 1
        assert searcher.search("inhaler", tags=["asthma"], years=(2019, 2019)).total == 4
        assert searcher.search("inhaler", years=(2020, 2030)).total == 0
    # fixing a sidecar is picked up by the next incremental run
    (root / "projects/asthma/minutes.md.yml").write_text("title: Minutes, 4 March\n")
    again = build_index(settings_for(root, tmp_path / "index"))
    assert again.pdfs_extracted == 0
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.search("late").results[0].title == "Minutes, 4 March"


def test_query_options_for_metadata(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(
        {
            "a/old.md": page("Old Review", "Hospital discharge review.", year=2012),
            "a/mid.md": page("Mid Review", "Hospital discharge audit.", year=2018),
            "a/new.md": page("New Review", "Hospital discharge study.", year=2021, tags="[audit]"),
        }
    )
    index = str(tmp_path / "index")
    assert run_cli("index", str(root), "--index", index, "-q").returncode == 0

    def titles(*args: str) -> list[str]:
        result = run_cli("query", "hospital discharge", "--index", index, "-f", "json", *args)
        assert result.returncode == 0, result.stderr
        return [r["title"] for r in json.loads(result.stdout)["results"]]

    assert titles("--sort", "date") == ["New Review", "Mid Review", "Old Review"]
    assert titles("--sort", "title") == ["Mid Review", "New Review", "Old Review"]
    assert titles("--year", "2015..2020") == ["Mid Review"]
    assert sorted(titles("--year", "2018..")) == ["Mid Review", "New Review"]
    assert titles("--year", "..2012") == ["Old Review"]
    assert titles("--tag", "audit") == ["New Review"]
    bad = run_cli("query", "x", "--index", index, "--year", "2020..2010")
    assert bad.returncode == 2 and "earlier year first" in bad.stderr
    bad = run_cli("query", "x", "--index", index, "--year", "last year")
    assert bad.returncode == 2 and "--year 'last year' is not a year or a range" in bad.stderr


def test_named_collections_are_listed_and_searched_together(
    make_site: MakeSite, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {"CHCSEARCH_HOME": str(home)}
    first = make_site({"r/heart.md": page("Heart Failure Clinic", "Heart failure nurses.")}, "one")
    second = make_site(
        {
            "s/heart.md": page("Heart Rhythm Audit", "Heart rhythm and heart failure audit."),
            "s/lung.md": page("Lung Health Checks", "Lung screening."),
        },
        "two",
    )
    for name, root in (("clinics", first), ("audits", second)):
        result = run_cli("index", str(root), "--collection", name, "-q", env=env)
        assert result.returncode == 0, result.stderr
    assert (home / "collections" / "clinics").is_dir()

    listed = run_cli("collections", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    found = {c["name"]: c for c in json.loads(listed.stdout)}
    assert set(found) == {"audits", "clinics"}
    assert found["audits"]["counts"]["documents"] == 2
    assert found["clinics"]["counts"]["documents"] == 1
    text = run_cli("collections", env=env).stdout
    assert "audits" in text and "clinics" in text

    merged = run_cli(
        "query", "heart failure", "-c", "clinics", "-c", "audits", "-f", "json", env=env
    )
    assert merged.returncode == 0, merged.stderr
    payload = json.loads(merged.stdout)
    assert payload["total"] == 2
    scores = [r["score"] for r in payload["results"]]
    assert scores == sorted(scores, reverse=True)
    assert {r["collection"] for r in payload["results"]} == {"clinics", "audits"}
    shown = run_cli("query", "heart", "-c", "clinics", "-c", "audits", env=env).stdout
    assert "[clinics] Heart Failure Clinic" in shown and "[audits] Heart Rhythm Audit" in shown
    one = run_cli("query", "heart", "--collection", "clinics", "-f", "json", env=env)
    assert [r["title"] for r in json.loads(one.stdout)["results"]] == ["Heart Failure Clinic"]
    assert "collection" not in json.loads(one.stdout)["results"][0]  # the documented JSON
    status = run_cli("status", "--collection", "audits", "--json", env=env)
    assert json.loads(status.stdout)["counts"]["documents"] == 2

    missing = run_cli("query", "heart", "-c", "nope", env=env)
    assert missing.returncode == 4  # as for an --index folder with no index
    assert "no collection named 'nope'" in missing.stderr and "audits, clinics" in missing.stderr
    both = run_cli("query", "heart", "-c", "audits", "--index", str(tmp_path), env=env)
    assert both.returncode == 2 and "not both" in both.stderr
    bad_name = run_cli("index", str(first), "--collection", "../x", env=env)
    assert bad_name.returncode == 2 and "collection name '../x'" in bad_name.stderr


def test_no_collections_yet_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_cli("collections", env={"CHCSEARCH_HOME": str(tmp_path / "empty")})
    assert result.returncode == 0
    assert "chcsearch index DIR --collection NAME" in result.stdout


# ---- evaluation mode -----------------------------------------------------------------

CORPUS = {
    "cardio/heart-failure.txt": "Heart failure clinics\n\nNurse-led clinics for heart failure "
    "reduced readmissions. Diuretics were titrated at home visits.",
    "cardio/stroke.txt": "Stroke thrombolysis\n\nDoor-to-needle times for stroke thrombolysis "
    "fell after a pre-alert protocol with ambulance crews.",
    "cardio/atrial fibrillation.txt": "Atrial fibrillation screening\n\nPulse checks in "
    "pharmacies found atrial fibrillation in older adults; anticoagulation followed.",
    "resp/copd.txt": "COPD rescue packs\n\nRescue packs of steroids and antibiotics let COPD "
    "patients treat exacerbations early.",
    "resp/asthma.txt": "Childhood asthma\n\nSchool nurses checked inhaler technique and asthma "
    "plans for pupils.",
    "mental/crisis.txt": "Crisis cafes\n\nCrisis cafes offered an alternative to emergency "
    "departments for people in mental health crisis.",
    "mental/dementia.txt": "Dementia diagnosis\n\nMemory clinics raised dementia diagnosis "
    "rates in primary care.",
    "data/consent.txt": "Consent for data sharing\n\nCitizens juries discussed consent for "
    "sharing health records for research.",
}
QUERIES = "q1\theart failure readmissions\nq2\tstroke thrombolysis\nq3\tinhaler technique\n"
QUERIES += "q4\tsharing health records consent\nq5\tanticoagulation atrial fibrillation\n"
QRELS = """q1 0 cardio/heart-failure.txt 2
q2 0 cardio/stroke.txt 2
q3 0 resp/asthma.txt 2
q4 0 data/consent.txt 2
q4 0 mental/crisis.txt 0
q5 0 cardio/atrial%20fibrillation.txt 2
q5 0 cardio/stroke.txt 1
"""


def test_evaluation_run_files_are_read_by_trec_tools(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(CORPUS)
    index = str(tmp_path / "index")
    assert run_cli("index", str(root), "--index", index, "-q").returncode == 0
    queries = tmp_path / "queries.tsv"
    queries.write_text(QUERIES, encoding="utf-8")
    result = run_cli("query", "--batch", str(queries), "--format", "trec", "--index", index)
    assert result.returncode == 0, result.stderr
    run_file = tmp_path / "run.txt"
    run_file.write_text(result.stdout, encoding="utf-8")
    qrels_file = tmp_path / "qrels.txt"
    qrels_file.write_text(QRELS, encoding="utf-8")

    run = list(ir_measures.read_trec_run(str(run_file)))
    assert {r.query_id for r in run} == {"q1", "q2", "q3", "q4", "q5"}
    assert all(len(line.split()) == 6 for line in result.stdout.splitlines())
    ranks: dict[str, list[int]] = {}
    for line in result.stdout.splitlines():
        qid, _, _, rank, _, _ = line.split()
        ranks.setdefault(qid, []).append(int(rank))
    assert all(r == list(range(1, len(r) + 1)) for r in ranks.values())
    figures = ir_measures.calc_aggregate(
        [MRR @ 10, nDCG @ 10, P @ 1], list(ir_measures.read_trec_qrels(str(qrels_file))), run
    )
    assert figures[MRR @ 10] == 1.0
    assert figures[P @ 1] == 1.0
    assert figures[nDCG @ 10] > 0.95


def test_the_pdfium_and_ocr_options_are_refused_clearly_when_tools_are_missing(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site({"a.pdf": text_pdf([["Hello"]])})
    # a PATH without tesseract or pdftoppm
    result = run_cli("index", str(root), "--index", str(tmp_path / "ix"), "--ocr", env={"PATH": ""})
    assert result.returncode == 3
    assert "tesseract (apt-get install tesseract-ocr)" in result.stderr
    assert "--no-ocr" in result.stderr
    assert not (tmp_path / "ix").exists() or not any((tmp_path / "ix").glob("gen-*"))


def test_unknown_extractor_is_a_usage_error(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"a.pdf": text_pdf([["Hello"]])})
    result = run_cli("index", str(root), "--index", str(tmp_path / "ix"), "--extractor", "x")
    assert result.returncode == 2
    with pytest.raises(ConfigError, match="extractor 'x' is not known"):
        from chcsearch.config import resolve_index_settings

        resolve_index_settings({}, env={"CHCSEARCH_EXTRACTOR": "x"}, cwd=tmp_path)
