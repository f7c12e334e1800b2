"""After the first letter: reminders, the answer to an ID demand, the CNIL complaint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from . import fields, letters, lifecycle
from .follow import answer_words
from .i18n import _
from .journal import Entry, Journal
from .models import Broker, Letter, Request, reference_for
from .render import outside
from .vocabulary import ANSWERED


def first_request(journal: Journal, entry: Entry, on: date) -> dict:
    """The facts of the first request that follow-up letters cite, as of `on`: only
    what was recorded (an extension with its date and whether it counts, what an answer
    lacked, every reminder sent with its proof)."""
    events = [e for e in journal.events(entry.reference) if e["what"].startswith("answer:")]
    answered = [e["what"].split(":", 1)[1] for e in events]
    state = answered[-1] if answered and answered[-1] in ANSWERED else None
    found = entry.dates
    facts = entry.as_dict(on)
    facts.update(
        reference=entry.reference,
        right=entry.right,
        sent_on=entry.sent_on,
        received_on=entry.received_on,
        deadline=found.due,
        answer_due=found.answer_due,
        # a late extension did not move the deadline: letters must not say it did
        extended_on=entry.extended_on if found.extended_due else None,
        late_extension_on=found.late_extension,
        reminded_on=entry.reminded_on,
        final_deadline=found.final,
        answered_on=entry.answered_on,
        lrar_number=entry.lrar_number,
        message_id=entry.message_id,
        answered_state=state,
        missing=journal.missing(entry.reference),
        # what the last answer said: its own words (the inbox read them), or the person's
        # note (dsar answer --note), their summary, never quoted as the answer's
        answer_words=answer_words(journal, entry.reference, state) if state else None,
        reminders=[
            {
                **_sent_letter(r),
                "final": lifecycle.final_date(r.letter_date) if r.letter_date else None,
            }
            for r in journal.follow_ups(entry.reference, "reminder")
            if r.sent_on
        ],
        # the person's answer to an ID demand, once sent: the reminder and the complaint
        # say it was answered, not ignored
        id_replies=[
            _sent_letter(r) for r in journal.follow_ups(entry.reference, "reply-id") if r.sent_on
        ],
    )
    return facts


def _sent_letter(entry: Entry) -> dict:
    return {
        "reference": entry.reference,
        "dated": entry.letter_date,
        "sent_on": entry.sent_on,
        "lrar_number": entry.lrar_number,
        "message_id": entry.message_id,
    }


def _follow_up(request: Request, kind: str, on: date, lang: str | None, **changes) -> Request:
    """A follow-up in the original's language unless told otherwise; a letter in another
    language gets its own reference, hence its own files."""
    lang = lang or request.lang
    if request.mandate is not None and "mandate" not in changes:
        # the request as sent goes with a reminder, not the signed scan
        changes["mandate"] = request.mandate.offered()
    return dataclasses.replace(
        request,
        reference=reference_for(
            request.reference, kind, on.isoformat(), *((lang,) if lang != request.lang else ())
        ),
        letter_date=on,
        lang=lang,
        **changes,
    )


def reminder(
    journal: Journal,
    reference: str,
    env: jinja2.Environment,
    *,
    on: date,
    lang: str | None = None,
    enclose: bool = True,
) -> tuple[Letter, dict]:
    """The reminder; with `enclose` (a PDF or an e-mail is written) it says the original
    is enclosed, and compose.write appends or attaches it. Writing it changes nothing:
    the request is 'reminded' once the reminder is recorded as sent."""
    entry = journal.require(reference, "remind", on)
    first = first_request(journal, entry, on)
    original = journal.page_html(entry.reference) if enclose else None
    extra = {
        "first": first,
        "final_deadline": lifecycle.final_date(on),
        # the reminder says the request is enclosed only when it is: its PDF is appended
        # and the e-mail attaches it (compose.write, enclosed_html)
        "enclosed": bool(original),
        "enclosed_html": original,
        "enclosed_name": f"{entry.reference}-{entry.broker}.pdf",
    }
    request = _follow_up(
        journal.request(reference), "reminder", on, lang, lrar=entry.lrar_number is not None
    )
    return letters.render(request, env, kind="reminder", extra=extra), extra


def reply_id(
    journal: Journal, reference: str, env: jinja2.Environment, *, on: date, lang: str | None = None
) -> tuple[Letter, dict]:
    entry = journal.require(reference, "reply-id", on)
    extra = {"first": first_request(journal, entry, on)}
    request = _follow_up(journal.request(reference), "reply-id", on, lang)
    return letters.render(request, env, kind="reply-id", extra=extra), extra


def complaint(
    journal: Journal,
    reference: str,
    env: jinja2.Environment,
    cnil: Broker,
    *,
    on: date,
    force: bool = False,
    mandate_enclosed: bool = False,
    pieces: Pieces | None = None,
) -> tuple[Letter, dict]:
    """Always in French: the CNIL's language. The original letters go in the dossier as
    they were sent, in their own language. `mandate_enclosed`: the signed mandate's scan
    goes in the dossier (dossier's `mandate_scan`): only then does the letter say so.
    `pieces`: what the dossier joins (vetted); the letter says joined only those replies."""
    entry = journal.require(reference, "complain", on, force=force)
    original = journal.request(reference)
    held = pieces.replies if pieces else {}
    first = first_request(journal, entry, on)
    extra = {
        "first": first,
        "organisation": original.broker,
        # where the request went: the address given with it (--to-address), else the registry's
        "organisation_address": original.recipient_address,
        "organisation_email": original.recipient_email,
        "replies": [name for name, why in held.items() if not why],
        "replies_left_out": [(name, why) for name, why in held.items() if why],
        "proofs": [path.name for _role, path, _ in journal.files(reference, "proof")],
        "to_add": missing_proofs(journal, reference),
        "mandate_enclosed": mandate_enclosed,
    }
    changes = {}
    if original.mandate is not None:
        # Art. 80(1) only when the form the member signed gave that power, the association
        # qualifies today and the signed mandate goes with the complaint (without it the
        # CNIL has no proof of the power); otherwise the member complains, helped by it
        mandate = original.mandate
        art80 = (
            mandate_enclosed
            and journal.mandate_gives_art80(mandate.reference)
            and mandate.association.art80_on(on)
        )
        changes["mandate"] = dataclasses.replace(
            mandate, art80=art80, on_request=not mandate_enclosed, sender=art80
        )
    request = _follow_up(
        original,
        "complaint",
        on,
        "fr",
        broker=cnil,
        to_email=None,
        to_address=None,
        lrar=False,
        **changes,
    )
    return letters.render(request, env, kind="complaint", extra=extra), extra


# the dossier goes to the CNIL: its steps are always in French, whatever the UI speaks
STEPS_FR = {
    "generated": "généré",
    "sent": "envoyé",
    "received": "reçu (accusé de réception)",
    "extension": "prolongation notifiée",
    "remind": "relance écrite",
    "reminded": "relance envoyée",
    "complain": "plainte à la CNIL écrite",
    "complained": "plainte à la CNIL déposée",
    "send-failed": "échec de l’envoi",
    "proof": "preuve d’envoi conservée",
    "e-mail-rebuilt": "courriel refait avant envoi",
    "e-mail-withdrawn": "courriel retiré, jamais envoyé",
}
ANSWERS_FR = {
    "answered": "répondu",
    "partial": "partielle",
    "refused": "refusée",
    "id-requested": "identification demandée",
    "closed": "close",
}
ROLES_FR = {
    "pdf": "lettre (PDF)",
    "email": "courriel",
    "reply": "réponse",
    "bounce": "avis de non-remise",
    "proof": "preuve d’envoi",
}


# dsar show in English: the journal's words, where they are not plain ones
STEPS_EN = {
    "received": "received (acknowledgement of receipt)",
    "remind": "reminder written",
    "complain": "complaint to the CNIL written",
    "complained": "complaint to the CNIL filed",
    "proof": "proof of sending kept",
}


def step_en(what: str) -> str:
    kind, _sep, state = what.partition(":")
    return f"answer: {state}" if kind == "answer" and state else STEPS_EN.get(what, what)


def step_fr(what: str) -> str:
    """'answer:partial' -> 'réponse : partielle'; a step not known is shown as recorded."""
    kind, _sep, state = what.partition(":")
    if kind == "answer" and state:
        return f"réponse\u00a0: {ANSWERS_FR.get(state, state)}"
    return STEPS_FR.get(what, what)


# the journal's details are written for the program ("lrar=1A..., received=2026-10-02"):
# the dossier names them in French for the CNIL
DETAIL_WORDS_FR = {
    "pdf": "PDF",
    "email": "courriel",
    "e-mail": "courriel",
    "text": "texte",
    "html": "HTML",
    "late": "notifiée hors délai",
}
DETAIL_KEYS_FR = {
    "lrar": "lettre recommandée n°\u00a0{}",
    "received": "reçue le {}",
    "message_id": "Message-ID {}",
}


def detail_fr(detail: str | None) -> str:
    """'lrar=1A0001, received=2026-10-02' -> 'lettre recommandée n° 1A0001, reçue le
    2 octobre 2026'; a detail with any part not known (a note, a file name) as recorded."""
    if not detail:
        return ""
    words = []
    for part in (p.strip() for p in detail.split(",")):
        key, sep, value = part.partition("=")
        if sep and key in DETAIL_KEYS_FR and value:
            if key == "received":
                try:
                    value = fields.long_date(date.fromisoformat(value), "fr")
                except ValueError:
                    return detail
            words.append(DETAIL_KEYS_FR[key].format(value))
        elif not sep and part in DETAIL_WORDS_FR:
            words.append(DETAIL_WORDS_FR[part])
        else:
            return detail
    return ", ".join(words)


def missing_proofs(journal: Journal, reference: str) -> list[dict]:
    """Every proof the dossier should hold and does not: `what` (the letter and the
    dossier say it, « pièce non jointe »), and `how` to add it, for the person only
    (the command line and the page print it; a letter never holds a command)."""
    entry = journal.entry(reference)
    answers = [e["what"] for e in journal.events(reference) if e["what"].startswith("answer:")]
    answered_state = answers[-1].split(":", 1)[1] if answers else None
    proofs = journal.files(reference, "proof")
    found = []
    if not proofs:
        lrar = entry.lrar_number
        found.append(
            {
                "what": "le scan de l’accusé de réception de la lettre recommandée"
                if lrar
                else "la preuve d’envoi de la demande (accusé de réception ou courriel envoyé)",
                "said": _("the scan of the registered letter's acknowledgement of receipt")
                if lrar
                else _("the proof the request was sent (acknowledgement or e-mail sent)"),
                "how": f"dsar sent {reference} --proof FILE",
            }
        )
        found.append(
            {
                "what": "une capture d’écran du message reçu",
                "said": _("a screenshot of the message received"),
                "how": f"dsar sent {reference} --proof FILE",
            }
        )
    for sent in journal.follow_ups(reference, "reminder"):
        if sent.sent_on and not journal.files(sent.reference, "proof"):
            found.append(
                {
                    "what": f"la preuve d’envoi de la relance {sent.reference}",
                    "said": _("the proof the reminder {reference} was sent").format(
                        reference=sent.reference
                    ),
                    "how": f"dsar sent {sent.reference} --proof FILE",
                }
            )
    if answered_state and not journal.files(reference, "reply"):
        found.append(
            {
                "what": "la réponse de l’organisme",
                "said": _("the recipient's answer"),
                "how": f"dsar answer {reference} --state {answered_state} --on DATE --file FILE",
            }
        )
    return found


def proofs_html(
    journal: Journal,
    reference: str,
    env: jinja2.Environment,
    lang: str = "fr",
    left_out: list[tuple[str, outside.Problem]] = (),
) -> str:
    """A last page listing every recorded step, the files held (and why one is not
    joined) and the proofs to add."""
    return env.get_template("proofs.html.j2").render(
        lang=lang,
        reference=reference,
        # the dossier goes to the CNIL: its steps and roles are named in French
        events=[
            {**e, "what": step_fr(e["what"]), "detail": detail_fr(e["detail"])}
            if lang == "fr"
            else e
            for e in journal.steps(reference)
        ],
        files=[
            (ROLES_FR.get(role, role) if lang == "fr" else role, path.name, sha)
            for role, path, sha in journal.files(reference)
        ],
        to_add=missing_proofs(journal, reference),
        left_out=[
            (name, problem.french if lang == "fr" else str(problem)) for name, problem in left_out
        ],
    )


# why an answer's file is not joined when the limited child did not say (outside.py's
# reasons otherwise)
NOT_A_PDF = "n’est pas un PDF, non joint"
GONE = "introuvable sur le disque, non joint"


@dataclass
class Pieces:
    """The proofs and replies of a request that a dossier joins, checked by the limited
    child (render/outside.py) before the complaint is written: the letter says joined
    only what is."""

    pdfs: list[Path]  # in the dossier's order: proofs of sending, then the replies
    copies: dict[Path, Path]  # the vetted copies, by original path
    left_out: list[tuple[str, outside.Problem]]
    replies: dict[str, str]  # a reply's file name: "" when joined, else why not (French)

    @property
    def joined_replies(self) -> list[str]:
        return [name for name, why in self.replies.items() if not why]


def vetted(journal: Journal, reference: str, work: Path) -> Pieces:
    """The request's proofs and replies in PDF, vetted into `work`; a reply that is no
    PDF (an e-mail kept as .eml), gone, or refused by the child is not joined, and why."""
    held = [*journal.files(reference, "proof"), *journal.files(reference, "reply")]
    pdfs = [p for _role, p, _sha in held if p.suffix.lower() == ".pdf" and p.is_file()]
    copies, left_out = outside.vet(pdfs, work)
    replies = [p for _role, p, _sha in journal.files(reference, "reply")]
    return Pieces(pdfs, copies, left_out, joined(replies, copies, left_out))


def joined(files: list[Path], copies: dict, left_out) -> dict[str, str]:
    """Each file's name: "" when its vetted copy is joined, else why not, in French."""
    why = {name: problem.french for name, problem in left_out}
    return {
        p.name: "" if p in copies else why.get(p.name, NOT_A_PDF if p.is_file() else GONE)
        for p in files
    }


def dossier(
    journal: Journal,
    reference: str,
    complaint_pdf: bytes,
    renderer,
    reminder_refs: list[str],
    pieces: Pieces,
    work: Path,
    mandate_scan: Path | None = None,
) -> bytes:
    """One PDF: the complaint, the request and reminders as sent (each in its own
    language), the signed mandate, PDF proofs and replies (`pieces`, vetted), then the
    proofs page, which lists what was left out and why. `mandate_scan` is a copy
    outside.vet already made (the collective run vets each scan once): joined as it is."""
    parts = [complaint_pdf]
    for ref in [reference, *reminder_refs]:
        page = journal.page_html(ref)
        if page:
            parts.append(renderer.render_html(page))
    if mandate_scan is not None:  # the signed mandate the complaint says is enclosed
        parts.append(mandate_scan)
    parts += [pieces.copies[path] for path in pieces.pdfs if path in pieces.copies]
    last = proofs_html(journal, reference, renderer.env, left_out=pieces.left_out)
    parts.append(renderer.render_html(last))
    return outside.join(parts, work)


def reminders_of(journal: Journal, reference: str) -> list[str]:
    """The reminders sent for a request (a drafted one never left: not in the dossier)."""
    return [r.reference for r in journal.follow_ups(reference, "reminder") if r.sent_on]
