"""Writing files that hold personal data: private (0600), atomic, never clobbering by surprise."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import DsarError, InputError, OutputExists
from .i18n import _

Data = bytes | str | Iterable[bytes | str]  # a file's content, whole or in pieces


def make_private_dir(path: Path) -> None:
    """Every folder dsar creates is 0700, its missing parents too (mkdir(parents=True)
    gives parents the default mode): letters and replies are personal data.
    A folder that already exists keeps the mode its owner gave it."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)


def own_folder(path: Path) -> bool:
    """A folder of the person running dsar, that other users may not write into: where
    dsar may put a letter without being told (its default folders)."""
    try:
        found = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid() and not found.st_mode & 0o002


def write_private(path: Path, data: Data, *, overwrite: bool = False, durable: bool = True) -> None:
    """Write all of `data` or nothing: a crash leaves either the old file or no file.

    `durable=False` skips the fsync (4-5 ms a file here): a batch writes thousands of
    files and calls sync() once at the end; a power cut before that may leave a file
    empty, which a rerun treats as not written (written()).
    """
    if path.exists() and not overwrite:
        raise OutputExists(path)
    publish(stage_private(path, data, durable=durable), path)


def stage_private(path: Path, data: Data, *, durable: bool = True) -> Path:
    """`data` written whole, private, under a hidden temporary name beside `path`;
    publish() gives it its name (after the journal recorded it), or the caller
    removes it. `data` may come in pieces (a manifest of a million lines, made as it
    is written)."""
    pieces = [data] if isinstance(data, bytes | str) else data
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DsarError(
            _("cannot write in {folder}: {reason}").format(folder=path.parent, reason=exc.strerror)
        ) from exc
    try:
        # mkstemp creates the file 0600 already; say so anyway for readers of this code
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            out.flush()
            if durable:
                os.fsync(out.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def publish(staged: Path, path: Path) -> None:
    """A staged file under its final name, in one rename (atomic on one file system)."""
    try:
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def written(path: Path) -> bool:
    """A file an earlier run finished: present and not empty."""
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def sync() -> None:
    """Flush everything written without fsync to the disk (one call for a whole batch)."""
    os.sync()


def check_free(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Refuse before rendering anything, so a refused run writes no file at all; with
    `overwrite`, a path that only a file can be replaced at (never a folder)."""
    for path in paths:
        if overwrite and path.exists() and not path.is_file():
            raise DsarError(
                _("{path} is not a file: --force replaces only files; move it away").format(
                    path=path
                )
            )
        if not overwrite and path.exists():
            raise OutputExists(path)


MAX_EVIDENCE_BYTES = 25 * 1024 * 1024  # a reply or a proof; a scan of a thick letter fits


def link_kept(tmp: Path, target: Path, sha: str) -> None:
    """`tmp` (written, fsynced) kept under `target`, a name that says its content: never
    replaced; a file already there is checked (check_kept)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        check_kept(target, sha)
    fsync_dir(target.parent)


def check_kept(target: Path, sha: str) -> None:
    """A file already kept under a name that says its content: it counts only if it holds
    that content (one made there beforehand, empty or not, would stand as evidence of what
    it is not), and it is made private."""
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise DsarError(
            _("{path}: cannot read the file kept there ({reason})").format(
                path=target, reason=exc.strerror
            )
        ) from None
    with os.fdopen(fd, "rb") as kept:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if not regular or hashlib.file_digest(kept, "sha256").hexdigest() != sha:
            raise DsarError(
                _(
                    "{path} is already there and does not hold what its name says: move "
                    "it away (dsar never overwrites evidence) and run again"
                ).format(path=target)
            )
        os.fchmod(fd, 0o600)


def fsync_dir(folder: Path) -> None:
    """A new name in `folder` made durable (the file's own fsync does not cover it)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


LABEL_BYTES = 80  # of a file name's 255: the SHA-256 and a dash take 65


def evidence_label(name: str) -> str:
    """A sender's file name kept for people (the dossier lists it): a plain name, never
    a path, its end (the extension) kept within LABEL_BYTES of UTF-8 (80 CJK characters
    are 240 bytes: too long a name for the file system)."""
    label = re.sub(r"[^\w.-]", "_", name).encode()[-LABEL_BYTES:]
    return label.decode("utf-8", "ignore").lstrip(".") or "file"


def store_by_content(
    source: Path, folder: Path, *, limit: int = MAX_EVIDENCE_BYTES
) -> tuple[Path, str]:
    """Keep a piece of evidence under its own SHA-256: never replaced, never overwritten.

    Read in blocks (a reply may be a large scan); one over `limit` bytes is refused.
    Two files with one name but different content are both kept; the same content twice
    is kept once.
    """
    label = evidence_label(source.name)
    too_big = DsarError(
        f"{source} is over {limit // (1024 * 1024)} MB: dsar keeps replies up to that size; "
        "keep this one yourself and give a smaller copy (a PDF of the pages that matter)"
    )
    make_private_dir(folder)
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise DsarError(f"{source}: cannot read it ({exc.strerror})") from None
    with handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise too_big
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming.", suffix=".tmp")
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                while block := handle.read(1 << 16):
                    size += len(block)
                    if size > limit:  # the file grew while read
                        raise too_big
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            target = folder / f"{digest.hexdigest()}-{label}"
            link_kept(Path(tmp), target, digest.hexdigest())
            return target, digest.hexdigest()
        finally:
            Path(tmp).unlink(missing_ok=True)


def read_limited(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than `limit`. Read no further than
    that: a size from stat() says nothing of /dev/zero, a pipe or a file still growing."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def read_text(path: Path, field: str, *, limit: int = 1024 * 1024) -> str:
    """A text file the person gives (the message received): UTF-8, not too large."""
    try:
        data = read_limited(path, limit)
        if data is None:
            raise InputError(field, f"{path} is over {limit // 1024} kB; is it the right file?")
        # line ends as text mode reads them: \r\n and \r become \n
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise InputError(
            field, f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise InputError(field, f"cannot read {path} ({exc.strerror})") from None
