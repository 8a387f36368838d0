"""The hostile site: every kind of file built to take an index run down, in one site.

Indexing it with the real CLI succeeds within three minutes and a gigabyte
for the whole process tree, ``chcsearch status`` names every hostile file,
and the ordinary pages and PDF are found.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import page, run_cli, run_cli_measured, write_files
from pdfgen import inflating_pdf, text_pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

GIGABYTE = 1_000_000_000
MINUTES_3 = 180.0

#: "Billion laughs": nine aliases a level, nine levels deep (9**9 strings) in 499 bytes.
ALIAS_BOMB = "\n".join(
    [
        'a0: &a0 "lol"',
        *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)),
    ]
)

#: Each hostile page, by its name (bomb-page.md is ordinary; the PDF it lists is not).
HOSTILE = {
    "alias-bomb.md": "---\n" + ALIAS_BOMB + "\n---\n\nAlias bomb body.\n",
    "deep-flow.md": "---\na: " + "[" * 20_000 + "]" * 20_000 + "\n---\n\nDeep flow body.\n",
    "whitespace.md": page("Whitespace", "Whitespace " + " " * 200_000 + "x"),
    "brackets.md": page("Brackets", "Brackets\n\n" + "[" * 80_000),
    "liquid.md": page("Liquid", "Liquid\n\n" + "{% " * 80_000),
    "nested-list.md": page(
        "Nested list", "Nested\n\n" + "".join("  " * i + "- x\n" for i in range(1_600))
    ),
}
BOMB_PAGE = page("Bomb page", "The annual report.", resources="\n  - path: /assets/bomb.pdf")
NOT_UTF8_NAME = b"bad\xff.md"
NORMAL = {
    "_config.yml": "title: Hostile site\n",
    "index.md": page("Home", "Welcome to the gooseberry growers' network."),
    "north/index.md": page("North", "The northern region reports on elderflowers."),
    "north/quinces.md": page("Quinces", "Quince orchards and their yields."),
    "south/index.md": page(
        "South", "The southern region.", resources="\n  - path: /assets/survey.pdf"
    ),
}


@dataclass(frozen=True)
class HostileRun:
    index: str
    returncode: int
    stderr: str
    peak: int
    seconds: float
    status: str


@pytest.fixture(
    scope="module",
    params=[
        "pdfminer",
        pytest.param(
            "pdfium",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("pypdfium2") is None, reason="needs pypdfium2"
            ),
        ),
    ],
)
def hostile_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> HostileRun:
    site = tmp_path_factory.mktemp("hostile-site")
    files: dict[str, str | bytes] = {**NORMAL, **HOSTILE, "bomb-page.md": BOMB_PAGE}
    files["assets/bomb.pdf"] = inflating_pdf(200, filler=b"0 0 m 1 1 l S\n")
    files["assets/survey.pdf"] = text_pdf(
        [["Medlar survey"], ["Medlars ripen after the first frost."]], title="Medlar Survey"
    )
    write_files(site, files)
    descriptor = os.open(os.fsencode(site) + b"/" + NOT_UTF8_NAME, os.O_CREAT | os.O_WRONLY)
    os.write(descriptor, page("Bad name", "Bad name body.").encode())
    os.close(descriptor)

    index = str(tmp_path_factory.mktemp("hostile-index") / "index")
    result, peak, seconds = run_cli_measured(
        "index",
        str(site),
        "--index",
        index,
        "--extractor",
        request.param,
        "--jobs",
        "2",
        "-q",
        timeout=MINUTES_3 + 60,
    )
    status = run_cli("status", "--index", index)
    return HostileRun(index, result.returncode, result.stderr, peak, seconds, status.stdout)


def _found(index: str, words: str) -> list[str]:
    result = run_cli("query", words, "--index", index, "--format", "json", "--flat")
    assert result.returncode == 0, result.stderr
    return [hit["id"] for hit in json.loads(result.stdout)["results"]]


def test_adding_the_hostile_files_to_an_indexed_site_loses_nothing(tmp_path: Path) -> None:
    site, index = tmp_path / "site", str(tmp_path / "index")
    normal: dict[str, str | bytes] = {**NORMAL}
    normal["assets/survey.pdf"] = text_pdf([["Medlar survey"], ["Medlars ripen after frost."]])
    write_files(site, normal)
    assert run_cli("index", str(site), "--index", index, "-q").returncode == 0
    questions = ("gooseberry", "elderflowers", "quince orchards", "medlars")
    before = {words: _found(index, words) for words in questions}
    assert all(before.values())

    write_files(site, {**HOSTILE, "bomb-page.md": BOMB_PAGE})
    write_files(site, {"assets/bomb.pdf": inflating_pdf(200, filler=b"0 0 m 1 1 l S\n")})
    descriptor = os.open(os.fsencode(site) + b"/" + NOT_UTF8_NAME, os.O_CREAT | os.O_WRONLY)
    os.close(descriptor)
    result = run_cli("index", str(site), "--index", index, "--jobs", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert {words: _found(index, words) for words in questions} == before


def test_the_hostile_site_is_indexed(hostile_run: HostileRun) -> None:
    assert hostile_run.returncode == 0, hostile_run.stderr[-2000:]


def test_indexing_takes_less_than_three_minutes(hostile_run: HostileRun) -> None:
    assert hostile_run.seconds < MINUTES_3


def test_the_whole_process_tree_stays_within_a_gigabyte(hostile_run: HostileRun) -> None:
    assert hostile_run.peak <= GIGABYTE, f"peak {hostile_run.peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    "name", [*HOSTILE, "assets/bomb.pdf", NOT_UTF8_NAME.decode("utf-8", "backslashreplace")]
)
def test_status_names_every_hostile_file(hostile_run: HostileRun, name: str) -> None:
    named = [line for line in hostile_run.status.splitlines() if f"    {name}" in line]
    assert named, f"{name} is not named in chcsearch status:\n{hostile_run.status}"


def test_the_bomb_pdf_is_too_large(hostile_run: HostileRun) -> None:
    assert "assets/bomb.pdf: [pdf-too-large]" in hostile_run.status


@pytest.mark.parametrize(
    ("words", "source"),
    [
        ("gooseberry", "index.md"),
        ("elderflowers", "north/index.md"),
        ("quince orchards", "north/quinces.md"),
        ("medlars frost", "assets/survey.pdf"),
    ],
)
def test_the_normal_pages_are_found(hostile_run: HostileRun, words: str, source: str) -> None:
    found = run_cli("query", words, "--index", hostile_run.index, "-f", "json")
    assert found.returncode == 0, found.stderr
    assert source in found.stdout
