"""Settings are layered: defaults, config file, environment, flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from chcsearch.config import resolve_index_dir, resolve_index_settings
from chcsearch.errors import ConfigError


def test_defaults_are_content_into_index_with_all_cores(tmp_path: Path) -> None:
    settings = resolve_index_settings({}, env={}, cwd=tmp_path, cpu_count=6)
    assert settings.site == tmp_path / "content"
    assert settings.index_dir == tmp_path / "index"
    assert settings.cache_dir == tmp_path / "index" / "cache"
    assert (settings.jobs, settings.generator, settings.rebuild) == (6, "auto", False)


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    (tmp_path / "chcsearch.toml").write_text(
        'site = "mysite"\njobs = 3\n[index]\npdf_timeout = 9\n'
    )
    env = {"CHCSEARCH_JOBS": "4", "CHCSEARCH_INDEX": "/abs/ix"}
    settings = resolve_index_settings({"jobs": 1, "rebuild": True}, env=env, cwd=tmp_path)
    assert settings.site == tmp_path / "mysite"
    assert settings.index_dir == Path("/abs/ix") and settings.cache_dir == Path("/abs/ix/cache")
    assert (settings.jobs, settings.pdf_timeout, settings.rebuild) == (1, 9.0, True)
    assert resolve_index_dir(None, env=env, cwd=tmp_path) == Path("/abs/ix")


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({}, {"CHCSEARCH_JOBS": "many"}, "environment CHCSEARCH_JOBS: jobs must be a whole number"),
        ({"generator": "gatsby"}, {}, "option --generator: generator 'gatsby' is not known"),
        ({}, {"CHCSEARCH_PDF_TIMEOUT": "-1"}, "pdf_timeout must be a number of seconds > 0"),
    ],
)
def test_bad_values_name_their_source(
    flags: dict[str, object], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_index_settings(flags, env=env, cwd=tmp_path)


def test_a_bad_config_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "chcsearch.toml").write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) colour"):
        resolve_index_settings({}, env={}, cwd=tmp_path)
    (tmp_path / "chcsearch.toml").write_text("site = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        resolve_index_settings({}, env={}, cwd=tmp_path)
