"""Writing files that hold personal data: private (0600), atomic, never clobbering by surprise."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import DsarError, OutputExists


def write_private(path: Path, data: bytes | str, *, overwrite: bool = False) -> None:
    """Write all of `data` or nothing: a crash leaves either the old file or no file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path.exists() and not overwrite:
        raise OutputExists(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DsarError(f"cannot write in {path.parent}: {exc.strerror}") from exc
    try:
        # mkstemp creates the file 0600 already; say so anyway for readers of this code
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_free(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Refuse before rendering anything, so a refused run writes no file at all."""
    if overwrite:
        return
    for path in paths:
        if path.exists():
            raise OutputExists(path)
