"""A batch folder's manifest.csv: one line per letter the journal holds for the folder,
and per bad row of the last run, in the interface's language (sheets.py's dialect).

It is read back by dsar itself: by a rerun into the same folder (the letters of earlier
runs stay in the folder's files) and by `dsar sent --from-manifest` (the association
may have saved it back from its spreadsheet, in Windows-1252, with a column of
registered-letter numbers). Its headers are read in either language.
"""

from __future__ import annotations

import csv
from pathlib import Path

from . import sheets
from .errors import DsarError
from .i18n import N_, _
from .journal import Journal
from .registry import fold
from .results import HELD_BACK, NO_RECIPIENT_EMAIL, BatchResult, ManifestRow

KEYS = ("row", "member", "broker", "reference", "pdf", "eml", "email_status")
HEADERS = {  # the English words are the keys, as scripts reading manifests know them
    "row": N_("row"),
    "member": N_("member"),
    "broker": N_("broker"),
    "reference": N_("reference"),
    "pdf": "pdf",
    "eml": "eml",
    "email_status": N_("email_status"),
}
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
STATUSES = {
    "queued": N_("queued"),
    "sending": N_("sending"),
    "handed-over": N_("handed-over (unconfirmed: the run stopped before the server's reply)"),
    "sent": N_("sent"),
    "deferred": N_("deferred"),
    "failed": N_("failed"),
    NO_RECIPIENT_EMAIL: N_("no recipient e-mail in the registry: to post"),
    HELD_BACK: N_("held back: no signed mandate scan (--mandates, or --mandate-on-request)"),
}


def status_words(state: str, error: str | None = None) -> str:
    if not state:
        return ""
    said = _(STATUSES[state]) if state in STATUSES else state
    return f"{said}: {error}" if error and state in ("failed", "deferred") else said


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


def write(path: Path, result: BatchResult, journal: Journal) -> None:
    """One line per letter, then the bad rows: no member is missing from it."""
    lines = []
    for row in result.rows:
        status = journal.outbox_status(row.reference)
        if status:
            row.email_status = status[0]
        said = status_words(*status) if status else status_words(row.email_status)
        lines.append([row.row, row.member, row.broker, row.reference, row.pdf, row.eml, said])
    for bad in result.bad_rows:
        problems = "; ".join(f"{column}: {reason}" for column, reason in bad.problems)
        said = _("bad row: {problems}").format(problems=problems)
        lines.append([bad.row, bad.name, "", "", "", "", said])
    # this run's rows in the CSV's order; an earlier run's letters (a subset rerun) after
    earlier = {row.reference for row in result.rows[result.this_run :]}
    lines.sort(key=lambda line: (line[3] in earlier and line[3] != "", line[0]))
    sheets.write(path, [_(HEADERS[k]) for k in KEYS], lines)


def read(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A manifest's rows (or the folder holding it), in whichever encoding and dialect it
    was saved back in, and its headers by folded name."""
    if path.is_dir():
        path = path / "manifest.csv"
    try:
        with sheets.open_text(path) as handle:
            sample = handle.readline()
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            rows = list(csv.DictReader(handle, delimiter=delimiter))
    except UnicodeDecodeError as exc:
        raise sheets.not_readable(path, exc) from None
    except (OSError, csv.Error) as exc:
        raise DsarError(
            _("{path}: cannot read it ({reason})").format(path=path, reason=exc)
        ) from None
    headers = {}
    for header in rows[0].keys() if rows else ():
        if header:
            headers[KNOWN.get(fold(header), fold(header))] = header
    if rows and "reference" not in headers:
        raise DsarError(
            _("{path} has no 'reference' column: give the manifest.csv a batch wrote").format(
                path=path
            )
        )
    return rows, headers


def earlier_rows(path: Path) -> list[ManifestRow]:
    """The letters an earlier run wrote into this folder, before this run rewrites it."""
    if not path.exists() or not is_manifest(path):
        return []
    rows, headers = read(path)
    out = []
    for line in rows:
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
            out.append(row)
    return out


def still_held(earlier: list[ManifestRow], result: BatchResult, journal: Journal, folder: Path):
    """The earlier letters this run did not write again and the journal still holds, each
    with its recipient's postal address (None: a draft), for the folder's files."""
    done = {row.reference for row in result.rows}
    for row in earlier:
        if row.reference in done:
            continue
        try:
            request = journal.request(row.reference)
        except DsarError:
            continue  # forgotten since: no longer a letter of this folder
        row.pdf = row.pdf if row.pdf and (folder / Path(row.pdf).name).is_file() else ""
        row.eml = row.eml if row.eml and (folder / Path(row.eml).name).is_file() else ""
        row.draft = not request.recipient_address
        done.add(row.reference)
        yield row, request.recipient_address
