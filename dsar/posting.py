"""A whole posting at once: the requests of a batch's manifest recorded as sent.

The association posts the printed letters, then gives the manifest back with the
posting date and, when its post office gives them, the registered-letter numbers in
a column of their own ('lrar', 'n° recommandé', ...).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import fields
from .errors import DsarError
from .i18n import _
from .journal import Journal
from .registry import fold

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
    problems: list[str] = field(default_factory=list)


def read_manifest(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A batch's manifest (or the folder holding it): its rows, and its headers by
    folded name. A spreadsheet may have saved it back with ';'."""
    if path.is_dir():
        path = path / "manifest.csv"
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.readline()
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            rows = list(csv.DictReader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DsarError(
            _("{path}: cannot read it ({reason})").format(path=path, reason=exc)
        ) from None
    headers = {fold(h): h for h in (rows[0].keys() if rows else ()) if h}
    if rows and "reference" not in headers:
        raise DsarError(
            _("{path} has no 'reference' column: give the manifest.csv a batch wrote").format(
                path=path
            )
        )
    return rows, headers


def references(path: Path) -> set[str]:
    """The requests of one batch, for `dsar status --batch`."""
    rows, headers = read_manifest(path)
    return {r[headers["reference"]].strip() for r in rows if r.get(headers["reference"])}


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
            state = journal.entry(reference).stored_state
            if state != "draft":
                posting.already.append(reference)
                continue
            journal.mark_sent(reference, on, lrar=lrar or None)
        except DsarError as exc:
            posting.problems.append(_("row {row}: {problem}").format(row=number, problem=exc))
            continue
        posting.recorded.append(reference)
        posting.with_lrar += bool(lrar)
    return posting
