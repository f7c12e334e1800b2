"""The page's words, in the page's language from dsar's gettext catalogue (the same as
the command line's): the names it gives to the library's states, rights and choices,
the labels that name its form fields, and the library's errors worded for a person
who fills in a form (the field's label, never a `--flag`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import lifecycle, registry
from ..errors import DsarError
from ..i18n import N_, gettext, language, ngettext


def typeset(text: str) -> str:
    """French typography: no line break before : ; ? ! » nor after «."""
    return re.sub(r" ([:;?!»])", "\u00a0\\1", text).replace("« ", "«\u00a0")


def say(message: str) -> str:
    """The page's gettext: the catalogue's words, French typography in French."""
    text = gettext(message)
    return typeset(text) if language() == "fr" else text


def say_n(singular: str, plural: str, n: int) -> str:
    text = ngettext(singular, plural, n)
    return typeset(text) if language() == "fr" else text


CHANNELS = {
    "sms": N_("text message"),
    "voice": N_("voice message"),
    "call": N_("call"),
    "email": N_("e-mail"),
    "mail": N_("postal mail"),
}
RIGHT_CHOICES = {
    "both": N_("Access and erasure (Art. 15, 17, 21): recommended"),
    "access": N_("Access only (Art. 15): where my number came from, who received it"),
    "erasure": N_("Erasure and objection (Art. 17, 21)"),
}
RIGHTS = {"access": N_("access"), "erasure": N_("erasure"), "both": N_("access and erasure")}
LETTER_LANGUAGES = {"fr": N_("French"), "en": N_("English")}
STATES = {
    "draft": N_("to send"),
    "sent": N_("sent"),
    "received": N_("received by the recipient"),
    "extended": N_("deadline extended"),
    "answered": N_("answered in full"),
    "partial": N_("partial answer"),
    "refused": N_("refused"),
    "id-requested": N_("ID requested"),
    "overdue": N_("overdue"),
    "reminded": N_("reminded"),
    "complained": N_("complaint filed"),
    "closed": N_("closed"),
    "undelivered": N_("undelivered"),
}
# the letters a journal holds, each shown under its kind
LETTER_KINDS = lifecycle.KIND_NAMES  # the command line's words, one table
# what an answer may lack (vocabulary.ACCESS_ITEMS), with the article that asks for it
ACCESS_ITEM_NAMES = {
    "purposes": N_("the purposes (15(1)(a))"),
    "categories": N_("the categories of data (15(1)(b))"),
    "recipients": N_("the recipients, named (15(1)(c))"),
    "retention": N_("the retention period (15(1)(d))"),
    "rights": N_("the rights (15(1)(e))"),
    "complaint": N_("the right to complain (15(1)(f))"),
    "source": N_("the source of the data (15(1)(g))"),
    "profiling": N_("profiling and its logic (15(1)(h))"),
    "copy": N_("the copy of the data (15(3))"),
}
# what a reply read by dsar inbox says (inbox.meaning.KINDS)
REPLY_KINDS = {
    "acknowledgement": N_("acknowledgement of receipt"),
    "bounce": N_("not delivered"),
    "identity-request": N_("asks for ID"),
    "extension": N_("extends the deadline"),
    "answer": N_("answer"),
    "partial": N_("partial answer"),
    "refusal": N_("refusal"),
    "processor": N_("says it is a processor"),
    "source-named": N_("names the source"),
    "recipient-named": N_("names a recipient"),
    "erasure-confirmed": N_("confirms erasure"),
    "other": N_("something else"),
}
KINDS = registry.KIND_NAMES
QUALITIES = {
    "verified": N_("verified"),
    "partial": N_("partly verified"),
    "unverified": N_("not verified"),
    "imported": N_("imported from a public directory"),
}
DOWNLOADS = {
    "pdf": N_("Download the PDF (to print)"),
    "draft": N_("Download the draft (PDF, address to be completed)"),
    "dossier": N_("Download the CNIL dossier (PDF)"),
    "email": N_("Download the e-mail (.eml)"),
}
FILE_ROLES = {
    "pdf": N_("letter (PDF)"),
    "email": N_("e-mail"),
    "dossier": N_("CNIL dossier"),
    "proof": N_("proof of sending"),
    "reply": N_("reply"),
}
DONE = {"sent": N_("Sending recorded."), "answer": N_("Answer recorded.")}
# what the page says when it cannot answer (HTTPException details)
REFUSALS = {
    "not_found": N_("There is no such page."),
    "no_csrf": N_("This form lacks its security token: reload the page and try again."),
    "bad_form": N_("This form could not be read."),
    "broken": N_(
        "Something unexpected went wrong; nothing was recorded. Try again, or use the dsar command."
    ),
}

# every form field by its label, as the person sees it: an error names the field so
LABELS = {
    "sms_text": N_("Text of the message"),
    "sms_sender": N_("Sender shown"),
    "sms_date": N_("Date received"),
    "channel": N_("Received as"),
    "recipient": N_("Recipients"),
    "other": N_("Another recipient (optional)"),
    "name": N_("Full name"),
    "address": N_("Postal address"),
    "phone": N_("Number that received the message"),
    "email": N_("Your e-mail (for the answer)"),
    "right": N_("What you ask for"),
    "letter_lang": N_("Language of the letter"),
    "to_email": N_("Its e-mail (data protection)"),
    "to_address": N_("Its postal address"),
    "source": N_("Where did you find it?"),
    "on": N_("Date"),
    "lrar": N_("Registered-letter number"),
    "received": N_("Date on the acknowledgement of receipt"),
    "proof": N_("Proof (scan or photo, 25 MB at most)"),
    "state": N_("Answer received"),
    "file": N_("The reply (PDF, e-mail, scan; 25 MB at most)"),
    "note": N_("What it says, in a few words"),
    "missing": N_("What the answer lacks (optional; the reminder and the complaint name it)"),
    "party_confirmed": N_("The party you are sure of"),
    "kind": N_("What it says"),
    "reference": N_("Request"),
}
# the library's names of fields the page names otherwise
ALIASES = {"to-email": "to_email", "broker": "recipient", "lang": "letter_lang"}
# codes the page words its own way: the field named as a person sees it
MESSAGES = {
    "too_long": N_("{field} is {length} characters long; {limit} at most"),
    "one_line": N_("{field} must be on one line"),
    "control_character": N_("{field} contains the control character {char}; remove it"),
    "name_required": N_("the requester's name is required: every letter is signed with it"),
    "phone_or_email": N_("fill in {phone} or {email}: the recipient finds you by them"),
    "email_needed": N_("fill in {email}: the e-mail is written from it"),
    "contact_needed": N_("fill in {to_email} or {to_address}"),
    "already_left": N_("{reference} has left already: it is never rewritten"),
    "draft_not_posted": N_(
        "{reference} is a draft: its PDF has no postal address for the recipient and is marked "
        "DRAFT, so it cannot have been posted. Give the address on the letter's page (\"You "
        'know its address? Complete the letter"), post the letter written again, then record '
        "it here; a letter e-mailed is recorded as it is"
    ),
}


@dataclass(frozen=True)
class Note:
    text: str
    lang: str


def registry_note(text: str) -> Note:
    """A registry's note (written in English) in the page's language when the catalogue
    has it (the shipped registry's notes are in it); else as written, marked English."""
    translated = gettext(text)
    if translated is text:
        return Note(text, "en")
    return Note(typeset_if_french(translated), language())


def extract_notes(fileobj, keywords, comment_tags, options):
    """Babel extractor (babel.cfg): the notes of brokers.yaml, which the page shows."""
    import yaml

    for broker in yaml.safe_load(fileobj).get("brokers", []):
        if broker.get("notes"):
            yield 0, None, broker["notes"], []


def field_name(field: str) -> str:
    """'the field « Full name »', in the page's language."""
    field = ALIASES.get(field, field)
    label = say(LABELS[field]) if field in LABELS else field
    return gettext('the field "{label}"').format(label=label)


def said(exc: DsarError) -> str:
    """A library error worded for the page."""
    return typeset_if_french(exc.words(MESSAGES.get(exc.code), field_name))


def typeset_if_french(text: str) -> str:
    return typeset(text) if language() == "fr" else text
