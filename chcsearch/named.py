"""Named collections: several indexes kept under one data folder.

``CHCSEARCH_HOME`` (default: the platform's user data folder, e.g.
``~/.local/share/chcsearch``) holds ``collections/NAME/``, each a complete
index folder. ``--collection NAME`` stands for ``--index`` that folder.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import normal_path
from .errors import ConfigError, IndexNotFoundError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def data_home(env: Mapping[str, str]) -> Path:
    """Where collections live: ``CHCSEARCH_HOME``, else the platform's user data folder."""
    if env.get("CHCSEARCH_HOME", "").strip():
        return normal_path(Path(env["CHCSEARCH_HOME"]).expanduser())
    if sys.platform == "win32":  # pragma: no cover
        return Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "chcsearch"
    if sys.platform == "darwin":  # pragma: no cover
        return Path.home() / "Library" / "Application Support" / "chcsearch"
    base = env.get("XDG_DATA_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "share") / "chcsearch"


def collection_dir(name: str, env: Mapping[str, str]) -> Path:
    """The index folder of the collection ``name``."""
    if not _NAME.match(name):
        raise ConfigError(
            f"collection name {name!r} is not allowed; use letters, digits, '.', '_' and '-' "
            "(at most 64, starting with a letter or digit)."
        )
    return data_home(env) / "collections" / name


def existing_collection_dir(name: str, env: Mapping[str, str]) -> Path:
    """The index folder of ``name``, which must have been indexed already."""
    path = collection_dir(name, env)
    if not path.is_dir():
        known = [p.name for p in sorted((data_home(env) / "collections").glob("*")) if p.is_dir()]
        listing = f" Known: {', '.join(known)}." if known else ""
        raise IndexNotFoundError(
            f"no collection named {name!r} in {data_home(env)}.{listing} "
            f"Make it with: chcsearch index DIR --collection {name}"
        )
    return path


def list_collections(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every collection with an index: name, folder, source, counts, when written."""
    from .index import IndexStore, recorded_extractor

    folder = data_home(env) / "collections"
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        generation = IndexStore(path).current() if path.is_dir() else None
        if generation is None:
            continue
        meta = generation.meta()
        found.append(
            {
                "name": path.name,
                "index_dir": str(path),
                "site": meta.get("site"),
                "generator": meta.get("generator"),
                "extractor": recorded_extractor(meta),
                "written": meta.get("written"),
                "counts": meta.get("counts", {}),
            }
        )
    return found
