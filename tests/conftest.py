"""Shared fixtures: tiny real sites in temp folders, and the real CHC corpus.

Real-corpus tests use ``CHCSEARCH_CORPUS`` (default ``../shared/corpus/chc-site``
beside the project). They skip with a reason when it is absent, except under
``CI=true``, where its absence fails the run. The corpus is indexed once per
test session; extracted PDF text is cached in ``.cache/test-extract`` so
later runs on the same checkout skip pdfminer.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from helpers import PROJECT, TEST_CACHE, corpus_path, settings_for, write_files

from chcsearch.config import IndexSettings
from chcsearch.ingest import build_index
from chcsearch.model import BuildSummary


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = corpus_path()
    if not (path / "_config.yml").is_file():
        message = (
            f"real CHC corpus not found at {path}; set CHCSEARCH_CORPUS to the chc-site folder"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required when CI=true)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def corpus_build(
    corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[IndexSettings, BuildSummary]:
    """The real corpus, indexed once for the whole session (all cores)."""
    index_dir = tmp_path_factory.mktemp("corpus-index")
    settings = settings_for(corpus_dir, index_dir, cache_dir=TEST_CACHE, jobs=os.cpu_count() or 1)
    return settings, build_index(settings)


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """Write a site from ``{relative path: text or bytes}`` and return its folder."""

    def make(files: Mapping[str, str | bytes], name: str = "site") -> Path:
        return write_files(tmp_path / name, files)

    return make


@pytest.fixture
def sample_site(tmp_path: Path) -> Path:
    """A private copy of the sample site in content/."""
    target = tmp_path / "content"
    shutil.copytree(PROJECT / "content", target)
    return target


@pytest.fixture
def index_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "index"
