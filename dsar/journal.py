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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from time import sleep as _sleep

from pydantic import TypeAdapter

from . import clock, deadlines, letters
from .errors import DsarError, JournalError
from .files import make_private_dir, store_by_content
from .i18n import N_, _
from .models import Request
from .safety import printable
from .vocabulary import ANSWER_STATES, MAIL_TO_SEND, WAITING

REBUILDABLE = ("queued", "deferred")  # never handed to a server: may still be rebuilt
# a claim older than this is taken over even if its process id is alive again (pid reuse):
# one message with every retry takes a few minutes at most
CLAIM_EXPIRES_AFTER = 15 * 60
_MAIL_TO_SEND_SQL = "(" + ", ".join(f"'{s}'" for s in MAIL_TO_SEND) + ")"

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
    # 5: the name a person gave a file they handed in (shown to them; never a path)
    """
    ALTER TABLE files ADD COLUMN display_name TEXT
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


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


def is_preview(medium: str) -> bool:
    """Plain text on the terminal only: nothing left the machine, nothing to record."""
    return set(medium.split(",")) <= {"text"}


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
    """One request as the journal knows it, with its deadline worked out."""

    reference: str
    broker: str
    right: str
    lang: str
    medium: str
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

    @property
    def receipt(self) -> date | None:
        """Art. 12(3) counts from receipt; the sending date stands in when unknown."""
        return self.received_on or self.sent_on

    @property
    def receipt_is_estimated(self) -> bool:
        return self.received_on is None and self.sent_on is not None

    @property
    def extension_counts(self) -> bool:
        """An extension notified after the first month does not move the deadline (12(3))."""
        return (
            self.extended_on is not None
            and self.receipt is not None
            and deadlines.extension_counts(self.receipt, self.extended_on)
        )

    @property
    def deadline(self) -> date | None:
        if self.receipt is None:
            return None
        return deadlines.deadline(self.receipt, extended=self.extension_counts)

    @property
    def late_extension_note(self) -> str | None:
        if self.extended_on is None or self.receipt is None or self.extension_counts:
            return None
        return _(
            "the extension notified on {extended} came after the first month, which ended on "
            "{ended}: it does not move the deadline (Art. 12(3) GDPR)"
        ).format(extended=self.extended_on, ended=deadlines.deadline(self.receipt))

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
        return deadlines.final_deadline(self.reminded_on) if self.reminded_on else None

    def state(self, as_of: date) -> str:
        if self.stored_state in WAITING and self.deadline and as_of > self.deadline:
            return "overdue"
        return self.stored_state

    @property
    def due(self) -> date | None:
        """The deadline in force: the reminder's final one once reminded."""
        return self.final_deadline if self.stored_state == "reminded" else self.deadline

    def days_left(self, as_of: date) -> int | None:
        end = self.due
        if end is None or self.stored_state not in (*WAITING, "reminded"):
            return None
        return (end - as_of).days

    def as_dict(self, as_of: date) -> dict:
        def iso(d):
            return d.isoformat() if d else None

        return {
            "reference": self.reference,
            "broker": self.broker,
            "right": self.right,
            "medium": self.medium,
            "member": self.member,
            "sent": iso(self.sent_on),
            "received": iso(self.received_on),
            "receipt_estimated": self.receipt_is_estimated,
            "deadline": iso(self.deadline),
            "days_left": self.days_left(as_of),
            "state": self.state(as_of),
            "lrar_number": self.lrar_number,
            "message_id": self.message_id,
            "extended_on": iso(self.extended_on),
            "extension_counts": self.extension_counts,
            "notes": self.deadline_notes,
            "reminded_on": iso(self.reminded_on),
            "final_deadline": iso(self.final_deadline),
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
        "complained": _("wait for the CNIL's answer"),
    }
    return steps.get(state, "").format(ref=ref, deadline=entry.deadline, final=entry.final_deadline)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


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

    def __init__(self, path: Path | str):
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
                for statement in MIGRATIONS[number].split(";"):
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
        medium: str,
        page_html: str | None = None,
        files: dict[str, Path] | None = None,
        kind: str = "request",
    ) -> None:
        """Record a generated letter and its files in one transaction.

        A redo replaces a draft; a request that is no longer a draft is evidence and is
        never changed (free_reference() gives a later letter its own reference). A text
        preview is not recorded.
        """
        if is_preview(medium):
            return
        with self.transaction() as db:
            self.check_recordable(request.reference, medium, db)
            db.execute("DELETE FROM files WHERE reference = ?", (request.reference,))
            db.execute(
                """INSERT INTO requests (reference, created_at, kind, broker, right, lang, medium,
                       member, mandate_ref, request_json, subject, body_text, page_html)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(reference) DO UPDATE SET medium=excluded.medium,
                       request_json=excluded.request_json, subject=excluded.subject,
                       body_text=excluded.body_text, page_html=excluded.page_html""",
                (
                    request.reference,
                    _now(),
                    kind,
                    request.broker.slug,
                    request.right,
                    request.lang,
                    medium,
                    request.requester.name if request.mandate else None,
                    request.mandate.reference if request.mandate else None,
                    request_to_json(request),
                    subject,
                    body_text,
                    page_html,
                ),
            )
            for role, path in (files or {}).items():
                db.execute(
                    "INSERT INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                    (request.reference, role, str(path.resolve()), sha256_file(path)),
                )
            self._event(db, request.reference, "generated", request.letter_date, medium)

    def check_recordable(self, reference: str, medium: str, db=None) -> None:
        """Refuse a letter under a reference that left the machine, before its files are
        written: they would land on that request's evidence (a second `complain --force`)."""
        if is_preview(medium):
            return
        found = (
            (db or self.db)
            .execute("SELECT state FROM requests WHERE reference = ?", (reference,))
            .fetchone()
        )
        if found and found[0] != "draft":
            raise DsarError("already_left", reference=reference, state=found[0])

    def _event(self, db, reference: str, what: str, on: date | None, detail: str | None = None):
        db.execute(
            "INSERT INTO events (reference, at, on_date, what, detail) VALUES (?,?,?,?,?)",
            (reference, _now(), on.isoformat() if on else None, what, detail),
        )

    # the steps whose date is checked, as a message names them
    STEP_WORDS = {
        "sent": N_("sent"),
        "extension": N_("extension"),
        "received": N_("received"),
        "answer": N_("answer"),
        "reminded": N_("reminded"),
        "complained": N_("complained"),
    }

    def check_day(self, reference: str, on: date, what: str) -> None:
        """A date the journal records: not before the letter, not after today.

        The bound on today also keeps every year one that deadlines can add months to.
        """
        letter_date = self.request(reference).letter_date
        today = clock.today()
        what = _(self.STEP_WORDS[what]) if what in self.STEP_WORDS else what
        if on < letter_date:
            raise DsarError(
                _(
                    "{what} on {on} is before the letter's date ({letter_date}); check the date"
                ).format(what=what, on=on, letter_date=letter_date)
            )
        if on > today:
            raise DsarError(
                _(
                    "{what} on {on} is in the future (today is {today}); record it once it happened"
                ).format(what=what, on=on, today=today)
            )

    def _update(self, reference: str, what: str, on: date | None, detail: str | None, **columns):
        reference = canonical(reference)
        self.entry(reference)  # raises for an unknown reference
        if on is not None:
            self.check_day(reference, on, what)
        with self.transaction() as db:
            if columns:
                assignments = ", ".join(f"{name} = ?" for name in columns)
                values = [v.isoformat() if isinstance(v, date) else v for v in columns.values()]
                db.execute(
                    f"UPDATE requests SET {assignments} WHERE reference = ?",
                    (*values, reference),
                )
            self._event(db, reference, what, on, detail)

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
        reference = canonical(reference)
        entry = self.entry(reference)
        if entry.stored_state == "complained" and not force:
            raise DsarError(
                f"{reference} is already the subject of a complaint to the CNIL; recording a "
                "sending now changes its dossier's facts: add --force if that is what you mean"
            )
        if received:
            self.check_day(reference, received, "received")
        columns = {"sent_on": on, "state": "received" if received else "sent"}
        if entry.stored_state not in ("draft", "sent", "received"):
            columns.pop("state")  # recording a late proof must not undo an answer
        if lrar:
            columns["lrar_number"] = lrar
        if received:
            if received < on:
                raise DsarError(
                    _("received {received} is before sent {sent}").format(
                        received=received, sent=on
                    )
                )
            columns["received_on"] = received
        if message_id:
            columns["message_id"] = message_id
        detail = ", ".join(
            f"{k}={v}"
            for k, v in (("lrar", lrar), ("received", received), ("message_id", message_id))
            if v
        )
        self._update(reference, "sent", on, detail or None, **columns)

    def mark_extension(self, reference: str, on: date) -> None:
        reference = canonical(reference)
        entry = self.entry(reference)
        if entry.receipt is None:
            raise DsarError(
                _(
                    "{reference} was never recorded as sent: run dsar sent {reference} --on DATE first"
                ).format(reference=reference)
            )
        if deadlines.extension_counts(entry.receipt, on):
            self._update(reference, "extension", on, None, extended_on=on, state="extended")
        else:  # recorded, but too late to move the deadline or change the state
            self._update(reference, "extension", on, "late", extended_on=on)

    def mark_answer(
        self,
        reference: str,
        state: str,
        on: date,
        note: str | None = None,
        files: list[Path] = (),
    ) -> list[Path]:
        """Record an answer; reply files are copied beside the journal, private."""
        reference = canonical(reference)
        if state not in ANSWER_STATES:
            raise DsarError(
                _("'{value}': use {choices}").format(value=state, choices=", ".join(ANSWER_STATES))
            )
        self.entry(reference)
        self.check_day(reference, on, "answer")
        kept = self.keep(reference, files)
        with self.transaction() as db:
            db.execute(
                "UPDATE requests SET state = ?, answered_on = ? WHERE reference = ?",
                (state, on.isoformat(), reference),
            )
            for path in kept:  # named by their content: never replaced
                db.execute(
                    "INSERT OR IGNORE INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                    (reference, "reply", str(path), sha256_file(path)),
                )
            self._event(db, reference, f"answer:{state}", on, note)
        return kept

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

    def mark_reminded(self, reference: str, on: date, reminder_ref: str) -> None:
        reference = canonical(reference)
        self._update(reference, "reminded", on, reminder_ref, reminded_on=on, state="reminded")

    def mark_complained(self, reference: str, on: date, detail: str) -> None:
        reference = canonical(reference)
        self._update(reference, "complained", on, detail, state="complained")

    def add_file(self, reference: str, role: str, path: Path) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (reference, role, path, sha256) VALUES (?,?,?,?)",
                (reference, role, str(path.resolve()), sha256_file(path)),
            )

    def free_reference(self, request: Request) -> Request:
        """The request under a reference that no request which left the machine holds.

        The reference is a hash of who, to whom, what and when: a second letter the same
        day would land on the first. A draft may be redone in place; a request that left
        keeps its reference, and the new one gets the next of a stable series.
        """
        reference, number = request.reference, 1
        while True:
            found = self.db.execute(
                "SELECT state FROM requests WHERE reference = ?", (reference,)
            ).fetchone()
            if found is None or found[0] == "draft":
                break
            number += 1
            reference = letters.reference_for(request.reference, str(number))
        return dataclasses.replace(request, reference=reference)

    def forget(self, reference: str) -> list[Path]:
        """Drop a draft from the journal; anything that left stays, as evidence.

        Returns the files the draft had, which stay on disk for the person to delete.
        """
        reference = canonical(reference)
        entry = self.entry(reference)
        if entry.stored_state != "draft":
            raise DsarError(
                _(
                    "{reference} is not a draft ({state}): it stays in the journal as evidence"
                ).format(reference=reference, state=entry.stored_state)
            )
        files = [path for _, path, _ in self.files(reference)]
        with self.transaction() as db:
            outbox = db.execute(
                "SELECT status FROM outbox WHERE reference = ?", (reference,)
            ).fetchone()
            if outbox and outbox[0] not in ("queued", "deferred", "failed"):
                raise DsarError(
                    _("{reference}: its e-mail is {status}; it stays as evidence").format(
                        reference=reference, status=outbox[0]
                    )
                )
            for table in ("outbox", "files", "events", "requests"):
                db.execute(f"DELETE FROM {table} WHERE reference = ?", (reference,))
        return files

    def show(self, reference: str, as_of: date) -> dict:
        """One request whole: recipient, right, files, every step, deadline, next step."""
        reference = canonical(reference)
        entry = self.entry(reference)
        request = self.request(reference)
        outbox = self.outbox_status(reference)
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
                for e in self.events(reference)
            ],
            "email": outbox[0] if outbox else None,
            "next_step": next_step(entry, as_of),
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

    def outbox_waiting(self, references: Iterable[str] | None = None) -> list[str]:
        """References of messages still to send, in queue order: all, or those given."""
        waiting = [
            r[0]
            for r in self.db.execute(
                f"SELECT reference FROM outbox WHERE status IN {_MAIL_TO_SEND_SQL} ORDER BY rowid"
            )
        ]
        if references is None:
            return waiting
        wanted = set(references)
        return [r for r in waiting if r in wanted]

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
                today = clock.today()
                db.execute(
                    "UPDATE requests SET state = CASE WHEN state = 'draft' THEN 'sent' ELSE state END,"
                    " sent_on = ?, message_id = ? WHERE reference = ?",
                    (today.isoformat(), message_id, reference),
                )
                if status == "sent":
                    self._event(db, reference, "sent", today, f"e-mail, message_id={message_id}")
            elif status == "failed":
                self._event(db, reference, "send-failed", clock.today(), error)

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
            medium=row["medium"],
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
        )

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
