"""The journal shown to people: a table, counts, CSV and an .ics calendar of deadlines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from . import sheets
from .files import write_private
from .i18n import N_, _
from .journal import Entry
from .lifecycle import STATE_NAMES, state_name  # noqa: F401 (callers read them here)
from .safety import printable

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
    "undelivered": "bold red",
    "complained": "cyan",
    "draft": "dim",
}


def select(
    entries: list[Entry],
    as_of: date,
    *,
    state: str | None = None,
    member: str | None = None,
    references: set[str] | None = None,
) -> list[Entry]:
    """The entries status shows: by state, by member (part of the name, folded), by batch."""
    from .registry import fold

    wanted = fold(member) if member else None
    return [
        e
        for e in entries
        if (not state or e.state(as_of) == state)
        and (wanted is None or wanted in fold(e.member or ""))
        and (references is None or e.reference in references)
    ]


# the table's words; the states are the journal's, shown in the person's language
HEADERS = {
    "reference": N_("reference"),
    "member": N_("member"),
    "broker": N_("broker"),
    "right": N_("right"),
    "sent": N_("sent"),
    "received": N_("received"),
    "deadline": N_("deadline"),
    "days left": N_("days left"),
    "state": N_("state"),
    "requests": N_("requests"),
}
RIGHT_NAMES = {"access": N_("access"), "erasure": N_("erasure"), "both": N_("both")}


def status_tables(entries: list[Entry], as_of: date) -> list:
    """What `dsar status` shows, for the caller to print: rich Tables and Texts of the
    requests, each styled by its state (overdue in red), notes, counts per state and
    per broker and state.

    One row per request: its deadline is the one in force (the reminder's final
    deadline once reminded), the same the days left count to. Values are text, never
    markup: a member's name comes from a CSV."""
    from rich.table import Table  # 0.1 s to import: only status pays it
    from rich.text import Text

    if not entries:
        return [Text(_("No request in the journal yet: dsar generate writes the first one."))]
    members = any(e.member for e in entries)
    columns = ["reference", *(["member"] if members else []), "broker", "right", "sent"]
    columns += ["received", "deadline", "days left", "state"]
    table = Table(
        title=Text(_("Requests as of {day}").format(day=as_of.isoformat())), header_style="bold"
    )
    for column in columns:
        table.add_column(_(HEADERS[column]), justify="right" if column == "days left" else "left")
    for entry in entries:
        row = entry.as_dict(as_of)
        state = row["state"]
        received = row["received"] or (f"({row['sent']})" if row["sent"] else "")
        due = entry.due
        days = "" if row["days_left"] is None else str(row["days_left"])
        cells = [entry.reference, *([entry.member or ""] if members else []), entry.broker]
        cells += [_(RIGHT_NAMES.get(entry.right, entry.right)), row["sent"] or "", received]
        cells += [due.isoformat() if due else "", days, state_name(state)]
        table.add_row(*(Text(printable(c)) for c in cells), style=STYLES.get(state))
    parts: list = [table]
    if any(e.receipt_is_estimated for e in entries):
        parts.append(
            Text(_("(date) in 'received': no receipt date known; the sending date stands in."))
        )
    for entry in entries:  # the estimate is marked in the table; a late extension is not
        if entry.late_extension_note:
            parts.append(Text(f"{entry.reference}: {entry.late_extension_note}", style="yellow"))
    if len(entries) > 1:
        per_state = Counter(e.state(as_of) for e in entries)
        # "{count} {state}": French reads "brouillon (2)", no plural to agree
        counted = ", ".join(
            _("{count} {state}").format(count=n, state=state_name(s))
            for s, n in sorted(per_state.items())
        )
        parts.append(Text(_("Per state: {counts}").format(counts=counted)))
        counts = Counter((e.broker, e.state(as_of)) for e in entries)
        # parties are recipients too: not "broker"
        summary = Table(title=_("Per recipient and state"), header_style="bold")
        summary.add_column(_("recipient"))
        summary.add_column(_(HEADERS["state"]))
        summary.add_column(_(HEADERS["requests"]), justify="right")
        for (broker, state), count in sorted(counts.items()):
            summary.add_row(Text(broker), state_name(state), str(count), style=STYLES.get(state))
        parts.append(summary)
    return parts


def write_csv(path: Path, entries: list[Entry], as_of: date, *, overwrite: bool = False) -> None:
    """The table as a spreadsheet opens it (sheets.py): headers, rights and states in
    the interface's language, days left a number."""
    rows = []
    for entry in entries:
        row = entry.as_dict(as_of)
        # the deadline the table shows and the days left count to (lifecycle's in_force):
        # a reminded request's final date, not its first deadline
        row["deadline"] = row["due"]
        row["right"] = _(RIGHT_NAMES.get(entry.right, entry.right))
        row["state"] = state_name(row["state"])
        rows.append([row[c] for c in COLUMNS])
    header = [_(HEADERS["days left" if c == "days_left" else c]) for c in COLUMNS]
    sheets.write(path, header, rows, overwrite=overwrite)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def write_ics(path: Path, entries: list[Entry], *, overwrite: bool = False) -> None:
    """One all-day event per deadline (RFC 5545), for any calendar program."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//dsar//deadlines//EN",
        "CALSCALE:GREGORIAN",
    ]
    for entry in entries:
        end = entry.due  # the date in force: the reminder's final one once reminded
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
    write_private(path, "".join(map(_fold, lines)), overwrite=overwrite)


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued after CRLF and a space,
    never cutting a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode("utf-8") for part in out) + "\r\n"
