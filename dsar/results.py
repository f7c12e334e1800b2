"""What each use case hands back: what was written, the reference, warnings, bad rows
and the exit code. The library never prints or exits; cli.py prints these.

The exit codes are errors.ExitCode.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ExitCode
from .i18n import _
from .identify import Suspect  # IdentifyResult.choices makes some

if TYPE_CHECKING:  # annotations only
    from .identify import Clues
    from .importer import ImportReport
    from .journal import Entry
    from .members import BadRow
    from .models import Broker, Campaign, Letter, Request
    from .registry import Finding

# errors.py holds the codes (it is below every module; it must not import this one)
EXIT_OK = ExitCode.OK
EXIT_ERROR = ExitCode.ERROR
EXIT_USAGE = ExitCode.USAGE
EXIT_PARTIAL = ExitCode.PARTIAL
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


@dataclass(kw_only=True)
class Result:
    """The common part of every result."""

    written: list[Path] = field(default_factory=list)
    reference: str | None = None
    warnings: list[str] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    exit_code: int = EXIT_OK


# ---------------------------------------------------------------- letters


@dataclass(kw_only=True)
class LetterResult(Result):
    """One letter written (generate, remind, reply-id, complain): its files, in
    `written`, and its words; `text` is the plain-text output when 'text' was asked."""

    letter: Letter
    formats: tuple[str, ...] = ()
    text: str | None = None
    mailto: str | None = None  # a mailto: link for the person's own mail client
    next_step: str | None = None  # one line: where the files are, how to send, then dsar sent
    pdf: bytes | None = field(default=None, repr=False)  # the PDF written, when asked


@dataclass(kw_only=True)
class ReminderResult(LetterResult):
    original: str  # the reference of the request reminded
    final_deadline: date


@dataclass(kw_only=True)
class FollowResult(LetterResult):
    """A next request (dsar follow): the request it follows, and what was found of the
    organisation named (registry, datenanfragen records, or neither)."""

    original: str
    found: str = ""


@dataclass(kw_only=True)
class ComplaintResult(LetterResult):
    original: str
    dossier: Path
    # outside files (replies, proofs) not joined to the dossier: (file name, why)
    left_out: list[tuple[str, str]] = field(default_factory=list)


@dataclass(kw_only=True)
class MandatesResult(Result):
    out_dir: Path
    columns: list[tuple[str, str]] = field(default_factory=list)  # CSV header -> column read
    # mandate-<ref>.pdf files of no row of the CSV: dsar's unsigned forms, and the others
    # (without the mark: perhaps a signed scan); none is deleted
    unsigned_left: list[Path] = field(default_factory=list)
    unknown_left: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # written by an earlier run, left as they are


@dataclass(kw_only=True)
class ComplaintsResult(Result):
    """The collective complaint: `summary` says what was written and for whom (output);
    `warnings` only what needs the person's care."""

    summary: list[str] = field(default_factory=list)
    art80: bool = False  # a complaint under Art. 80(1) was written
    own: int = 0  # members' own complaints written, to sign


# ---------------------------------------------------------------- batches


@dataclass
class ManifestRow:
    row: int
    member: str
    broker: str
    reference: str
    pdf: str = ""
    eml: str = ""
    email_status: str = ""
    draft: bool = False  # no postal address for the envelope: never printed nor labelled
    address: str = ""  # the recipient's postal address, for the labels ('' for a draft)
    index: int = -1  # its place in the batch's rows (Rows.append gives it)


class Rows:
    """A batch's manifest rows, in the order they were added, kept on disk: a batch of
    a million members holds the same memory as one of ten thousand. A private
    temporary SQLite database (0600, unlinked as soon as opened, gone with the run);
    SQLite keeps a few MB of it in memory.

    Reads like a list (len, iteration, [i], small slices). The last row added stays a
    Python object until the next is added: the batch fills in its files after adding
    it. A row changed later (its PDF written by a worker) is written back: update()."""

    PAGE = 100  # rows read from disk at once
    _FIELDS = ("row", "member", "broker", "reference", "pdf", "eml", "email_status", "draft")

    def __init__(self, rows=()):
        self._db = _scratch()
        self._db.execute(
            "CREATE TABLE rows (idx INTEGER PRIMARY KEY, row INTEGER, member TEXT, "
            "broker TEXT, reference TEXT, pdf TEXT, eml TEXT, email_status TEXT, "
            "draft INTEGER, address TEXT)"
        )
        self._db.execute("CREATE INDEX rows_reference ON rows (reference)")
        self._count = 0
        self._last: ManifestRow | None = None
        for row in rows:
            self.append(row)

    def append(self, row: ManifestRow) -> None:
        self._store()
        row.index, self._last = self._count, row
        self._count += 1

    def update(self, row: ManifestRow) -> None:
        if row is not self._last:
            self._write(row, "REPLACE")

    def __contains__(self, reference: object) -> bool:
        return isinstance(reference, str) and self.has(reference)

    def has(self, reference: str) -> bool:
        if self._last is not None and self._last.reference == reference:
            return True
        found = self._db.execute("SELECT 1 FROM rows WHERE reference = ? LIMIT 1", (reference,))
        return found.fetchone() is not None

    def since(self, index: int) -> Iterator[ManifestRow]:
        """The rows from `index` on, read from disk a page at a time (no cursor left open
        while rows are added)."""
        while True:
            page = self._db.execute(
                "SELECT * FROM rows WHERE idx >= ? ORDER BY idx LIMIT ?", (index, self.PAGE)
            ).fetchall()
            for record in page:
                yield self._row(record)
            if len(page) < self.PAGE:
                break
            index = page[-1][0] + 1
        if self._last is not None and self._last.index >= index:
            yield self._last

    def ordered(self, start: int, stop: int) -> Iterator[ManifestRow]:
        """Rows [start, stop) by their CSV row number (the manifest's order), once the
        run is over: SQLite sorts them, on disk beyond its cache."""
        self._store()
        query = "SELECT * FROM rows WHERE idx >= ? AND idx < ? ORDER BY row, idx"
        for record in self._db.execute(query, (start, stop)):
            yield self._row(record)

    def __iter__(self) -> Iterator[ManifestRow]:
        return self.since(0)

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._count)
            return [row for row in self.since(start) if row.index < stop][::step]
        index = key + self._count if key < 0 else key
        if not 0 <= index < self._count:
            raise IndexError(key)
        return next(self.since(index))

    def _store(self) -> None:
        if self._last is not None:
            self._write(self._last, "INSERT")
            self._last = None

    def _write(self, row: ManifestRow, verb: str) -> None:
        values = [getattr(row, name) for name in self._FIELDS]
        self._db.execute(
            f"{verb} INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.index, *values, row.address),
        )

    def _row(self, record) -> ManifestRow:
        idx, number, member, broker, reference, pdf, eml, status, draft, address = record
        return ManifestRow(
            number, member, broker, reference, pdf, eml, status, bool(draft), address, idx
        )


def _scratch() -> sqlite3.Connection:
    """A private temporary SQLite database ("": a file SQLite makes 0600 and unlinks
    once open, gone with the run); SQLite keeps a few MB of it in memory."""
    return sqlite3.connect("", check_same_thread=False)


class BadRows:
    """A batch's bad rows, kept on disk like its rows (a CSV of a million lines with a
    column shifted is a million bad rows); read back in the CSV's row order."""

    PAGE = 100  # bad rows read from disk at once

    def __init__(self):
        self._db = _scratch()
        self._db.execute(
            "CREATE TABLE bad (idx INTEGER PRIMARY KEY, row INTEGER, problem TEXT, name TEXT)"
        )
        self._count = 0

    def append(self, bad: BadRow) -> None:
        problems = json.dumps(bad.problems, ensure_ascii=False)
        self._db.execute(
            "INSERT INTO bad VALUES (?, ?, ?, ?)", (self._count, bad.row, problems, bad.name)
        )
        self._count += 1

    def __iter__(self) -> Iterator[BadRow]:
        from .members import BadRow  # results hands members' rows back, only here

        after = (-1, -1)
        while True:  # a page at a time, in row order, no cursor left open
            page = self._db.execute(
                "SELECT row, idx, problem, name FROM bad WHERE (row, idx) > (?, ?)"
                " ORDER BY row, idx LIMIT ?",
                (*after, self.PAGE),
            ).fetchall()
            for row, _idx, problem, name in page:
                (column, reason), *more = (tuple(p) for p in json.loads(problem))
                yield BadRow(row, column, reason, name, tuple(more))
            if len(page) < self.PAGE:
                return
            after = page[-1][:2]

    def __len__(self) -> int:
        return self._count


class Written:
    """A batch's files, read from its rows when asked: a batch of a million members
    holds no list of two million paths."""

    def __init__(self, rows: Rows, folder: Path, more: list[Path]):
        self.rows, self.folder, self.more = rows, folder, more

    def __iter__(self) -> Iterator[Path]:
        for row in self.rows:
            yield from (self.folder / name for name in (row.pdf, row.eml) if name)
        yield from self.more


@dataclass
class Few:
    """How many of something, and the first few of them to name: a batch says '1,000,000
    e-mail(s) held back (M-1, M-2, ...)' without holding a million references."""

    count: int = 0
    first: list[str] = field(default_factory=list)
    keep: int = 10

    def append(self, item: str) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(item)

    def __len__(self) -> int:
        return self.count


# a manifest's e-mail status for a letter whose recipient has no e-mail: to be posted
NO_RECIPIENT_EMAIL = "no recipient e-mail in the registry"
# ...and for a member whose signed mandate scan is missing: not sent until it is given
HELD_BACK = "held back: no signed mandate scan"


@dataclass(kw_only=True)
class BatchResult(Result):
    """A batch run. `manifest` is always set and written, even when the run stops."""

    rows: Rows = field(default_factory=Rows)
    bad_rows: BadRows = field(default_factory=BadRows)
    resumed: int = 0  # requests an earlier run had already done
    rebuilt: int = 0  # queued e-mails rebuilt because what they say changed
    remade: int = 0  # letters not yet sent made again because what they say changed
    forced: int = 0  # letters not yet sent made again because --force said so
    refilled: int = 0  # letters not yet sent whose files this folder lacked, written in it
    this_run: int = 10**9  # rows[:this_run] are this run's; the rest an earlier run's
    kept_earlier: Few = field(default_factory=Few)  # earlier runs' letters, kept
    # letters of earlier runs whose row is now a bad row (a corrected mandate date...):
    # in this CSV, so not "kept", and their queued e-mail taken out of the outbox
    now_bad: set[str] = field(default_factory=set)
    left_queued: Few = field(default_factory=Few)  # e-mails of other runs, unsent
    # queued e-mails whose request left another way: (reference, state), never sent
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    unsigned: Few = field(default_factory=Few)  # mandate refs without a scan: held back
    # letters that say the signed mandate is enclosed, its scan not in --mandates: not
    # printed, not labelled (LEGAL.md: "enclosed" only when it is)
    unprinted: Few = field(default_factory=Few)
    formless: Few = field(default_factory=Few)  # ...of which dsar mandate wrote no form
    unsigned_forms: list[str] = field(default_factory=list)  # dsar's own forms given as scans
    print_files: list[Path] = field(default_factory=list)
    to_record: Few = field(default_factory=Few)  # printed letters not recorded as posted
    manifest: Path | None = None
    sent: Mapping[str, int] = field(default_factory=dict)  # e-mails: sent, failed, deferred
    would_send: list[tuple[str, str]] = field(default_factory=list)  # --dry-run: (ref, to)
    labels: Path | None = None  # --format labels: the envelope addresses, for mail merge
    no_address: Few = field(default_factory=Few)  # references without a postal address
    columns: list[tuple[str, str]] = field(default_factory=list)  # CSV header -> column read
    emails_asked: bool = False
    queued: Few = field(default_factory=Few)  # this run's e-mails --send would send

    @property
    def to_post(self) -> Few:
        """The letters whose recipient has no e-mail: posted, not sent (a draft without
        the recipient's address is neither)."""
        posted = Few()
        for row in self.rows:
            if row.email_status == NO_RECIPIENT_EMAIL and not row.draft:
                posted.append(row.reference)
        return posted

    @property
    def emails_to_send(self) -> bool:
        """Whether some letter of this run has an e-mail with somewhere to go."""
        return self.emails_asked and any(
            row.reference and row.email_status != NO_RECIPIENT_EMAIL for row in self.rows
        )


# ---------------------------------------------------------------- the journal


@dataclass(kw_only=True)
class SentResult(Result):
    entry: Entry
    kept: list[Path] = field(default_factory=list)  # proofs kept by content
    original: Entry | None = None  # a follow-up's request, as the sending left it


@dataclass(kw_only=True)
class PostingResult(Result):
    """dsar sent --from-manifest: a batch's letters recorded as posted."""

    recorded: list[str] = field(default_factory=list)
    with_lrar: int = 0
    already: list[str] = field(default_factory=list)  # recorded as sent before
    lrar_added: list[str] = field(default_factory=list)  # ...whose number is given now
    problems: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class AnswerResult(Result):
    entry: Entry
    state: str | None = None  # None: an extension was recorded
    kept: list[Path] = field(default_factory=list)  # reply files copied beside the journal
    next_step: str | None = None  # the command that follows up this answer


@dataclass(kw_only=True)
class ShowResult(Result):
    """One request whole: its record, the request as written, its files and steps, the
    page the PDF was rendered from, and the advice on missing contacts given when written."""

    entry: Entry
    request: Request
    files: list[tuple[str, Path, str]] = field(default_factory=list)  # role, path, sha256
    events: list = field(default_factory=list)  # journal rows: on_date, what, detail
    page_html: str | None = None
    mailto: str | None = None
    names: dict[Path, str] = field(default_factory=dict)  # files handed in, as people named them
    text: str = ""  # the letter as plain text, to copy into a webmail

    @property
    def printable(self) -> bool:
        return self.request.printable


@dataclass(kw_only=True)
class StatusResult(Result):
    as_of: date
    entries: list[Entry] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "requests": [e.as_dict(self.as_of) for e in self.entries],
        }


# ---------------------------------------------------------------- the registry


@dataclass(kw_only=True)
class IdentifyResult(Result):
    clues: Clues
    controllers: list[Suspect] = field(default_factory=list)
    brokers: list[Suspect] = field(default_factory=list)
    senders: list[Broker] = field(default_factory=list)  # when nothing matched: who to ask
    commands: list[str] = field(default_factory=list)  # dsar generate lines, run as pasted
    # for the suspects of low confidence: shown apart, to run only with a reason of one's own
    unlikely_commands: list[str] = field(default_factory=list)
    needs_profile: bool = False  # no saved details: dsar init first, then the commands

    @property
    def found(self) -> bool:
        return bool(self.controllers or self.brokers)

    @property
    def proposed(self) -> list[str]:
        """Who to write to: the likely suspects and, when no broker is likely, the first
        broker known to send political messages (a letter to it names no party)."""
        slugs = [s.slug for s in [*self.controllers, *self.brokers] if s.slug and s.likely]
        if not any(s.slug and s.likely for s in self.brokers):
            slugs += [b.slug for b in self.senders[:1]]
        return list(dict.fromkeys(slugs))

    @property
    def choices(self) -> list[Suspect]:
        """Every recipient to offer on the page, each once: the suspects, then the brokers
        known to send political messages; `likely` ones are ticked beforehand."""
        proposed, seen, found = self.proposed, set(), []
        known = [Suspect(b.slug, b.name) for b in self.senders]
        for suspect in [*self.controllers, *self.brokers, *known]:
            if suspect.slug and suspect.slug not in seen:
                seen.add(suspect.slug)
                found.append(replace(suspect, likely=suspect.slug in proposed))
        return found

    @property
    def parties(self) -> list[Suspect]:
        return [s for s in self.controllers if s.slug]

    @property
    def unlikely(self) -> list[str]:
        proposed = self.proposed
        suspects = [s.slug for s in [*self.controllers, *self.brokers] if s.slug]
        return [slug for slug in dict.fromkeys(suspects) if slug not in proposed]


@dataclass(kw_only=True)
class ImportResult(Result):
    report: ImportReport
    output: Path


@dataclass(kw_only=True)
class BrokersResult(Result):
    brokers: list[Broker] = field(default_factory=list)


@dataclass(kw_only=True)
class BrokerResult(Result):
    """One entry with what the registry knows around it."""

    broker: Broker
    origin: str
    subsidiaries: list[Broker] = field(default_factory=list)
    used_by: list[Broker] = field(default_factory=list)


@dataclass(kw_only=True)
class CheckResult(Result):
    findings: list[Finding] = field(default_factory=list)
    entries: int = 0
    campaigns: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def summary(self) -> str:
        errors = len(self.errors)
        said = _(
            "{entries} entries, {campaigns} campaigns: {errors} error(s), {warnings} warning(s)"
        )
        warnings = len(self.findings) - errors
        return said.format(
            entries=self.entries, campaigns=self.campaigns, errors=errors, warnings=warnings
        )


@dataclass(kw_only=True)
class CampaignsResult(Result):
    campaigns: list[Campaign] = field(default_factory=list)


@dataclass(kw_only=True)
class FollowBatchResult(BatchResult):
    """dsar batch --follow: a next request for each member whose answer named one
    organisation; `already`: those an earlier run wrote (a rerun writes nothing twice)."""

    written_now: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    # members held back: the form they signed does not cover the chain (mandate refs)
    out_of_scope: Few = field(default_factory=Few)
