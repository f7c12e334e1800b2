"""The journal: a SQLite record of every request, its proofs, deadlines and answers.

One file in DSAR_HOME (mode 0600), shared by generate, batch sending and the follow-up
commands. Every change is one transaction: a crash leaves a request fully recorded
or absent. The schema is versioned with PRAGMA user_version and migrated forward.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import TypeAdapter

from . import clock, deadlines
from .errors import DsarError, JournalError
from .files import write_private
from .models import Request
from .vocabulary import ANSWER_STATES, MAIL_TO_SEND, WAITING

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
]
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
    def deadline(self) -> date | None:
        if self.receipt is None:
            return None
        return deadlines.deadline(self.receipt, extended=self.extended_on is not None)

    @property
    def final_deadline(self) -> date | None:
        return deadlines.final_deadline(self.reminded_on) if self.reminded_on else None

    def state(self, as_of: date) -> str:
        if self.stored_state in WAITING and self.deadline and as_of > self.deadline:
            return "overdue"
        return self.stored_state

    def days_left(self, as_of: date) -> int | None:
        end = self.final_deadline if self.stored_state == "reminded" else self.deadline
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
            "reminded_on": iso(self.reminded_on),
            "final_deadline": iso(self.final_deadline),
        }


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


MEMORY = ":memory:"


class Journal:
    """Journal(path) opens (or creates) the journal file; Journal(":memory:") opens one
    that lives as long as the object, for unit tests and dry runs."""

    def __init__(self, path: Path | str):
        self.in_memory = str(path) == MEMORY
        self.path = Path(path)
        if not self.in_memory:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # create it private before SQLite does (WAL and SHM files copy its mode)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a killed process loses no commit (SQLite's own guarantee); only a
            # power cut may drop the last few, never corrupt. FULL cost an fsync per request.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {self.path} has schema version {version}, newer than this dsar "
                f"knows ({SCHEMA_VERSION}); upgrade dsar to read it"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction():
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

    @contextmanager
    def grouped(self, every: int = 100) -> Iterator[Callable[[], None]]:
        """Many writes in few transactions: yields tick(), to call once per unit of work,
        which commits every `every` units. A commit costs ~0.45 ms here, more than
        recording a batch letter. Each transaction() inside is a savepoint, whole or
        undone; an exception commits the whole ones before it is raised on. A killed
        process loses at most the uncommitted units, which a rerun redoes (nothing is
        sent from inside a group)."""
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
        """Record a generated letter and its files in one transaction (replaces a redo)."""
        with self.transaction() as db:
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
                    "INSERT INTO files VALUES (?,?,?,?)",
                    (request.reference, role, str(path.resolve()), sha256_file(path)),
                )
            self._event(db, request.reference, "generated", request.letter_date, medium)

    def _event(self, db, reference: str, what: str, on: date | None, detail: str | None = None):
        db.execute(
            "INSERT INTO events (reference, at, on_date, what, detail) VALUES (?,?,?,?,?)",
            (reference, _now(), on.isoformat() if on else None, what, detail),
        )

    def _update(self, reference: str, what: str, on: date | None, detail: str | None, **columns):
        self.entry(reference)  # raises for an unknown reference
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
    ) -> None:
        entry = self.entry(reference)
        columns = {"sent_on": on, "state": "received" if received else "sent"}
        if entry.stored_state not in ("draft", "sent", "received"):
            columns.pop("state")  # recording a late proof must not undo an answer
        if lrar:
            columns["lrar_number"] = lrar
        if received:
            if received < on:
                raise DsarError(f"received {received} is before sent {on}")
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
        entry = self.entry(reference)
        if entry.receipt is None:
            raise DsarError(
                f"{reference} was never recorded as sent: run dsar sent {reference} --on DATE first"
            )
        self._update(reference, "extension", on, None, extended_on=on, state="extended")

    def mark_answer(
        self,
        reference: str,
        state: str,
        on: date,
        note: str | None = None,
        files: list[Path] = (),
    ) -> list[Path]:
        """Record an answer; reply files are copied beside the journal, private."""
        if state not in ANSWER_STATES:
            raise DsarError(f"'{state}' is not an answer state; use {', '.join(ANSWER_STATES)}")
        self.entry(reference)
        if files and self.in_memory:
            raise DsarError("an in-memory journal keeps no reply files")
        kept = self._keep(reference, files)
        with self.transaction() as db:
            db.execute(
                "UPDATE requests SET state = ?, answered_on = ? WHERE reference = ?",
                (state, on.isoformat(), reference),
            )
            for path in kept:
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?,?,?,?)",
                    (reference, "reply", str(path), sha256_file(path)),
                )
            self._event(db, reference, f"answer:{state}", on, note)
        return kept

    def _keep(self, reference: str, files) -> list[Path]:
        """Copy evidence beside the journal, private; an existing copy is never overwritten."""
        for source in files:
            if not source.is_file():
                raise DsarError(f"{source}: no such file")
        kept = []
        for source in files:
            folder = self.path.parent / "attachments" / reference
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            target = folder / source.name
            if target.exists() and target.read_bytes() != source.read_bytes():
                stem, n = target.stem, 2
                while target.exists():
                    target, n = folder / f"{stem}-{n}{source.suffix}", n + 1
            if not target.exists():
                write_private(target, source.read_bytes())
            kept.append(target)
        return kept

    def add_proofs(self, reference: str, files) -> list[Path]:
        """Proofs of sending (receipt scan, screenshot of the message) for the dossier."""
        self.entry(reference)
        if files and self.in_memory:
            raise DsarError("an in-memory journal keeps no proof files")
        kept = self._keep(reference, files)
        with self.transaction() as db:
            for path in kept:
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?,?,?,?)",
                    (reference, "proof", str(path), sha256_file(path)),
                )
                self._event(db, reference, "proof", None, path.name)
        return kept

    def mark_reminded(self, reference: str, on: date, reminder_ref: str) -> None:
        self._update(reference, "reminded", on, reminder_ref, reminded_on=on, state="reminded")

    def mark_complained(self, reference: str, on: date, detail: str) -> None:
        self._update(reference, "complained", on, detail, state="complained")

    def add_file(self, reference: str, role: str, path: Path) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?)",
                (reference, role, str(path.resolve()), sha256_file(path)),
            )

    def has(self, reference: str) -> bool:
        found = self.db.execute("SELECT 1 FROM requests WHERE reference = ?", (reference,))
        return found.fetchone() is not None

    def queued(self, reference: str) -> bool:
        found = self.db.execute("SELECT 1 FROM outbox WHERE reference = ?", (reference,))
        return found.fetchone() is not None

    # -------------------------------------------------------------- the outbox

    def queue(self, reference: str, message_id: str, recipient: str, eml: bytes) -> bool:
        """Queue an e-mail once; a message already queued or sent is left as it is."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (reference, message_id, recipient, eml, updated_at)"
                " VALUES (?,?,?,?,?)",
                (reference, message_id, recipient, eml, _now()),
            )
        return cursor.rowcount == 1

    def outbox_waiting(self) -> int:
        return self.db.execute(
            f"SELECT count(*) FROM outbox WHERE status IN {_MAIL_TO_SEND_SQL}"
        ).fetchone()[0]

    def outbox_pending(self) -> Iterator[tuple[str, str, bytes, int]]:
        references = [
            r[0]
            for r in self.db.execute(
                f"SELECT reference FROM outbox WHERE status IN {_MAIL_TO_SEND_SQL} ORDER BY rowid"
            )
        ]
        for reference in references:
            row = self.db.execute(
                "SELECT recipient, eml, attempts, status FROM outbox WHERE reference = ?",
                (reference,),
            ).fetchone()
            if row["status"] in MAIL_TO_SEND:  # not taken by another run meanwhile
                yield reference, row["recipient"], row["eml"], row["attempts"]

    def outbox_mark(
        self, reference: str, status: str, *, attempts: int | None = None, error: str | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = COALESCE(?, attempts),"
                " last_error = COALESCE(?, last_error), updated_at = ? WHERE reference = ?",
                (status, attempts, error, _now(), reference),
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
        row = self.db.execute("SELECT * FROM requests WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise DsarError(f"no request {reference} in the journal {self.path}; see dsar status")
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
        row = self.db.execute(
            "SELECT request_json FROM requests WHERE reference = ?", (reference,)
        ).fetchone()
        if row is None:
            raise DsarError(f"no request {reference} in the journal; see dsar status")
        return request_from_json(row[0])

    def page_html(self, reference: str) -> str | None:
        row = self.db.execute(
            "SELECT page_html FROM requests WHERE reference = ?", (reference,)
        ).fetchone()
        return row[0] if row else None

    def files(self, reference: str, role: str | None = None) -> list[tuple[str, Path, str]]:
        rows = self.db.execute(
            "SELECT role, path, sha256 FROM files WHERE reference = ? ORDER BY role, path",
            (reference,),
        )
        return [(r[0], Path(r[1]), r[2]) for r in rows if role in (None, r[0])]

    def events(self, reference: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM events WHERE reference = ? ORDER BY id", (reference,)
        ).fetchall()
