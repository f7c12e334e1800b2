"""The journal shown to people: a table, counts, CSV and an .ics calendar of deadlines."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from .files import write_private
from .journal import Entry

COLUMNS = (
    "reference",
    "broker",
    "right",
    "member",
    "sent",
    "received",
    "deadline",
    "days_left",
    "state",
)
STYLES = {
    "overdue": "bold white on red",
    "reminded": "yellow",
    "id-requested": "magenta",
    "refused": "red",
    "partial": "yellow",
    "answered": "green",
    "closed": "dim",
    "complained": "cyan",
    "draft": "dim",
}


def status_tables(entries: list[Entry], as_of: date) -> list:
    """What `dsar status` shows, for the caller to print: rich Tables of the requests,
    each styled by its state (overdue in red), a note, and counts per broker and state."""
    from rich.table import Table  # 0.1 s to import: only status pays it

    if not entries:
        return ["No request in the journal yet: dsar generate writes the first one."]
    table = Table(title=f"Requests as of {as_of.isoformat()}", header_style="bold")
    for column in (
        "reference",
        "broker",
        "right",
        "sent",
        "received",
        "deadline",
        "days left",
        "state",
    ):
        table.add_column(column, justify="right" if column == "days left" else "left")
    for entry in entries:
        row = entry.as_dict(as_of)
        state = row["state"]
        received = row["received"] or (f"({row['sent']})" if row["sent"] else "")
        days = "" if row["days_left"] is None else str(row["days_left"])
        table.add_row(
            entry.reference,
            entry.broker,
            entry.right,
            row["sent"] or "",
            received,
            row["deadline"] or "",
            days,
            state,
            style=STYLES.get(state),
        )
    parts: list = [table]
    if any(e.receipt_is_estimated for e in entries):
        parts.append("(date) in 'received': no receipt date known; the sending date stands in.")
    counts = Counter((e.broker, e.state(as_of)) for e in entries)
    if len(entries) > 1:
        summary = Table(title="Per broker and state", header_style="bold")
        summary.add_column("broker")
        summary.add_column("state")
        summary.add_column("requests", justify="right")
        for (broker, state), count in sorted(counts.items()):
            summary.add_row(broker, state, str(count), style=STYLES.get(state))
        parts.append(summary)
    return parts


def write_csv(path: Path, entries: list[Entry], as_of: date) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        writer.writerow(entry.as_dict(as_of))
    write_private(path, out.getvalue(), overwrite=True)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def write_ics(path: Path, entries: list[Entry]) -> None:
    """One all-day event per deadline (RFC 5545), for any calendar program."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//dsar//deadlines//EN",
        "CALSCALE:GREGORIAN",
    ]
    for entry in entries:
        end = entry.final_deadline if entry.stored_state == "reminded" else entry.deadline
        if end is None:
            continue
        what = "final deadline" if entry.stored_state == "reminded" else "answer due"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{entry.reference}-{end.isoformat()}@dsar",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{end.strftime('%Y%m%d')}",
            f"SUMMARY:{_ics_text(f'{entry.broker}: {what} ({entry.reference})')}",
            f"DESCRIPTION:{_ics_text(entry.subject)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    write_private(path, "\r\n".join(lines) + "\r\n", overwrite=True)
