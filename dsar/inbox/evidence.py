"""Every message and attachment kept by its content, beside the journal's other replies:
named by SHA-256, 0600, never overwritten (the same content is kept once). Each file is
fsynced before the journal's transaction that names it commits: a crash never leaves a
journal row pointing at a file the disk lost."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..files import check_kept, evidence_label, link_kept, make_private_dir


def keep(data: bytes, folder: Path, name: str, sha: str | None = None) -> tuple[Path, str]:
    sha = sha or hashlib.sha256(data).hexdigest()
    target = folder / f"{sha}-{evidence_label(name)}"
    if os.path.lexists(target):
        check_kept(target, sha)
        return target, sha
    make_private_dir(folder)
    tmp = folder / f".incoming.{sha}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on disk before the journal's commit names it
        link_kept(tmp, target, sha)  # never replaces: that name is that content
    finally:
        tmp.unlink(missing_ok=True)
    return target, sha
