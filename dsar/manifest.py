"""A batch folder's manifest.csv written: one line per letter the journal holds for the
folder, and per bad row of the last run, in the interface's language (sheets.py's
dialect). A rerun into the same folder reads it back (posting.read_manifest, either
language) so that the letters of earlier runs stay in the folder's files.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import sheets
from .errors import DsarError
from .i18n import N_, _
from .journal import Journal
from .posting import KEYS, is_manifest, manifest_lines
from .results import HELD_BACK, NO_RECIPIENT_EMAIL, BatchResult, ManifestRow

HEADERS = {  # the English words are the keys, as scripts reading manifests know them
    "row": N_("row"),
    "member": N_("member"),
    "broker": N_("broker"),
    "reference": N_("reference"),
    "pdf": "pdf",
    "eml": "eml",
    "email_status": N_("email_status"),
}
STATUSES = {
    "queued": N_("queued"),
    "sending": N_("sending"),
    "handed-over": N_("handed-over (unconfirmed: the run stopped before the server's reply)"),
    "sent": N_("sent"),
    "deferred": N_("deferred"),
    "failed": N_("failed"),
    "withdrawn": N_("withdrawn, never sent: the request left another way or was answered"),
    NO_RECIPIENT_EMAIL: N_("no recipient e-mail in the registry: to post"),
    HELD_BACK: N_("held back: no signed mandate scan (--mandates, or --mandate-on-request)"),
}


# a letter with no recipient e-mail and no postal address: nothing to send, nothing to post
DRAFT_TO_COMPLETE = N_(
    "draft to complete: no recipient e-mail nor postal address in the registry (--to-address)"
)


def status_words(state: str, error: str | None = None) -> str:
    if not state:
        return ""
    said = _(STATUSES[state]) if state in STATUSES else state
    return f"{said}: {error}" if error and state in ("failed", "deferred") else said


def write(path: Path, result: BatchResult, journal: Journal) -> None:
    """One line per letter, then the bad rows: no member is missing from it. Written as
    the rows are read back from disk (results.Rows): a line at a time, never all held."""

    def line(row: ManifestRow) -> list:
        status = journal.outbox_status(row.reference)
        said = status_words(*status) if status else status_words(row.email_status)
        if row.draft and row.email_status == NO_RECIPIENT_EMAIL:  # neither e-mail nor address
            said = _(DRAFT_TO_COMPLETE)
        return [row.row, row.member, row.broker, row.reference, row.pdf, row.eml, said]

    def bad_line(bad) -> list:
        problems = "; ".join(f"{column}: {reason}" for column, reason in bad.problems)
        return [
            bad.row,
            bad.name,
            "",
            "",
            "",
            "",
            _("bad row: {problems}").format(problems=problems),
        ]

    # this run's rows in the CSV's order, its bad rows among them; an earlier run's
    # letters (a subset rerun) after, in their rows' order
    this_run = min(result.this_run, len(result.rows))
    lines = heapq.merge(
        (line(row) for row in result.rows.ordered(0, this_run)),
        (bad_line(bad) for bad in result.bad_rows),  # in row order
        key=lambda cells: cells[0],
    )
    earlier = (line(row) for row in result.rows.ordered(this_run, len(result.rows)))
    sheets.write(path, [_(HEADERS[k]) for k in KEYS], itertools.chain(lines, earlier))


def earlier_rows(path: Path) -> Iterator[ManifestRow]:
    """The letters an earlier run wrote into this folder, before this run rewrites it."""
    if not path.exists() or not is_manifest(path):
        return
    for line, headers in manifest_lines(path):
        cell = {key: (line.get(headers.get(key, "")) or "").strip() for key in KEYS}
        if cell["reference"]:
            row = ManifestRow(
                int(cell["row"]) if cell["row"].isdigit() else 0,
                cell["member"],
                cell["broker"],
                cell["reference"],
                cell["pdf"],
                cell["eml"],
            )
            yield row


def still_held(earlier: Iterable[ManifestRow], result: BatchResult, journal: Journal, folder: Path):
    """The earlier letters this run did not write again and the journal still holds, each
    with its recipient's postal address ('' for a draft), for the folder's files. The
    caller adds each to result.rows before taking the next: a reference twice is kept once."""
    for row in earlier:
        if result.rows.has(row.reference) or row.reference in result.now_bad:
            continue
        try:
            request = journal.request(row.reference)
        except DsarError:
            continue  # forgotten since: no longer a letter of this folder
        row.pdf = row.pdf if row.pdf and (folder / Path(row.pdf).name).is_file() else ""
        row.eml = row.eml if row.eml and (folder / Path(row.eml).name).is_file() else ""
        row.draft = not request.recipient_address
        row.address = request.recipient_address or ""
        yield row
