"""Helpers shared by the tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from chcsearch.config import IndexSettings

PROJECT = Path(__file__).resolve().parents[1]
TEST_CACHE = PROJECT / ".cache" / "test-extract"


def corpus_path() -> Path:
    configured = os.environ.get("CHCSEARCH_CORPUS")
    return Path(configured) if configured else (PROJECT.parent / "shared" / "corpus" / "chc-site")


def settings_for(site: Path, index_dir: Path, **overrides: object) -> IndexSettings:
    values: dict[str, object] = {
        "site": site,
        "index_dir": index_dir,
        "cache_dir": index_dir / "cache",
        "jobs": 2,
        "pdf_timeout": 60.0,
    }
    values.update(overrides)
    return IndexSettings(**values)  # type: ignore[arg-type]


def page(title: str, body: str = "Some text.", **front: object) -> str:
    """A Markdown page with YAML front matter (values written as given)."""
    lines = ["---", f"title: {title}"]
    lines += [f"{key}: {value}" for key, value in front.items()]
    lines += ["---", "", body, ""]
    return "\n".join(lines)


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m chcsearch`` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "chcsearch", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
        check=False,
    )
