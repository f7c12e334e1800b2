"""A run of the inbox: each message read, kept, matched, understood, and recorded in one
transaction; what is unambiguous applied at once, the rest left for the person.

record() is the one place that writes a reply's meaning to the request, through the App's
public use cases (sent, answer) and the journal's evidence links.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import shlex
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import chain, islice
from pathlib import Path

from .. import follow
from ..errors import DsarError, InputError
from ..files import MAX_EVIDENCE_BYTES
from ..i18n import _
from ..render.mail import message_id_for
from ..vocabulary import ACCESS_ITEMS, ANSWER_STATE
from . import evidence, match, meaning, store
from .parse import Reply, parse
from .sources import HEAD, Raw

# applied without the person, when the match is trusted: facts, not judgements
AUTOMATIC = ("acknowledgement", "bounce")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# folded or not: "Message-ID:\r\n <id@host>" is as valid as on one line
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,500}>)", re.I | re.M)


@dataclass
class Outcome:
    """One message: what it is, which request, and what was done."""

    message_id: str | None
    reference: str | None
    matched_by: str | None
    kind: str
    evidence: list[str]
    applied: bool
    status: str
    where: str
    sender: str = ""
    subject: str = ""
    recipient: str | None = None
    member: str | None = None
    facts: dict = field(default_factory=dict)
    trusted: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    already: int = 0  # messages an earlier run read
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def index(app) -> match.Index:
    """The requests a reply may answer, with the Message-IDs dsar gave them."""
    found = match.Index()
    for entry in app.journal.entries():
        request = app.journal.request(entry.reference)
        addresses, domains = match.contacts_of(request.broker, request.recipient_email)
        ids = [entry.message_id, message_id_for(request)]
        found.add(
            match.Request(
                entry.reference,
                entry.broker,
                entry.member,
                entry.stored_state,
                addresses,
                domains,
                request.recipient_email,
                request.reply_to if request.reply_subaddress else None,
                match.domain_of(request.reply_email or ""),
            ),
            ids,
        )
    return found


def _head_only(raw: Raw) -> Raw:
    """A message over the evidence limit: its header block alone is read and kept."""
    end = _HEADER_END.search(raw.data, 0, HEAD)
    head = raw.data[: end.end() if end else HEAD]
    return Raw(head, raw.where, raw.uid, size=raw.size or len(raw.data))


def quick_message_id(data: bytes) -> str | None:
    """The Message-ID read from the header block alone: a second run skips unparsed."""
    end = _HEADER_END.search(data, 0, 1 << 20)
    found = _MESSAGE_ID.search(data, 0, end.start() if end else 1 << 20)
    return found.group(1).decode("ascii", "replace").lower() if found else None


def body_hash(data: bytes) -> str:
    """The hash of a message's body, line ends and trailing blanks aside: the same
    message in two mailboxes (other headers, CRLF or LF) has the same."""
    end = _HEADER_END.search(data)
    body = data[end.end() :] if end else b""
    return hashlib.sha256(body.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def facts_of(found: meaning.Meaning) -> dict:
    facts = {"day": found.day.isoformat() if found.day else None}
    if found.failed:
        facts["failed"] = found.failed
    if found.reason:
        facts["reason"] = found.reason[:300]
    if found.organisation:
        facts["organisation"] = found.organisation
    if found.said:
        facts["said"] = found.said
    if found.kind == "acknowledgement" and not found.receipt:
        facts["no-receipt"] = True  # an auto-reply or out-of-office: nobody read it yet
    return facts


def record(app, reference: str, kind: str, facts: dict, files: Iterable[Path]) -> str:
    """Record what a reply means on its request, through the App; returns what was done.
    The one function that changes a request from the inbox: the lifecycle's writes."""
    journal = app.journal
    # a bounce returns our own message: kept as the delivery report, never as a reply
    role = "bounce" if kind == "bounce" else "reply"
    for path in files:
        journal.add_file(reference, role, path)
    day = date.fromisoformat(facts["day"]) if facts.get("day") else app.today()
    if kind == "acknowledgement":
        entry = journal.entry(reference)
        if entry.received_on is not None or entry.sent_on is None or day < entry.sent_on:
            return "kept"
        app.sent(reference, entry.sent_on, received=day)
        return "received"
    if kind == "extension":
        app.answer(reference, day, extension=True)
        return "extension"
    state = ANSWER_STATE.get(kind)
    if state is None or (
        kind == "bounce" and not _only_by_email(journal, journal.entry(reference))
    ):
        return "kept"  # a bounce of an e-mail that never left, or of one medium of several
    note = {
        "bounce": lambda: _("not delivered to {failed}: {reason}").format(
            failed=", ".join(facts.get("failed", [])), reason=facts.get("reason", "")
        ),
        "processor": lambda: _("a processor; controller named: {name}").format(
            name=facts.get("organisation") or "?"
        ),
        "source-named": lambda: _("source named: {name}").format(name=facts.get("organisation")),
        "recipient-named": lambda: _("recipient named: {name}").format(
            name=facts.get("organisation")
        ),
        "erasure-confirmed": lambda: _("erasure confirmed"),
    }.get(kind, lambda: None)()
    missing = None
    if kind == "erasure-confirmed" and journal.request(reference).right != "erasure":
        # the letter asked access first: an erasure alone leaves Art. 15 unanswered
        state, missing = "partial", ACCESS_ITEMS
        note = _("erasure confirmed; the access part (source, recipients) is unanswered")
    app.answer(reference, day, state=state, note=note, missing=missing)
    return state


def _automatic(app, requests: match.Index, reference: str, kind: str, facts: dict) -> bool:
    """Is this fact one to apply without asking? A receipt date only when the words say
    received, while the request waits for its first answer and before it was overdue
    (a late acknowledgement never restarts the clock); a bounce only of the address the
    request went to, while no receipt is known."""
    if kind not in AUTOMATIC:
        return False
    entry = app.journal.entry(reference)
    day = date.fromisoformat(facts["day"]) if facts.get("day") else None
    if day is None or entry.sent_on is None or not (entry.sent_on <= day <= app.today()):
        return False
    if kind == "acknowledgement":
        due = entry.dates.answer_due
        return (
            entry.received_on is None
            and entry.stored_state == "sent"
            and entry.answered_on is None
            and not facts.get("no-receipt")
            and due is not None
            and day <= due
        )
    sent_to = requests.requests[reference].email
    return (
        entry.stored_state == "sent"
        and entry.received_on is None
        and bool(sent_to)
        and sent_to.lower() in facts.get("failed", [])
        and _only_by_email(app.journal, entry)
    )


def _only_by_email(journal, entry) -> bool:
    """Whether the request left by e-mail and by nothing else: a bounce stops only what
    bounced. An e-mail still queued (or withdrawn) never left, so the bounce is not its;
    a letter posted as well runs its own deadline, which no bounce cancels."""
    outbox = journal.outbox_status(entry.reference)
    if outbox is not None:
        posted = any(
            e["what"] == "sent" and not (e["detail"] or "").startswith("e-mail")
            for e in journal.events(entry.reference)
        )
        return outbox[0] in ("sent", "handed-over") and not posted
    return tuple(entry.medium) == ("email",)  # sent by the person's own mail, recorded


def read(app, raws: Iterable[Raw], *, dry_run: bool = False, imap=None) -> Run:
    """Read every message of a source once. `imap`: (account, uidvalidity) of an IMAP
    folder, whose position advances with each message, in the same transaction."""
    journal = app.journal
    if not dry_run:
        store.migrate(journal)
    seen = store.seen(journal.db) if _has_store(journal) else store.Seen(set(), set(), set())
    requests = index(app)
    folder = journal.path.parent / "attachments"
    run = Run()
    last_uid = 0

    def fresh() -> Iterator[tuple[Raw, str]]:
        """The messages no earlier run read: known by hash or Message-ID, unparsed."""
        nonlocal last_uid
        for raw in raws:
            last_uid = max(last_uid, raw.uid or 0)
            if raw.too_big:
                raw = _head_only(raw)
            sha = hashlib.sha256(raw.data).hexdigest()
            if seen.knows(sha, quick_message_id(raw.data), body_hash(raw.data)):
                run.already += 1
                continue
            yield raw, sha

    for raw, sha, reply, found in understood(fresh()):
        if raw.too_big:  # its headers say who and what; the person keeps the message
            reply.attachments = []
            found = meaning.Meaning(
                "other",
                [
                    f"message of {raw.size >> 20} MB, over the {MAX_EVIDENCE_BYTES >> 20} MB "
                    f"dsar keeps: its headers alone are kept; keep it yourself ({raw.where})"
                ],
            )
        body = body_hash(raw.data)
        if seen.knows(sha, reply.message_id, body):
            run.already += 1  # twice in this source, or a Message-ID the quick look missed
            continue
        matched = match.match(reply, requests)
        seen.add(sha, reply.message_id, body)
        request = requests.requests.get(matched.reference) if matched.reference else None
        outcome = Outcome(
            message_id=reply.message_id,
            reference=matched.reference,
            matched_by=matched.matched_by,
            kind=found.kind,
            evidence=found.evidence,
            applied=False,
            status="unmatched" if matched.reference is None else "review",
            where=raw.where,
            sender=reply.sender,
            subject=reply.subject[:200],
            recipient=request.broker if request else None,
            member=request.member if request else None,
            facts=facts_of(found),
            trusted=matched.trusted,
        )
        if matched.candidates and matched.reference is None:
            outcome.facts["candidates"] = matched.candidates
        if not dry_run:
            _keep_and_record(app, requests, run, outcome, reply, raw, (sha, body), folder, imap)
        elif matched.trusted and _automatic(
            app, requests, matched.reference, found.kind, outcome.facts
        ):
            outcome.applied = True  # what a real run would apply
        run.outcomes.append(outcome)
    if imap and last_uid and not dry_run:  # past the messages read before, too
        with journal.transaction() as db:
            store.imap_advance(db, imap[0], imap[1], last_uid)
    return run


INLINE_FIRST = 200  # a source this small is read without starting worker processes


def understand(data: bytes) -> tuple[Reply, meaning.Meaning]:
    """Parse a message and apply the rules: pure, so it runs in a worker as well. A
    message that defeats the parser is kept and shown as unreadable, never a traceback."""
    reply = parse(data)  # never raises: at worst the headers alone
    try:
        return reply, meaning.classify(reply)
    except Exception as exc:  # hostile input: the run goes on, sender and subject kept
        return reply, meaning.Meaning("other", [f"unreadable message ({type(exc).__name__})"])


def understood(items: Iterable[tuple[Raw, str]]) -> Iterator[tuple]:
    """(raw, sha, reply, meaning) in the order read; past the first INLINE_FIRST, parsing
    and the rules run in worker processes (one per core) while this one records."""
    items = iter(items)
    for raw, sha in islice(items, INLINE_FIRST):
        yield raw, sha, *understand(raw.data)
    first = next(items, None)
    if first is None:
        return
    workers = max(1, (os.cpu_count() or 1))
    if workers == 1:
        for raw, sha in chain([first], items):
            yield raw, sha, *understand(raw.data)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dsar.inbox.apply"])
    waiting: deque = deque()  # (raw, sha, future or None), in the order read
    broken = False
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for raw, sha in chain([first], items):
            future = None
            if not broken:
                try:
                    future = pool.submit(understand, raw.data)
                except BrokenProcessPool:
                    broken = True
            waiting.append((raw, sha, future))
            while len(waiting) > IN_FLIGHT * workers:
                *done, broken = _collect(*waiting.popleft(), broken)
                yield done[0], done[1], *done[2]
        while waiting:
            *done, broken = _collect(*waiting.popleft(), broken)
            yield done[0], done[1], *done[2]


IN_FLIGHT = 32  # messages given to each worker ahead: bounded memory, workers kept busy


def _collect(raw: Raw, sha: str, future, broken: bool):
    """A worker's result; once a worker died (killed, out of memory) the pool is broken
    and the rest is read here: a run never hangs on a dead worker."""
    if future is not None and not broken:
        try:
            return raw, sha, future.result(), False
        except BrokenProcessPool:
            broken = True
    return raw, sha, understand(raw.data), broken


def _has_store(journal) -> bool:
    return (
        journal.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='inbox_messages'"
        ).fetchone()
        is not None
    )


def _keep_and_record(
    app, requests, run: Run, outcome: Outcome, reply, raw: Raw, hashes, folder, imap
):
    journal = app.journal
    sha, body = hashes
    path, _sha = evidence.keep(raw.data, folder, "message.eml", sha)
    kept = [
        (a.name, a.content_type, *map(str, evidence.keep(a.data, folder, a.name)))
        for a in reply.attachments
    ]
    files = [path, *(Path(k[2]) for k in kept)]
    with journal.grouped(every=1 << 30):  # one transaction: the message and what it did
        reference = outcome.reference
        if reference and outcome.trusted:
            if _automatic(app, requests, reference, outcome.kind, outcome.facts):
                try:
                    record(app, reference, outcome.kind, outcome.facts, files)
                    outcome.applied, outcome.status = True, "applied"
                except DsarError as exc:
                    run.warnings.append(f"{reference}: {exc}")
            elif outcome.kind == "acknowledgement" and journal.entry(reference).received_on:
                record(app, reference, outcome.kind, {}, files)  # the receipt is known
                outcome.status = "kept"
        store.insert(
            journal.db,
            {
                "sha256": sha,
                "message_id": outcome.message_id,
                "source": raw.where,
                "sent_at": reply.sent.isoformat() if reply.sent else None,
                "sender": outcome.sender,
                "subject": outcome.subject,
                "reference": reference,
                "matched_by": outcome.matched_by,
                "trusted": int(outcome.trusted),
                "kind": outcome.kind,
                "evidence": outcome.evidence,
                "facts": outcome.facts,
                "path": str(path),
                "status": outcome.status,
                "body_sha256": body,
            },
            [(n, t, p, s) for n, t, p, s in kept],
        )
        if imap:
            store.imap_advance(journal.db, imap[0], imap[1], raw.uid)
    run.written.append(path)


# ------------------------------------------------------------------ the person decides


def pending(app) -> list[dict]:
    store.migrate(app.journal)
    return store.messages(app.journal.db, "review") + store.messages(app.journal.db, "unmatched")


def _waiting(app, number: int) -> dict:
    """Message `number` if it still waits for the person, read inside the caller's
    transaction: two confirmations at once find it waiting only once."""
    item = store.message(app.journal.db, number)
    if item is None or item["status"] not in ("review", "unmatched"):
        raise DsarError(_("no message {number} waits for review").format(number=number))
    return item


def confirm(
    app, number: int, kind: str, reference: str | None = None, day: date | None = None
) -> str:
    """The person's word on one message: recorded on its request, in one transaction
    (BEGIN IMMEDIATE) that also checks the message still waits. `day`: the day it came,
    when the person corrects the message's Date header (a sender's clock, or a lie)."""
    if kind not in meaning.KINDS:
        raise InputError("not_a_choice", field="kind", value=kind, choices=", ".join(meaning.KINDS))
    store.migrate(app.journal)
    with app.journal.grouped(every=1 << 30):
        item = _waiting(app, number)
        reference = reference or item["reference"]
        if not reference:
            raise DsarError(
                _("message {number} matches no request: give its reference").format(number=number),
                field="reference",
            )
        files = [Path(item["path"]), *(Path(a["path"]) for a in item["attachments"])]
        facts = {**item["facts"], "day": day.isoformat()} if day else item["facts"]
        done = record(app, app.journal.entry(reference).reference, kind, facts, files)
        app.journal.db.execute(
            "UPDATE inbox_messages SET reference = ?, matched_by = COALESCE(matched_by,"
            " 'person') WHERE id = ?",
            (reference.upper(), number),
        )
        store.decide(app.journal.db, number, "confirmed", kind)
    return done


def message(app, number: int) -> dict:
    found = store.message(app.journal.db, number)
    if found is None:
        raise DsarError(_("no message {number}").format(number=number))
    return found


def skip(app, number: int) -> None:
    """Set aside a message that waits; one already applied or decided stays as it is."""
    store.migrate(app.journal)
    with app.journal.transaction() as db:
        _waiting(app, number)
        store.decide(db, number, "skipped")


def next_action(app, reference: str, facts: dict) -> str:
    """What follows, in words: the journal's next step, and the next request to a
    source, recipient or controller the reply named when the registry knows it."""
    from ..app import ASKED_STEP, FOLLOW_NEXT, NEXT_STEP
    from ..journal import next_step

    entry = app.journal.entry(reference)
    step = NEXT_STEP.get(entry.stored_state)
    words = _(step).format(reference=entry.reference) if step else next_step(entry, app.today())
    named = facts.get("organisation")
    if named:
        slugs = app.registry.search(named)
        target = app.registry.brokers.get(slugs[0]) if len(slugs) == 1 else None
        asked = follow.already_asked(app.journal, entry.reference, target, named)
        if asked:  # written to already (dsar follow, or with this request): never again
            return words + "; " + _(ASKED_STEP).format(name=named, asked=asked)
        # the next request cites this answer and follows this request (dsar follow)
        command = (
            f"dsar follow {entry.reference} --to {slugs[0]}"
            if len(slugs) == 1
            else f"dsar follow {entry.reference} --to-name {shlex.quote(named)}"
        )
        if entry.stored_state in ("answered", "closed"):  # nothing else to do: as dsar show
            return _(FOLLOW_NEXT).format(name=named, command=command)
        words += "; " + _("write to {name} next: {command}").format(name=named, command=command)
    return words


# ------------------------------------------------------------------ the summary


def summary(outcomes: list[Outcome]) -> dict[str, Counter]:
    """Counts per recipient (and per member, for an association): applied kinds, to
    review, unmatched."""
    groups: dict[str, Counter] = {}
    for outcome in outcomes:
        keys = [outcome.recipient or "-"]
        if outcome.member:
            keys.append(f"member:{outcome.member}")
        for key in ["*", *keys]:
            counts = groups.setdefault(key, Counter())
            counts["messages"] += 1
            if outcome.status == "unmatched":
                counts["unmatched"] += 1
            elif outcome.status == "review" and not outcome.applied:  # dry run: as applied
                counts["review"] += 1
            else:
                counts[outcome.kind] += 1
    return groups
