"""A whole posting at once: the requests of a batch's manifest recorded as sent.

The association posts the printed letters, then gives the manifest back with the
posting date and, when its post office gives them, the registered-letter numbers in
a column of their own ('lrar', 'n° recommandé', ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import fields, manifest
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
    lrar_added: list[str] = field(default_factory=list)  # sent before, its number given now
    problems: list[str] = field(default_factory=list)


def read_manifest(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A batch's manifest (or the folder holding it): its rows, and its headers by
    folded name, in either language, as dsar wrote it or a spreadsheet saved it back."""
    return manifest.read(path)


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
            journal.mark_sent(reference, on, lrar=lrar or None)
        except DsarError as exc:
            posting.problems.append(_("row {row}: {problem}").format(row=number, problem=exc))
            continue
        posting.recorded.append(reference)
        posting.with_lrar += bool(lrar)
    return posting
