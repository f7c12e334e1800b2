"""Every message and attachment kept by its content, beside the journal's other replies:
named by SHA-256, 0600, never overwritten (the same content is kept once). Written
without an fsync each (a run may keep thousands); the run syncs once at its end."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from ..files import make_private_dir


def label(name: str) -> str:
    """A sender's file name made a plain name for people: never a path."""
    return re.sub(r"[^\w.-]", "_", name).lstrip(".")[-80:] or "file"


def keep(data: bytes, folder: Path, name: str, sha: str | None = None) -> tuple[Path, str]:
    sha = sha or hashlib.sha256(data).hexdigest()
    target = folder / f"{sha}-{label(name)}"
    if target.exists():
        return target, sha
    make_private_dir(folder)
    tmp = folder / f".incoming.{sha}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        with contextlib.suppress(FileExistsError):  # never replaces: that name is that content
            os.link(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target, sha
