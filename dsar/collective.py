"""An association's complaint to the CNIL about one recipient, for all the members
whose requests to it ran out unanswered, were refused or answered in part.

Art. 80(1) GDPR is claimed only when the association qualifies on the letter's day
(Association.art80_on: declared five years or more, data protection in its purpose,
LIL art. 37 and 38), and only for the members whose signed mandate gave it that power
(the form dsar wrote carried the clause: Case.art80): one complaint, an annex with a
row per member and the mandates enclosed. The other members' own complaints
(followup.complaint: prepared with the association's help, signed by the member) go
together under one cover letter that claims nothing of Art. 80.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import findings, members
from .errors import DsarError
from .fields import long_date
from .followup import ANSWERS_FR, NOT_A_PDF, first_request, joined, missing_proofs
from .i18n import _, language
from .journal import Journal
from .models import Association, Broker, Cause
from .render import outside

WHY_FR = {
    "no-answer": "aucune réponse dans le délai applicable",
    # the member answered the identification request (dsar reply-id); nothing since
    "id-requested": "demande d’identification, à laquelle le membre a répondu en proposant "
    "une vérification proportionnée, sans réponse sur le fond depuis",
    "refused": "refus",
    "partial": "réponse partielle",
}


@dataclass
class Case:
    """One member's request in the complaint: the facts the annex prints."""

    reference: str
    mandate_ref: str
    why: str  # no-answer, id-requested (answered with reply-id), refused, partial
    facts: dict  # followup.first_request: dates, proofs of sending, what is missing
    proofs: list[str]  # the proofs held, by file name
    to_add: list[str]  # the proofs not held: « pièce non jointe »
    files: list[str] = field(default_factory=list)  # its own complaint's files (no Art. 80)
    art80: bool = False  # the form the member signed gave the Art. 80(1) power
    request_enclosed: bool = False  # the request as sent follows the annex
    # answer's file name: "" when enclosed, else why not (in French: the CNIL reads it)
    replies: dict[str, str] = field(default_factory=dict)
    # the signed mandate's scan found but not joined: (file name, why, in French)
    mandate_left_out: tuple[str, str] | None = None
    # its own complaint written and not yet filed, by reference: a rerun writes no second
    drafted: str | None = None
    # the form the member signed names the organisation complained about (as dsar mandate
    # recorded it); else its « tout responsable … désigneront » line covers it
    named_on_form: bool = False
    member: str = ""  # the member's name, for the screen (never in the Art. 80 letter's body)
    # why the mandate no longer holds on the complaint's day (two years from its signing),
    # or "": such a member complains themselves
    lapsed: str = ""
    # a next request: the answer that named this organisation (who, when, to which
    # request), for the annex: why the member's request went here (the lawyer's third review)
    cause: Cause | None = None
    complaint: str = ""  # its own complaint's reference, once written (no Art. 80)

    @property
    def why_fr(self) -> str:
        return WHY_FR[self.why]

    @property
    def answers_held(self) -> int:
        return len(self.replies)

    @property
    def answers_joined(self) -> int:
        return sum(not why for why in self.replies.values())

    @property
    def answers_enclosed(self) -> bool:
        """Every answer on file follows the annex (the letter says « jointes » only then)."""
        return bool(self.replies) and not any(self.replies.values())  # '' = joined


def _members(journal: Journal, association: Association, slug: str):
    """The requests to `slug` written under this association's mandate, with each one's
    request as written."""
    for entry in journal.entries(broker=slug):
        request = journal.request(entry.reference)
        if request.mandate is not None and request.mandate.association.name == association.name:
            yield entry, request


def cases(journal: Journal, association: Association, recipient: Broker, on: date) -> list[Case]:
    """The members' requests to `recipient` under this association's mandate that a
    complaint may name on `on`; none is an error saying why."""
    found = []
    slug = recipient.slug
    for entry, request in _members(journal, association, slug):
        why = findings.complainable(journal, entry, on)
        if why is None:
            continue
        found.append(
            Case(
                reference=entry.reference,
                mandate_ref=request.mandate.reference,
                why=why,
                facts=first_request(journal, entry, on),
                proofs=[p.name for _r, p, _s in journal.files(entry.reference, "proof")],
                to_add=[m["what"] for m in missing_proofs(journal, entry.reference)],
                art80=journal.mandate_gives_art80(request.mandate.reference),
                named_on_form=slug in (journal.mandate_form(request.mandate.reference) or []),
                member=entry.member or "",
                lapsed=members.not_in_force(request.mandate.signed_on, on) or "",
                cause=request.cause
                if request.cause
                and request.cause.kind in ("source-named", "processor", "recipient-named")
                else None,
            )
        )
    if not found:
        raise DsarError(
            _(
                "no request of {association}'s members to {recipient} ran out unanswered, was "
                "refused or answered in part as of {day}: nothing to complain about yet "
                "(see dsar status --broker {slug})"
            ).format(  # the reader's words: the organisation's name, the day as written
                association=association.name,
                recipient=recipient.name,
                day=long_date(on, language()),
                slug=slug,
            )
            + "".join(f"; {line}" for line in held_for_id(journal, association, slug, on))
        )
    return sorted(found, key=lambda c: (c.mandate_ref, c.reference))


def file_name(slug: str, on: date, *, cover: bool = False) -> str:
    """In French, like the letters: the CNIL reads the names too."""
    kind = "lettre-de-couverture" if cover else "reclamation-collective"
    return f"{kind}-{slug}-{on.isoformat()}.pdf"


def cnil_address(cnil: Broker) -> str:
    """The CNIL's postal address under its full name, already printed above it: without
    the registry's "CNIL" line, nor "France" on a letter posted in France."""
    lines = (
        cnil.postal_address or "3 Place de Fontenoy\nTSA 80715\n75334 Paris Cedex 07"
    ).splitlines()
    return "\n".join(line for line in lines if line.strip().upper() not in {"CNIL", "FRANCE"})


def _context(association, organisation, cases_, on, scans, cnil) -> dict:
    return {
        "lang": "fr",
        "cnil": cnil,
        "cnil_address": cnil_address(cnil),
        "id_demands": {c.facts.get("answered_state") for c in cases_},
        "association": association,
        "organisation": organisation,
        "cases": cases_,
        "several": len(cases_) > 1,
        # how many of the mandates name the organisation: the letter says it of each only
        # when true of each (the lawyer's third review)
        "named_on_forms": sum(c.named_on_form for c in cases_),
        "on": on,
        "answers_fr": ANSWERS_FR,
        "enclosed": {ref for ref, path in scans.items() if path is not None},
        "why_counts": {
            w: sum(c.why == w for c in cases_) for w in WHY_FR if any(c.why == w for c in cases_)
        },
        "why_fr": WHY_FR,
    }


def letter(
    env, association: Association, organisation: Broker, cases_, on: date, scans, cnil: Broker
) -> str:
    """The one complaint under Art. 80(1): only for an association that qualifies."""
    if not association.art80_on(on) or not all(c.art80 for c in cases_):
        raise DsarError("Art. 80(1) is claimed only by an association that qualifies")
    context = _context(association, organisation, cases_, on, scans, cnil)
    return env.get_template("collective/complaint.html.j2").render(**context, art80_letter=True)


def cover(
    env, association: Association, organisation: Broker, cases_, on: date, scans, cnil: Broker
) -> str:
    """The cover letter of the members' own complaints: no Art. 80(1) claim."""
    context = _context(association, organisation, cases_, on, scans, cnil)
    # each member's dossier holds the request and the answers: nothing to mark here
    return env.get_template("collective/cover.html.j2").render(**context, art80_letter=False)


def pieces(journal: Journal, renderer, cases_, work: Path) -> list[bytes | Path]:
    """Each member's request as sent and the answers in PDF (vetted by the limited child,
    like a dossier's: render/outside.py); each case records what is enclosed, for the
    annex's « demande jointe / pièce non jointe »."""
    found: list[bytes | Path] = []
    for number, case in enumerate(cases_):
        page = journal.page_html(case.reference)
        if page:
            found.append(renderer.render_html(page))
            case.request_enclosed = True
        replies = [p for _r, p, _s in journal.files(case.reference, "reply")]
        pdfs = [p for p in replies if p.suffix.lower() == ".pdf" and p.is_file()]
        folder = work / f"answers-{number}"
        folder.mkdir()
        copies, left_out = outside.vet(pdfs, folder)
        found += [copies[p] for p in pdfs if p in copies]
        case.replies = joined(replies, copies, left_out)
    return found


def mandates_left_out(cases_, found: dict[str, Path | None], copies, left_out) -> None:
    """Each case whose signed mandate was found but failed the limited child records
    which file and why: the annex says it, as a dossier's last page does."""
    why = {name: problem.french for name, problem in left_out}
    for case in cases_:
        path = found.get(case.mandate_ref)
        if path is not None and path not in copies:
            case.mandate_left_out = (path.name, why.get(path.name, NOT_A_PDF))


def enclose(complaint_pdf: bytes, scans: dict[str, Path | None], work: Path, more=()) -> bytes:
    """The complaint, then each signed mandate found, then `more` (the requests and
    answers), as copies vetted by outside.vet and joined by its limited child (the annex
    lists the rest as « pièce non jointe »)."""
    parts: list[bytes | Path] = [complaint_pdf]
    parts += [path for _ref, path in sorted(scans.items()) if path is not None]
    return outside.join([*parts, *more], work)


def drafted(journal: Journal, case: Case) -> str | None:
    """The reference of the member's own complaint written and not yet filed (a rerun
    writes no second), or None."""
    return next((c.reference for c in journal.follow_ups(case.reference, "complaint")
                 if not c.sent_on), None)  # fmt: skip


def why_ordinary(case: Case, not_art80: str | None, scans, mandates: Path | None) -> str:
    """Why a member signs their own complaint rather than being in the Art. 80(1) one:
    the one reason that applies to them."""
    if not_art80:
        return _("no Art. 80(1) claim: {why}").format(why=not_art80)
    if case.lapsed:
        return _("their mandate no longer holds: {why}").format(why=case.lapsed)
    if not case.art80:
        return _("their signed mandate does not give the association the Art. 80(1) power")
    if case.mandate_left_out:
        return _("their signed mandate could not be enclosed (see the warning below)")
    if mandates is None:
        return _("no --mandates folder was given to enclose their signed mandate")
    return _("their signed mandate is not found in {folder}").format(folder=mandates.name)


def summary(cases_, under_art80, ordinary, drafted_, reasons: dict[str, str], scans) -> list[str]:
    """What the run did, for the screen: who is in which letter, who signs their own
    complaint and why (each member's one reason), who is held back and under which
    complaint, how many signed mandates are enclosed (output, not warnings)."""
    refs = ", ".join
    lines = [
        _("{count} member(s) in the complaint under Art. 80(1): {refs}").format(
            count=len(under_art80), refs=refs(c.mandate_ref for c in under_art80)
        )
        if under_art80
        else ""
    ]
    by_reason: dict[str, list[str]] = {}
    for case in ordinary:
        by_reason.setdefault(reasons[case.reference], []).append(case.mandate_ref)
    lines += [
        _(
            "{count} member(s) sign their own complaint, under the ordinary mandate ({why}): {refs}"
        ).format(count=len(members), why=why, refs=refs(members))
        for why, members in by_reason.items()
    ]
    lines += [  # each member's own complaint, to sign, file and record (dsar sent)
        _("  {ref} ({member}): complaint {complaint}").format(
            ref=case.mandate_ref, member=case.member, complaint=case.complaint
        )
        for case in ordinary
        if case.complaint
    ]
    if drafted_:
        lines.append(held_back(drafted_))
    shown = [c for c in cases_ if c not in drafted_]
    if shown:
        missing = [c.mandate_ref for c in shown if scans.get(c.mandate_ref) is None]
        lines.append(
            _("signed mandates enclosed: {enclosed}; not enclosed: {missing}").format(
                enclosed=len(shown) - len(missing), missing=refs(missing) or "0"
            )
        )
    return [line for line in lines if line]


def held_back(drafted_: list[Case]) -> str:
    """The members whose own complaint is written and not yet filed, each with that
    complaint's reference: what `dsar sent` takes once it is filed."""
    return _(
        "{count} member(s) held back: their own complaint is already written, not yet filed "
        "(once filed: dsar sent COMPLAINT --on YYYY-MM-DD, COMPLAINT being the reference in "
        "brackets; --force writes it again): {refs}"
    ).format(count=len(drafted_), refs=drafted_refs(drafted_))


def drafted_refs(drafted_: list[Case]) -> str:
    return ", ".join(f"{c.mandate_ref} ({c.drafted})" for c in drafted_)


def mandates_not_joined(cases_, drafted_) -> list[str]:
    """A warning for each signed mandate found and not joined, with why."""
    return [
        _("{ref}: the signed mandate {name} is not joined: {why}").format(
            ref=c.mandate_ref, name=c.mandate_left_out[0], why=c.mandate_left_out[1]
        )
        for c in cases_
        if c.mandate_left_out and c not in drafted_
    ]


def held_for_id(journal: Journal, association: Association, slug: str, on: date) -> list[str]:
    """The members left out because the recipient asked for identification and they
    never answered it: a complaint would call that request unanswered; said on screen."""
    held = []
    for entry, request in _members(journal, association, slug):
        if entry.stored_state == "complained" or not (entry.dates.due and on > entry.dates.due):
            continue
        if findings.id_unanswered(journal, entry):
            held.append(f"{request.mandate.reference} ({entry.reference})")
    if not held:
        return []
    return [
        _(
            "{count} member(s) held back: the recipient asked for identification and the "
            "request was never answered; answer it first (dsar reply-id REFERENCE, then dsar "
            "sent): {refs}"
        ).format(count=len(held), refs=", ".join(sorted(held)))
    ]
