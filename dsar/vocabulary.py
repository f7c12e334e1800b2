"""The words dsar's data is made of, each defined once.

The click choices, the pydantic Literals, the journal's states and the output file
names are all derived from the tuples here, so a state or a format added in one place
is known everywhere.
"""

from __future__ import annotations

from typing import Literal

# ---------------------------------------------------------------- requests in the journal

REQUEST_STATES = (
    "draft",
    "sent",
    "received",
    "extended",
    "answered",
    "partial",
    "refused",
    "id-requested",
    "overdue",
    "reminded",
    "complained",
    "closed",
    "undelivered",
)
# undelivered: the e-mail bounced or the letter came back: nothing runs, write elsewhere
ANSWER_STATES = ("answered", "partial", "refused", "id-requested", "closed", "undelivered")
# what a follow-up letter may cite as the recipient's answer
ANSWERED = ("answered", "partial", "refused", "id-requested")
# the journal's answer state each kind of reply (inbox.meaning) records once confirmed;
# a letter finds the reply's words by it (follow.answer_words)
ANSWER_STATE = {
    "bounce": "undelivered",
    "identity-request": "id-requested",
    "answer": "answered",
    "partial": "partial",
    "refusal": "refused",
    "processor": "answered",
    "source-named": "answered",
    "recipient-named": "answered",
    "erasure-confirmed": "answered",
}
LETTER_KINDS = ("request", "reminder", "reply-id", "complaint")
# what an answer to Art. 15 owes, one word each (dsar answer --missing): 15(1)(a)-(h)
# and the copy of 15(3); the letters name each with its article
ACCESS_ITEMS = (
    "purposes",  # 15(1)(a)
    "categories",  # 15(1)(b), inferences included
    "recipients",  # 15(1)(c), named one by one
    "retention",  # 15(1)(d)
    "rights",  # 15(1)(e)
    "complaint",  # 15(1)(f)
    "source",  # 15(1)(g)
    "profiling",  # 15(1)(h)
    "copy",  # 15(3)
)

# ---------------------------------------------------------------- the e-mail outbox

# withdrawn: never sent, and never will be: its request left another way (lifecycle)
OUTBOX_STATES = ("queued", "sending", "handed-over", "sent", "deferred", "failed", "withdrawn")
MAIL_TO_SEND = ("queued", "sending", "deferred")  # states a run still has to send
SMTP_SECURITY = ("none", "starttls", "ssl")

# ---------------------------------------------------------------- letters

RIGHTS = ("access", "erasure", "both")
CHANNELS = ("sms", "voice", "email", "mail", "call")  # how the message came
# "html" is written by the HTML output; the others by compose.write
FORMATS = ("pdf", "email", "text", "html", "labels")  # labels: a batch's envelope CSV
LANGUAGES = ("fr", "en")

# ---------------------------------------------------------------- the registry

RECIPIENT_KINDS = ("broker", "party", "authority", "processor", "sender", "company")
IMPORT_KINDS = ("company", "authority")  # what an imported record may become
QUALITIES = ("verified", "partial", "unverified", "imported")
CONTACT_KINDS = ("email", "postal", "webform", "dpo-email", "phone", "fax")
MEDIUMS = ("email", "letter", "fax", "webform")  # how a recipient asks to be written to

# Literal[tuple] is Literal[*tuple]: the pydantic models validate against the same words
RequestState = Literal[REQUEST_STATES]
OutboxState = Literal[OUTBOX_STATES]
SmtpSecurity = Literal[SMTP_SECURITY]
Right = Literal[RIGHTS]
Channel = Literal[CHANNELS]
Format = Literal[FORMATS]
Language = Literal[LANGUAGES]
RecipientKind = Literal[RECIPIENT_KINDS]
Quality = Literal[QUALITIES]
ContactKind = Literal[CONTACT_KINDS]
Medium = Literal[MEDIUMS]
LetterKind = Literal[LETTER_KINDS]

# ---------------------------------------------------------------- output files

# the word a French reader looks for: a follow-up is never named like a new request
_KIND_IN_NAME = {"reminder": "relance", "reply-id": "reponse-identite"}


# a mandate form's file name starts so; a mandate reference never does (members.py)
MANDATE_FORM_PREFIX = "mandate-"


def output_name(reference: str, slug: str | None, ext: str, kind: str | None = None) -> str:
    """The one way dsar names a file it writes.

    `<REF>-<slug>.pdf` for a letter, `<REF>-relance-<slug>.pdf` for a reminder,
    `<REF>-reponse-identite-<slug>.pdf` for the reply to an ID demand,
    `mandate-<ref>.pdf` for a mandate form (`mandate-blank.pdf` without a reference),
    `<REF>-dossier-cnil.pdf` for a complaint dossier.
    """
    ext = ext.lstrip(".")
    if kind == "mandate":
        return f"{MANDATE_FORM_PREFIX}{reference or 'blank'}.{ext}"
    if kind == "dossier":
        return f"{reference}-dossier-cnil.{ext}"
    middle = _KIND_IN_NAME.get(kind or "")
    return "-".join(p for p in (reference, middle, slug) if p) + f".{ext}"
