"""The journal: a SQLite record of every request, its proofs, deadlines and answers.

One file in DSAR_HOME (mode 0600), shared by generate, batch sending and the follow-up
commands. Every change is one transaction: a crash leaves a request fully recorded
or absent. The schema is versioned with PRAGMA user_version and migrated forward.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from time import sleep as _sleep

from pydantic import TypeAdapter

from . import clock, deadlines, lifecycle
from .errors import DsarError, JournalError
from .files import make_private_dir, store_by_content
from .i18n import _
from .models import Request, Requester, reference_for
from .safety import printable
from .vocabulary import ACCESS_ITEMS, MAIL_TO_SEND

REBUILDABLE = ("queued", "deferred")  # never handed to a server: may still be rebuilt
# a claim older than this is taken over even if its process id is alive again (pid reuse):
# one message with every retry takes a few minutes at most
CLAIM_EXPIRES_AFTER = 15 * 60
_MAIL_TO_SEND_SQL = "(" + ", ".join(f"'{s}'" for s in MAIL_TO_SEND) + ")"
_REBUILDABLE_SQL = "(" + ", ".join(f"'{s}'" for s in REBUILDABLE) + ")"

MIGRATIONS = [
    # 1: requests, their files and their history
    """
    CREATE TABLE requests (
        reference    TEXT PRIMARY KEY,
        created_at   TEXT NOT NULL,
        kind         TEXT NOT NULL DEFAULT 'request',
        broker       TEXT NOT NULL,
        right        TEXT NOT NULL,
        lang         TEXT NOT NULL,
        medium       TEXT NOT NULL,
        member       TEXT,
        mandate_ref  TEXT,
        request_json TEXT NOT NULL,
        subject      TEXT NOT NULL,
        body_text    TEXT NOT NULL,
        page_html    TEXT,
        state        TEXT NOT NULL DEFAULT 'draft',
        sent_on      TEXT,
        received_on  TEXT,
        lrar_number  TEXT,
        message_id   TEXT,
        extended_on  TEXT,
        reminded_on  TEXT,
        answered_on  TEXT
    );
    CREATE TABLE files (
        reference TEXT NOT NULL REFERENCES requests(reference),
        role      TEXT NOT NULL,
        path      TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        PRIMARY KEY (reference, role, path)
    );
    CREATE TABLE events (
        id        INTEGER PRIMARY KEY,
        reference TEXT NOT NULL REFERENCES requests(reference),
        at        TEXT NOT NULL,
        on_date   TEXT,
        what      TEXT NOT NULL,
        detail    TEXT
    );
    CREATE INDEX events_reference ON events(reference);
    """,
    # 2: the outbox of e-mails to send, so a killed batch resumes without resending
    """
    CREATE TABLE outbox (
        reference  TEXT PRIMARY KEY REFERENCES requests(reference),
        message_id TEXT NOT NULL,
        recipient  TEXT NOT NULL,
        eml        BLOB NOT NULL,
        status     TEXT NOT NULL DEFAULT 'queued',
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX outbox_status ON outbox(status);
    """,
    # 3: what a queued message says (rebuilt when it changes) and who is sending it
    """
    ALTER TABLE outbox ADD COLUMN fingerprint TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_at TEXT
    """,
    # 4: the request a follow-up follows; the formats as rows; what an answer lacked;
    # the letter's date and the sent reminder's date, which the lifecycle's dates read
    lambda db: _migrate_4(db),
    # 5: the name a person gave a file they handed in (shown to them; never a path)
    """
    ALTER TABLE files ADD COLUMN display_name TEXT
    """,
    # 6: the organisations each mandate form dsar wrote names: a batch writes only to those
    """
    CREATE TABLE mandate_forms (
        mandate_ref TEXT PRIMARY KEY,
        controllers TEXT NOT NULL,
        written_on  TEXT NOT NULL
    )
    """,
    # 7: whether the form carried the Art. 80(1) clause: only those members' complaints
    # may go to the CNIL under Art. 80 (the association's five years today prove nothing
    # of what a member signed before)
    """
    ALTER TABLE mandate_forms ADD COLUMN art80 INTEGER NOT NULL DEFAULT 0
    """,
    # 8: whether the form covered "any controller these organisations name as source or
    # recipient": a next request (dsar follow) goes only under a form that did (NULL: a
    # form recorded before, judged by today's template only)
    """
    ALTER TABLE mandate_forms ADD COLUMN chain INTEGER
    """,
    # 9: a batch asks, for each row, whether another member holds its mandate reference
    """
    CREATE INDEX requests_mandate ON requests(mandate_ref)
    """,
    # 10: whose each form is (the identity a request's reference is made from, and the
    # name): a reference given to another person later would send the first one's scan
    """
    ALTER TABLE mandate_forms ADD COLUMN holder TEXT;
    ALTER TABLE mandate_forms ADD COLUMN holder_name TEXT
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def _migrate_4(db) -> None:
    for statement in (
        "ALTER TABLE requests ADD COLUMN follows TEXT REFERENCES requests(reference)",
        "ALTER TABLE requests ADD COLUMN letter_date TEXT",
        "ALTER TABLE requests ADD COLUMN reminder_dated TEXT",
        "UPDATE requests SET letter_date = json_extract(request_json, '$.letter_date')",
        # a journal of before: the reminder was marked on its own date, when written
        "UPDATE requests SET reminder_dated = reminded_on WHERE reminded_on IS NOT NULL",
        # the reminder and the complaint were named in the original's events
        "UPDATE requests SET follows = (SELECT e.reference FROM events e WHERE"
        " e.what IN ('reminded', 'complained') AND e.detail = requests.reference)"
        " WHERE kind != 'request'",
        "CREATE TABLE media (reference TEXT NOT NULL REFERENCES requests(reference),"
        " medium TEXT NOT NULL, PRIMARY KEY (reference, medium))",
        "CREATE TABLE missing (reference TEXT NOT NULL REFERENCES requests(reference),"
        " item TEXT NOT NULL, PRIMARY KEY (reference, item))",
        "CREATE INDEX requests_follows ON requests(follows)",
    ):
        db.execute(statement)
    for reference, medium in db.execute("SELECT reference, medium FROM requests").fetchall():
        for part in dict.fromkeys(p.strip() for p in medium.split(",") if p.strip()):
            db.execute("INSERT INTO media VALUES (?, ?)", (reference, part))
    db.execute("ALTER TABLE requests DROP COLUMN medium")


def steps(events: Iterable) -> list[dict]:
    """Each step once, named for what it is, in date order. The journal logs every
    recording, as evidence of what was done when: a draft redone logs another
    'generated' row; `dsar sent` again to add a registered-letter number or a receipt
    date, or an acknowledgement read by the inbox, another 'sent' row. A person reads
    the request's life: the letter written (the last draft), the sending as one step
    whose details add up, the receipt its own step on its own day."""
    found: list[dict] = []
    kept: dict[str, dict] = {}  # the one step of each kind that happens once

    def once(key: str, step: dict) -> None:
        if key in kept:
            found.remove(kept[key])
        kept[key] = step
        found.append(step)

    def parts(detail: str | None) -> dict[str, str]:  # "lrar=1A, received=…" by key
        return {part.partition("=")[0]: part for part in (detail or "").split(", ") if part}

    for event in events:
        step = {key: event[key] for key in ("at", "on_date", "what", "detail")}
        if step["what"] == "generated":
            once("generated", step)
        elif step["what"] == "sent":
            said = parts(step["detail"])
            if received := said.pop("received", None):
                on = received.partition("=")[2]
                once("received", {**step, "what": "received", "on_date": on, "detail": None})
            # an e-mail the outbox sent and a letter posted are two sendings
            medium = (
                "sent e-mail" if step["detail"] and step["detail"].startswith("e-mail") else "sent"
            )
            before = kept.get(medium)
            if before:  # what an earlier recording said stays
                said = parts(before["detail"]) | said
            details = ", ".join(said.values()) or None
            if before is None or (step["on_date"], details) != (
                before["on_date"],
                before["detail"],
            ):
                once(medium, {**step, "detail": details})  # a corrected date: the last
        else:
            found.append(step)
    return sorted(found, key=lambda step: step["on_date"] or step["at"][:10])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 16):
            digest.update(block)
    return digest.hexdigest()


_REFERENCE = re.compile(r"^DSAR-[A-Z2-9]{4}-[A-Z2-9]{4}$")


def canonical(reference: str) -> str:
    """A reference as people type it ('dsar-28fj-zur7 ') -> as the journal keeps it."""
    wanted = str(reference).strip().upper()
    if not _REFERENCE.match(wanted):
        raise DsarError(f"{reference!r} is not a dsar reference (DSAR-XXXX-XXXX); see dsar status")
    return wanted


def media(medium: str | Iterable[str]) -> tuple[str, ...]:
    """'pdf,email' or ('pdf', 'email') -> ('pdf', 'email')."""
    parts = medium.split(",") if isinstance(medium, str) else medium
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def is_preview(medium: str | Iterable[str]) -> bool:
    """Plain text on the terminal only: nothing left the machine, nothing to record."""
    return set(media(medium)) <= {"text"}


# -------------------------------------------------------------- request <-> JSON


# the journal is self-contained: the broker as it was when the letter was written
_REQUEST = TypeAdapter(Request)


def request_to_json(request: Request) -> str:
    return _REQUEST.dump_json(request).decode("utf-8")


def request_from_json(text: str) -> Request:
    return _REQUEST.validate_json(text)


# -------------------------------------------------------------- the record


@dataclass(frozen=True)
class Entry:
    """One request as the journal knows it; its dates and state come from lifecycle."""

    reference: str
    broker: str
    right: str
    lang: str
    medium: tuple[str, ...]
    member: str | None
    stored_state: str
    sent_on: date | None
    received_on: date | None
    lrar_number: str | None
    message_id: str | None
    extended_on: date | None
    reminded_on: date | None
    answered_on: date | None
    subject: str
    kind: str
    letter_date: date | None = None
    reminder_dated: date | None = None  # the date of the reminder that was sent
    follows: str | None = None  # the request a follow-up letter follows

    @property
    def dates(self) -> lifecycle.Dates:
        return lifecycle.dates(self)

    @property
    def receipt(self) -> date | None:
        """Art. 12(3) counts from receipt; the sending date stands in when unknown."""
        return self.dates.receipt

    @property
    def receipt_is_estimated(self) -> bool:
        return self.dates.estimated

    @property
    def extension_counts(self) -> bool:
        """An extension notified after the first month does not move the deadline (12(3))."""
        return self.dates.extended_due is not None

    @property
    def deadline(self) -> date | None:
        return self.dates.due

    @property
    def late_extension_note(self) -> str | None:
        found = self.dates
        if found.late_extension is None:
            return None
        return _(
            "the extension notified on {extended} came after the first month, which ended on "
            "{ended}: it does not move the deadline (Art. 12(3) GDPR)"
        ).format(extended=found.late_extension, ended=found.answer_due)

    @property
    def deadline_notes(self) -> list[str]:
        """Why the deadline is what it is, where a person could expect another date."""
        notes = []
        if self.receipt_is_estimated:
            notes.append(
                _(
                    "deadline estimated from the sending date {sent}: it runs from receipt; "
                    "record it with dsar sent {reference} --on {sent} --received DATE"
                ).format(sent=self.sent_on, reference=self.reference)
            )
        if self.late_extension_note:
            notes.append(self.late_extension_note)
        return notes

    @property
    def final_deadline(self) -> date | None:
        return self.dates.final

    def state(self, as_of: date) -> str:
        return lifecycle.state(self, as_of)

    @property
    def due(self) -> date | None:
        """The deadline in force: the reminder's final one once reminded."""
        return self.dates.in_force

    def days_left(self, as_of: date) -> int | None:
        if self.stored_state not in (*lifecycle.WAITING, "reminded"):
            return None
        return self.dates.days_left(as_of)

    def as_dict(self, as_of: date) -> dict:
        def iso(d):
            return d.isoformat() if d else None

        return {
            "reference": self.reference,
            "broker": self.broker,
            "right": self.right,
            "medium": list(self.medium),
            "member": self.member,
            "sent": iso(self.sent_on),
            "received": iso(self.received_on),
            "receipt_estimated": self.receipt_is_estimated,
            "deadline": iso(self.deadline),
            "due": iso(self.due),
            "days_left": self.days_left(as_of),
            "state": self.state(as_of),
            "lrar_number": self.lrar_number,
            "message_id": self.message_id,
            "extended_on": iso(self.extended_on),
            "extension_counts": self.extension_counts,
            "notes": self.deadline_notes,
            "reminded_on": iso(self.reminded_on),
            "final_deadline": iso(self.final_deadline),
            "follows": self.follows,
            "next": lifecycle.commands(self, as_of),
        }


def _claim_alive(claimed_by: str | None, claimed_at: str | None) -> bool:
    """Is the run that claimed a message still at it?"""
    if not claimed_by or not claimed_at:
        return False  # left 'sending' by a dsar from before claims
    age = datetime.now(UTC) - datetime.fromisoformat(claimed_at)
    if age.total_seconds() > CLAIM_EXPIRES_AFTER:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname():
        return True  # another machine's process: only time tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def next_step(entry: Entry, as_of: date) -> str:
    """What the person does next, in words, in the person's language."""
    ref, state = entry.reference, entry.state(as_of)
    if entry.kind != "request":
        if entry.stored_state == "draft":
            return _("send it, then record it: dsar sent {ref} --on YYYY-MM-DD").format(ref=ref)
        return _("nothing: a follow-up letter is tracked on the request it follows")
    steps = {
        "draft": _("send it, then record it: dsar sent {ref} --on YYYY-MM-DD"),
        "sent": _("wait for the answer, due by {deadline}"),
        "received": _("wait for the answer, due by {deadline}"),
        "extended": _("wait for the answer, due by {deadline} (extended)"),
        "overdue": _("no answer in time: dsar remind {ref}"),
        "reminded": _("wait until {final}, then: dsar complain {ref} --out DIR"),
        "id-requested": _("answer the ID demand: dsar reply-id {ref}"),
        "partial": _("follow up: dsar remind {ref}"),
        "refused": _("complain to the CNIL: dsar complain {ref} --out DIR"),
        "answered": _("nothing: the request was answered"),
        "closed": _("nothing: the request is closed"),
        "undelivered": _(
            "it was not delivered: write to another contact (dsar brokers show {broker})"
        ),
        "complained": _("wait for the CNIL's answer"),
    }
    return steps.get(state, "").format(
        ref=ref, deadline=entry.deadline, final=entry.final_deadline, broker=entry.broker
    )


# the action that writes each follow-up letter: once it is written, sending it (and
# recording that) comes next, never writing a second one
WRITTEN_BY = {"reminder": "remind", "complaint": "complain", "reply-id": "reply-id"}


def next_with_drafts(entry: Entry, as_of: date, follow_ups: list[Entry]) -> tuple[str, list[str]]:
    """What comes next for a request and the commands it may run, knowing the letters
    that follow it: a reminder or complaint written and not sent is what comes next
    (dsar show said « no answer in time: dsar remind » under a complaint written)."""
    drafts = [f for f in follow_ups if f.stored_state == "draft" and f.kind in WRITTEN_BY]
    actions = lifecycle.next_actions(entry, as_of)
    if not drafts:
        return next_step(entry, as_of), lifecycle.command_lines(entry.reference, actions)
    written = {WRITTEN_BY[d.kind] for d in drafts}
    last = drafts[-1]
    final = lifecycle.dates(entry).final
    if last.kind == "complaint" and entry.reminded_on and last.letter_date < entry.reminded_on:
        # written before the reminder left: it says nothing of it, and filing it before
        # the reminder's final date would break the time the reminder gave
        step = _(
            "the complaint {ref} was written before the reminder: wait until {final}, then "
            "write it again: dsar complain {request} --out DIR --force"
        )
    elif last.kind == "complaint":
        step = _(
            "file the complaint {ref} with the CNIL (https://www.cnil.fr/fr/plaintes), then "
            "record it: dsar sent {ref} --on YYYY-MM-DD"
        )
    else:
        step = _("send the {kind} {ref}, then record it: dsar sent {ref} --on YYYY-MM-DD")
    said = step.format(
        ref=last.reference,
        kind=lifecycle.kind_name(last.kind),
        final=final.isoformat() if final else "",
        request=entry.reference,
    )
    others = [a for a in actions if a not in written]
    return said, lifecycle.command_lines(entry.reference, others)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class AlreadyRecorded(DsarError):
    """A reference recorded since the caller looked: another run wrote that letter."""

    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(
            _("{reference} was written meanwhile by another run").format(reference=reference)
        )


class _Connection(sqlite3.Connection):
    """A damaged or locked journal is a message naming the file, never a traceback."""

    journal_path: Path | None = None

    def execute(self, *args):
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            hint = ""
            if "malformed" in str(exc) or "not a database" in str(exc):
                hint = "; it is damaged: restore it from a backup, or move it aside to start anew"
            raise JournalError(f"the journal {self.journal_path}: {exc}{hint}") from None


MEMORY = ":memory:"


class Journal:
    """Journal(path) opens (or creates) the journal file; Journal(":memory:") opens one
    that lives as long as the object, for unit tests and dry runs."""

    def __init__(self, path: Path | str, *, clock: Callable[[], date] = clock.today):
        """`clock`: what today is for the dates the journal checks (the App gives its own)."""
        self.today = clock
        self.in_memory = str(path) == MEMORY
        self.path = Path(path)
        if not self.in_memory:
            make_private_dir(self.path.parent)
            if not self.path.exists():
                # create it private before SQLite does (WAL and SHM files copy its mode)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        # switching a new file to WAL can meet another first run's lock without SQLite's
        # busy handler being asked: try again a few times before saying so
        for attempt in range(6):
            try:
                self._open(str(path))
                return
            except JournalError as exc:
                self.db.close()
                if "locked" not in str(exc) or attempt == 5:
                    raise
                _sleep(0.05 * 2**attempt)

    def _open(self, where: str) -> None:
        try:
            self.db = sqlite3.connect(where, isolation_level=None, timeout=30, factory=_Connection)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None
        self.db.journal_path = self.path
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a killed process loses no commit (SQLite's own guarantee); only a
        # power cut may drop the last few, never corrupt. FULL cost an fsync per request.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _version(self) -> int:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.path} has schema version {version}, newer than this dsar "
                f"knows ({SCHEMA_VERSION}); upgrade dsar to read it"
            )
        return version

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return
        # read the version again under the write lock: several first runs at once on a new
        # journal must not all create the tables
        with self.transaction():
            for number in range(self._version(), SCHEMA_VERSION):
                step = MIGRATIONS[number]
                if callable(step):
                    step(self.db)
                for statement in [] if callable(step) else step.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self._grouped:  # inside grouped(): a savepoint, committed with the group
            self.db.execute("SAVEPOINT unit")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK TO unit")
                self.db.execute("RELEASE unit")
                raise
            self.db.execute("RELEASE unit")
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def together(self) -> Iterator[None]:
        """Several records as one: all committed, or none (an exception rolls them all
        back, where grouped() commits the whole ones)."""
        with self.transaction():
            was, self._grouped = self._grouped, True  # each transaction() inside: a savepoint
            try:
                yield
            finally:
                self._grouped = was

    _grouped = False

    @property
    def grouping(self) -> bool:
        """Inside grouped(): what is written now is not yet seen by another process."""
        return self._grouped

    @contextmanager
    def grouped(self, every: int = 100) -> Iterator[Callable[[], None]]:
        """Many writes in few transactions: yields tick(), to call once per unit of work,
        which commits every `every` units. A commit costs ~0.45 ms here, more than
        recording a batch letter. Each transaction() inside is a savepoint, whole or
        undone; an exception commits the whole ones before it is raised on. A killed
        process loses at most the uncommitted units, which a rerun redoes. Nothing is
        sent while a group is open: another run sees no claim until the group commits."""
        if self._grouped:  # already inside a group: that one commits
            yield lambda: None
            return
        count = 0

        def tick() -> None:
            nonlocal count
            count += 1
            if count % every == 0:
                self.db.execute("COMMIT")
                self.db.execute("BEGIN IMMEDIATE")

        self.db.execute("BEGIN IMMEDIATE")
        self._grouped = True
        try:
            yield tick
        finally:
            self._grouped = False
            self.db.execute("COMMIT")

    # -------------------------------------------------------------- writing

    def record(
        self,
        request: Request,
        *,
        subject: str,
        body_text: str,
        medium: str | Iterable[str],
        page_html: str | None = None,
        files: dict[str, Path] | None = None,
        kind: str = "request",
        hashes: dict[str, str] | None = None,
        follows: str | None = None,
        then: tuple[str, date, bool] | None = None,
        fresh: bool = False,
    ) -> None:
        """Record a generated letter and its files in one transaction.

        A redo replaces a draft; a request that is no longer a draft is evidence and is
        never changed (free_reference() gives a later letter its own reference). A text
        preview is not recorded. `hashes`: the files' SHA-256 by role when they are still
        staged under another name (compose.write_recorded). `follows`: the request a
        follow-up letter follows; `then`: (action, day, force) checked on that request in
        the same transaction ('remind' and 'complain' change nothing: sending them does).
        `fresh`: AlreadyRecorded if the reference is in the journal, even as a draft (a
        batch looked before rendering; another run may have written it since: the check
        that decides is this one, under the write lock).
        """
        if is_preview(medium):
            return
        formats = media(medium)
        with self.transaction() as db:
            held = db.execute("SELECT 1 FROM requests WHERE reference = ?", (request.reference,))
            if fresh and held.fetchone():
                raise AlreadyRecorded(request.reference)
            self._require_redo(db, request.reference)
            if then is not None:
                action, on, force = then
                self._transition(db, follows, action, on, force=force, detail=request.reference)
            db.execute("DELETE FROM files WHERE reference = ?", (request.reference,))
            db.execute("DELETE FROM media WHERE reference = ?", (request.reference,))
            db.execute(
                """INSERT INTO requests (reference, created_at, kind, broker, right, lang,
                       member, mandate_ref, request_json, subject, body_text, page_html,
                       follows, letter_date)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(reference) DO UPDATE SET
                       request_json=excluded.request_json, subject=excluded.subject,
                       body_text=excluded.body_text, page_html=excluded.page_html,
                       letter_date=excluded.letter_date""",
                (
                    request.reference,
                    _now(),
                    kind,
                    request.broker.slug,
                    request.right,
                    request.lang,
                    request.requester.name if request.mandate else None,
                    request.mandate.reference if request.mandate else None,
                    request_to_json(request),
                    subject,
                    body_text,
                    page_html,
                    follows,
                    request.letter_date.isoformat(),
                ),
            )
            db.executemany(
                "INSERT INTO media VALUES (?, ?)", [(request.reference, f) for f in formats]
            )
            for role, path in (files or {}).items():
                sha = (hashes or {}).get(role) or sha256_file(path)
                db.execute(
                    "INSERT INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                    (request.reference, role, str(path.resolve()), sha),
                )
            self._event(db, request.reference, "generated", request.letter_date, ",".join(formats))

    def _require_redo(self, db, reference: str) -> None:
        row = db.execute("SELECT * FROM requests WHERE reference = ?", (reference,)).fetchone()
        if row is not None:
            lifecycle.require("redo", self._entry(row), None, today=self.today())

    def check_recordable(self, reference: str, medium: str | Iterable[str], db=None) -> None:
        """Refuse a letter under a reference that left the machine, before its files are
        written (record() checks again in its transaction)."""
        if not is_preview(medium):
            self._require_redo(db or self.db, reference)

    def require(self, reference: str, action: str, on: date | None = None, **rules) -> Entry:
        """Refuse now what the transition would refuse (before rendering a letter);
        the transition checks again in its own transaction."""
        entry = self.entry(reference)
        lifecycle.require(action, entry, on, today=self.today(), **rules)
        return entry

    def _event(self, db, reference: str, what: str, on: date | None, detail: str | None = None):
        db.execute(
            "INSERT INTO events (reference, at, on_date, what, detail) VALUES (?,?,?,?,?)",
            (reference, _now(), on.isoformat() if on else None, what, detail),
        )

    def _row_entry(self, db, reference: str) -> Entry:
        row = db.execute("SELECT * FROM requests WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise DsarError(
                _("no request {reference} in the journal {path}; see dsar status").format(
                    reference=reference, path=self.path
                )
            )
        return self._entry(row)

    # the event each action leaves in the request's history (the dossier names them)
    EVENTS = {"reminder-sent": "reminded", "complaint-sent": "complained", "proof": "sent"}

    def _transition(
        self,
        db,
        reference: str,
        action: str,
        on: date | None,
        *,
        detail: str | None = None,
        columns: dict | None = None,
        checked: bool = True,
        **rules,
    ) -> tuple[Entry, str | None]:
        """The one place a request's state changes: inside the caller's transaction, the
        lifecycle's check on the request as stored now, then the write. `checked=False`:
        the day is a fact dsar saw itself (a server took the e-mail), not a typed date."""
        entry = self._row_entry(db, reference)
        new = lifecycle.require(action, entry, on if checked else None, today=self.today(), **rules)
        columns = dict(columns or {})
        if action == "reminder-sent":
            columns["reminded_on"] = on
        if new is not None:
            columns["state"] = new
        if columns:
            assignments = ", ".join(f"{name} = ?" for name in columns)
            values = [v.isoformat() if isinstance(v, date) else v for v in columns.values()]
            db.execute(
                f"UPDATE requests SET {assignments} WHERE reference = ?", (*values, reference)
            )
        what = (
            f"answer:{rules['answer']}" if action == "answer" else self.EVENTS.get(action, action)
        )
        self._event(db, reference, what, on, detail)
        return entry, new

    def mark_sent(
        self,
        reference: str,
        on: date,
        *,
        lrar: str | None = None,
        received: date | None = None,
        message_id: str | None = None,
        force: bool = False,
    ) -> None:
        """Record the sending (and receipt, registered-letter number, Message-ID). A
        follow-up letter sent starts what it starts on the request it follows: a sent
        reminder makes it 'reminded', its final date running from the reminder's date; a
        complaint filed makes it 'complained'."""
        reference = canonical(reference)
        columns = {"sent_on": on, "lrar_number": lrar, "received_on": received}
        columns["message_id"] = message_id
        columns = {k: v for k, v in columns.items() if v}
        detail = ", ".join(
            f"{k}={v}"
            for k, v in (("lrar", lrar), ("received", received), ("message_id", message_id))
            if v
        )
        letter = self.request(reference)  # a draft PDF (no postal address) is never posted
        with self.transaction() as db:
            entry, _new = self._transition(
                db,
                reference,
                "sent",
                on,
                detail=detail or None,
                columns=columns,
                received=received,
                force=force,
                printable=letter.printable,
                mailable=bool(letter.recipient_email),
                lrar=bool(lrar),
            )
            if entry.kind == "reminder" and entry.follows and entry.stored_state == "draft":
                self._transition(
                    db,
                    entry.follows,
                    "reminder-sent",
                    on,
                    detail=reference,
                    columns={"reminder_dated": entry.letter_date},
                    dated=entry.letter_date,
                )
            if entry.kind == "complaint" and entry.follows and entry.stored_state == "draft":
                # filed, not written: the request is complained about from this day
                self._transition(
                    db, entry.follows, "complaint-sent", on, detail=reference, force=force
                )

    def mark_extension(self, reference: str, on: date) -> None:
        """An extension notified on `on`: in the first month it moves the deadline; later
        it is recorded (the letters name it) but moves nothing (12(3))."""
        reference = canonical(reference)
        with self.transaction() as db:
            entry = self._row_entry(db, reference)
            late = not (entry.receipt and deadlines.extension_counts(entry.receipt, on))
            self._transition(
                db,
                reference,
                "extension",
                on,
                detail="late" if late else None,
                columns={"extended_on": on},
            )

    def mark_answer(
        self,
        reference: str,
        state: str,
        on: date,
        note: str | None = None,
        files: list[Path] = (),
        missing: Iterable[str] | None = None,
    ) -> list[Path]:
        """Record an answer; reply files are copied beside the journal, private.
        `missing`: the items of Art. 15 the answer lacks (ACCESS_ITEMS), which the
        reminder and the complaint name; None keeps what was recorded before."""
        reference = canonical(reference)
        lacking = tuple(dict.fromkeys(missing)) if missing is not None else None
        unknown = [item for item in lacking or () if item not in ACCESS_ITEMS]
        if unknown:
            raise DsarError(
                _("'{value}': use {choices}").format(
                    value=",".join(unknown), choices=", ".join(ACCESS_ITEMS)
                )
            )
        self.require(reference, "answer", on, answer=state)  # before copying any file
        kept = self.keep(reference, files)
        with self.transaction() as db:
            self._transition(
                db,
                reference,
                "answer",
                on,
                detail=note,
                columns={"answered_on": on},
                answer=state,
            )
            for path in kept:  # named by their content: never replaced
                db.execute(
                    "INSERT OR IGNORE INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                    (reference, "reply", str(path), sha256_file(path)),
                )
            if lacking is not None:
                db.execute("DELETE FROM missing WHERE reference = ?", (reference,))
                db.executemany(
                    "INSERT INTO missing VALUES (?, ?)", [(reference, i) for i in lacking]
                )
        return kept

    def missing(self, reference: str) -> list[str]:
        """What the last answer lacked, in the order of Art. 15."""
        found = {
            r[0]
            for r in self.db.execute("SELECT item FROM missing WHERE reference = ?", (reference,))
        }
        return [item for item in ACCESS_ITEMS if item in found]

    def follow_ups(self, reference: str, kind: str | None = None) -> list[Entry]:
        """The letters that follow a request (reminders, complaints, next requests)."""
        rows = self.db.execute(
            "SELECT * FROM requests WHERE follows = ? ORDER BY created_at", (reference,)
        )
        return [e for e in map(self._entry, rows) if kind in (None, e.kind)]

    def keep(self, reference: str, files: list[Path]) -> list[Path]:
        """Keep evidence the person hands in (a reply, a proof of sending) beside the
        journal, private and by content: a second file of the same name never replaces
        the first; the caller records each copy."""
        for source in files:
            if not source.is_file():
                raise DsarError(_("{path}: no such file").format(path=source))
        if files and self.in_memory:
            raise DsarError("an in-memory journal keeps no reply files")
        folder = self.path.parent / "attachments"
        return [store_by_content(source, folder)[0] for source in files]

    def add_file(self, reference: str, role: str, path: Path) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                (reference, role, str(path.resolve()), sha256_file(path)),
            )

    def filed_with(self, path: Path, role: str) -> list[str]:
        """The letters recorded as having left (not drafts) that `path` went with, under
        `role` (a cover letter: "cover"): such a file is evidence, never written over."""
        rows = self.db.execute(
            "SELECT f.reference FROM files f JOIN requests r USING (reference)"
            " WHERE f.role = ? AND f.path = ? AND r.state != 'draft'",
            (role, str(path.resolve())),
        )
        return [row[0] for row in rows]

    def free_reference(self, request: Request, follows: str | None = None) -> Request:
        """The request under a reference that no request which left the machine holds.

        The reference is a hash of who, to whom, what and when: a second letter the same
        day would land on the first. A draft may be redone in place, when it follows the
        same request (`follows`: a next request's); a request that left, or a draft that
        follows another, keeps its reference, and the new one gets the next of a stable
        series.
        """
        reference, number = request.reference, 1
        while True:
            found = self.db.execute(
                "SELECT state, follows FROM requests WHERE reference = ?", (reference,)
            ).fetchone()
            if found is None or (found[0] == "draft" and found[1] == follows):
                break
            number += 1
            reference = reference_for(request.reference, str(number))
        return dataclasses.replace(request, reference=reference)

    def forget(self, reference: str) -> list[Path]:
        """Drop a draft from the journal; anything that left stays, as evidence.

        Returns the files the draft had, which stay on disk for the person to delete.
        The check and the delete are one transaction: a request recorded as sent
        meanwhile is never dropped.
        """
        reference = canonical(reference)
        with self.transaction() as db:
            entry = self._row_entry(db, reference)
            lifecycle.require("forget", entry, None, today=self.today())
            files = [path for _, path, _ in self.files(reference)]
            outbox = db.execute(
                "SELECT status FROM outbox WHERE reference = ?", (reference,)
            ).fetchone()
            if outbox and outbox[0] not in ("queued", "deferred", "failed"):
                raise DsarError(
                    _("{reference}: its e-mail is {status}; it stays as evidence").format(
                        reference=reference, status=outbox[0]
                    )
                )
            for table in ("outbox", "files", "events", "media", "missing", "requests"):
                db.execute(f"DELETE FROM {table} WHERE reference = ?", (reference,))
        return files

    def show(self, reference: str, as_of: date) -> dict:
        """One request whole: recipient, right, files, every step, deadline, next step."""
        reference = canonical(reference)
        entry = self.entry(reference)
        request = self.request(reference)
        outbox = self.outbox_status(reference)
        follow_ups = self.follow_ups(reference)
        step, commands = next_with_drafts(entry, as_of, follow_ups)
        if entry.stored_state == "draft" and not (request.printable or request.recipient_email):
            # dsar sent refuses it: nothing to send before the address is known
            step = _(
                "add {name}'s address (dsar brokers add-contact {slug} --postal 'LINE\\nLINE' "
                "--source WHERE), then write the letter again with the same command and "
                "--force (it keeps its reference)"
            ).format(name=request.broker.name, slug=request.broker.slug)
            commands = [c for c in commands if not c.startswith("dsar sent ")]
        return {
            **entry.as_dict(as_of),
            "kind": entry.kind,
            "lang": entry.lang,
            "subject": entry.subject,
            "letter_date": request.letter_date.isoformat(),
            "recipient": {
                "slug": request.broker.slug,
                "name": request.broker.name,
                "email": request.recipient_email,
                "postal_address": request.recipient_address,
            },
            "requester": request.requester.name,
            "files": [
                {"role": role, "path": str(path), "sha256": sha}
                for role, path, sha in self.files(reference)
            ],
            "steps": [
                {"at": e["at"], "on": e["on_date"], "what": e["what"], "detail": e["detail"]}
                for e in self.steps(reference)
            ],
            "email": outbox[0] if outbox else None,
            # the letters that follow it (reminder, reply to an ID demand, complaint): shown
            # under it, tracked on it, with no deadline of their own
            "follow_ups": [
                {
                    "reference": f.reference,
                    "kind": f.kind,
                    "letter_date": f.letter_date.isoformat() if f.letter_date else None,
                    "sent": f.sent_on.isoformat() if f.sent_on else None,
                    "state": f.stored_state,
                }
                for f in follow_ups
            ],
            "next_step": step,
            "next": commands,
            # the commands the step itself gives (its words are dsar's own here, no name
            # from outside): the rest is "also possible"
            "step_commands": [c for c in commands if c in step],
            "missing": self.missing(reference),
        }

    def stored_state(self, reference: str) -> str | None:
        found = self.db.execute("SELECT state FROM requests WHERE reference = ?", (reference,))
        row = found.fetchone()
        return row[0] if row else None

    def keep_evidence(
        self, reference: str, role: str, source: Path, on: date | None = None
    ) -> Path:
        """Keep a proof with the request (a registered letter's receipt, as a scan or a
        photo) by its content, as replies are kept: never replaced, in the CNIL dossier."""

        reference = canonical(reference)
        self.entry(reference)  # raises for an unknown reference
        path, sha256 = store_by_content(source, self.path.parent / "attachments")
        shown = printable(source.name)[:200]  # what the person called it; kept as a label
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO files (reference, role, path, sha256, display_name) "
                "VALUES (?,?,?,?,?)",
                (reference, role, str(path), sha256, shown),
            )
            self._event(db, reference, role, on, path.name)
        return path

    def has(self, reference: str) -> bool:
        found = self.db.execute("SELECT 1 FROM requests WHERE reference = ?", (reference,))
        return found.fetchone() is not None

    def queued(self, reference: str) -> bool:
        found = self.db.execute("SELECT 1 FROM outbox WHERE reference = ?", (reference,))
        return found.fetchone() is not None

    # -------------------------------------------------------------- the outbox

    def queue(
        self,
        reference: str,
        message_id: str,
        recipient: str,
        eml: bytes,
        fingerprint: str | None = None,
    ) -> tuple[str, bytes]:
        """Queue an e-mail; returns what was done ('new', 'rebuilt', 'unchanged', or the
        status of a message that may no longer change) and the message now queued.

        A message never handed to a server is rebuilt when what it says (`fingerprint`)
        changed, e.g. a rerun with the signed mandates to attach; one that left, or that a
        run is sending, is never touched.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT status, fingerprint, eml FROM outbox WHERE reference = ?", (reference,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO outbox (reference, message_id, recipient, eml, fingerprint,"
                    " updated_at) VALUES (?,?,?,?,?,?)",
                    (reference, message_id, recipient, eml, fingerprint, _now()),
                )
                return "new", eml
            if row["status"] not in REBUILDABLE:
                return row["status"], row["eml"]
            if fingerprint is not None and row["fingerprint"] == fingerprint:
                return "unchanged", row["eml"]
            db.execute(
                "UPDATE outbox SET message_id = ?, recipient = ?, eml = ?, fingerprint = ?,"
                " updated_at = ? WHERE reference = ?",
                (message_id, recipient, eml, fingerprint, _now(), reference),
            )
            self._event(db, reference, "e-mail-rebuilt", None, f"message_id={message_id}")
            return "rebuilt", eml

    def outbox_waiting(self, references: Container[str] | None = None) -> Iterator[str]:
        """References of messages still to send, in queue order: all, or those in
        `references` (a set, or a batch's rows on disk). Read a page at a time, by rowid:
        a million queued messages are never all held, and a message marked while this
        is read (sent, withdrawn) is simply not met again."""
        after = 0
        while True:
            page = self.db.execute(
                f"SELECT rowid, reference FROM outbox WHERE status IN {_MAIL_TO_SEND_SQL}"
                " AND rowid > ? ORDER BY rowid LIMIT 500",
                (after,),
            ).fetchall()
            for _rowid, reference in page:
                if references is None or reference in references:
                    yield reference
            if len(page) < 500:
                return
            after = page[-1][0]

    # -------------------------------------------------------------- mandate forms

    def record_mandate_form(
        self,
        mandate_ref: str,
        controllers: Iterable[str],
        *,
        art80: bool = False,
        chain: int | None = None,
        holder: Requester | None = None,
    ) -> None:
        """The organisations (slugs) the form `dsar mandate` wrote for this mandate names,
        whether it carried the Art. 80(1) clause, and whose it is; a form written again
        (--force) replaces the record, as it replaces the file."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO mandate_forms (mandate_ref, controllers, written_on,"
                " art80, chain, holder, holder_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    mandate_ref,
                    ",".join(controllers),
                    self.today().isoformat(),
                    int(art80),
                    None if chain is None else int(chain),
                    holder.identity if holder else None,
                    holder.name if holder else None,
                ),
            )

    def mandate_scope(self, mandate_ref: str) -> int | None:
        """What the form dsar wrote for this mandate covered beyond the organisations it
        names (follow.scope_of: 0, CHAIN, ONWARD; a form of before ONWARD recorded 1 for
        CHAIN); None when not recorded."""
        row = self.db.execute(
            "SELECT chain FROM mandate_forms WHERE mandate_ref = ?", (mandate_ref,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def mandate_holder(self, mandate_ref: str, requester: Requester) -> str | None:
        """Another person whose request, or whose form written by dsar mandate, carries this
        mandate reference (by the identity a reference is made from: a corrected name is
        the same member), or None: one mandate, one member (the scan enclosed under it is
        that member's)."""
        for member, phone, email, name in self.db.execute(
            "SELECT member, json_extract(request_json, '$.requester.phone'),"
            " json_extract(request_json, '$.requester.email'),"
            " json_extract(request_json, '$.requester.name')"
            " FROM requests WHERE mandate_ref = ?",
            (mandate_ref,),
        ):
            if (phone or email or name) != requester.identity:
                return member
        form = self.db.execute(  # the form dsar mandate wrote under it, for someone else
            "SELECT holder_name FROM mandate_forms WHERE mandate_ref = ? AND holder IS NOT NULL"
            " AND holder != ?",
            (mandate_ref, requester.identity),
        ).fetchone()
        return None if form is None else form[0]

    def mandate_gives_art80(self, mandate_ref: str) -> bool:
        """The form dsar wrote for this mandate gave the association the power to complain
        to the CNIL in the member's name (Art. 80(1)); False for a form dsar never wrote."""
        row = self.db.execute(
            "SELECT art80 FROM mandate_forms WHERE mandate_ref = ?", (mandate_ref,)
        ).fetchone()
        return bool(row and row[0])

    def mandate_form(self, mandate_ref: str | None) -> list[str] | None:
        """The organisations the form of this mandate names, or None: no form of dsar's
        (the association's own form): its scope is not known here. mandate_ref None: the
        last form dsar wrote, if it ever wrote one."""
        row = self.db.execute(
            "SELECT controllers FROM mandate_forms WHERE mandate_ref = ? OR ? IS NULL"
            " ORDER BY rowid DESC LIMIT 1",
            (mandate_ref, mandate_ref),
        ).fetchone()
        return None if row is None else [s for s in row[0].split(",") if s]

    def outbox_stale(self, references: Container[str] | None = None) -> list[tuple[str, str]]:
        """(reference, request's state) of the waiting messages the lifecycle no longer
        lets leave (lifecycle.email_may_leave): all, or those in `references`. Only those
        are held: the waiting ones are read as they come."""
        rows = self.db.execute(
            "SELECT o.reference, r.state FROM outbox o JOIN requests r USING (reference)"
            f" WHERE o.status IN {_MAIL_TO_SEND_SQL} ORDER BY o.rowid"
        )
        return [
            (reference, state)
            for reference, state in rows
            if not lifecycle.email_may_leave(state)
            and (references is None or reference in references)
        ]

    def outbox_withdraw(self, references: Container[str] | None = None) -> list[tuple[str, str]]:
        """Withdraw the waiting messages whose request left another way (posted, answered,
        undelivered, complained): they are never sent. Returns (reference, state) of each.
        A message another live run is sending is left to it (its claim checks again)."""
        withdrawn = []
        with self.transaction() as db:
            for reference, state in self.outbox_stale(references):
                row = db.execute(
                    "SELECT status, claimed_by, claimed_at FROM outbox WHERE reference = ?",
                    (reference,),
                ).fetchone()
                if row["status"] == "sending" and _claim_alive(
                    row["claimed_by"], row["claimed_at"]
                ):
                    continue
                self._withdraw(db, reference, state)
                withdrawn.append((reference, state))
        return withdrawn

    def _withdraw(self, db, reference: str, state: str) -> None:
        db.execute(
            "UPDATE outbox SET status = 'withdrawn', claimed_by = NULL, updated_at = ?"
            " WHERE reference = ?",
            (_now(), reference),
        )
        self._event(db, reference, "e-mail-withdrawn", self.today(), state)

    def outbox_unqueue(self, reference: str, why: str) -> None:
        """Take out of the outbox an e-mail never handed to a server, whose letter's row is
        now a bad row (`why`: its column): a rerun with the row corrected queues it anew.
        One being sent, or that left, stays."""
        with self.transaction() as db:
            gone = db.execute(
                f"DELETE FROM outbox WHERE reference = ? AND status IN {_REBUILDABLE_SQL}",
                (reference,),
            ).rowcount
            if gone:
                self._event(db, reference, "e-mail-unqueued", self.today(), why)

    def outbox_recipient(self, reference: str) -> str:
        row = self.db.execute(
            "SELECT recipient FROM outbox WHERE reference = ?", (reference,)
        ).fetchone()
        return row[0] if row else ""

    def claim(self, reference: str) -> tuple[str, bytes, int] | None:
        """Take a message to send it, in one transaction: (recipient, eml, attempts), or
        None when it is sent, or being sent by another live run.

        The claim names this process and the time; a claim whose process is gone (a run
        killed with SIGKILL) or that is too old is taken over.
        """
        me = f"{socket.gethostname()}:{os.getpid()}"
        with self.transaction() as db:
            row = db.execute(
                "SELECT status, claimed_by, claimed_at, recipient, eml, attempts FROM outbox"
                " WHERE reference = ?",
                (reference,),
            ).fetchone()
            if row is None or row["status"] not in MAIL_TO_SEND:
                return None
            if row["status"] == "sending" and _claim_alive(row["claimed_by"], row["claimed_at"]):
                return None
            # checked again here, in the transaction that takes it: a request recorded as
            # posted or answered since the run began never has its e-mail sent
            state = db.execute(
                "SELECT state FROM requests WHERE reference = ?", (reference,)
            ).fetchone()
            if state is None or not lifecycle.email_may_leave(state[0]):
                self._withdraw(db, reference, state[0] if state else "")
                return None
            db.execute(
                "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?,"
                " updated_at = ? WHERE reference = ?",
                (me, _now(), _now(), reference),
            )
        return row["recipient"], row["eml"], row["attempts"]

    def outbox_mark(
        self, reference: str, status: str, *, attempts: int | None = None, error: str | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = COALESCE(?, attempts),"
                " last_error = COALESCE(?, last_error), updated_at = ? WHERE reference = ?",
                (status, attempts, error, _now(), reference),
            )
            if status == "sending":  # the claim is renewed at each attempt
                db.execute(
                    "UPDATE outbox SET claimed_at = ? WHERE reference = ?", (_now(), reference)
                )
            if status in ("sent", "handed-over"):
                message_id = db.execute(
                    "SELECT message_id FROM outbox WHERE reference = ?", (reference,)
                ).fetchone()[0]
                today = self.today()
                self._transition(
                    db,
                    reference,
                    "sent",
                    today,
                    # "e-mail" first: the inbox tells these sendings from a posting
                    detail=f"e-mail, message_id={message_id}"
                    if status == "sent"
                    else f"e-mail handed over, message_id={message_id}",
                    columns={"sent_on": today, "message_id": message_id},
                    checked=False,
                    force=True,  # the server took it: that is a fact to record
                )
            elif status == "failed":
                self._event(db, reference, "send-failed", self.today(), error)

    def outbox_counts(self) -> dict[str, int]:
        return dict(
            self.db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )

    def outbox_status(self, reference: str) -> tuple[str, str | None] | None:
        row = self.db.execute(
            "SELECT status, last_error FROM outbox WHERE reference = ?", (reference,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    # -------------------------------------------------------------- reading

    def entry(self, reference: str) -> Entry:
        reference = canonical(reference)
        row = self.db.execute("SELECT * FROM requests WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise DsarError(
                _("no request {reference} in the journal {path}; see dsar status").format(
                    reference=reference, path=self.path
                )
            )
        return self._entry(row)

    def _entry(self, row) -> Entry:
        return Entry(
            reference=row["reference"],
            broker=row["broker"],
            right=row["right"],
            lang=row["lang"],
            medium=self._media(row["reference"]),
            member=row["member"],
            stored_state=row["state"],
            sent_on=_date(row["sent_on"]),
            received_on=_date(row["received_on"]),
            lrar_number=row["lrar_number"],
            message_id=row["message_id"],
            extended_on=_date(row["extended_on"]),
            reminded_on=_date(row["reminded_on"]),
            answered_on=_date(row["answered_on"]),
            subject=row["subject"],
            kind=row["kind"],
            letter_date=_date(row["letter_date"]),
            reminder_dated=_date(row["reminder_dated"]),
            follows=row["follows"],
        )

    def _media(self, reference: str) -> tuple[str, ...]:
        rows = self.db.execute(
            "SELECT medium FROM media WHERE reference = ? ORDER BY rowid", (reference,)
        )
        return media(r[0] for r in rows)

    def entries(self, *, broker: str | None = None, kind: str = "request") -> list[Entry]:
        query, args = "SELECT * FROM requests WHERE kind = ?", [kind]
        if broker:
            query += " AND broker = ?"
            args.append(broker)
        return [self._entry(row) for row in self.db.execute(query + " ORDER BY created_at", args)]

    def request(self, reference: str) -> Request:
        reference = canonical(reference)
        row = self.db.execute(
            "SELECT request_json FROM requests WHERE reference = ?", (reference,)
        ).fetchone()
        if row is None:
            raise DsarError(
                _("no request {reference} in the journal; see dsar status").format(
                    reference=reference
                )
            )
        return request_from_json(row[0])

    def page_html(self, reference: str) -> str | None:
        row = self.db.execute(
            "SELECT page_html FROM requests WHERE reference = ?", (reference,)
        ).fetchone()
        return row[0] if row else None

    def words(self, reference: str) -> tuple[str, str]:
        """The subject and plain text of the letter as it was written."""
        row = self.db.execute(
            "SELECT subject, body_text FROM requests WHERE reference = ?", (reference,)
        ).fetchone()
        if row is None:
            raise DsarError(f"no request {reference} in the journal; see dsar status")
        return row[0], row[1]

    def files(self, reference: str, role: str | None = None) -> list[tuple[str, Path, str]]:
        rows = self.db.execute(
            "SELECT role, path, sha256 FROM files WHERE reference = ? ORDER BY role, path",
            (reference,),
        )
        return [(r[0], Path(r[1]), r[2]) for r in rows if role in (None, r[0])]

    def display_names(self, reference: str) -> dict[Path, str]:
        """The names people gave the files they handed in (proofs, replies), by path."""
        rows = self.db.execute(
            "SELECT path, display_name FROM files WHERE reference = ? AND display_name IS NOT NULL",
            (reference,),
        )
        return {Path(path): name for path, name in rows}

    def events(self, reference: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM events WHERE reference = ? ORDER BY id", (reference,)
        ).fetchall()

    def steps(self, reference: str) -> list[dict]:
        """The request's life as a person reads it (dsar show, the dossier): steps()."""
        return steps(self.events(reference))
