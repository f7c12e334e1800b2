"""A whole posting at once: the requests of a batch's manifest recorded as sent.

The association posts the printed letters, then gives the manifest back with the
posting date and, when its post office gives them, the registered-letter numbers in
a column of their own ('lrar', 'n° recommandé', ...).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import fields, sheets
from .errors import DsarError
from .i18n import _
from .journal import Journal
from .registry import fold

# a batch's manifest.csv (manifest.py writes it in the interface's language): its columns
KEYS = ("row", "member", "broker", "reference", "pdf", "eml", "email_status")

LRAR_COLUMNS = {
    fold(name)
    for name in (
        "lrar",
        "lrar_number",
        "numéro LRAR",
        "recommandé",
        "n° recommandé",
        "numéro de recommandé",
        "registered letter",
        "registered letter number",
    )
}


@dataclass
class Posting:
    recorded: list[str] = field(default_factory=list)
    with_lrar: int = 0
    already: list[str] = field(default_factory=list)  # recorded as sent before (e-mailed)
    lrar_added: list[str] = field(default_factory=list)  # sent before, its number given now
    problems: list[str] = field(default_factory=list)


# every name a header is read under: the key, and its words in each language
READ_AS = {
    "row": ("row", "ligne"),
    "member": ("member", "membre"),
    "broker": ("broker", "courtier", "recipient", "destinataire"),
    "reference": ("reference", "référence"),
    "pdf": ("pdf",),
    "eml": ("eml",),
    "email_status": ("email_status", "statut du courriel"),
}
KNOWN = {fold(name): key for key, names in READ_AS.items() for name in names}


def is_manifest(path: Path) -> bool:
    """A manifest dsar wrote (in either language, either dialect), not a file of the
    person's that a batch must not replace."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096).decode("utf-8-sig", "replace").strip()
    except OSError:
        return False
    cells = first.split(";" if first.count(";") >= first.count(",") else ",")
    return [KNOWN.get(fold(c)) for c in cells] == list(KEYS)


def read_manifest(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A manifest's rows (or the folder holding it), in whichever encoding and dialect it
    was saved back in, and its headers by folded name."""
    lines = list(manifest_lines(path))
    return [line for line, _headers in lines], (lines[0][1] if lines else {})


def manifest_lines(path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Each row of a manifest with its headers by folded name, read as it comes: a
    rerun reads back an earlier manifest of a million lines without holding it."""
    if path.is_dir():
        path = path / "manifest.csv"
    try:
        with sheets.open_text(path) as handle:
            sample = handle.readline()
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            reader = csv.DictReader(handle, delimiter=delimiter)
            headers = None
            for line in reader:
                headers = headers or _headers(path, line)
                yield line, headers
    except UnicodeDecodeError as exc:
        raise sheets.not_readable(path, exc) from None
    except (OSError, csv.Error) as exc:
        raise DsarError(
            _("{path}: cannot read it ({reason})").format(path=path, reason=exc)
        ) from None


def _headers(path: Path, line: dict[str, str]) -> dict[str, str]:
    headers = {}
    for header in line:
        if header:
            headers[KNOWN.get(fold(header), fold(header))] = header
    if "reference" not in headers:
        raise DsarError(
            _("{path} has no 'reference' column: give the manifest.csv a batch wrote").format(
                path=path
            )
        )
    return headers


def references(path: Path) -> set[str]:
    """The requests of one batch, for `dsar status --batch`."""
    rows, headers = read_manifest(path)
    return {r[headers["reference"]].strip() for r in rows if r.get(headers["reference"])}


def _written_elsewhere(journal: Journal, manifest: Path, reference: str, pdf: str | None) -> str:
    """Why this folder's letter may not be recorded as posted: the request was written
    again into another folder (a rerun with another --out and --date), and the journal
    holds that letter, the one its dossier will show; '' when this folder's is it."""
    held = [path for _role, path, _sha in journal.files(reference, "pdf")]
    folder = manifest if manifest.is_dir() else manifest.parent  # a batch's folder, or its manifest
    here = folder / Path(pdf or "").name
    if not pdf or not held or any(path.resolve() == here.resolve() for path in held):
        return ""
    return _(
        "{reference}: the letter in this folder is not the one dsar holds; it was written "
        "again in {folder}: post that one, and record it from {folder}/manifest.csv"
    ).format(reference=reference, folder=held[0].parent)


def record(journal: Journal, manifest: Path, on: date) -> Posting:
    """Mark every draft of the manifest as sent on `on`; a row's problem is reported, and
    the other rows are still recorded."""
    rows, headers = read_manifest(manifest)
    lrar_column = next((headers[h] for h in headers if h in LRAR_COLUMNS), None)
    posting = Posting()
    for number, row in enumerate(rows, start=2):
        reference = (row.get(headers["reference"]) or "").strip()
        if not reference:
            continue
        lrar = (row.get(lrar_column) or "").strip() if lrar_column else ""
        try:
            lrar = fields.text(lrar, "lrar", limit=40) if lrar else ""
            entry = journal.entry(reference)
            if entry.stored_state != "draft":
                if lrar and not entry.lrar_number and entry.sent_on:
                    # the numbers added after the posting was recorded: kept, same dates
                    journal.mark_sent(
                        reference, entry.sent_on, lrar=lrar, received=entry.received_on
                    )
                    posting.lrar_added.append(reference)
                    continue
                posting.already.append(reference)
                continue
            if moved := _written_elsewhere(journal, manifest, reference, row.get(headers["pdf"])):
                raise DsarError(moved)
            journal.mark_sent(reference, on, lrar=lrar or None)
        except DsarError as exc:
            posting.problems.append(_("row {row}: {problem}").format(row=number, problem=exc))
            continue
        posting.recorded.append(reference)
        posting.with_lrar += bool(lrar)
    return posting
