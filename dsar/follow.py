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
from .i18n import N_, _
from .journal import Journal
from .models import Broker, Cause, Request
from .registry import Registry, bare_name, fold
from .render.text import html_to_text
from .safety import printable
from .vocabulary import ANSWER_STATE

# the answers that name the next recipient
FOLLOW_KINDS = ("source-named", "processor", "recipient-named")
# what an answer said, in the trail's words (gettext: the French UI says it in French)
SAID_NAMES = {
    "source-named": N_("named the source"),
    "processor": N_("named the controller it acted for"),
    "recipient-named": N_("named a recipient"),
    "answer": N_("answered"),
}
QUOTE_LIMIT = 300  # characters of the answer kept (trail, journal)
# characters quoted in the letter's core: more pushes the closing and signature alone
# onto page 2 (F7)
CORE_QUOTE = 160
_SPACES = re.compile(r"\s+")
# the mandate's scope a chain needs (mandate.html.j2, LEGAL.md "Associations"), and its
# wider line: the controller a processor acts for, and the organisations those named
# designate in turn (« ceux qu’ils auront ainsi désignés »)
MANDATE_SCOPE = ("source ou destinataire", "source or recipient")
ONWARD_SCOPE = ("pour le compte duquel", "on whose behalf")
CHAIN, ONWARD = 1, 2  # what a form covers beyond the organisations it names (0: nothing)


# quotation marks inside the words become single ones: a letter prints them between « »,
# and a « » of their own would close the quote and pass the rest as the person's words
_INNER_QUOTES = str.maketrans({"«": "‹", "»": "›", "“": "‘", "”": "’", '"': "'"})


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Untrusted words as one bounded line: no control character, no line break, no
    closing guillemet of their own; the template escapes it (autoescape) and never reads
    it as template code."""
    line = _SPACES.sub(" ", printable(text or "")).strip().translate(_INNER_QUOTES)
    if len(line) <= limit:
        return line
    cut = line[: limit - 4]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut  # never mid-word
    return cut.rstrip(" ,;:") + " […]"


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
    verbatim: bool = True  # read from the reply; False: the person's typed summary


def _inbox_answers(
    journal: Journal, reference: str, kinds: tuple[str, ...] = FOLLOW_KINDS, as_written=False
) -> list[Named]:
    """The inbox's messages for `reference` of these kinds (by default those that named an
    organisation), confirmed or applied (inbox/store.py's table, in the journal's file).
    `as_written`: only the sentence the inbox kept as written, never its folded evidence."""
    db = journal.db
    if not db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='inbox_messages'"
    ).fetchone():
        return []
    rows = db.execute(
        "SELECT id, kind, facts, evidence, sender, sent_at, trusted FROM inbox_messages WHERE"
        " upper(reference) = ? AND status IN ('applied', 'confirmed') ORDER BY id",
        (reference,),
    )
    found = []
    for row in rows:
        if row["kind"] not in kinds:
            continue
        facts = json.loads(row["facts"])
        words = facts.get("said") or ("" if as_written else " ".join(json.loads(row["evidence"])))
        day = facts.get("day") or (row["sent_at"] or "")[:10]
        found.append(
            Named(
                reference=reference,
                kind=row["kind"],
                organisation=quoted(facts.get("organisation") or "", 120),
                on=date.fromisoformat(day) if day else journal.entry(reference).answered_on,
                quote=quoted(words),
                # "e-mail received from <recipient>" only when the sender is theirs
                sender=(quoted(row["sender"], 200) or None) if row["trusted"] else None,
                message=row["id"],
            )
        )
    return found


def answers_naming(journal: Journal, reference: str) -> list[Named]:
    """What the answers to `reference` named, latest first: the inbox's messages, or the
    answer typed in with a note (dsar answer --note): such a note says nothing of what
    it named unless typed with --named (kind "answer" otherwise: the neutral wording)."""
    entry = journal.entry(reference)
    found = _inbox_answers(journal, entry.reference)
    if not found and entry.answered_on:
        notes = [
            row
            for row in journal.events(entry.reference)
            if str(row["what"]).startswith("answer:") and row["detail"]
        ]
        if notes:
            kind, organisation, words = typed_answer(notes[-1]["detail"])
            found.append(
                Named(
                    entry.reference,
                    kind,
                    organisation,
                    entry.answered_on,
                    quoted(words),
                    verbatim=False,
                )
            )
    return sorted(found, key=lambda n: n.on, reverse=True)


def answer_words(journal: Journal, reference: str, state: str) -> Named | None:
    """The words of the answer to `reference` recorded as `state`, for a letter that
    reports it (the CNIL complaint): the reply's own sentence when the inbox read it
    (`verbatim`, with its day and sender), else the note the person typed (dsar answer
    --note: their summary). A reply the inbox recorded without words gives none: its
    journal note is dsar's, not the person's."""
    entry = journal.entry(reference)
    kinds = tuple(kind for kind, gives in ANSWER_STATE.items() if gives == state)
    read = _inbox_answers(journal, entry.reference, kinds, as_written=True)
    if read:
        latest = max(read, key=lambda a: (a.on, a.message or 0))
        return latest if latest.quote else None
    answers = [e for e in journal.events(entry.reference) if e["what"].startswith("answer:")]
    last = answers[-1] if answers and answers[-1]["what"] == f"answer:{state}" else None
    words = quoted(typed_answer(last["detail"] or "")[2]) if last else ""
    if not words:
        return None
    return Named(entry.reference, "answer", "", entry.answered_on, words, verbatim=False)


# dsar answer --named KIND --organisation NAME: the note starts with what it named
_TYPED = re.compile(r"^\[(source-named|processor|recipient-named): ([^\]]{1,120})\] ?")


def typed_answer(detail: str) -> tuple[str, str, str]:
    """(kind, organisation, words) of an answer typed in: "answer" when not said."""
    found = _TYPED.match(detail)
    if not found:
        return "answer", "", detail
    return found.group(1), quoted(found.group(2), 120), detail[found.end() :]


def cause(
    journal: Journal,
    reference: str,
    target: Broker,
    message: int | None = None,
    explicit: bool = False,
) -> Cause:
    """The answer to cite in the next request to `target`: the one naming it. When none
    names it, refused, unless the person named the recipient (`explicit`, --to or
    --to-name): then the letter only says it follows that answer (kind "answer"), never
    that the answer named anyone."""
    entry = journal.entry(reference)
    answers = [a for a in answers_naming(journal, entry.reference) if message in (None, a.message)]
    chosen = next((a for a in answers if is_named(a.organisation, target)), None)
    if chosen is None and not (explicit and (answers or entry.answered_on)):
        raise DsarError(
            _(
                "no recorded answer to {reference} names {name}: record it first "
                "(dsar inbox --review, or dsar answer {reference} --state answered --named "
                "source --organisation NAME --note 'WHAT IT SAID'), or name the recipient "
                "with --to or --to-name"
            ).format(reference=entry.reference, name=target.name)
        )
    was = journal.request(entry.reference)
    if chosen is None:  # the person's own choice of recipient: no claim about the answer
        # (the words of one that mentions it are quoted, as words, never as a naming)
        said = next((a for a in answers if mentions(a.quote, target)), None)
        latest = said or (answers[0] if answers else None)
        return Cause(
            answered=entry.reference,
            said_by=was.broker.name,
            on=latest.on if latest else entry.answered_on,
            kind="answer",
            organisation="",
            quote=quoted(said.quote, CORE_QUOTE) if said else "",
            quote_lang=language_of(said.quote) if said else "",
            asked=was.right,
            sender=latest.sender if latest else None,
        )
    return Cause(
        answered=entry.reference,
        said_by=was.broker.name,
        on=chosen.on,
        kind=chosen.kind if chosen.kind in FOLLOW_KINDS else "answer",
        organisation=chosen.organisation,
        quote=quoted(chosen.quote, CORE_QUOTE),
        quote_lang=language_of(chosen.quote),
        verbatim=chosen.verbatim,
        asked=was.right,
        sender=chosen.sender,
    )


_FRENCH = re.compile(r"\b(les|des|vos|nous|votre|donnees|aupres|est|sont|avons)\b")


def language_of(words: str) -> str:
    """ "fr" when the words read as French: an English letter marks such a quote."""
    return "fr" if len(_FRENCH.findall(fold(words))) >= 2 else ""


def in_registry(registry: Registry, answers: list[Named], first: str) -> list[str]:
    """The registry's entries (but the first recipient) whose slug, name or alias the
    answers' words hold as whole words: only what the sentence MENTIONS ("comme le permet
    la doctrine de la CNIL", "et non par The Optin Machine"), a suggestion when the name
    the inbox read cannot be used, never the organisation the answer named."""
    words = " ".join(f"{a.organisation} {a.quote}" for a in answers)
    return [s for s, b in registry.brokers.items() if s != first and mentions(words, b)]


def confident(organisation: str) -> bool:
    """Whether the words the inbox took for a name look like one: a capital, no
    determiner left ("son client" is nobody's name)."""
    words = organisation.split()
    return bool(words) and len(words) <= 6 and organisation[:1].isupper()


def labels(broker: Broker) -> set[str]:
    """An entry's names as compared (bare_name): its slug, name and aliases."""
    return {
        bare_name(label) for label in (broker.slug.replace("-", " "), broker.name, *broker.aliases)
    } - {""}


def mentions(words: str, broker: Broker) -> bool:
    """Whether an answer's words hold this entry's slug, name or alias as whole words:
    a mention, not a naming ("comme le permet la doctrine de la CNIL")."""
    said = f" {fold(words)} "
    return any(len(lb) >= 3 and f" {fold(lb)} " in said for lb in labels(broker))


def is_named(organisation: str, broker: Broker) -> bool:
    """Whether the name an answer gave (the inbox's reading, or --organisation) is this
    entry's whole name, slug or alias, legal form aside: the only basis for "your
    organisation was named"; another name in the same sentence is not it."""
    words = bare_name(organisation).split()
    while len(words) > 1 and words[0] in _FILLER:  # "notre partenaire Selfcontact", typed
        words.pop(0)
    return bool(words) and " ".join(words) in labels(broker)


# the words before a name that are not part of it (as inbox.meaning drops them)
_FILLER = frozenset(
    [
        "la",
        "le",
        "les",
        "l",
        "un",
        "une",
        "des",
        "du",
        "de",
        "notre",
        "nos",
        "son",
        "sa",
        "ses",
        "leur",
        "leurs",
        "votre",
        "the",
        "our",
        "its",
        "their",
        "a",
        "an",
        "societe",
        "site",
        "partenaire",
        "client",
        "entreprise",
        "marque",
        "prestataire",
        "annonceur",
        "company",
        "partner",
        "customer",
        "website",
        "firm",
        "advertiser",
    ]
)


# ------------------------------------------------------------------ the organisation


def _slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60] or "organisation"


def lookup(registry: Registry, name: str, datenanfragen: Path | None) -> tuple[Broker, str]:
    """The organisation an answer named, by name: the registry's entry whose name, alias
    or slug is this name (case, accents and legal form aside: 'selfcontact sas' is
    SelfContact), else the datenanfragen record, else a new entry with no contact (a
    draft, never an invented address). A name that is only part of entries' names ('SA',
    'Data'), or several entries', is refused with the candidates: a letter to the wrong
    organisation is sent to the wrong one. Returns it and what was found, in words."""
    wanted = bare_name(name)
    exact = [s for s, b in registry.brokers.items() if is_named(name, b)]
    if len(exact) == 1:
        return registry.brokers[exact[0]], _("'{name}' is {slug} in the registry").format(
            name=name, slug=exact[0]
        )
    # a part of a name: the name typed within an entry's, or an entry's within it
    partial = exact or [
        s
        for s, b in registry.brokers.items()
        if any(
            (wanted or fold(name)) in label or (len(label) >= 3 and f" {label} " in f" {wanted} ")
            for label in labels(b)
        )
    ]
    if partial:
        raise InputError(
            "to_name",
            _(
                "'{name}' is not exactly the name of one entry of the registry; it could be "
                "{slugs}: give --to SLUG, or the organisation's whole name"
            ).format(name=name, slugs=", ".join(partial[:10])),
        )
    if datenanfragen and datenanfragen.is_file():
        for entry in importer.import_datenanfragen(datenanfragen).entries:
            said = [entry["name"], *entry.get("aliases", [])]
            if wanted and wanted in (bare_name(label) for label in said):
                return Broker.model_validate(entry), _(
                    "'{name}' is {slug} in the datenanfragen records"
                ).format(name=name, slug=entry["slug"])
    broker = Broker(slug=_slug(name), kind="company", name=name, quality="unverified")
    return broker, _(
        "'{name}' is neither in the registry nor in the datenanfragen records: the letter "
        "uses only the contact you give"
    ).format(name=name)


# ------------------------------------------------------------------ associations


def scope_of(mandate_html: str) -> int:
    """What a mandate form covers beyond the organisations it names: 0, CHAIN (the
    controllers they name as source or recipient) or ONWARD (also the controller a
    processor acts for, and those named in turn)."""
    words = fold(html_to_text(mandate_html))
    if not any(fold(scope) in words for scope in MANDATE_SCOPE):
        return 0
    return ONWARD if any(fold(scope) in words for scope in ONWARD_SCOPE) else CHAIN


def scope_needed(journal: Journal, reference: str, kind: str, form: list[str] | None) -> int:
    """The scope a next request from the answer to `reference` needs: CHAIN when an
    organisation the form names (`form`: journal.mandate_form) designated a source or
    recipient; ONWARD when the answer was a processor's naming the controller it acts
    for (neither source nor recipient), or came from an organisation the form does not
    name, reached by a next request (« ces organismes » are the form's; a form not
    recorded: any next request's answerer)."""
    entry = journal.entry(reference)
    if kind == "processor":
        return ONWARD
    if entry.follows and (form is None or entry.broker not in form):
        return ONWARD
    return CHAIN


def check_mandate_scope(mandate_html: str, signed: int | None = None, needed: int = CHAIN) -> None:
    """A next request under mandate needs the mandate to cover its recipient (LEGAL.md,
    "Associations"): today's template, and the form the member signed when dsar
    recorded what it covers (`signed`): refused otherwise, saying what to fix."""
    if (signed is not None and signed < needed) or scope_of(mandate_html) < needed:
        raise DsarError(out_of_scope(needed, template=scope_of(mandate_html) < needed))


def out_of_scope(needed: int, template: bool = False) -> str:
    """Why a next request is not covered by the mandate, and what to do."""
    what = (
        _("the controller a processor acts for, nor the organisations named further down the chain")
        if needed == ONWARD
        else _("'any controller these organisations name as source or recipient'")
    )
    if template:  # the person's own mandate.html.j2 lacks the line
        return _(
            "the mandate does not cover {what}: add that line to the controllers of "
            "mandate.html.j2 (your templates folder; see the shipped one), have the members "
            "sign it again, then rerun"
        ).format(what=what)
    return _(
        "the mandate form this member signed does not cover {what}: have them sign the "
        "form dsar mandate writes now, then rerun"
    ).format(what=what)


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
                if is_named(a.organisation, target)
            ),
            None,
        )
        if answer is not None:
            found.append((entry.reference, answer))
    return found


def organisations_members_named(journal: Journal, registry: Registry) -> list[tuple[str, str, int]]:
    """What the members' answers named, for `batch --follow` given a slug the registry
    lacks: (name, the registry's slug or "", how many members), most named first. A
    look-alike slug is another company (datacontact is not selfcontact): these are the
    names to choose from."""
    counts: dict[tuple[str, str], set[str]] = {}
    for entry in journal.entries(kind="request"):
        if not entry.member:
            continue
        for answer in answers_naming(journal, entry.reference):
            if answer.kind == "answer" or not answer.organisation:
                continue
            broker = entry_named(registry, answer.organisation)
            key = (broker.name, broker.slug) if broker else (answer.organisation, "")
            counts.setdefault(key, set()).add(entry.member)
    return sorted(
        ((name, slug, len(members)) for (name, slug), members in counts.items()),
        key=lambda found: (-found[2], found[0]),
    )


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


def chain_of(journal: Journal, reference: str) -> list[str]:
    """Every request of the chain `reference` belongs to: its first and all that follow."""
    found, todo = [], [root_of(journal, reference)]
    while todo:
        ref = todo.pop(0)
        if ref not in found:
            found.append(ref)
            todo += [e.reference for e in journal.follow_ups(ref, "request")]
    return found


def already_asked(
    journal: Journal,
    reference: str,
    target: Broker | None = None,
    name: str = "",
    same_message: bool = False,
) -> str | None:
    """The request already written to this organisation (`target`, or the `name` an
    answer gave) in the chain of `reference` (dsar follow's links), or with
    `same_message` any first request about the same message for the same person (the
    broker and the party written to at once). Advice names it rather than proposing to
    write to that organisation again; None when nothing was written to it. (A next
    request to an organisation written to apart still cites the answer that named it:
    only the chain rules it out.)"""

    def same(broker: Broker) -> bool:
        return (target is not None and broker.slug == target.slug) or bool(
            name and is_named(name, broker)
        )

    for ref in chain_of(journal, reference):
        if same(journal.request(ref).broker):
            return ref
    if target is not None and same_message:
        about = journal.request(reference)
        for entry in journal.entries(broker=target.slug):
            other = journal.request(entry.reference)
            if (other.evidence, other.requester) == (
                about.evidence,
                about.requester,
            ):
                return entry.reference
    return None


def entry_named(registry: Registry, organisation: str) -> Broker | None:
    """The registry's entry whose whole name an answer gave (follow.lookup's rule), when
    exactly one is: a part of a name, or another name in the sentence, is none."""
    slugs = [s for s, b in registry.brokers.items() if is_named(organisation, b)]
    return registry.brokers[slugs[0]] if len(slugs) == 1 else None


def named_organisations(journal: Journal, registry: Registry, reference: str) -> list[dict]:
    """The organisations the answers to `reference` named, latest first: the name, what
    the answer said, its day, the registry's slug when the name is one entry's whole name,
    and `asked`, the request already written to it (already_asked) or None: advice
    proposes dsar follow only to those not asked."""
    entry = journal.entry(reference)
    if entry.kind != "request":
        return []
    found = []
    for answer in answers_naming(journal, entry.reference):
        broker = entry_named(registry, answer.organisation)
        if broker or answer.organisation:
            asked = already_asked(journal, entry.reference, broker, answer.organisation)
        else:  # a name not read: any next request written from this one answers it
            asked = next(
                (e.reference for e in journal.follow_ups(entry.reference, "request")), None
            )
        found.append(
            {
                "organisation": broker.name if broker else answer.organisation,
                "kind": answer.kind,
                "on": answer.on,
                "slug": broker.slug if broker else "",
                "asked": asked,
            }
        )
    return found


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
