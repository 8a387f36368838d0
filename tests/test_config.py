"""Settings are layered: defaults, config file, environment, flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chcsearch.config import resolve_index_dir, resolve_index_settings, resolve_serve_settings
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
        ({"generator": "gatsby"}, {}, "--generator 'gatsby' is not known"),
        (
            {},
            {"CHCSEARCH_PDF_TIMEOUT": "-1"},
            "pdf_timeout must be a number of seconds from 0.1 to 86400",
        ),
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


@pytest.mark.parametrize(
    ("flags", "env", "toml", "message"),
    [
        (
            {"time_limit": float("inf")},
            {},
            "",
            "--time-limit must be a number of seconds from 0.01 to 60, got inf.",
        ),
        ({"time_limit": float("nan")}, {}, "", "--time-limit must be"),
        ({"time_limit": 61}, {}, "", "--time-limit must be a number of seconds from 0.01 to 60"),
        (
            {},
            {"CHCSEARCH_TIME_LIMIT": "1e309"},
            "",
            "environment CHCSEARCH_TIME_LIMIT: time_limit must be a number of seconds from 0.01 "
            "to 60, got '1e309'.",
        ),
        ({}, {"CHCSEARCH_IDLE_TIMEOUT": "NaN"}, "", "CHCSEARCH_IDLE_TIMEOUT: idle_timeout must"),
        ({"idle_timeout": float("inf")}, {}, "", "to 300, got inf."),
        ({}, {}, "[serve]\nidle_timeout = inf\n", r"chcsearch.toml: idle_timeout must be a"),
        ({}, {}, "[index]\npdf_timeout = nan\n", r"chcsearch.toml: pdf_timeout must be a"),
        (
            {},
            {"CHCSEARCH_PDF_TIMEOUT": "inf"},
            "",
            "pdf_timeout must be a number of seconds from 0.1 to 86400",
        ),
    ],
)
def test_times_must_be_finite_and_in_range(
    flags: dict[str, object], env: dict[str, str], toml: str, message: str, tmp_path: Path
) -> None:
    if toml:
        (tmp_path / "chcsearch.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        resolve_serve_settings(flags, env=env, cwd=tmp_path)


def test_times_at_the_ends_of_their_ranges_are_accepted(tmp_path: Path) -> None:
    env = {"CHCSEARCH_TIME_LIMIT": "60", "CHCSEARCH_IDLE_TIMEOUT": "0.1"}
    settings = resolve_serve_settings({"idle_timeout": 300}, env=env, cwd=tmp_path)
    assert (settings.time_limit, settings.idle_timeout) == (60.0, 300.0)
    index = resolve_index_settings({"pdf_timeout": 86_400}, env={}, cwd=tmp_path)
    assert index.pdf_timeout == 86_400.0


@pytest.mark.parametrize("name", ["time_limit", "idle_timeout", "pdf_timeout"])
@pytest.mark.parametrize(
    "text", ["1e-320", "0", "-0", "\u0661", "\uff18", "1_0", "0x10", " ", "1e", "\u0661.5"]
)
def test_times_from_text_are_ascii_numbers_at_or_above_their_floor(
    name: str, text: str, tmp_path: Path
) -> None:
    var = f"CHCSEARCH_{name.upper()}"
    for env, toml, source in (
        ({var: text}, "", f"environment {var}"),
        ({}, f'{name} = "{text}"\n', "chcsearch.toml"),
    ):
        (tmp_path / "chcsearch.toml").write_text(toml, encoding="utf-8")
        if not text.strip() and env:
            continue  # an empty variable is as if unset
        with pytest.raises(ConfigError, match=f"{source}: {name} must be a number of seconds"):
            resolve_serve_settings({}, env=env, cwd=tmp_path)


@pytest.mark.parametrize(
    ("name", "least"), [("time_limit", 0.01), ("idle_timeout", 0.1), ("pdf_timeout", 0.1)]
)
def test_each_time_has_one_floor_whatever_its_source(
    name: str, least: float, tmp_path: Path
) -> None:
    below = least * 0.9
    var = f"CHCSEARCH_{name.upper()}"
    for flags, env, toml in (
        ({name: below}, {}, ""),
        ({}, {var: repr(below)}, ""),
        ({}, {}, f"{name} = {below!r}\n"),
    ):
        (tmp_path / "chcsearch.toml").write_text(toml, encoding="utf-8")
        with pytest.raises(ConfigError, match=f"must be a number of seconds from {least:g}"):
            resolve_serve_settings(flags, env=env, cwd=tmp_path)
    for flags, env, toml in (
        ({name: least}, {}, ""),
        ({}, {var: f"{least}"}, ""),
        ({}, {var: f"{least * 100:g}e-2"}, ""),
        ({}, {}, f"{name} = {least!r}\n"),
        ({}, {}, f'{name} = "{least}"\n'),
    ):
        (tmp_path / "chcsearch.toml").write_text(toml, encoding="utf-8")
        values = resolve_serve_settings(flags, env=env, cwd=tmp_path)
        index = resolve_index_settings(flags, env=env, cwd=tmp_path)
        got = index.pdf_timeout if name == "pdf_timeout" else getattr(values, name)
        assert got == least


def test_a_toml_time_may_be_a_toml_number_but_not_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "chcsearch.toml").write_text("time_limit = 3\nidle_timeout = 1_0\n")
    settings = resolve_serve_settings({}, env={}, cwd=tmp_path)
    assert (settings.time_limit, settings.idle_timeout) == (3.0, 10.0)  # TOML's own 1_0 is 10
    (tmp_path / "chcsearch.toml").write_text("time_limit = true\n")
    with pytest.raises(ConfigError, match="time_limit must be a number of seconds"):
        resolve_serve_settings({}, env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("jobs", "must be a whole number of processes"),
        ("pdf_memory", "must be a whole number of megabytes"),
        ("port", "must be a whole number from 1 to 65535"),
        ("workers", "must be a whole number from 1 to 64"),
        ("result_cache", "must be a whole number from 0 to 1000000"),
        ("max_queue", "must be a whole number from 0 to 1000000"),
    ],
)
@pytest.mark.parametrize("text", ["1_0", "\u0668", "\u0668\u0660\u0668\u0660", "\uff18", "+8"])
def test_whole_numbers_are_ascii_digits_from_every_source(
    name: str, said: str, text: str, tmp_path: Path
) -> None:
    var = f"CHCSEARCH_{name.upper()}"
    option = "--" + name.replace("_", "-")
    resolve = resolve_index_settings if name in ("jobs", "pdf_memory") else resolve_serve_settings
    for flags, env, toml, source in (
        ({name: text}, {}, "", f"{option} "),
        ({}, {var: text}, "", f"environment {var}: {name} "),
        ({}, {}, f'{name} = "{text}"\n', f"chcsearch.toml: {name} "),
    ):
        (tmp_path / "chcsearch.toml").write_text(toml, encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(f"{source}{said}")):
            resolve(flags, env=env, cwd=tmp_path)


def test_a_toml_whole_number_may_be_a_toml_number_but_not_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "chcsearch.toml").write_text("port = 8_080\nworkers = 2\n", encoding="utf-8")
    settings = resolve_serve_settings({}, env={"CHCSEARCH_MAX_QUEUE": " 07 "}, cwd=tmp_path)
    assert (settings.port, settings.workers, settings.max_queue) == (8080, 2, 7)  # TOML's 8_080
    (tmp_path / "chcsearch.toml").write_text("workers = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="workers must be a whole number from 1 to 64"):
        resolve_serve_settings({}, env={}, cwd=tmp_path)
