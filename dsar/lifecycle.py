"""The life of a request, in one place: its states, what may happen in each, and the
dates it shows.

Every state change in dsar is one row of TABLE: an action, the states it may start
from and the state it leads to. `require` says whether an action may happen to a
request on a day (it raises a DsarError naming why not) and returns the new state;
the journal calls it inside the transaction that writes the change, so the check and
the write see the same request. `next_actions` is what a person may do now (the
command line prints commands, the page shows buttons). `dates` computes every date a
request shows: the answer due, an extension that counts or not, the reminder's final
date, the days left.

The module works on the journal's Entry (any object with its fields): it imports no
journal, so the journal can import it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from . import deadlines
from .errors import DsarError
from .i18n import N_, _, word
from .vocabulary import ANSWER_STATES

# the states a request is stored in; 'overdue' is never stored: a waiting request
# becomes overdue when its deadline passes (state())
STORED = (
    "draft",
    "sent",
    "received",
    "extended",
    "id-requested",
    "answered",
    "partial",
    "refused",
    "reminded",
    "complained",
    "closed",
)
# the deadline runs (a demand for an ID card does not stop it, LEGAL.md)
WAITING = ("sent", "received", "extended", "id-requested")
AFTER_SENDING = tuple(s for s in STORED if s != "draft")
# an answer that falls short: the reminder, then the complaint
SHORT = ("partial", "refused", "id-requested", "answered")
# a reminder or a complaint has legal weight once the deadline passed or the answer fell short
DUE = ("overdue", *SHORT)


@dataclass(frozen=True)
class Action:
    """One row of the table: from these states (as of the action's day, 'overdue'
    included), to this state (None: the state stays; "=answer": the answer's own)."""

    name: str
    starts: tuple[str, ...]
    leads_to: str | None
    rule: str  # the date rule, in words (printed with the table)


TABLE = (
    Action("redo", ("draft",), "draft", "a draft is rewritten in place; one that left never is"),
    Action("forget", ("draft",), "(gone)", "only a draft leaves the journal"),
    Action(
        "sent",
        ("draft", "sent", "received"),
        "sent/received",
        "not before the letter's date, not after today; received not before sent",
    ),
    Action(
        "proof",
        (*AFTER_SENDING,),
        None,
        "a later proof, receipt date or registered-letter number: the state stays "
        "(an answer is never undone; on a complained request only with force)",
    ),
    Action(
        "extension",
        ("sent", "received", "id-requested", "overdue"),
        "extended",
        "after receipt, not after today; notified after the first month it is recorded "
        "but does not extend (12(3)): the state stays",
    ),
    Action(
        "answer",
        (*WAITING, "overdue", *SHORT, "reminded", "complained", "closed"),
        "=answer",
        "not before the sending, not after today; after a complaint the state stays "
        "complained unless the answer closes it",
    ),
    Action(
        "reply-id",
        AFTER_SENDING,
        None,
        "a letter: the state stays; offered once an ID card was demanded",
    ),
    Action(
        "remind",
        DUE,
        None,
        "once the deadline passed or the answer fell short; writing it changes nothing "
        "until it is sent",
    ),
    Action(
        "reminder-sent",
        DUE,
        "reminded",
        "the reminder sent not before its date, nor after its own final date (its date "
        "+ 15 days, rolled to a working day): a later one is written anew",
    ),
    Action(
        "complain",
        (*DUE, "reminded", "complained"),
        None,
        "once the deadline passed; after a reminder, once its final date passed (or force); "
        "writing it changes nothing until it is filed; one that left is never rewritten",
    ),
    Action(
        "complaint-sent",
        AFTER_SENDING,
        "complained",
        "the complaint filed (dsar sent on it), not before its date: the request is "
        "complained from then",
    ),
)
ACTIONS = {a.name: a for a in TABLE}
# what a person is offered, in this order
OFFERED = ("sent", "extension", "answer", "reply-id", "remind", "complain", "forget")

WORDS = {
    "sent": N_("sent"),
    "received": N_("received"),
    "extension": N_("extension"),
    "answer": N_("answer"),
    "remind": N_("reminder"),
    "reminder-sent": N_("reminder sent"),
    "complain": N_("complaint"),
    "complaint-sent": N_("complaint filed"),
    "reply-id": N_("reply to the ID demand"),
    "redo": N_("new draft"),
    "forget": N_("forget"),
    "proof": N_("proof"),
}


# -------------------------------------------------------------- dates


@dataclass(frozen=True)
class Dates:
    """Every date a request shows, computed once from what was recorded."""

    receipt: date | None  # what 12(3) counts from: receipt, else the sending date
    estimated: bool  # the receipt is the sending date standing in
    answer_due: date | None  # one month from receipt, rolled to a working day
    extended_due: date | None  # three months, when an extension was notified in time
    late_extension: date | None  # an extension notified after the first month: no effect
    due: date | None  # the deadline the recipient has (extended or not)
    reminded_on: date | None  # the reminder was sent
    final: date | None  # the reminder's final date (its date + 15, rolled)
    in_force: date | None  # final once reminded, else due

    def days_left(self, as_of: date) -> int | None:
        return None if self.in_force is None else (self.in_force - as_of).days


def final_date(reminder_dated: date) -> date:
    """The reminder's final date: 15 days from its date, ending on a working day as
    the first deadline does (a reminder dated 10 December does not demand an answer
    by Christmas Day)."""
    return deadlines.next_working_day(reminder_dated + timedelta(days=deadlines.REMINDER_DAYS))


def dates(entry) -> Dates:
    # a follow-up letter (reminder, reply to an ID demand, complaint) starts no deadline
    # of its own: what it starts runs on the request it follows
    sent = entry.received_on or entry.sent_on
    receipt = sent if getattr(entry, "kind", "request") == "request" else None
    answer_due = deadlines.deadline(receipt) if receipt else None
    extended = entry.extended_on
    counts = bool(extended and receipt and deadlines.extension_counts(receipt, extended))
    extended_due = deadlines.deadline(receipt, extended=True) if counts else None
    due = extended_due or answer_due
    reminded = entry.stored_state == "reminded" or (
        entry.stored_state == "complained" and entry.reminded_on is not None
    )
    final = final_date(entry.reminder_dated) if entry.reminder_dated else None
    return Dates(
        receipt=receipt,
        estimated=receipt is not None and entry.received_on is None,
        answer_due=answer_due,
        extended_due=extended_due,
        late_extension=extended if extended and receipt and not counts else None,
        due=due,
        reminded_on=entry.reminded_on,
        final=final,
        in_force=final if reminded and final else due,
    )


def email_may_leave(stored_state: str | None) -> bool:
    """Whether a queued e-mail may still be sent: only while its request is a draft. A
    request recorded as posted, answered, undelivered or complained about already left
    (or came back): its e-mail sent now would write a second time, to an address that
    bounced, or after the CNIL was seized. Such a message is withdrawn, never sent."""
    return stored_state == "draft"


def state(entry, as_of: date) -> str:
    """The state as of a day: a waiting request past its deadline is overdue."""
    found = dates(entry)
    if entry.stored_state in WAITING and found.due and as_of > found.due:
        return "overdue"
    return entry.stored_state


# -------------------------------------------------------------- the rules


def _refuse(message: str, field: str | None = None, **values) -> None:
    """`field`: the date the refusal is about (`on`, `received`), which the page marks."""
    raise DsarError(_(message).format(**values), field=field)


def _day_rules(action: str, entry, on: date, today: date) -> None:
    """A recorded day: not before the letter, not after today."""
    what = _(WORDS.get(action, action))
    field = "received" if action == "received" else "on"
    if entry.letter_date and on < entry.letter_date:
        _refuse(
            N_("{what} on {on} is before the letter's date ({letter_date}); check the date"),
            field,
            what=what,
            on=on,
            letter_date=entry.letter_date,
        )
    if on > today:
        _refuse(
            N_("{what} on {on} is in the future (today is {today}); record it once it happened"),
            field,
            what=what,
            on=on,
            today=today,
        )


def _not_before(action: str, on: date, bound: date | None, message: str) -> None:
    if bound and on < bound:
        _refuse(message, "on", what=_(WORDS[action]), on=on, day=bound)


def require(
    action: str,
    entry,
    on: date | None,
    *,
    today: date,
    answer: str | None = None,
    received: date | None = None,
    force: bool = False,
    printable: bool = True,
    mailable: bool = True,
    lrar: bool = False,
    dated: date | None = None,
) -> str | None:
    """The state `action` on day `on` leads `entry` to, or a DsarError saying why it
    may not happen. None: the state stays. `printable`: the letter has the recipient's
    postal address (else its PDF is a draft, never posted); `mailable`: it has the
    recipient's e-mail address (it may have left by e-mail); `lrar`: a registered-letter
    number comes with the sending; `dated`: the date of the reminder being sent."""
    rule = ACTIONS[action]
    ref = entry.reference
    if on is not None:
        _day_rules(action, entry, on, today)
    now = state(entry, on or today)
    found = dates(entry)
    stored = entry.stored_state
    if action == "redo" and stored != "draft":
        # a code: the command line points to `dsar show`, the page does not
        raise DsarError("already_left", reference=ref, state=_state_word(stored))
    if action == "forget" and stored != "draft":
        _refuse(
            N_("{reference} is not a draft ({state}): it stays in the journal as evidence"),
            reference=ref,
            state=_state_word(stored),
        )
    if action in ("redo", "forget"):
        return rule.leads_to
    if action == "sent":
        if received is not None:
            _day_rules("received", entry, received, today)
            if received < on:
                _refuse(
                    N_("received {received} is before sent {sent}"),
                    "received",
                    received=received,
                    sent=on,
                )
            if entry.answered_on and received > entry.answered_on:  # it cannot restart 12(3)
                _refuse(
                    N_("received {received} is after the answer of {answered}: check the date"),
                    "received",
                    received=received,
                    answered=entry.answered_on,
                )
        if stored == "complained" and not force:
            _refuse(
                N_(
                    "{reference} is already the subject of a complaint to the CNIL; recording a "
                    "sending now changes its dossier's facts: add --force if that is what you mean"
                ),
                reference=ref,
            )
        # a PDF without the recipient's postal address is marked DRAFT: posting it proves
        # nothing; one with its e-mail may have left by e-mail, unless a registered-letter
        # number says it was posted. Each face words how to add the address.
        if stored == "draft" and not printable and (lrar or not mailable):
            raise DsarError("draft_not_posted", reference=ref, slug=entry.broker)
        if stored not in rule.starts:  # a late proof or number: the answer stays
            return None
        return "received" if received or entry.received_on else "sent"
    if stored == "draft" and action != "sent":
        _refuse(
            N_(
                "{reference} has no sending date: record it first with dsar sent {reference} "
                "--on YYYY-MM-DD [--lrar NUMBER] [--received DATE]"
            ),
            reference=ref,
        )
    if action == "extension":
        _not_before(
            action,
            on,
            found.receipt,
            N_("{what} on {on} is before the request was received ({day})"),
        )
        if now not in rule.starts and stored not in rule.starts:
            _refuse(N_("{reference} is {state}: no extension to record"), reference=ref, state=now)
        in_time = found.receipt is not None and deadlines.extension_counts(found.receipt, on)
        return "extended" if in_time else None
    if action == "answer":
        if answer not in ANSWER_STATES:
            _refuse(N_("'{value}': use {choices}"), value=answer, choices=", ".join(ANSWER_STATES))
        _not_before(
            action, on, entry.sent_on, N_("{what} on {on} is before the request was sent ({day})")
        )
        if stored == "complained" and answer != "closed":
            return None
        return answer
    if action == "reply-id":
        return None  # answering an ID demand is possible whenever one was made
    if action == "reminder-sent" and dated and on > final_date(dated):
        _refuse(
            N_(
                "the reminder dated {dated} gave until {final} to answer: sent on {on}, it "
                "gives no time at all. Write a new one dated the day you send it: dsar remind "
                "{reference} --on {on}"
            ),
            "on",
            reference=ref,
            dated=dated,
            final=final_date(dated),
            on=on,
        )
    if action == "complaint-sent":
        # checked when it was written; but a reminder sent since gave a final date that
        # filing before would break (a complaint written, then a reminder sent: new user)
        _not_before_final(entry, found, on, force)
        return rule.leads_to
    if action in ("remind", "reminder-sent"):
        if stored == "reminded" and action == "remind":
            _refuse(
                N_(
                    "{reference} was already reminded on {reminded_on}; wait for its final "
                    "deadline ({final_deadline}), then: dsar complain {reference}"
                ),
                reference=ref,
                reminded_on=entry.reminded_on,
                final_deadline=found.final,
            )
        if now not in rule.starts:
            _refuse(
                N_(
                    "{reference} is {state}: its deadline ({deadline}) has not passed; a "
                    "reminder before then has no legal weight"
                ),
                reference=ref,
                state=_state_word(now),
                deadline=found.due,
            )
        return rule.leads_to
    if action == "complain":
        if now not in rule.starts:
            _refuse(
                N_(
                    "{reference} is {state}: the recipient still has until {deadline} to "
                    "answer; complain after that"
                ),
                reference=ref,
                state=_state_word(now),
                deadline=found.due,
            )
        _not_before_final(entry, found, on, force)
        return rule.leads_to
    return rule.leads_to


def _not_before_final(entry, found, on: date, force: bool) -> None:
    """A complaint (written or filed) on or before the final date a reminder gave: refused
    unless forced."""
    if entry.stored_state == "reminded" and found.final and on <= found.final and not force:
        # a code: the command line offers --force, the page does not
        raise DsarError(
            "complain_after",
            reference=entry.reference,
            final=found.final,
            day=found.final + timedelta(days=1),
        )


STATE_NAMES = {
    "draft": N_("draft"),
    "sent": N_("sent"),
    "received": N_("received"),
    "extended": N_("extended"),
    "answered": N_("answered"),
    "partial": N_("partial"),
    "refused": N_("refused"),
    "id-requested": N_("ID requested"),
    "overdue": N_("overdue"),
    "reminded": N_("reminded"),
    "complained": N_("complained"),
    "closed": N_("closed"),
    "undelivered": N_("undelivered"),
}


# what each letter of the journal is; a follow-up is shown under the request it follows
KIND_NAMES = {
    "request": N_("request"),
    "reminder": N_("reminder"),
    "complaint": N_("complaint"),
    "reply-id": N_("answer to an ID demand"),
}


kind_name = functools.partial(word, KIND_NAMES)
state_name = functools.partial(word, STATE_NAMES)  # a state in the person's language


_state_word = state_name


def allowed(action: str, entry, as_of: date) -> bool:
    try:
        require(action, entry, as_of, today=as_of, answer="answered")
    except DsarError:
        return False
    return True


def next_actions(entry, as_of: date) -> list[str]:
    """What the person may do now, in the order it is usually done: for a request,
    the actions of OFFERED allowed as of the day; a follow-up letter is sent, then
    tracked on the request it follows."""
    if entry.kind != "request":
        return ["sent"] if entry.stored_state == "draft" else []
    if entry.stored_state == "draft":
        return ["sent", "forget"]
    now = state(entry, as_of)
    found = []
    for action in OFFERED:
        if action == "sent" and now not in ("sent", "received"):
            continue  # a later proof is still welcome, but it is not what comes next
        if action == "extension" and now not in ("sent", "received", "overdue"):
            continue
        if action == "reply-id" and now != "id-requested":
            continue
        if action == "complain" and now == "complained":
            continue  # made: a second one only with force, never what comes next
        if allowed(action, entry, as_of):
            found.append(action)
    return found


# the command each action is on the command line, its placeholders in the person's
# language (AAAA-MM-JJ in French), as every other message that names a command
COMMANDS = {
    "sent": N_("dsar sent {ref} --on YYYY-MM-DD"),
    "extension": N_("dsar answer {ref} --extension --on YYYY-MM-DD"),
    "answer": N_("dsar answer {ref} --state STATE --on YYYY-MM-DD [--missing ITEMS]"),
    "reply-id": N_("dsar reply-id {ref}"),
    "remind": N_("dsar remind {ref}"),
    "complain": N_("dsar complain {ref} --out DIR"),
    "forget": N_("dsar forget {ref}"),
}


def commands(entry, as_of: date) -> list[str]:
    return command_lines(entry.reference, next_actions(entry, as_of))


def command_lines(reference: str, actions: list[str]) -> list[str]:
    return [_(COMMANDS[a]).format(ref=reference) for a in actions]


def table_text() -> str:
    """The transition table as text (dsar show --table, the report)."""
    width = max(len(a.name) for a in TABLE)
    lines = [f"{'action':<{width}}  from -> to   [date rule]"]
    for a in TABLE:
        to = a.leads_to or "(stays)"
        lines.append(f"{a.name:<{width}}  {', '.join(a.starts)} -> {to}   [{a.rule}]")
    return "\n".join(lines)
