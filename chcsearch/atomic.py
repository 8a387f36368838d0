"""Writing files so that readers see the old content or the new, never half of either."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from pathlib import Path

_UMASK_GUARD = threading.Lock()


@functools.cache
def umask() -> int:
    """The process's umask, read once.

    Linux shows it in ``/proc/self/status``; elsewhere it can only be read by
    setting it, which is done once, under a lock, and put back at once.
    """
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_GUARD:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` gives a new file: readable by whoever the umask allows."""
    return 0o666 & ~umask()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    The file gets the mode a plain ``open()`` would give it (``mkstemp`` makes
    it 0600, which a server running as another user could not read).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):  # POSIX; Windows has no such modes
                os.fchmod(handle.fileno(), file_mode())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
