"""PDFs that came from outside (a broker's reply, a proof, a scan) are opened and joined
in a child process with limits, never in dsar's own.

A reply is written by whoever answers: a page pointing into a chain of 200,000 objects
makes qpdf recurse until the process dies (a segfault no Python code can catch), an image
can decode to gigabytes. So each file is checked and copied by a child of its own (CPU
time, memory, stack and output size limited, a wall-clock timeout), and the dossier is
joined by one more child from those copies: whatever a file does, dsar goes on, and the
file is left out of the dossier with the reason.

The child is outside_child.py, run as a script: it imports pikepdf and nothing of dsar
(importing the package costs a second under load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import DsarError
from ..i18n import N_, _

WALL_SECONDS = 90  # the child limits its own CPU time (30 s), memory, stack and output
CHILD = Path(__file__).with_name("outside_child.py")

# why a file is not joined: said in French on the dossier (it goes to the CNIL) and in
# the person's language on the command line and the page
PROBLEMS_FR = {
    "password": "protégé par un mot de passe, non joint",
    "unreadable": "n’est pas un PDF lisible, non joint",
    "pages": "a trop de pages ({detail}), non joint",
    "image": "contient une image démesurée ({detail} pixels), non joint",
    "limits": "n’a pu être lu dans les limites de dsar ({detail}), non joint",
    "form": "est le formulaire de mandat non signé, non joint",
}
PROBLEMS = {
    "password": N_("protected by a password, not joined"),
    "unreadable": N_("not a readable PDF, not joined"),
    "pages": N_("too many pages ({detail}), not joined"),
    "image": N_("an image too large ({detail} pixels), not joined"),
    "limits": N_("could not be read within dsar's limits ({detail}), not joined"),
    "form": N_("is the unsigned mandate form, not joined"),
}


class Problem:
    """Why an outside file is left out, in French for the dossier and in the UI's
    language for the person."""

    def __init__(self, code: str, detail: str = ""):
        self.code, self.detail = code, detail

    @property
    def french(self) -> str:
        return PROBLEMS_FR[self.code].format(detail=self.detail)

    def __str__(self) -> str:
        return _(PROBLEMS[self.code]).format(detail=self.detail)


def _child(*args: str) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(CHILD), *args],
            capture_output=True,
            timeout=WALL_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        return {"problem": "limits", "detail": f"> {WALL_SECONDS} s"}
    if done.returncode == 0 and done.stdout:
        return json.loads(done.stdout.decode().splitlines()[-1])
    if done.returncode < 0:  # killed by a signal: SIGSEGV (stack), SIGXCPU (CPU time)
        import signal

        return {"problem": "limits", "detail": signal.Signals(-done.returncode).name}
    return {"problem": "limits", "detail": f"exit {done.returncode}"}  # MemoryError, ...


def vet(
    paths: Iterable[Path], work: Path, form_mark: str = ""
) -> tuple[dict[Path, Path], list[tuple[str, Problem]]]:
    """Each outside PDF checked and copied by a limited child into `work`: the copies of
    those that passed, by original path, and (file name, Problem) for the others. With
    `form_mark` (signed mandates), the form dsar wrote, unsigned, is left out as "form"."""
    copies, left_out = {}, []
    for number, path in enumerate(paths):
        copy = work / f"outside-{number}.pdf"
        answer = _child("vet", str(path), str(copy), *([form_mark] if form_mark else []))
        if "problem" in answer:
            left_out.append((path.name, Problem(answer["problem"], answer.get("detail", ""))))
        else:
            copies[path] = copy
    return copies, left_out


def is_form(path: Path, mark: str) -> bool:
    """Whether an outside PDF is a form dsar wrote, unsigned (mandates.form_reader),
    read by a limited child: a scan in --mandates came from outside too."""
    return _child("form", str(path), mark).get("form") is True


class FormReader:
    """is_form for many files by one limited child, not a child each: starting one costs
    ~80 ms, which made a batch with --mandates 10x slower than one without (a child per
    member's scan) and `dsar mandate --force` twice as slow. A file that kills the child
    is asked again of a child of its own, whose answer counts: a hostile scan costs one
    child, and the CPU limit the child spent on earlier files counts for none. One that
    stalls it past the wall-clock limit is not a form (as _child says of it), asked once."""

    def __init__(self, mark: str):
        self.mark = mark
        self._child: subprocess.Popen | None = None

    def is_form(self, path: Path) -> bool:
        answer = self._ask(path)
        if answer is _STALLED:  # past the wall-clock limit: this file's answer, as _child's
            self.close()
            return False
        if answer is None:  # dead or garbled: this file alone, a fresh child
            self.close()
            return is_form(path, self.mark)
        return answer.get("form") is True

    def _ask(self, path: Path) -> dict | None:
        if self._child is None:
            self._child = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), "forms", self.mark],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
            )
        try:
            self._child.stdin.write(json.dumps(str(path)).encode() + b"\n")
            line = _line(self._child.stdout.fileno(), WALL_SECONDS)
            if line is None:
                return _STALLED
            return json.loads(line) if line else None
        except (OSError, ValueError):  # a broken pipe, an answer that is not JSON
            return None

    def close(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.wait()
            self._child.stdin.close()
            self._child.stdout.close()
            self._child = None

    def __enter__(self) -> FormReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_STALLED: dict = {}  # FormReader._ask's answer for a file that ran out of time


def _line(fd: int, seconds: float) -> bytes | None:
    """One line from the child within `seconds`; b"" when it died, None when it stalled
    (a stalled file is not asked again: it would cost the time limit twice)."""
    import selectors
    import time

    data, deadline = b"", time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 4096)
            if not chunk:  # the child is gone
                return b""
            data += chunk
    return data


def join(parts: Iterable[bytes | Path], work: Path) -> bytes:
    """One PDF of the parts in order, joined by a limited child: some parts are copies of
    outside files, which the child of vet() read but dsar's own process never does."""
    files = []
    for number, part in enumerate(parts):
        if isinstance(part, bytes):
            path = work / f"part-{number}.pdf"
            path.write_bytes(part)
            part = path
        files.append(str(part))
    joined = work / "joined.pdf"
    answer = _child("join", str(joined), *files)
    if "problem" in answer:  # every part passed alone: this would be dsar's own failure
        raise DsarError(_("the dossier could not be joined: {why}").format(why=Problem(**answer)))
    return joined.read_bytes()
