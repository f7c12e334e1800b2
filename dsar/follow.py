"""Follow the number: from an answer that named an organisation to the next request.

A broker that answers "your number came from X" or "we only acted for Y" hands the
person the next address (shared LEGAL.md, "Answers, and what each one starts"). This
module finds that answer (the inbox's reading of it, or the answer typed in), the
organisation it named (registry, then the datenanfragen records, else the contact the
person gives), and the chain of requests a message led to (`trail`). Writing the
letters is App's; an association's run of them is `batch_follow`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import importer
from .errors import DsarError, InputError
from .i18n import _
from .journal import Journal
from .models import Broker, Cause, Request
from .registry import Registry, fold
from .render.text import html_to_text
from .safety import printable

# the answers that name the next recipient
FOLLOW_KINDS = ("source-named", "processor", "recipient-named")
QUOTE_LIMIT = 300  # characters of the answer quoted in the next letter
_SPACES = re.compile(r"\s+")
# the mandate's scope a chain needs (mandate.html.j2, LEGAL.md "Associations")
MANDATE_SCOPE = ("source ou destinataire", "source or recipient")


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Untrusted words as one bounded line: no control character, no line break; the
    template escapes it (autoescape) and never reads it as template code."""
    line = _SPACES.sub(" ", printable(text or "")).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------ the answer


@dataclass
class Named:
    """An answer naming an organisation, read back from the inbox or the journal."""

    reference: str
    kind: str
    organisation: str
    on: date
    quote: str
    sender: str | None = None
    message: int | None = None  # the inbox message's number


def _inbox_answers(journal: Journal, reference: str) -> list[Named]:
    """The inbox's messages for `reference` that named an organisation, confirmed or
    applied (inbox/store.py's table, in the journal's file)."""
    db = journal.db
    if not db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='inbox_messages'"
    ).fetchone():
        return []
    rows = db.execute(
        "SELECT id, kind, facts, evidence, sender, sent_at FROM inbox_messages WHERE"
        " upper(reference) = ? AND status IN ('applied', 'confirmed') ORDER BY id",
        (reference,),
    )
    found = []
    for row in rows:
        if row["kind"] not in FOLLOW_KINDS:
            continue
        facts = json.loads(row["facts"])
        day = facts.get("day") or (row["sent_at"] or "")[:10]
        found.append(
            Named(
                reference=reference,
                kind=row["kind"],
                organisation=quoted(facts.get("organisation") or "", 120),
                on=date.fromisoformat(day) if day else journal.entry(reference).answered_on,
                quote=quoted(facts.get("said") or " ".join(json.loads(row["evidence"]))),
                sender=quoted(row["sender"], 200) or None,
                message=row["id"],
            )
        )
    return found


def answers_naming(journal: Journal, reference: str) -> list[Named]:
    """What the answers to `reference` named, latest first: the inbox's messages, or the
    answer typed in with a note (dsar answer --note)."""
    entry = journal.entry(reference)
    found = _inbox_answers(journal, entry.reference)
    if not found and entry.answered_on:
        notes = [
            row["detail"]
            for row in journal.events(entry.reference)
            if str(row["what"]).startswith("answer:") and row["detail"]
        ]
        if notes:
            found.append(
                Named(entry.reference, "source-named", "", entry.answered_on, quoted(notes[-1]))
            )
    return sorted(found, key=lambda n: n.on, reverse=True)


def cause(journal: Journal, reference: str, target: Broker, message: int | None = None) -> Cause:
    """The answer to cite in the next request to `target`: the one naming it, else the
    latest; refused when no answer is recorded."""
    entry = journal.entry(reference)
    answers = [a for a in answers_naming(journal, entry.reference) if message in (None, a.message)]
    if not answers:
        raise DsarError(
            _(
                "{reference} has no recorded answer naming an organisation: record it first "
                "(dsar inbox --review, or dsar answer {reference} --state answered --note "
                "'WHAT IT SAID')"
            ).format(reference=entry.reference)
        )
    chosen = next((a for a in answers if names(a.organisation or a.quote, target)), answers[0])
    said_by = journal.request(entry.reference).broker.name
    return Cause(
        answered=entry.reference,
        said_by=said_by,
        on=chosen.on,
        kind=chosen.kind,
        organisation=chosen.organisation or target.name,
        quote=chosen.quote,
        sender=chosen.sender,
    )


def names(organisation: str, broker: Broker) -> bool:
    """Whether the words an answer used name this organisation (slug, name or alias)."""
    said = fold(organisation)
    if len(said) < 3:
        return False
    labels = [fold(label) for label in (broker.slug, broker.name, *broker.aliases)]
    return any(label and (label in said or said in label) for label in labels)


# ------------------------------------------------------------------ the organisation


def _slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60] or "organisation"


def lookup(registry: Registry, name: str, datenanfragen: Path | None) -> tuple[Broker, str]:
    """The organisation an answer named, by name: the registry's entry, else the
    datenanfragen record, else a new entry with no contact (a draft, never an invented
    address). Returns it and what was found, in words."""
    wanted = fold(name)
    in_registry = registry.search(name)
    exact = [s for s in in_registry if wanted in (fold(registry.brokers[s].name), fold(s))]
    if len(exact) == 1 or len(in_registry) == 1:
        slug = (exact or in_registry)[0]
        return registry.brokers[slug], _("'{name}' is {slug} in the registry").format(
            name=name, slug=slug
        )
    if in_registry:
        raise InputError(
            "to_name",
            _("'{name}' matches several entries of the registry ({slugs}): give --to SLUG").format(
                name=name, slugs=", ".join(in_registry[:8])
            ),
        )
    if datenanfragen and datenanfragen.is_file():
        for entry in importer.import_datenanfragen(datenanfragen).entries:
            labels = [entry["name"], *entry.get("aliases", [])]
            if wanted in (fold(label) for label in labels):
                return Broker.model_validate(entry), _(
                    "'{name}' is {slug} in the datenanfragen records"
                ).format(name=name, slug=entry["slug"])
    broker = Broker(slug=_slug(name), kind="company", name=name, quality="unverified")
    return broker, _(
        "'{name}' is neither in the registry nor in the datenanfragen records: the letter "
        "uses only the contact you give"
    ).format(name=name)


# ------------------------------------------------------------------ associations


def check_mandate_scope(mandate_html: str) -> None:
    """A next request under mandate needs the mandate to cover the controllers the first
    recipients name (LEGAL.md, "Associations"): refused otherwise, saying what to fix."""
    words = fold(html_to_text(mandate_html))
    if not any(fold(scope) in words for scope in MANDATE_SCOPE):
        raise DsarError(
            _(
                "the mandate does not cover 'any controller these organisations name as "
                "source or recipient': add that line to the controllers of mandate.html.j2 "
                "(your templates folder), have the members sign it again, then rerun"
            )
        )


def members_naming(journal: Journal, target: Broker) -> list[tuple[str, Named]]:
    """The members' requests whose answer named `target`: (reference, the answer)."""
    found = []
    for entry in journal.entries(kind="request"):
        if not entry.member or entry.broker == target.slug:
            continue
        answer = next(
            (
                a
                for a in answers_naming(journal, entry.reference)
                if names(a.organisation or a.quote, target)
            ),
            None,
        )
        if answer is not None:
            found.append((entry.reference, answer))
    return found


# ------------------------------------------------------------------ the trail


@dataclass
class Step:
    """One request of a chain and what its answer said."""

    reference: str
    kind: str
    recipient: str
    follows: str | None
    letter_date: date | None
    sent: date | None
    answered: date | None
    state: str
    said: list[dict] = field(default_factory=list)
    cause: Cause | None = None
    steps: list[Step] = field(default_factory=list)

    def as_dict(self) -> dict:
        def iso(d):
            return d.isoformat() if d else None

        return {
            "reference": self.reference,
            "kind": self.kind,
            "recipient": self.recipient,
            "follows": self.follows,
            "letter_date": iso(self.letter_date),
            "sent": iso(self.sent),
            "answered": iso(self.answered),
            "state": self.state,
            "said": self.said,
            "cause": None
            if self.cause is None
            else {
                "answered": self.cause.answered,
                "said_by": self.cause.said_by,
                "on": iso(self.cause.on),
                "kind": self.cause.kind,
                "organisation": self.cause.organisation,
                "quote": self.cause.quote,
            },
            "steps": [s.as_dict() for s in self.steps],
        }


def root_of(journal: Journal, reference: str) -> str:
    """The first request of a chain: up the `follows` links."""
    entry, seen = journal.entry(reference), set()
    while entry.follows and entry.reference not in seen:
        seen.add(entry.reference)
        entry = journal.entry(entry.follows)
    return entry.reference


def step(journal: Journal, reference: str, today: date) -> Step:
    entry = journal.entry(reference)
    request = journal.request(reference)
    said = [
        {"on": a.on.isoformat(), "kind": a.kind, "organisation": a.organisation, "words": a.quote}
        for a in answers_naming(journal, reference)
    ]
    if not said and entry.answered_on:
        said = [
            {"on": entry.answered_on.isoformat(), "kind": entry.stored_state, "words": ""},
        ]
    return Step(
        reference=entry.reference,
        kind=entry.kind,
        recipient=request.broker.name,
        follows=entry.follows,
        letter_date=entry.letter_date,
        sent=entry.sent_on,
        answered=entry.answered_on,
        state=entry.state(today),
        said=said,
        cause=request.cause,
        steps=[step(journal, e.reference, today) for e in journal.follow_ups(entry.reference)],
    )


def evidence_of(request: Request) -> dict:
    """The message received that started a chain, bounded."""
    evidence = request.evidence
    return {
        "channel": evidence.channel,
        "received_on": evidence.received_on.isoformat() if evidence.received_on else None,
        "sender": quoted(evidence.sender or "", 120),
        "text": quoted(evidence.text or "", 200),
    }


def trail(journal: Journal, reference: str, today: date) -> dict:
    """The chain from the message received to every request it led to."""
    root = root_of(journal, reference)
    request = journal.request(root)
    return {
        "member": request.requester.name if request.mandate else None,
        "message": evidence_of(request),
        "request": step(journal, root, today).as_dict(),
    }


def member_roots(journal: Journal, member: str) -> list[str]:
    wanted = fold(member)
    roots = [
        e.reference
        for e in journal.entries(kind="request")
        if e.member and fold(e.member) == wanted and not e.follows
    ]
    if not roots:
        raise InputError("member", _("no request for a member '{name}'").format(name=member))
    return roots
