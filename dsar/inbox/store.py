"""What the inbox remembers, in the journal's SQLite file: each message seen (by
content hash, and by Message-ID with its body's hash), how it matched, what it means,
whether it was applied or waits for the person, and how far an IMAP folder was read.

Its tables carry their own version (inbox_schema), so the journal's migrations and these
move independently; every table is created in one transaction, forward only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

MIGRATIONS = [
    """
    CREATE TABLE IF NOT EXISTS inbox_messages (
        id          INTEGER PRIMARY KEY,
        sha256      TEXT NOT NULL UNIQUE,
        message_id  TEXT UNIQUE,
        source      TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        sent_at     TEXT,
        sender      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        reference   TEXT,
        matched_by  TEXT,
        trusted     INTEGER NOT NULL DEFAULT 0,
        kind        TEXT NOT NULL,
        evidence    TEXT NOT NULL,
        facts       TEXT NOT NULL,
        path        TEXT NOT NULL,
        status      TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS inbox_messages_status ON inbox_messages(status);
    CREATE INDEX IF NOT EXISTS inbox_messages_reference ON inbox_messages(reference);
    CREATE TABLE IF NOT EXISTS inbox_attachments (
        message      INTEGER NOT NULL REFERENCES inbox_messages(id),
        name         TEXT NOT NULL,
        content_type TEXT NOT NULL,
        path         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        PRIMARY KEY (message, path)
    );
    CREATE TABLE IF NOT EXISTS inbox_imap (
        account     TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid    INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS inbox_schema (version INTEGER NOT NULL)
    """,
    # 2: a Message-ID is no key (anyone may reuse one: a ticket system for each answer of
    # a case); a message is known by its Message-ID and its body together (body_sha256)
    """
    CREATE TABLE inbox_messages_v2 (
        id          INTEGER PRIMARY KEY,
        sha256      TEXT NOT NULL UNIQUE,
        message_id  TEXT,
        source      TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        sent_at     TEXT,
        sender      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        reference   TEXT,
        matched_by  TEXT,
        trusted     INTEGER NOT NULL DEFAULT 0,
        kind        TEXT NOT NULL,
        evidence    TEXT NOT NULL,
        facts       TEXT NOT NULL,
        path        TEXT NOT NULL,
        status      TEXT NOT NULL,
        body_sha256 TEXT
    );
    INSERT INTO inbox_messages_v2 SELECT *, NULL FROM inbox_messages;
    CREATE TABLE inbox_attachments_v2 (
        message      INTEGER NOT NULL REFERENCES inbox_messages_v2(id),
        name         TEXT NOT NULL,
        content_type TEXT NOT NULL,
        path         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        PRIMARY KEY (message, path)
    );
    INSERT INTO inbox_attachments_v2 SELECT * FROM inbox_attachments;
    DROP TABLE inbox_attachments;
    DROP TABLE inbox_messages;
    ALTER TABLE inbox_messages_v2 RENAME TO inbox_messages;
    ALTER TABLE inbox_attachments_v2 RENAME TO inbox_attachments;
    CREATE INDEX inbox_messages_status ON inbox_messages(status);
    CREATE INDEX inbox_messages_reference ON inbox_messages(reference);
    CREATE INDEX inbox_messages_message_id ON inbox_messages(message_id)
    """,
]
# applied: its facts are recorded; review: waits for the person; unmatched: no request;
# kept: linked to its request, nothing new to record; confirmed / skipped: the person decided
STATUSES = ("applied", "kept", "review", "unmatched", "confirmed", "skipped")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def migrate(journal) -> None:
    db = journal.db
    have = db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='inbox_schema'"
    ).fetchone()
    version = db.execute("SELECT version FROM inbox_schema").fetchone()[0] if have else 0
    if version >= len(MIGRATIONS):
        return
    with journal.transaction() as tx:
        for number in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    tx.execute(statement)
        tx.execute("DELETE FROM inbox_schema")
        tx.execute("INSERT INTO inbox_schema VALUES (?)", (len(MIGRATIONS),))


@dataclass
class Seen:
    """What was already read, loaded once per run: a second run skips without parsing.
    A message is known by its content, or by its Message-ID and body together (a copy in
    another folder has other Received: lines); a reused Message-ID with another body is
    a new message."""

    hashes: set[str]
    keys: set[tuple[str, str]]  # (Message-ID, body hash)
    message_ids: set[str]  # read before bodies were hashed: by Message-ID alone

    def knows(self, sha: str, message_id: str | None, body: str) -> bool:
        if sha in self.hashes:
            return True
        return bool(message_id) and (
            (message_id, body) in self.keys or message_id in self.message_ids
        )

    def add(self, sha: str, message_id: str | None, body: str) -> None:
        self.hashes.add(sha)
        if message_id:
            self.keys.add((message_id, body))


def seen(db) -> Seen:
    found = Seen(set(), set(), set())
    rows = db.execute("SELECT sha256, message_id, body_sha256 FROM inbox_messages")
    for sha, mid, body in rows:
        found.hashes.add(sha)
        if mid and body:
            found.keys.add((mid, body))
        elif mid:
            found.message_ids.add(mid)
    return found


def insert(db, row: dict, attachments: list[tuple[str, str, str, str]]) -> int:
    cursor = db.execute(
        """INSERT INTO inbox_messages (sha256, message_id, source, seen_at, sent_at, sender,
               subject, reference, matched_by, trusted, kind, evidence, facts, path, status,
               body_sha256)
           VALUES (:sha256, :message_id, :source, :seen_at, :sent_at, :sender, :subject,
               :reference, :matched_by, :trusted, :kind, :evidence, :facts, :path, :status,
               :body_sha256)""",
        {
            **row,
            "seen_at": _now(),
            "evidence": json.dumps(row["evidence"], ensure_ascii=False),
            "facts": json.dumps(row["facts"], ensure_ascii=False),
        },
    )
    number = cursor.lastrowid
    for name, content_type, path, sha in attachments:
        db.execute(
            "INSERT OR IGNORE INTO inbox_attachments VALUES (?,?,?,?,?)",
            (number, name, content_type, path, sha),
        )
    return number


def message(db, number: int) -> dict | None:
    found = _rows(db, "SELECT * FROM inbox_messages WHERE id = ?", (number,))
    return found[0] if found else None


def messages(db, status: str | None = None) -> list[dict]:
    query = "SELECT * FROM inbox_messages"
    args: tuple = ()
    if status:
        query += " WHERE status = ?"
        args = (status,)
    return _rows(db, query + " ORDER BY id", args)


def _rows(db, query: str, args: tuple) -> list[dict]:
    found = []
    for row in db.execute(query, args):
        item = dict(row)
        item["evidence"] = json.loads(item["evidence"])
        item["facts"] = json.loads(item["facts"])
        item["attachments"] = [
            dict(a)
            for a in db.execute(
                "SELECT name, content_type, path, sha256 FROM inbox_attachments WHERE message = ?",
                (item["id"],),
            )
        ]
        found.append(item)
    return found


def decide(db, number: int, status: str, kind: str | None = None) -> None:
    db.execute(
        "UPDATE inbox_messages SET status = ?, kind = COALESCE(?, kind) WHERE id = ?",
        (status, kind, number),
    )


def imap_position(db, account: str) -> tuple[int, int] | None:
    row = db.execute(
        "SELECT uidvalidity, last_uid FROM inbox_imap WHERE account = ?", (account,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def imap_advance(db, account: str, uidvalidity: int, uid: int) -> None:
    db.execute(
        "INSERT INTO inbox_imap VALUES (?,?,?) ON CONFLICT(account) DO UPDATE SET "
        "uidvalidity = excluded.uidvalidity, last_uid = MAX(CASE WHEN inbox_imap.uidvalidity"
        " = excluded.uidvalidity THEN inbox_imap.last_uid ELSE 0 END, excluded.last_uid)",
        (account, uidvalidity, uid),
    )
